"""Answer options that refer to other options, and so cannot move or be shown alone.

Two kinds: *aggregate* options ("All of the above", "None of these", "Both") whose
meaning depends on the other options and often on their position, and options that
*name letters* ("Both A and C", "Neither (a) nor (b)", "A and B only"). The detectors
are deliberately generous: a false positive only pins an option in place (or skips an
item), while a miss would produce a wrong item.
"""

from __future__ import annotations

import re

_AGGREGATE_START = re.compile(
    r"^\W*(?:all|none|any|both|neither|either)(?:\s+\w+){0,3}?\s+(?:of\s+)?(?:the\s+)?"
    r"(?:above|below|these|those|preceding|foregoing|others?|options?|answers?|choices?"
    r"|responses?|statements)\b",
    re.IGNORECASE,
)
_AGGREGATE_ANYWHERE = re.compile(
    r"\b(?:(?:of|in|all|none)\s+(?:the\s+)?above|(?:listed|mentioned|given)\s+above)\b"
    r"|\bof\s+the\s+other\s+(?:options|answers|choices)\b",
    re.IGNORECASE,
)
_AGGREGATE_ALONE = re.compile(r"^\W*(?:all|none|both|neither|either)\W*$", re.IGNORECASE)

_LETTER = r"\(?[A-Ea-e]\)?"
_LETTER_REFERENCE = re.compile(
    # "A and B", "both (a) and (c)", "neither A nor B", "A, B, and C", "A B and C"
    rf"(?<![\w'’~-]){_LETTER}(?:\s*,?\s*{_LETTER})*\s*,?\s+(?:and|or|nor|&)\s+{_LETTER}(?![\w'’-])"
    # "option A", "answers (b)", "only C", "A only"
    r"|\b(?:options?|answers?|choices?|only)\s+\(?[A-Ea-e]\)?(?![\w'’-])"
    r"|(?<![\w'’~-])\(?[A-E]\)?\s+only\b"
    # an option that is just a letter
    r"|^\W*\(?[A-Ea-e]\)?\W*$"
)
_NAMED_LETTER = re.compile(r"(?<![\w'’~-])\(?([A-Ea-e])\)?(?![\w'’-])")


def is_aggregate(option: str) -> bool:
    """True for options such as "All of the above", "None of these", "Both"."""
    return bool(
        _AGGREGATE_START.search(option)
        or _AGGREGATE_ANYWHERE.search(option)
        or _AGGREGATE_ALONE.search(option)
    )


def named_letters(option: str, n_options: int) -> set[int]:
    """Indices of the options this option names by letter ("both A and C" -> {0, 2});
    empty when it names none."""
    indices: set[int] = set()
    for match in _LETTER_REFERENCE.finditer(option):
        for letter in _NAMED_LETTER.findall(match.group(0)):
            index = ord(letter.upper()) - ord("A")
            if index < n_options:
                indices.add(index)
    return indices


def names_letters(option: str) -> bool:
    return bool(_LETTER_REFERENCE.search(option))


def refers_to_others(option: str) -> bool:
    """True if the option's meaning depends on the other options (either kind)."""
    return is_aggregate(option) or names_letters(option)


def pinned_positions(options: list[str]) -> set[int]:
    """Positions that must not move under a permutation: aggregate options, options
    naming letters, and the options they name."""
    pinned: set[int] = set()
    for i, option in enumerate(options):
        if is_aggregate(option):
            pinned.add(i)
        if names_letters(option):
            pinned.add(i)
            pinned |= named_letters(option, len(options))
    return pinned
