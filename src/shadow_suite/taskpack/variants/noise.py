"""Mild surface noise for question text: the way people actually type.

Lowercasing, contractions ("do not" -> "don't"), one or two keyboard-neighbour typos and
an extra space or two. Only plain prose words are touched: anything with a digit or a
symbol, spelled-out numbers, single letters (variables, "Statement A"), acronyms and
mixed-case tokens (DNA, pH, mRNA), LaTeX/math spans, bracketed markup, and whole lines
that look like code stay byte-identical, so no number, formula or identifier changes.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass

from shadow_suite.taskpack.variants.core import SMALL_NUMBER_WORDS, TENS_WORDS

_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def _keyboard_neighbours() -> dict[str, str]:
    # QWERTY rows are staggered: a key touches the key above it and the one above-right,
    # and the key below it and the one below-left.
    neighbours: dict[str, str] = {}
    for r, row in enumerate(_KEYBOARD_ROWS):
        for c, key in enumerate(row):
            near = [row[c + d] for d in (-1, 1) if 0 <= c + d < len(row)]
            for other, offsets in ((r - 1, (0, 1)), (r + 1, (-1, 0))):
                if 0 <= other < len(_KEYBOARD_ROWS):
                    keys = _KEYBOARD_ROWS[other]
                    near += [keys[c + d] for d in offsets if 0 <= c + d < len(keys)]
            neighbours[key] = "".join(sorted(set(near)))
    return neighbours


KEYBOARD_NEIGHBOURS = _keyboard_neighbours()

CONTRACTIONS: dict[tuple[str, str], str] = {
    ("do", "not"): "don't",
    ("does", "not"): "doesn't",
    ("did", "not"): "didn't",
    ("is", "not"): "isn't",
    ("are", "not"): "aren't",
    ("was", "not"): "wasn't",
    ("were", "not"): "weren't",
    ("has", "not"): "hasn't",
    ("have", "not"): "haven't",
    ("had", "not"): "hadn't",
    ("will", "not"): "won't",
    ("would", "not"): "wouldn't",
    ("could", "not"): "couldn't",
    ("should", "not"): "shouldn't",
    ("can", "not"): "can't",
    ("it", "is"): "it's",
    ("that", "is"): "that's",
    ("there", "is"): "there's",
    ("what", "is"): "what's",
    ("who", "is"): "who's",
    ("he", "is"): "he's",
    ("she", "is"): "she's",
    ("they", "are"): "they're",
    ("we", "are"): "we're",
    ("you", "are"): "you're",
    ("let", "us"): "let's",
}

NUMBER_WORDS = frozenset(
    [
        *SMALL_NUMBER_WORDS,
        *TENS_WORDS,
        "hundred",
        "thousand",
        "million",
        "billion",
        "trillion",
        "half",
        "halves",
        "twice",
        "double",
        "triple",
        "quadruple",
        "dozen",
        "dozens",
        "once",
        "thrice",
        "quarter",
        "quarters",
        "third",
        "thirds",
        "first",
        "second",
        "fourth",
        "fifth",
        "sixth",
        "seventh",
        "eighth",
        "ninth",
        "tenth",
        "percent",
    ]
)

# Spans whose text must stay exact: TeX math, inline code, bracketed markup (HellaSwag's
# WikiHow "[title]" artifacts are removed by lm-eval's regex, a typo would defeat it).
_PROTECTED_SPAN = re.compile(
    r"\$\$.*?\$\$|\$[^$\n]*\$|\\\(.*?\\\)|\\\[.*?\\\]|`[^`]*`|\[[^\]\n]*\]|<[^<>\n]*>|\{[^{}\n]*\}",
    re.DOTALL,
)
# A line is treated as code/formula if it is indented (a single leading space is common
# in MMLU prose), has programming punctuation, ends in ";", has a call like f(x) or a
# TeX command.
_CODE_LINE = re.compile(r"^(?: {2,}|\t)\S|[{}=\\^]|;\s*$|\w\(|->|::|<<|>>")
_WORD = re.compile(r"^([^\w]*)([A-Za-z]+)([^\w]*)$")


@dataclass
class _Piece:
    text: str
    kind: str  # "word" (editable prose word), "space" (between words) or "fixed"


def _is_editable(core: str) -> bool:
    if len(core) < 2 or core.lower() in NUMBER_WORDS:
        return False
    # lower-case words and Capitalized words only: acronyms and mixed case are names
    return core.islower() or (core[0].isupper() and core[1:].islower())


def _span_pattern(protect: Collection[str]) -> re.Pattern[str]:
    if not protect:
        return _PROTECTED_SPAN
    phrases = "|".join(re.escape(p) for p in sorted(protect, key=len, reverse=True))
    return re.compile(
        rf"(?<!\w)(?:{phrases})(?!\w)|{_PROTECTED_SPAN.pattern}", re.DOTALL | re.IGNORECASE
    )


def _split(text: str, protect: Collection[str]) -> list[_Piece]:
    spans = _span_pattern([p for p in protect if p.strip()])
    pieces: list[_Piece] = []
    for line in text.splitlines(keepends=True):
        if _CODE_LINE.search(spans.sub("#", line.rstrip("\r\n"))):
            pieces.append(_Piece(line, "fixed"))
            continue
        position = 0
        for span in [*spans.finditer(line), None]:
            end = span.start() if span else len(line)
            for token in re.findall(r"\s+|\S+", line[position:end]):
                if token.isspace():
                    kind = "space" if token == " " else "fixed"
                    pieces.append(_Piece(token, kind))
                    continue
                match = _WORD.match(token)
                if match and _is_editable(match.group(2)):
                    prefix, core, suffix = match.groups()
                    if prefix:
                        pieces.append(_Piece(prefix, "fixed"))
                    pieces.append(_Piece(core, "word"))
                    if suffix:
                        pieces.append(_Piece(suffix, "fixed"))
                else:
                    pieces.append(_Piece(token, "fixed"))
            if span:
                pieces.append(_Piece(span.group(0), "fixed"))
                position = span.end()
    return pieces


def _lowercase(pieces: list[_Piece]) -> None:
    for piece in pieces:
        if piece.kind == "word":
            piece.text = piece.text.lower()


def _contract(pieces: list[_Piece], rng: random.Random) -> None:
    sites = [
        i
        for i in range(len(pieces) - 2)
        if pieces[i].kind == "word"
        and pieces[i + 1].kind == "space"
        and pieces[i + 2].kind == "word"
        and (pieces[i].text.lower(), pieces[i + 2].text.lower()) in CONTRACTIONS
    ]
    # contract at most two sites, so the noise stays mild
    for i in sorted(rng.sample(sites, min(2, len(sites)))):
        if pieces[i].kind != "word" or pieces[i + 2].kind != "word":
            continue  # overlaps the previous site ("that is not")
        short = CONTRACTIONS[(pieces[i].text.lower(), pieces[i + 2].text.lower())]
        if pieces[i].text[0].isupper():
            short = short[0].upper() + short[1:]
        pieces[i] = _Piece(short, "fixed")
        pieces[i + 1] = _Piece("", "fixed")
        pieces[i + 2] = _Piece("", "fixed")


def _typo(pieces: list[_Piece], rng: random.Random, count: int) -> None:
    sites = [i for i, p in enumerate(pieces) if p.kind == "word" and len(p.text) >= 4]
    for i in rng.sample(sites, min(count, len(sites))):
        word = pieces[i].text
        # never the first letter: readers (and tokenizers) anchor on it
        j = rng.randrange(1, len(word))
        replacement = rng.choice(KEYBOARD_NEIGHBOURS[word[j].lower()])
        if word[j].isupper():
            replacement = replacement.upper()
        pieces[i] = _Piece(word[:j] + replacement + word[j + 1 :], "fixed")


def _extra_spaces(pieces: list[_Piece], rng: random.Random, count: int) -> None:
    sites = [
        i
        for i, p in enumerate(pieces)
        if p.kind == "space"
        and "word" in (pieces[i - 1].kind, pieces[min(i + 1, len(pieces) - 1)].kind)
    ]
    for i in rng.sample(sites, min(count, len(sites))):
        pieces[i] = _Piece("  ", "fixed")


def add_noise(text: str, rng: random.Random, protect: Collection[str] = ()) -> str:
    """``text`` with mild typing noise; returns it unchanged when it has no prose word.

    ``protect``: words or phrases (matched case-insensitively, as whole words) that must
    stay exactly as they are, e.g. WinoGrande's two options where the sentence has them.
    """
    pieces = _split(text, protect)
    n_words = sum(p.kind == "word" for p in pieces)
    if n_words == 0:
        return text
    if rng.random() < 0.5:
        _lowercase(pieces)
    if rng.random() < 0.5:
        _contract(pieces, rng)
    _typo(pieces, rng, 1 if n_words < 15 else 2)
    if rng.random() < 0.5:
        _extra_spaces(pieces, rng, rng.randint(1, 2))
    return "".join(p.text for p in pieces)


def noisy_until_changed(
    text: str,
    rng: random.Random,
    changed: Callable[[str], bool] | None = None,
    protect: Collection[str] = (),
    attempts: int = 5,
) -> str | None:
    """``add_noise`` retried until ``changed(new_text)`` holds (default: the text differs);
    None if no attempt changes it (nothing editable)."""
    check = changed or (lambda new: new != text)
    for _ in range(attempts):
        new = add_noise(text, rng, protect)
        if check(new):
            return new
    return None
