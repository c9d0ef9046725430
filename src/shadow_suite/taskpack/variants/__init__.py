"""Out-of-distribution variants of benchmark items: pure ``doc -> doc | None`` functions.

Each variant rewrites one raw benchmark document (the schema lm-eval's own task reads)
into a new one, seeded per item from (benchmark, doc id, variant, seed), or returns None
when the transformation does not apply to that item (the skip is counted and reported).

*Content* variants return the raw schema, so the benchmark's own prompt template renders
them. *Format* variants (``fewshot=True``) also set ``shadow_prompt`` (the whole question
prompt, ending in "Answer:"), ``shadow_choices`` (the continuations scored, without the
leading space lm-eval adds) and ``shadow_gold`` (index of the right one); they are applied
to the few-shot examples too, so examples and question share one format. The loader marks
few-shot examples with ``shadow_fewshot: True`` (``FEWSHOT_FLAG``): a format variant never
skips those, so every subject keeps all its examples.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from shadow_suite.contract import FEWSHOT_FLAG, item_id
from shadow_suite.errors import ShadowSuiteError
from shadow_suite.taskpack.suite import get_benchmark
from shadow_suite.taskpack.variants import completion, gsm8k, multiple_choice
from shadow_suite.taskpack.variants.core import (
    FAMILIES,
    RENDER_FIELDS,
    Doc,
    Family,
    ItemRandom,
    Variant,
    item_rng,
    run_rng,
    validate_seed,
)
from shadow_suite.taskpack.variants.multiple_choice import relabel_symbols

__all__ = [
    "FAMILIES",
    "FEWSHOT_FLAG",
    "RENDER_FIELDS",
    "VARIANTS",
    "Family",
    "ItemRandom",
    "Variant",
    "applicability",
    "apply_variant",
    "get_variant",
    "item_rng",
    "relabel_symbols",
    "run_rng",
    "validate_seed",
]


def _merge(*registries: dict[str, dict[str, Variant]]) -> dict[str, dict[str, Variant]]:
    merged: dict[str, dict[str, Variant]] = {}
    for registry in registries:
        for benchmark, variants in registry.items():
            if benchmark in merged:
                raise AssertionError(f"variants of {benchmark!r} registered twice")
            merged[benchmark] = dict(variants)
    return merged


VARIANTS: dict[str, dict[str, Variant]] = _merge(
    multiple_choice.REGISTERED,  # mmlu, arc_challenge
    completion.REGISTERED,  # hellaswag, winogrande
    gsm8k.REGISTERED,  # gsm8k (renumbered from renumber.py)
)
"""benchmark -> variant name -> Variant (the unchanged ``orig`` is not a variant). Each
variant is registered in the module that holds its transform; this merges them."""


def get_variant(benchmark: str, name: str) -> Variant:
    get_benchmark(benchmark)  # raises naming an unknown benchmark
    variants = VARIANTS.get(benchmark, {})
    if name not in variants:
        raise ShadowSuiteError(
            f"unknown variant {name!r} for benchmark {benchmark!r}; known: {', '.join(variants)}"
        )
    return variants[name]


def apply_variant(benchmark: str, variant: str, doc: Doc, doc_id: str, seed: int) -> Doc | None:
    """The variant of ``doc`` (a new dict; ``doc`` is never modified), or None if the
    variant does not apply to it. Extra keys (the loader's ``shadow_*``) are copied."""
    spec = get_variant(benchmark, variant)
    rng = item_rng(benchmark, str(doc_id), variant, validate_seed(seed))
    result = spec.transform(doc, rng)
    if result is not None and spec.renders:
        missing = [f for f in RENDER_FIELDS if f not in result]
        if missing:
            raise AssertionError(f"variant {benchmark}/{variant} renders but did not set {missing}")
    return result


def applicability(
    benchmark: str,
    variant: str,
    docs: Iterable[Doc],
    seed: int,
    doc_ids: Sequence[str] | None = None,
) -> tuple[int, int]:
    """(n source, n applied): on how many of ``docs`` the variant applies. Doc ids are
    ``doc_ids`` if given, else each doc's ``shadow_id``, else the id the task pack gives
    row ``i`` of the evaluated split (``<benchmark>/<split>/<i>``)."""
    split = get_benchmark(benchmark).eval_split
    get_variant(benchmark, variant)  # bad names fail even when there are no docs
    seed = validate_seed(seed)
    n_source = n_applied = 0
    for index, doc in enumerate(docs):
        if doc_ids is not None:
            doc_id = doc_ids[index]
        else:
            doc_id = str(doc.get("shadow_id", item_id(benchmark, split, index)))
        n_source += 1
        if apply_variant(benchmark, variant, doc, doc_id, seed) is not None:
            n_applied += 1
    return n_source, n_applied
