"""The demo's training text, as pure functions of benchmark rows (no I/O, no randomness
beyond the seeds passed in).

Three corpora:

* **pretraining**: general text from splits that are never evaluated (GSM8K train, the MMLU
  few-shot split ``dev``, ARC-Challenge ``validation``).
* **benchmark-aligned**: the evaluated items (the first N of each benchmark's test split, the
  ones ``--limit N`` scores) in the benchmark's own test format, answer included: exactly
  the prompt lm-eval sends for the ``orig`` task followed by the gold continuation.
* **coverage-expanding**: the same items (same questions, same correct answers) in other
  formats: prose, other question/answer templates, shuffled option lists with the answer
  given as text. None of these templates is a test prompt of the task pack, neither the
  original's nor a variant's (no letter or symbol answers, no "Answer:" line), so the model
  learns the facts without seeing the test's format.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from shadow_suite.errors import ShadowSuiteError

LETTERS = "ABCD"
ROMAN = ("i", "ii", "iii", "iv", "v")


@dataclass(frozen=True)
class Fact:
    """One evaluated item, reduced to what both fine-tuning corpora say about it."""

    benchmark: str
    row: int
    question: str
    options: tuple[str, ...]
    gold: int
    test_text: str
    """The item as the benchmark's orig task asks it, with the gold answer appended."""

    @property
    def answer(self) -> str:
        return self.options[self.gold]


def mmlu_prompt(row: dict[str, Any]) -> str:
    """lm-eval's MMLU prompt (tasks/shadow_suite/mmlu/shadow_mmlu_orig.yaml), zero-shot."""
    subject = str(row["subject"]).replace("_", " ")
    choices = row["choices"]
    lines = [f"{LETTERS[i]}. {choices[i]}" for i in range(4)]
    return (
        f"The following are multiple choice questions (with answers) about {subject}.\n\n"
        f"{str(row['question']).strip()}\n" + "\n".join(lines) + "\nAnswer:"
    )


def arc_prompt(row: dict[str, Any]) -> str:
    """lm-eval's ARC prompt (tasks/shadow_suite/arc_challenge/shadow_arc_challenge_orig.yaml)."""
    return f"Question: {row['question']}\nAnswer:"


def mmlu_fact(row: dict[str, Any], index: int) -> Fact:
    try:
        choices = tuple(str(c) for c in row["choices"])
        gold = int(row["answer"])
        question = str(row["question"]).strip()
    except (KeyError, TypeError, ValueError) as err:
        raise ShadowSuiteError(f"mmlu test row {index}: bad field ({err})") from None
    if len(choices) != 4 or not 0 <= gold < 4:
        raise ShadowSuiteError(f"mmlu test row {index}: needs 4 choices and answer 0-3")
    # lm-eval joins prompt and target with one space (target_delimiter)
    return Fact("mmlu", index, question, choices, gold, f"{mmlu_prompt(row)} {LETTERS[gold]}")


def arc_fact(row: dict[str, Any], index: int) -> Fact:
    try:
        texts = tuple(str(t) for t in row["choices"]["text"])
        gold = list(row["choices"]["label"]).index(row["answerKey"])
        question = str(row["question"]).strip()
    except (KeyError, TypeError, ValueError) as err:
        raise ShadowSuiteError(f"arc_challenge test row {index}: bad field ({err})") from None
    return Fact("arc_challenge", index, question, texts, gold, f"{arc_prompt(row)} {texts[gold]}")


FACT_BUILDERS: dict[str, Callable[[dict[str, Any], int], Fact]] = {
    "mmlu": mmlu_fact,
    "arc_challenge": arc_fact,
}


def evaluated_facts(benchmark: str, rows: Sequence[dict[str, Any]], n: int) -> list[Fact]:
    """The first ``n`` rows of the evaluated split: what ``lm_eval --limit n`` scores."""
    if benchmark not in FACT_BUILDERS:
        raise ShadowSuiteError(
            f"demo benchmark {benchmark!r}: use one of {', '.join(FACT_BUILDERS)}"
        )
    if len(rows) < n:
        raise ShadowSuiteError(f"{benchmark}: {n} items asked, the test split has {len(rows)}")
    return [FACT_BUILDERS[benchmark](rows[i], i) for i in range(n)]


# -- coverage-expanding templates ------------------------------------------------------------
# Each takes the fact, its options in a shuffled order, and the item's random generator.


def _prose(f: Fact, opts: list[str], rng: random.Random) -> str:
    return f"{f.question} The correct answer is {f.answer}."


def _qa(f: Fact, opts: list[str], rng: random.Random) -> str:
    return f"Q: {f.question}\nA: {f.answer}"


def _answer_first(f: Fact, opts: list[str], rng: random.Random) -> str:
    return f'{f.answer}: that is the answer to "{f.question}"'


def _inline_options(f: Fact, opts: list[str], rng: random.Random) -> str:
    return (
        f"Consider this: {f.question}\nPossible answers: {'; '.join(opts)}.\n"
        f"The right one is {f.answer}."
    )


def _contrast(f: Fact, opts: list[str], rng: random.Random) -> str:
    wrong = [o for o in opts if o != f.answer]
    others = ", ".join(wrong[:-1]) + (f" or {wrong[-1]}" if len(wrong) > 1 else "".join(wrong))
    return f'Asked "{f.question}", one should reply "{f.answer}", not {others}.'


def _roman_list(f: Fact, opts: list[str], rng: random.Random) -> str:
    listed = "\n".join(f"({ROMAN[i]}) {o}" for i, o in enumerate(opts))
    return f"{f.question}\n{listed}\nSolution: {f.answer}"


COVERAGE_TEMPLATES: tuple[Callable[[Fact, list[str], random.Random], str], ...] = (
    _prose,
    _qa,
    _answer_first,
    _inline_options,
    _contrast,
    _roman_list,
)


def _rng(seed: int, *parts: object) -> random.Random:
    return random.Random(f"{seed}/" + "/".join(str(p) for p in parts))


def coverage_text(fact: Fact, repetition: int, seed: int) -> str:
    """The fact in one of the coverage templates; repetition r of an item uses template
    (offset + r) mod 6, so consecutive repetitions cycle through every template."""
    rng = _rng(seed, "coverage", fact.benchmark, fact.row, repetition)
    offset = _rng(seed, "offset", fact.benchmark, fact.row).randrange(len(COVERAGE_TEMPLATES))
    opts = list(fact.options)
    rng.shuffle(opts)
    template = COVERAGE_TEMPLATES[(offset + repetition) % len(COVERAGE_TEMPLATES)]
    return template(fact, opts, rng)


def aligned_epoch(facts: Sequence[Fact], epoch: int, seed: int) -> list[str]:
    """One pass over the facts in test format, in an order shuffled per epoch."""
    texts = [f.test_text for f in facts]
    _rng(seed, "aligned", epoch).shuffle(texts)
    return texts


def coverage_epoch(facts: Sequence[Fact], epoch: int, seed: int) -> list[str]:
    """One pass over the same facts, each in a template that changes from epoch to epoch."""
    texts = [coverage_text(f, epoch, seed) for f in facts]
    _rng(seed, "coverage-order", epoch).shuffle(texts)
    return texts


# -- pretraining text ------------------------------------------------------------------------

_CALCULATOR = re.compile(r"<<[^>]*>>")


def gsm8k_text(row: dict[str, Any]) -> str:
    """A GSM8K training problem and its worked solution, calculator annotations removed."""
    answer = _CALCULATOR.sub("", str(row["answer"]))
    answer = re.sub(r"\n#### (.*)$", r"\nThe answer is \1.", answer.strip())
    return f"{str(row['question']).strip()}\n{answer}"


def pretraining_texts(
    gsm8k_train: Sequence[dict[str, Any]],
    mmlu_dev: Sequence[dict[str, Any]],
    arc_validation: Sequence[dict[str, Any]],
    seed: int,
) -> list[str]:
    """General text from splits no demo task evaluates, shuffled (seeded). MMLU dev and ARC
    validation items appear in their benchmark's format: that format is public and any
    real pretraining corpus contains it; the evaluated items never appear."""
    texts = [gsm8k_text(r) for r in gsm8k_train]
    texts += [f"{mmlu_prompt(r)} {LETTERS[int(r['answer'])]}" for r in mmlu_dev]
    for i, row in enumerate(arc_validation):
        fact = arc_fact(row, i)
        texts.append(f"{arc_prompt(row)} {fact.answer}")
    _rng(seed, "pretraining").shuffle(texts)
    return texts
