"""GSM8K variants other than ``renumbered`` (see renumber.py): reworded questions, an
irrelevant sentence with a number, and a different final-answer format."""

from __future__ import annotations

import random
import re
from typing import Any

from shadow_suite.taskpack.variants.core import Doc, Variant, on_a_copy
from shadow_suite.taskpack.variants.renumber import FINAL, RENUMBERED

REPHRASED_FIELD = "rephrased_question"
"""Where the loader puts the row of test_rephrased.jsonl with the same ``idx``."""

ANSWER_FORMAT_INSTRUCTION = (
    'End your answer with the sentence "The final answer is N." where N is the number.'
)
ANSWER_FORMAT_PREFIX = "The final answer is "
ANSWER_FORMAT_FILTER_REGEX = r"The final answer is (\-?[0-9\.\,]+)"
"""The lm-eval ``regex`` filter (strict-match) that reads the answer in this format: orig's
strict rule (the same number pattern after ``#### ``, no "$") behind this format's prefix, so a "$18" fails
the strict filter in both forms and the two strict scores stay comparable."""
ANSWER_FORMAT_TARGET_IGNORE = r"(?s).*The final answer is "
"""Replaces ``(?s).*#### `` in exact_match's ``regexes_to_ignore``, so the reference
(the rewritten solution) reduces to the number as the original's does."""

ANSWER_FORMAT_TASK_CONFIG: dict[str, Any] = {
    "metric_list": [
        {
            "metric": "exact_match",
            "aggregation": "mean",
            "higher_is_better": True,
            "ignore_case": True,
            "ignore_punctuation": False,
            "regexes_to_ignore": [",", "\\$", ANSWER_FORMAT_TARGET_IGNORE, "\\.$"],
        }
    ],
    "filter_list": [
        {
            "name": "strict-match",
            "filter": [
                {"function": "regex", "regex_pattern": ANSWER_FORMAT_FILTER_REGEX},
                {"function": "take_first"},
            ],
        },
        {
            "name": "flexible-extract",
            "filter": [
                {
                    "function": "regex",
                    "group_select": -1,
                    "regex_pattern": "(-?[$0-9.,]{2,})|(-?[0-9]+)",
                },
                {"function": "take_first"},
            ],
        },
    ],
}
"""answer_format's metric and filters in lm-eval's terms: orig's (lm-eval's gsm8k), with
the strict filter and the reference reading "The final answer is N" instead of "#### N"."""
ANSWER_FORMAT_NOTE = (
    'the strict filter reads "The final answer is N." instead of "#### N", and exact_match '
    "strips that prefix from the reference (regexes from shadow_suite.taskpack.variants.gsm8k; "
    "a test checks they agree with orig's)"
)


def rephrased(doc: Doc, rng: random.Random) -> Doc | None:
    reworded = doc.get(REPHRASED_FIELD)
    if not isinstance(reworded, str) or not reworded.strip() or reworded == doc["question"]:
        return None
    doc["question"] = reworded
    return doc


def answer_format(doc: Doc, rng: random.Random) -> Doc | None:
    match = FINAL.search(doc["answer"])
    if not match:
        return None
    number = match.group(1).strip()
    doc["answer"] = doc["answer"][: match.start()] + f"\n{ANSWER_FORMAT_PREFIX}{number}."
    doc["question"] = f"{doc['question'].rstrip()} {ANSWER_FORMAT_INSTRUCTION}"
    return doc


# (sentence with {n}, words that must not occur in the problem for it to be irrelevant)
DISTRACTORS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("A park nearby has {n} benches.", ("park", "bench")),
    ("The town library was built {n} years ago.", ("library", "built", "year")),
    ("The museum downtown has {n} paintings on display.", ("museum", "painting")),
    ("There are {n} streetlights along the main road.", ("streetlight", "road", "light")),
    ("The neighbour's parrot knows {n} words.", ("parrot", "word", "bird")),
    ("The old clock tower is {n} meters tall.", ("clock", "tower", "meter", "tall")),
    (
        "A lighthouse on the coast flashes {n} times a night.",
        ("lighthouse", "coast", "flash", "night"),
    ),
    ("The local choir has {n} members.", ("choir", "member", "sing")),
    (
        "The city aquarium keeps {n} species of jellyfish.",
        ("aquarium", "jellyfish", "fish", "species"),
    ),
    ("A mountain trail in the region has {n} switchbacks.", ("mountain", "trail", "switchback")),
    ("The school's chess club owns {n} chess sets.", ("chess", "club", "set")),
    ("The bridge over the river has {n} lamps.", ("bridge", "river", "lamp")),
)

_ABBREVIATION = re.compile(r"(?:\b(?:Mr|Mrs|Ms|Dr|St|Jr|Sr|vs|etc|approx|a\.m|p\.m|i\.e|e\.g)\.)$")
_BOUNDARY = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[\"“(]?[A-Z])")


def _last_boundary(question: str) -> int | None:
    """Index where the last sentence starts (after its whitespace), or None."""
    starts = [
        m.end()
        for m in _BOUNDARY.finditer(question.rstrip())
        if not _ABBREVIATION.search(question[: m.start() + 1].rstrip('"”’) '))
    ]
    return starts[-1] if starts else None


def distractor(doc: Doc, rng: random.Random) -> Doc | None:
    question = doc["question"]
    start = _last_boundary(question)
    if start is None:
        return None
    text = (question + " " + doc["answer"]).lower()
    templates = [t for t, words in DISTRACTORS if not any(w in text for w in words)]
    if not templates:
        return None
    used = {int(n) for n in re.findall(r"\d+", question + " " + doc["answer"])}
    n = rng.choice([k for k in range(3, 98) if k not in used])
    sentence = rng.choice(templates).format(n=n)
    doc["question"] = f"{question[:start]}{sentence} {question[start:]}"
    return doc


REGISTERED: dict[str, dict[str, Variant]] = {
    "gsm8k": {
        "rephrased": Variant(
            "rephrased",
            "gsm8k",
            on_a_copy(rephrased),
            "preserved",
            False,
            "The question is replaced by a published rewording with the same numbers "
            "and answer (Yang et al. 2023).",
            "no rewording for this item, or it is identical to the question",
            family="content",
            paired_fewshot=True,
        ),
        "renumbered": RENUMBERED,
        "distractor": Variant(
            "distractor",
            "gsm8k",
            on_a_copy(distractor),
            "preserved",
            False,
            "One irrelevant sentence containing a number is inserted before the question sentence.",
            "the problem is a single sentence (no place before the question)",
            family="hard",
            paired_fewshot=True,
        ),
        "answer_format": Variant(
            "answer_format",
            "gsm8k",
            on_a_copy(answer_format),
            "preserved",
            True,
            "The final answer is asked for as 'The final answer is N.' instead of "
            "'#### N', in the few-shot examples too.",
            "the solution has no final '#### N' line",
            family="format",
            paired_fewshot=True,
            task_config=ANSWER_FORMAT_TASK_CONFIG,
            task_config_note=ANSWER_FORMAT_NOTE,
        ),
    },
}
"""benchmark -> variant name -> Variant, for the benchmark of this module."""
