"""The documents of the ``shadow_suite`` task pack: one function builds them for everyone.

:func:`build_docs` is the one place a benchmark's documents are made: lm-eval's
``custom_dataset`` (:func:`load_docs`, named by every task's YAML), ``shadow-suite variants``
and the demo call it. It reads the benchmark's splits (local folder or hub, see
:mod:`shadow_suite.taskpack.data`), gives every row its stable id and provenance
(:class:`shadow_suite.contract.ShadowMeta`), draws the seeded sample when asked, and applies
the task's variant.

Run-time options, from lm-eval's ``--metadata '{"shadow_seed": 7, "shadow_items": 100,
"shadow_data": DIR}'`` or the environment (``SHADOW_SUITE_SEED``, ``SHADOW_SUITE_ITEMS``,
``SHADOW_SUITE_DATA``). ``shadow_items`` N evaluates a seeded sample of N source items (see
:func:`sample_rows`), the same for ``orig`` and every variant: unlike lm-eval's ``--limit``
(the first N documents of each task), the tasks of a benchmark then pair item for item.
``shadow_seed: fresh`` draws a new variant seed once per process (every task of the run
shares it; each document records it).
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from collections.abc import Sequence
from random import Random
from typing import Any

from shadow_suite.contract import (
    DEFAULT_VARIANT_SEED,
    FAMILIARITY_TEXTS,
    FRESH_SEED,
    ITEMS_ENV,
    METADATA_ITEMS,
    ORIG,
    SEED_ENV,
    ItemId,
    ShadowMeta,
    task_name,
)
from shadow_suite.errors import ShadowSuiteError
from shadow_suite.taskpack.data import MissingSplit, load_split
from shadow_suite.taskpack.suite import get_benchmark
from shadow_suite.taskpack.variants import Variant, get_variant, item_rng, validate_seed
from shadow_suite.taskpack.variants.gsm8k import REPHRASED_FIELD

log = logging.getLogger("shadow_suite")


class NoItemApplies(ShadowSuiteError):
    """A variant that skips every item of the split (or the sample): a task with nothing."""


class _FromEnvironment:
    def __repr__(self) -> str:
        return "FROM_ENV"


FROM_ENV: Any = _FromEnvironment()
"""Default of ``items``: read $SHADOW_SUITE_ITEMS (an explicit None means the whole split)."""
STRATA: dict[str, str] = {"mmlu": "subject"}
"""Benchmarks whose sample is spread over strata: the field that names an item's stratum."""


_fresh_seed: int | None = None


def is_fresh(value: Any) -> bool:
    """Whether ``value`` asks for a freshly drawn seed (``fresh``, any case)."""
    return isinstance(value, str) and value.strip().lower() == FRESH_SEED


def fresh_seed() -> int:
    """A variant seed drawn from the operating system's secure source once per process, so
    that every task of one lm-eval run shares it (and so pairs). Logged once; every
    document records it (``shadow_seed``), and with it the card."""
    global _fresh_seed
    if _fresh_seed is None:
        _fresh_seed = secrets.randbelow(2**31 - 1) + 1
        log.warning(
            "shadow_seed fresh: drew variant seed %d (recorded in every sample); evaluate "
            "references with shadow_seed %d",
            _fresh_seed,
            _fresh_seed,
        )
    return _fresh_seed


def resolve_seed(value: Any = None) -> int:
    """The variant seed: explicit value, else $SHADOW_SUITE_SEED, else
    ``DEFAULT_VARIANT_SEED``. ``fresh`` draws
    a new one, the same for the whole process (:func:`fresh_seed`)."""
    if value is None:
        value = os.environ.get(SEED_ENV, DEFAULT_VARIANT_SEED)
    if is_fresh(value):
        return fresh_seed()
    return validate_seed(value)


def resolve_items(value: Any = FROM_ENV) -> int | None:
    """Source items to sample per benchmark: an explicit value (None: the whole split), else
    $SHADOW_SUITE_ITEMS when set, else None."""
    if value is FROM_ENV:
        value = os.environ.get(ITEMS_ENV) or None
    if value is None:
        return None
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().isdecimal():
        number = int(value.strip())
    if number is None or number < 1:
        raise ShadowSuiteError(
            f"{METADATA_ITEMS} {value!r}: give a positive whole number of source items per "
            f"benchmark (--metadata '{{\"{METADATA_ITEMS}\": 100}}' or {ITEMS_ENV}=100)"
        )
    return number


def sample_rows(
    benchmark: str, rows: Sequence[dict[str, Any]], n: int, seed: int, stream: str = ""
) -> list[int]:
    """The rows (in row order) of the seeded sample of ``n`` items of one benchmark's split.

    Drawn from (benchmark, variant seed) only, so ``orig``, every variant and every model
    evaluated with the same seed get the same items. A benchmark in :data:`STRATA` (MMLU) is
    spread over its strata round-robin: the subjects in a seeded order, each subject's items
    in a seeded order, one item per subject per round. So n >= 57 covers every MMLU subject,
    each subject gets n/57 items, rounded (up for the first subjects of the seeded order),
    and the sample weighs subjects equally (lm-eval's MMLU accuracy weighs them by size).
    Other benchmarks: a plain seeded sample. A larger sample holds every smaller one.
    ``stream`` names another draw from the same seed (the familiarity tasks' twins); the
    evaluated split's sample has none.
    """
    if n > len(rows):
        raise ShadowSuiteError(
            f"{METADATA_ITEMS} {n}: {benchmark}'s evaluated split has only {len(rows)} items; "
            f"give at most {len(rows)}, or no {METADATA_ITEMS} to evaluate the whole split"
        )
    # the salt is fixed text (not the metadata key's name): samples must not move if it did
    salt = f"shadow_items\x1f{benchmark}\x1f{seed}" + (f"\x1f{stream}" if stream else "")
    digest = hashlib.sha256(salt.encode()).digest()
    rng = Random(int.from_bytes(digest, "big"))
    key = STRATA.get(benchmark)
    if key is None:
        order = list(range(len(rows)))
        rng.shuffle(order)
        return sorted(order[:n])
    strata: dict[str, list[int]] = {}
    for row, doc in enumerate(rows):
        strata.setdefault(str(doc[key]), []).append(row)
    names = sorted(strata)
    rng.shuffle(names)
    for name in names:
        rng.shuffle(strata[name])
    picked: list[int] = []
    depth = 0
    while len(picked) < n:
        picked += [strata[name][depth] for name in names if depth < len(strata[name])]
        depth += 1
    return sorted(picked[:n])


def build_docs(
    benchmark: str,
    variant: str = ORIG,
    seed: Any = None,
    data_dir: str | None = None,
    items: Any = FROM_ENV,
    fewshot: bool = True,
) -> dict[str, list[dict[str, Any]]]:
    """Documents of one task, per split: the evaluated split and (``fewshot``) the few-shot
    splits, whose examples a variant may transform too.

    With ``items`` (see :func:`resolve_items`) the evaluated split is cut to the seeded
    sample of :func:`sample_rows` before the variant is applied, so only the sampled items
    are transformed and a variant item is always one of ``orig``'s. Few-shot splits are
    never sampled."""
    if variant in FAMILIARITY_TEXTS:
        from shadow_suite.taskpack.familiarity import FAMILIARITY_SPLIT, familiarity_docs

        texts = familiarity_docs(benchmark, variant, resolve_seed(seed), data_dir, items)
        return {FAMILIARITY_SPLIT: texts}
    bench = get_benchmark(benchmark)
    seed = resolve_seed(seed)
    n_items = resolve_items(items)
    spec = None
    if variant != ORIG:
        spec = get_variant(benchmark, variant)

    splits = [bench.eval_split]
    if fewshot:
        splits += [s for s in (bench.fewshot_split, bench.train_split) if s]
    out: dict[str, list[dict[str, Any]]] = {}
    for split in splits:
        try:
            rows, source = load_split(benchmark, split, data_dir)
        except MissingSplit:
            if split != bench.train_split:
                raise
            # Zero-shot runs do without it; asking for examples is refused (TrainSampler).
            out[split] = []
            continue
        is_eval = split == bench.eval_split
        picked: Sequence[int] = range(len(rows))
        if is_eval and n_items is not None:
            picked = sample_rows(benchmark, rows, n_items, seed)
        # Few-shot examples are flagged: format variants never skip one (every MMLU subject
        # keeps its five). Evaluated items get their counts once the variant has run.
        docs = [
            {
                **rows[i],
                **ShadowMeta(
                    str(ItemId(benchmark, split, i)),
                    benchmark,
                    variant,
                    seed,
                    source.sha256,
                    position=position,
                    fewshot=not is_eval,
                ).to_fields(),
            }
            for position, i in enumerate(picked)
        ]
        if is_eval and variant == "rephrased":
            docs = _join_rephrased(docs, data_dir)
        if spec is not None and is_eval:
            docs = _apply(spec.transform, benchmark, variant, docs, seed)
        elif spec is not None:
            docs = _fewshot_examples(spec, docs, seed)
        if is_eval:
            for doc in docs:
                doc.update(shadow_n_source=len(rows), shadow_sample=n_items)
                doc["shadow_n_applied"] = len(docs)
            if spec is not None:
                log.info(
                    "%s: variant applies to %d of %d items%s (%d skipped: %s)",
                    task_name(benchmark, variant),
                    len(docs),
                    len(picked),
                    "" if n_items is None else " sampled",
                    len(picked) - len(docs),
                    spec.skip_reason,
                )
        if not docs and rows:
            where = f"split {split!r}" if n_items is None or not is_eval else "the sample"
            raise NoItemApplies(
                f"variant {variant!r} of {benchmark} applies to no item of {where}"
                + ("" if n_items is None or not is_eval else f" (shadow_items {n_items})")
            )
        out[split] = docs
    return out


def _fewshot_examples(spec: Variant, docs: list[dict[str, Any]], seed: int) -> list[dict]:
    """A variant task's few-shot examples: ``orig``'s, in the format the variant asks its
    items in. A format variant transforms them (so examples and question share one format);
    a content variant keeps them as they are, unless it asks its items in another variant's
    format (ARC's ``permuted``, lettered like ``format_swap``): then that variant's format.
    Every example is kept, in order, so the samplers' draws mean the same examples."""
    if spec.fewshot:
        shown = spec
    elif spec.same_format_as is not None:
        shown = get_variant(spec.benchmark, spec.same_format_as)
    else:
        return docs
    result = _apply(shown.transform, spec.benchmark, shown.name, docs, seed)
    if len(result) != len(docs):
        split = ItemId.parse(docs[0]["shadow_id"]).split
        raise ShadowSuiteError(
            f"variant {shown.name!r} of {spec.benchmark} skips {len(docs) - len(result)} of the "
            f"{len(docs)} few-shot examples of split {split!r}; it must render every one"
        )
    for doc in result:
        doc["shadow_variant"] = spec.name
    return result


def _apply(transform: Any, benchmark: str, variant: str, docs: list[dict], seed: int) -> list[dict]:
    result = []
    for doc in docs:
        new = transform(doc, item_rng(benchmark, doc["shadow_id"], variant, seed))
        if new is not None:
            new["shadow_variant"] = variant
            result.append(new)
    return result


def _join_rephrased(docs: list[dict[str, Any]], data_dir: str | None) -> list[dict[str, Any]]:
    rows, _ = load_split("gsm8k", "test_rephrased", data_dir)
    by_row = {int(r["idx"]): r["question"] for r in rows}
    return [
        {**doc, REPHRASED_FIELD: by_row.get(ItemId.parse(doc["shadow_id"]).row)} for doc in docs
    ]


def load_docs(
    benchmark: str,
    variant: str = ORIG,
    shadow_seed: Any = None,
    shadow_data: str | None = None,
    shadow_items: Any = FROM_ENV,
    **_unused: Any,
):
    """lm-eval ``custom_dataset`` hook: ``dataset_kwargs`` name the benchmark and variant,
    ``--metadata`` may set ``shadow_seed``, ``shadow_items`` and ``shadow_data``; other
    metadata is ignored."""
    import datasets

    docs = build_docs(benchmark, variant, shadow_seed, shadow_data, shadow_items)
    return datasets.DatasetDict(
        {split: datasets.Dataset.from_list(rows) for split, rows in docs.items()}
    )
