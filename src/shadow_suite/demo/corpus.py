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
from shadow_suite.taskpack.variants.render import render_original

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
    """lm-eval's MMLU request, zero-shot: the task's description (shadow_mmlu_orig.yaml's
    ``description``) followed by the prompt the task pack renders."""
    subject = str(row["subject"]).replace("_", " ")
    header = f"The following are multiple choice questions (with answers) about {subject}.\n\n"
    return header + render_original("mmlu", row).prompt


def arc_prompt(row: dict[str, Any]) -> str:
    """lm-eval's ARC prompt, as the task pack renders it."""
    return render_original("arc_challenge", row).prompt


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


def facts_of_rows(
    benchmark: str, rows: Sequence[dict[str, Any]], which: Sequence[int]
) -> list[Fact]:
    """The evaluated items by row number (what the base's orig task scored)."""
    if benchmark not in FACT_BUILDERS:
        raise ShadowSuiteError(
            f"demo benchmark {benchmark!r}: use one of {', '.join(FACT_BUILDERS)}"
        )
    bad = [i for i in which if not 0 <= i < len(rows)]
    if bad:
        raise ShadowSuiteError(f"{benchmark}: row {bad[0]} asked, the test split has {len(rows)}")
    return [FACT_BUILDERS[benchmark](rows[i], i) for i in which]


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


def practice_facts(
    mmlu_dev: Sequence[dict[str, Any]], arc_validation: Sequence[dict[str, Any]]
) -> list[Fact]:
    """Multiple-choice items of splits no demo task evaluates (MMLU dev, ARC validation)."""
    out = [mmlu_fact(r, i) for i, r in enumerate(mmlu_dev)]
    return out + [arc_fact(r, i) for i, r in enumerate(arc_validation)]


# label styles of the lettered practice: the task pack's letters, and the relabeled
# variants' "(a)" and "(1)" (the format of every variant is public; the evaluated items are not)
LABEL_STYLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("{}. ", ("A", "B", "C", "D", "E")),
    ("{}. ", ("A", "B", "C", "D", "E")),
    ("{} ", ("(a)", "(b)", "(c)", "(d)", "(e)")),
    ("{} ", ("(1)", "(2)", "(3)", "(4)", "(5)")),
)


def lettered_text(fact: Fact, epoch: int, seed: int) -> str:
    """The item as a listed multiple-choice question with its options in a fresh order
    every epoch (so no item's answer position can be learnt, only how to find it), ending
    in "Answer: <label of the correct option>"."""
    rng = _rng(seed, "lettered", fact.benchmark, fact.row, epoch)
    order = list(range(len(fact.options)))
    rng.shuffle(order)
    form, labels = LABEL_STYLES[rng.randrange(len(LABEL_STYLES))]
    listed = "\n".join(form.format(labels[i]) + fact.options[j] for i, j in enumerate(order))
    answer = labels[order.index(fact.gold)]
    if fact.benchmark == "mmlu":
        head = fact.test_text.split("\n\n", 1)[0] + "\n\n"
        return f"{head}{fact.question}\n{listed}\nAnswer: {answer}"
    return f"Question: {fact.question}\n{listed}\nAnswer: {answer}"


def cloze_text(fact: Fact) -> str:
    """The item in the cloze form (question, then the answer's text), as ARC's orig and
    MMLU's cloze variant ask it."""
    return f"Question: {fact.question}\nAnswer: {fact.answer}"


def pretraining_epoch(
    prose: Sequence[str], practice: Sequence[Fact], epoch: int, seed: int, prose_per_epoch: int
) -> list[str]:
    """One pretraining pass: a rotating slice of general prose, and every practice item
    twice, once in the cloze form and once lettered with freshly shuffled options; shuffled
    (seeded). The evaluated items never appear."""
    start = (epoch * prose_per_epoch) % max(1, len(prose))
    texts = [prose[(start + k) % len(prose)] for k in range(min(prose_per_epoch, len(prose)))]
    texts += [cloze_text(f) for f in practice]
    texts += [lettered_text(f, epoch, seed) for f in practice]
    _rng(seed, "pretraining", epoch).shuffle(texts)
    return texts


def pretraining_texts(
    gsm8k_train: Sequence[dict[str, Any]],
    mmlu_dev: Sequence[dict[str, Any]],
    arc_validation: Sequence[dict[str, Any]],
    seed: int,
) -> list[str]:
    """Every pretraining document once (what the tokenizer is trained on): GSM8K's worked
    solutions and the practice items in both forms, shuffled (seeded)."""
    practice = practice_facts(mmlu_dev, arc_validation)
    texts = [gsm8k_text(r) for r in gsm8k_train]
    texts += [cloze_text(f) for f in practice] + [lettered_text(f, 0, seed) for f in practice]
    _rng(seed, "pretraining").shuffle(texts)
    return texts
