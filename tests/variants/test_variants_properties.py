"""Property tests of every variant on the real benchmark rows (hypothesis picks the rows
and seeds): the label contract holds, the model sees something different, the input is
untouched, the same seed gives byte-identical documents, other seeds other documents."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from variants_helpers import SEED_INVARIANT, assert_label, canonical, load_docs

from shadow_suite.taskpack.suite import get_benchmark
from shadow_suite.taskpack.variants import (
    RENDER_FIELDS,
    VARIANTS,
    apply_variant,
    get_variant,
    item_rng,
)
from shadow_suite.taskpack.variants.render import render, render_original

ALL = [(b, v) for b, variants in VARIANTS.items() for v in variants]
# the autouse fixture only sets environment variables: sharing it across examples is fine
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)


def _changed(benchmark: str, old: dict, new: dict) -> bool:
    before, after = render_original(benchmark, old), render(benchmark, new)
    return (before.prompt, before.choices) != (after.prompt, after.choices)


@pytest.mark.parametrize(("benchmark", "variant"), ALL)
@SETTINGS
@given(row=st.integers(min_value=0, max_value=10**6), seed=st.integers(0, 2**40))
def test_variant_contract_on_real_rows(
    benchmark_data: Path, benchmark: str, variant: str, row: int, seed: int
) -> None:
    docs = load_docs(str(benchmark_data), benchmark)
    doc = docs[row % len(docs)]
    snapshot = copy.deepcopy(doc)
    new = apply_variant(benchmark, variant, doc, doc["shadow_id"], seed)
    assert doc == snapshot  # input not mutated
    if new is None:
        return
    assert new is not doc
    # the task reads the render fields exactly when the variant says it renders
    assert any(f in new for f in RENDER_FIELDS) == get_variant(benchmark, variant).renders
    assert_label(benchmark, variant, doc, new)
    assert _changed(benchmark, doc, new)
    again = apply_variant(benchmark, variant, copy.deepcopy(doc), doc["shadow_id"], seed)
    assert canonical(again) == canonical(new)
    # the transform as the task pack calls it (no apply_variant) gives the same document
    direct = get_variant(benchmark, variant).transform(
        doc, item_rng(benchmark, doc["shadow_id"], variant, seed)
    )
    assert canonical(direct) == canonical(new)
    assert doc == snapshot


@pytest.mark.parametrize(("benchmark", "variant"), ALL)
def test_other_seeds_give_other_documents(
    benchmark_data: Path, benchmark: str, variant: str
) -> None:
    docs = load_docs(str(benchmark_data), benchmark)
    step = max(1, len(docs) // 40)
    pairs = []
    for doc in docs[::step][:40]:
        first = apply_variant(benchmark, variant, doc, doc["shadow_id"], 1)
        second = apply_variant(benchmark, variant, doc, doc["shadow_id"], 2)
        if first is not None and second is not None:
            pairs.append(canonical(first) != canonical(second))
    assert len(pairs) >= 10
    if (benchmark, variant) in SEED_INVARIANT:
        assert not any(pairs)  # deterministic by design: nothing to choose
    elif variant == "relabeled":
        # one symbol set per run: across seeds, several sets must occur
        symbol_sets = set()
        doc = next(d for d in docs if apply_variant(benchmark, variant, d, d["shadow_id"], 0))
        for seed in range(12):
            new = apply_variant(benchmark, variant, doc, doc["shadow_id"], seed)
            if new is not None:
                symbol_sets.add(tuple(new["shadow_choices"]))
        assert len(symbol_sets) >= 3
    else:
        assert sum(pairs) >= 0.6 * len(pairs)


@pytest.mark.parametrize(
    ("benchmark", "variant"), [(b, v) for b, v in ALL if get_variant(b, v).fewshot]
)
def test_format_variants_share_one_format_with_fewshot_examples(
    benchmark_data: Path, benchmark: str, variant: str
) -> None:
    bench = get_benchmark(benchmark)
    splits = [bench.eval_split] + ([bench.fewshot_split] if bench.fewshot_split else [])
    for seed in (0, 5):
        endings: set[str] = set()
        choice_sets: set[tuple[str, ...]] = set()
        for split in splits:
            docs = load_docs(str(benchmark_data), benchmark, split)
            for doc in docs[:: max(1, len(docs) // 25)]:
                new = apply_variant(benchmark, variant, doc, doc["shadow_id"], seed)
                if new is None:
                    continue
                if benchmark == "gsm8k":
                    endings.add(new["answer"].rsplit("\n", 1)[1].split(" is ")[0])
                    continue
                endings.add(new["shadow_prompt"].rsplit("\n", 1)[1])
                if variant != "format_swap" or benchmark != "mmlu":  # cloze: texts differ
                    choice_sets.add(tuple(new["shadow_choices"])[:2])
        assert len(endings) == 1  # e.g. every prompt ends in "Answer:"
        assert len(choice_sets) <= 1  # one symbol set for the whole run
