"""The five benchmarks of the suite: where their data lives and how they are scored.

One place for what every stage needs to know about a benchmark: the task pack (data
files, splits), the gap analysis (which metric decides if an item is right, chance
level) and the report card.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shadow_suite.contract import unknown_benchmark


@dataclass(frozen=True)
class Benchmark:
    name: str
    """Our name, used in task names (``shadow_<name>_<variant>``) and in the data folder."""
    lm_eval_task: str
    """lm-eval's own task (or group) whose requests our ``orig`` task reproduces."""
    hub_path: str
    hub_name: str | None
    """The Hugging Face dataset lm-eval loads (used when no local data folder is set)."""
    eval_split: str
    fewshot_split: str | None
    """Split every run reads its few-shot examples from (MMLU's dev, GSM8K's train, both
    few-shot by default), or None when examples come from ``train_split`` if asked for."""
    train_split: str | None
    """lm-eval's ``training_split`` for a benchmark that runs zero-shot by default: the split
    its few-shot examples are drawn from when ``--num_fewshot`` asks for them, as lm-eval's
    own task draws them. Optional: read when present, and a run that asks for no examples
    never needs it (asking for examples without it is refused in one line)."""
    local_splits: tuple[str, ...]
    """Files ``<data_dir>/<name>/<split>.jsonl`` the pack reads, in the upstream row order."""
    primary_metric: str
    """The per-item metric (as in lm-eval's samples files, ``metric,filter``) that decides
    whether the model got an item right; the one leaderboards report."""
    twin_split: str | None = None
    """A sibling split of the evaluated one, from the same distribution and never scored by the
    benchmark's test: the twins the memorization test compares the test items with. Optional
    (a data folder without it gets no memorization row for the benchmark)."""
    question_field: str = "question"
    """The row's question text: a twin whose question repeats a test question (whitespace
    aside) is no twin, and is left out."""


BENCHMARKS: dict[str, Benchmark] = {
    b.name: b
    for b in (
        Benchmark(
            name="mmlu",
            lm_eval_task="mmlu",
            hub_path="cais/mmlu",
            hub_name="all",
            eval_split="test",
            fewshot_split="dev",
            train_split=None,
            local_splits=("test", "dev", "validation"),
            primary_metric="acc,none",
            # 37 of its questions repeat a test question verbatim, one more up to spaces
            twin_split="validation",
        ),
        Benchmark(
            name="arc_challenge",
            lm_eval_task="arc_challenge",
            hub_path="allenai/ai2_arc",
            hub_name="ARC-Challenge",
            eval_split="test",
            fewshot_split=None,
            train_split="train",
            local_splits=("test", "train", "validation"),
            primary_metric="acc_norm,none",
            twin_split="validation",
        ),
        Benchmark(
            name="hellaswag",
            lm_eval_task="hellaswag",
            hub_path="Rowan/hellaswag",
            hub_name=None,
            eval_split="validation",
            fewshot_split=None,
            train_split="train",
            local_splits=("validation", "train"),
            primary_metric="acc_norm,none",
            # train holds only validation's in-domain activities (its "zeroshot" half has
            # activities train never shows): the references' subtraction matters here
            twin_split="train",
            question_field="ctx",
        ),
        Benchmark(
            name="gsm8k",
            lm_eval_task="gsm8k",
            hub_path="openai/gsm8k",
            hub_name="main",
            eval_split="test",
            fewshot_split="train",
            train_split=None,
            local_splits=("test", "train", "test_rephrased"),
            primary_metric="exact_match,strict-match",
            # many models train on it legitimately: that makes the one-sided test conservative
            twin_split="train",
        ),
        Benchmark(
            name="winogrande",
            lm_eval_task="winogrande",
            hub_path="allenai/winogrande",
            hub_name="winogrande_xl",
            eval_split="validation",
            fewshot_split=None,
            train_split="train",
            local_splits=("validation", "train"),
            primary_metric="acc,none",
            twin_split="train",
            question_field="sentence",
        ),
    )
}


def get_benchmark(name: str) -> Benchmark:
    try:
        return BENCHMARKS[name]
    except KeyError:
        raise unknown_benchmark(name) from None


# --- the fields of a data row, checked when a split is loaded --------------------------------


@dataclass(frozen=True)
class RowField:
    """One field every row of a benchmark's data must have, and what its value must be."""

    name: str
    expected: str
    """What a good value is, in words (shown in the error)."""
    check: Callable[[Any, Mapping[str, Any]], bool]
    """``check(value, row)``: True for a good value (``row`` for checks across fields)."""


def _text(value: Any, _row: Mapping[str, Any] | None = None) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _texts(n: int | None = None) -> Callable[[Any, Mapping[str, Any]], bool]:
    def check(value: Any, _row: Mapping[str, Any]) -> bool:
        return (
            isinstance(value, list)
            and (len(value) == n if n is not None else len(value) >= 2)
            and all(isinstance(v, str) for v in value)
        )

    return check


def _index(value: Any, n: int) -> bool:
    """An option index 0..n-1, as an int or its digits (HellaSwag's labels are strings)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    return isinstance(value, int) and 0 <= value < n


def _arc_choices(value: Any, _row: Mapping[str, Any]) -> bool:
    return (
        isinstance(value, dict)
        and _texts()(value.get("text"), _row)
        and _texts()(value.get("label"), _row)
        and len(value["text"]) == len(value["label"])
    )


def _arc_answer(value: Any, row: Mapping[str, Any]) -> bool:
    return _arc_choices(row.get("choices"), row) and value in row["choices"]["label"]


_GSM8K_FINAL = re.compile(r"#### [^\n]*\S[^\n]*\s*$")

ROW_FIELDS: dict[str, tuple[RowField, ...]] = {
    "mmlu": (
        RowField("subject", "a subject name", _text),
        RowField("question", "text", _text),
        RowField("choices", "a list of 4 strings", _texts(4)),
        RowField("answer", "an integer 0-3", lambda v, _: _index(v, 4) and isinstance(v, int)),
    ),
    "arc_challenge": (
        RowField("question", "text", _text),
        RowField("choices", "{text: [...], label: [...]}, as many labels as texts", _arc_choices),
        RowField("answerKey", "one of the row's choices.label", _arc_answer),
    ),
    "hellaswag": (
        RowField("activity_label", "text", _text),
        RowField("ctx_a", "a string", lambda v, _: isinstance(v, str)),
        RowField("ctx_b", "a string", lambda v, _: isinstance(v, str)),
        RowField("ctx", "a string", lambda v, _: isinstance(v, str)),
        RowField("endings", "a list of 4 strings", _texts(4)),
        RowField("label", "an ending's index, '0'-'3'", lambda v, _: _index(v, 4)),
    ),
    "winogrande": (
        RowField("sentence", "text with one '_' blank", lambda v, _: _text(v) and "_" in v),
        RowField("option1", "text", _text),
        RowField("option2", "text", _text),
        RowField("answer", "'1' or '2'", lambda v, _: v in ("1", "2")),
    ),
    "gsm8k": (
        RowField("question", "text", _text),
        RowField(
            "answer",
            "a solution whose last line is '#### N'",
            lambda v, _: isinstance(v, str) and bool(_GSM8K_FINAL.search(v)),
        ),
    ),
}
"""The fields each benchmark's rows need (what the task pack and the variants read). A row
that lacks one, or holds a bad value, makes the whole split fail to load, naming the file and
row: skipping it would silently change the item set, and with it every document id after it."""

# Splits whose rows differ from their benchmark's: these fields instead
SPLIT_ROW_FIELDS: dict[tuple[str, str], tuple[RowField, ...]] = {
    ("gsm8k", "test_rephrased"): (
        RowField(
            "idx",
            "the row's index in test.jsonl",
            lambda v, _: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
        ),
        # empty where no rephrasing kept the answer: the variant skips that item
        RowField("question", "a string", lambda v, _: isinstance(v, str)),
    ),
}


def row_problem(benchmark: str, split: str, row: Mapping[str, Any]) -> str | None:
    """What is wrong with one data row of ``benchmark``/``split`` in words, or None."""
    fields = SPLIT_ROW_FIELDS.get((benchmark, split)) or ROW_FIELDS.get(benchmark, ())
    for spec in fields:
        if spec.name not in row or row[spec.name] is None:
            return f"field {spec.name!r} missing (benchmark {benchmark})"
        if not spec.check(row[spec.name], row):
            shown = repr(row[spec.name])
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            return (
                f"field {spec.name!r} is {shown}, expected {spec.expected} (benchmark {benchmark})"
            )
    return None
