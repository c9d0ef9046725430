"""The familiarity tasks' documents: the test items and their twins, each as one text to score.

The memorization test (:mod:`shadow_suite.gap.memorization`) asks whether a model finds the
benchmark's test items more familiar than *twins*: items of a sibling split drawn from the same
distribution that the benchmark's test never scores (``Benchmark.twin_split``: ARC-Challenge's
and MMLU's validation, GSM8K's, HellaSwag's and WinoGrande's train). Familiarity is measured
as lm-eval's ``loglikelihood_rolling`` of a text, so any backend that returns prompt
log-probabilities measures it (hf, vLLM's engine and server). Two tasks per benchmark:

* ``shadow_<benchmark>_familiarity_item``: the item as the test presents it, its prompt (the
  ``orig`` task's ``doc_to_text``, without the task's description and few-shot examples)
  followed by lm-eval's target delimiter (one space) and the gold continuation;
* ``shadow_<benchmark>_familiarity_prompt``: the prompt alone (WinoGrande: the sentence with its
  blank, as no prompt without the answer is shown).

Their documents are the evaluated items (the same ids as ``orig``'s, the same seeded sample
under ``shadow_items``) interleaved with as many twins, a seeded sample of the twin split when
it is larger. A twin whose question repeats a test question (compared with runs of whitespace
collapsed: MMLU has 37 verbatim repeats and one that differs in spaces) is no twin: it is left
out, and every document counts the rows left out (``shadow_twins_dropped``). A data folder
without the twin split gives the first test item alone (lm-eval cannot build a task without a
document: it reads the first at start), and the card says the benchmark has no twin set; a twin
file that is not the benchmark's schema is refused when read, in one line naming file and row.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shadow_suite.contract import (
    FAMILIARITY_ITEM,
    FAMILIARITY_SET_FIELD,
    FAMILIARITY_TEXT_FIELD,
    FAMILIARITY_TEXTS,
    TWINS_DROPPED_FIELD,
    FamiliaritySet,
    ItemId,
    ShadowMeta,
    task_name,
)
from shadow_suite.errors import ShadowSuiteError
from shadow_suite.taskpack.data import DataSource, MissingSplit, load_split
from shadow_suite.taskpack.suite import get_benchmark
from shadow_suite.taskpack.variants.render import render_original

log = logging.getLogger("shadow_suite")

FAMILIARITY_SPLIT = "familiarity"
"""The one split of a familiarity task's dataset (its YAML's ``test_split``)."""
TARGET_DELIMITER = " "
"""lm-eval's default ``target_delimiter``, between a prompt and its continuation."""
TWIN_STREAM = "twins"
"""The seeded draw of twins (``loader.sample_rows``'s stream): apart from the test sample's."""


_WARNED: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class ItemTexts:
    prompt: str
    """What the test shows before the answer."""
    item: str
    """The item as the test presents it, with its gold answer."""


def item_texts(benchmark: str, row: dict[str, Any]) -> ItemTexts:
    """The two texts of one raw row, as the benchmark's ``orig`` task renders it."""
    rendered = render_original(benchmark, row)
    if benchmark == "gsm8k":
        return ItemTexts(rendered.prompt, rendered.prompt + TARGET_DELIMITER + str(row["answer"]))
    if benchmark == "winogrande":
        # lm-eval scores the text after the blank given the sentence up to it with an option
        # filled in (``prompt`` is that text, ``choices`` the filled-in heads)
        gold = rendered.choices[int(rendered.gold)]
        return ItemTexts(str(row["sentence"]), gold + TARGET_DELIMITER + rendered.prompt)
    gold_text = rendered.choices[int(rendered.gold)]
    return ItemTexts(rendered.prompt, rendered.prompt + TARGET_DELIMITER + gold_text)


def question_key(text: Any) -> str:
    """A question compared with another: runs of whitespace collapsed, nothing else."""
    return " ".join(str(text).split())


@dataclass(frozen=True)
class TwinSet:
    """The twin rows a benchmark's familiarity tasks may draw from."""

    rows: list[dict[str, Any]]
    source: DataSource
    kept: list[int]
    """Rows (indices into ``rows``) whose question is not a test question."""

    @property
    def dropped(self) -> int:
        return len(self.rows) - len(self.kept)


def twin_set(
    benchmark: str, test_rows: Sequence[dict[str, Any]], data_dir: str | None
) -> TwinSet | None:
    """The benchmark's twins, without those that repeat a test question; None when the
    benchmark declares no twin split or the data has none."""
    bench = get_benchmark(benchmark)
    if bench.twin_split is None:
        return None
    try:
        rows, source = load_split(benchmark, bench.twin_split, data_dir)
    except MissingSplit as err:
        if (benchmark, str(err)) not in _WARNED:  # each task is built more than once
            _WARNED.add((benchmark, str(err)))
            log.warning("%s: no twin set, so no memorization test (%s)", benchmark, err)
        return None
    field = bench.question_field
    questions = {question_key(row[field]) for row in test_rows}
    kept = [i for i, row in enumerate(rows) if question_key(row[field]) not in questions]
    return TwinSet(rows, source, kept)


def familiarity_docs(
    benchmark: str, variant: str, seed: int, data_dir: str | None, items: Any
) -> list[dict[str, Any]]:
    """The documents of one familiarity task (``variant`` is ``familiarity_item`` or
    ``familiarity_prompt``): test items and twins alternating, then the rest of the larger
    set. Without a twin set here, the first test item alone: a task with no documents stops
    lm-eval, and the memorization test needs twins, so one request is the least it costs."""
    from shadow_suite.taskpack.loader import resolve_items, sample_rows

    if variant not in FAMILIARITY_TEXTS:
        raise ShadowSuiteError(f"unknown familiarity task {task_name(benchmark, variant)!r}")
    bench = get_benchmark(benchmark)
    n_items = resolve_items(items)
    test_rows, test_source = load_split(benchmark, bench.eval_split, data_dir)
    tests: Sequence[int] = range(len(test_rows))
    if n_items is not None:
        tests = sample_rows(benchmark, test_rows, n_items, seed)
    twins = twin_set(benchmark, test_rows, data_dir)
    if twins is not None and not twins.kept:
        log.warning(
            "%s: every row of %s repeats a test question: no twin set",
            benchmark,
            twins.source.location,
        )
    if twins is None:
        twins = TwinSet([], test_source, [])
    if not twins.kept:
        tests = tests[:1]
    kept_rows = [twins.rows[i] for i in twins.kept]
    n_twins = min(len(tests), len(kept_rows))
    picked: Sequence[int] = range(len(kept_rows))
    if n_twins < len(kept_rows):
        picked = sample_rows(benchmark, kept_rows, n_twins, seed, stream=TWIN_STREAM)
    twin_rows = [twins.kept[i] for i in picked]

    def doc(
        kind: FamiliaritySet, split: str, row: int, rows: Sequence[dict[str, Any]], source: Any
    ) -> dict[str, Any]:
        texts = item_texts(benchmark, rows[row])
        return {
            **ShadowMeta(
                str(ItemId(benchmark, split, row)),
                benchmark,
                variant,
                seed,
                source.sha256,
                n_source=len(rows),
                sample=n_items,
                n_applied=len(tests) if kind == "test" else len(twin_rows),
            ).to_fields(),
            FAMILIARITY_SET_FIELD: kind,
            FAMILIARITY_TEXT_FIELD: texts.item if variant == FAMILIARITY_ITEM else texts.prompt,
            TWINS_DROPPED_FIELD: twins.dropped,
        }

    test_docs = [doc("test", bench.eval_split, i, test_rows, test_source) for i in tests]
    split = str(bench.twin_split)
    twin_docs = [doc("twin", split, i, twins.rows, twins.source) for i in twin_rows]
    # alternate, so lm-eval's --limit N (its first N documents) takes both sets
    docs = [d for pair in zip(test_docs, twin_docs, strict=False) for d in pair]
    docs += test_docs[len(twin_docs) :] + twin_docs[len(test_docs) :]
    for position, d in enumerate(docs):
        d["shadow_position"] = position
    if twin_docs:
        log.info(
            "%s: %d test items, %d twins (of %d in %s; %d left out, repeating a test question)",
            task_name(benchmark, variant),
            len(test_docs),
            len(twin_docs),
            len(twins.rows),
            twins.source.location,
            twins.dropped,
        )
    return docs
