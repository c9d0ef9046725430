"""The Python side of the ``shadow_suite`` lm-eval task pack (``tasks/shadow_suite/``).

The YAML files name these objects with ``!function shadow_suite.taskpack.<name>``:

* :func:`load_docs` is every task's ``custom_dataset``: it reads the benchmark's splits
  (local folder or hub, see :mod:`shadow_suite.data`), gives every row its stable id and
  provenance (the ``shadow_*`` fields below), and applies the task's variant.
* :class:`ShadowTask` with :class:`SubjectFirstNSampler` gives MMLU its per-subject
  few-shot examples; :class:`TrainSampler` is lm-eval's default sampler for the benchmarks
  that draw examples from their (optional) training split, ARC-Challenge, HellaSwag and
  WinoGrande; :class:`PairedSampler` gives a variant item the same examples that the
  original task gives the same item (in the variant's format).
* The ``hellaswag_*`` and ``winogrande_*`` functions are lm-eval's own preprocessing for
  those benchmarks, reproduced so that our ``orig`` tasks send identical requests (a test
  compares them with lm-eval's tasks request by request).

Fields every document carries (what the gap analysis pairs and cites):
``shadow_id`` ("<benchmark>/<split>/<row>", stable across runs and variants),
``shadow_benchmark``, ``shadow_variant`` ("orig" or the variant), ``shadow_seed``,
``shadow_data_sha256`` (of the file the row came from), ``shadow_n_source`` (rows in the
evaluated split), ``shadow_sample`` (source items drawn by the seeded sample, or None when the
whole split is evaluated), ``shadow_n_applied`` (items the variant applied to, among the split
or the sample; the others skipped) and ``shadow_position`` (the item's position among the
``orig`` task's documents: its row without a sample). Few-shot examples also carry
``shadow_fewshot: True``.

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
import json
import logging
import os
import secrets
from collections.abc import Sequence
from random import Random
from typing import Any

from lm_eval.api.samplers import ContextSampler
from lm_eval.api.task import ConfigurableTask

from shadow_suite.benchmarks import get_benchmark
from shadow_suite.data import DATA_ENV, MissingSplit, load_split, resolve_data_dir
from shadow_suite.errors import ShadowSuiteError
from shadow_suite.variants import FEWSHOT_FLAG, Variant, get_variant, item_rng, validate_seed
from shadow_suite.variants.render import hellaswag_preprocess, hellaswag_query

log = logging.getLogger("shadow_suite")

SEED_ENV = "SHADOW_SUITE_SEED"
ITEMS_ENV = "SHADOW_SUITE_ITEMS"
DEFAULT_SEED = 1234
ORIG = "orig"


class _FromEnvironment:
    def __repr__(self) -> str:
        return "FROM_ENV"


FROM_ENV: Any = _FromEnvironment()
"""Default of ``items``: read $SHADOW_SUITE_ITEMS (an explicit None means the whole split)."""
STRATA: dict[str, str] = {"mmlu": "subject"}
"""Benchmarks whose sample is spread over strata: the field that names an item's stratum."""


FRESH = "fresh"
"""The seed value that draws a new variant seed (see :func:`resolve_seed`)."""
_fresh_seed: int | None = None


def is_fresh(value: Any) -> bool:
    """Whether ``value`` asks for a freshly drawn seed (``fresh``, any case)."""
    return isinstance(value, str) and value.strip().lower() == FRESH


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
    """The variant seed: explicit value, else $SHADOW_SUITE_SEED, else 1234. ``fresh`` draws
    a new one, the same for the whole process (:func:`fresh_seed`)."""
    if value is None:
        value = os.environ.get(SEED_ENV, DEFAULT_SEED)
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
            f"shadow_items {value!r}: give a positive whole number of source items per "
            f"benchmark (--metadata '{{\"shadow_items\": 100}}' or {ITEMS_ENV}=100)"
        )
    return number


def sample_rows(benchmark: str, rows: Sequence[dict[str, Any]], n: int, seed: int) -> list[int]:
    """The rows (in row order) of the seeded sample of ``n`` items of one benchmark's split.

    Drawn from (benchmark, variant seed) only, so ``orig``, every variant and every model
    evaluated with the same seed get the same items. A benchmark in :data:`STRATA` (MMLU) is
    spread over its strata round-robin: the subjects in a seeded order, each subject's items
    in a seeded order, one item per subject per round. So n >= 57 covers every MMLU subject,
    each subject gets n/57 items, rounded (up for the first subjects of the seeded order),
    and the sample weighs subjects equally (lm-eval's MMLU accuracy weighs them by size).
    Other benchmarks: a plain seeded sample. A larger sample holds every smaller one.
    """
    if n > len(rows):
        raise ShadowSuiteError(
            f"shadow_items {n}: {benchmark}'s evaluated split has only {len(rows)} items; give "
            f"at most {len(rows)}, or no shadow_items to evaluate the whole split"
        )
    digest = hashlib.sha256(f"shadow_items\x1f{benchmark}\x1f{seed}".encode()).digest()
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
) -> dict[str, list[dict[str, Any]]]:
    """Documents of one task, per split: the evaluated split and the few-shot split.

    With ``items`` (see :func:`resolve_items`) the evaluated split is cut to the seeded
    sample of :func:`sample_rows` before the variant is applied, so only the sampled items
    are transformed and a variant item is always one of ``orig``'s. Few-shot splits are
    never sampled."""
    bench = get_benchmark(benchmark)
    seed = resolve_seed(seed)
    n_items = resolve_items(items)
    spec = None
    if variant != ORIG:
        spec = get_variant(benchmark, variant)

    splits = [bench.eval_split] + [s for s in (bench.fewshot_split, bench.train_split) if s]
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
        docs = [
            {
                **rows[i],
                "shadow_id": f"{benchmark}/{split}/{i}",
                "shadow_benchmark": benchmark,
                "shadow_variant": variant,
                "shadow_seed": seed,
                "shadow_data_sha256": source.sha256,
            }
            for i in picked
        ]
        if is_eval:
            for position, doc in enumerate(docs):
                doc["shadow_position"] = position
        if is_eval and variant == "rephrased":
            docs = _join_rephrased(docs, data_dir)
        if not is_eval:
            # Format variants never skip few-shot examples (every MMLU subject keeps its five).
            for doc in docs:
                doc[FEWSHOT_FLAG] = True
        if spec is not None and is_eval:
            docs = _apply(spec.transform, benchmark, variant, docs, seed)
        elif spec is not None:
            docs = _fewshot_examples(spec, docs, seed)
        if is_eval:
            for doc in docs:
                doc["shadow_n_source"] = len(rows)
                doc["shadow_sample"] = n_items
                doc["shadow_n_applied"] = len(docs)
            if spec is not None:
                log.info(
                    "shadow_%s_%s: variant applies to %d of %d items%s (%d skipped: %s)",
                    benchmark,
                    variant,
                    len(docs),
                    len(picked),
                    "" if n_items is None else " sampled",
                    len(picked) - len(docs),
                    spec.skip_reason,
                )
        if not docs and rows:
            where = f"split {split!r}" if n_items is None or not is_eval else "the sample"
            raise ShadowSuiteError(
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
        split = docs[0]["shadow_id"].split("/")[1]
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
    return [{**doc, "rephrased_question": by_row.get(_row(doc))} for doc in docs]


def _row(doc: dict[str, Any]) -> int:
    """The row of the source split a document came from (the end of its ``shadow_id``)."""
    return int(doc["shadow_id"].rsplit("/", 1)[1])


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


class ShadowTask(ConfigurableTask):
    """lm-eval's ConfigurableTask, except that the few-shot sampler sees the document it
    serves and knows its benchmark and data folder. lm-eval passes that document to the
    sampler only when the few-shot split is the evaluated split; MMLU's per-subject examples
    and the paired examples of variant tasks need it always, and a sampler that must refuse
    names where the missing split goes. Used through
    ``class: !function shadow_suite.taskpack.ShadowTask``.
    """

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        super().__init__(config={k: v for k, v in (config or {}).items() if k != "class"})
        sampler = getattr(self, "sampler", None)
        if isinstance(sampler, DocumentAwareSampler):
            sampler.benchmark = (self.config.dataset_kwargs or {}).get("benchmark")
            sampler.data_dir = (self.config.metadata or {}).get("shadow_data")

    def fewshot_context(self, doc: dict, num_fewshot: int, *args: Any, **kwargs: Any) -> Any:
        sampler = getattr(self, "sampler", None)
        if isinstance(sampler, DocumentAwareSampler):
            sampler.current_doc = doc
        return super().fewshot_context(doc, num_fewshot, *args, **kwargs)


def _source(doc: dict[str, Any]) -> dict[str, Any]:
    """A document without the fields the task pack adds (``shadow_*``): the document
    lm-eval's own task holds for the same row, which is what its sampler compares."""
    return {k: v for k, v in doc.items() if not k.startswith("shadow_")}


def missing_examples(benchmark: str, n: int, available: int, data_dir: str | None) -> str:
    """One line for ``--num_fewshot n`` when the few-shot split has fewer than ``n``
    examples (none: the split is not there), saying where to put one."""
    bench = get_benchmark(benchmark)
    split = bench.train_split or bench.fewshot_split or "train"
    try:
        folder = resolve_data_dir(data_dir)
    except ShadowSuiteError:
        folder = None
    path = f"{folder or '<data>'}/{benchmark}/{split}.jsonl"
    if available:
        where = path if folder is not None else f"hub {bench.hub_path}"
        return (
            f"--num_fewshot {n}: {benchmark}'s {split} split ({where}) has only {available} "
            f"examples; ask for fewer"
        )
    if folder is not None:
        missing, put = f"{path} is missing", "put the split there"
    else:
        missing = f"the hub dataset {bench.hub_path} did not load"
        put = f"put the split at {path} with {DATA_ENV}=<data>"
    return (
        f"--num_fewshot {n}: {benchmark} draws few-shot examples from its {split} split, and "
        f"{missing}: {put} (the same fields as {bench.eval_split}.jsonl; `shadow-suite data "
        f"download DIR` writes it), or run without --num_fewshot"
    )


class DocumentAwareSampler(ContextSampler):
    """A sampler that is told, by :class:`ShadowTask`, which document it samples for, and
    the task's benchmark and data folder."""

    current_doc: dict[str, Any] | None = None
    benchmark: str | None = None
    data_dir: str | None = None

    def _doc(self, eval_doc: dict | None) -> dict[str, Any]:
        doc = eval_doc if eval_doc is not None else self.current_doc
        if doc is None:
            raise ShadowSuiteError(
                f"{type(self).__name__} needs `class: !function shadow_suite.taskpack.ShadowTask`"
            )
        return doc

    def _pool(self, needed: int, n: int) -> list[dict[str, Any]]:
        """The few-shot examples, refused in one line when fewer than ``needed`` (lm-eval
        draws one more than ``n`` when it must leave the evaluated item out)."""
        pool = self.fewshot_docs()
        if needed > len(pool):
            benchmark = self.benchmark or self._doc(None).get("shadow_benchmark", "?")
            raise ShadowSuiteError(missing_examples(benchmark, n, len(pool), self.data_dir))
        return pool


class TrainSampler(DocumentAwareSampler):
    """lm-eval's default sampler (0.4.13), for the ``orig`` tasks of the benchmarks that
    draw few-shot examples from their training split (ARC-Challenge, HellaSwag, WinoGrande):
    ``--num_fewshot n`` draws n examples per document, in document order, from one generator
    seeded with lm-eval's few-shot seed. Where lm-eval hands over the evaluated document
    (HellaSwag and WinoGrande, whose tasks have no test split), it draws n + 1 and leaves
    out the copies of that document; ours carry ``shadow_*`` fields lm-eval's do not, so
    documents are compared without them. Without a training split, or with too few
    examples, asking for examples is refused in one line saying where the split goes.
    """

    def sample(self, n: int, eval_doc: dict | None = None, df: Any = None, **kwargs: Any) -> list:
        if n == 0:
            return []
        if eval_doc is None:
            return self.rnd.sample(self._pool(n, n), n)
        pool, twin = self._pool(n + 1, n), _source(eval_doc)
        picked = [d for d in self.rnd.sample(pool, n + 1) if _source(d) != twin][:n]
        if len(picked) < n:  # the pool holds the document more than once: lm-eval redraws
            picked = self.rnd.sample([d for d in pool if _source(d) != twin], n)
        return picked


class SubjectFirstNSampler(DocumentAwareSampler):
    """MMLU's few-shot rule: the first n dev questions of the same subject, in order.

    lm-eval runs one task per subject with ``sampler: first_n`` on that subject's dev
    split; we run one task over all subjects, so the pool is filtered by subject.
    """

    def sample(self, n: int, eval_doc: dict | None = None, df: Any = None, **kwargs: Any) -> list:
        if n == 0:
            return []
        subject = self._doc(eval_doc)["subject"]
        pool = [d for d in self.fewshot_docs() if d["subject"] == subject]
        if n > len(pool):
            raise ShadowSuiteError(
                f"MMLU subject {subject!r} has {len(pool)} dev examples, {n} asked"
            )
        return pool[:n]


class PairedSampler(DocumentAwareSampler):
    """Few-shot examples for a variant task that match the original task's, item by item.

    lm-eval's default sampler draws n examples per document, in document order, from one
    seeded generator, so the examples an item gets depend on its position. A variant that
    skips items would shift every later item onto other examples: noise in the paired
    comparison. This sampler gives the item from row r exactly the draw that lm-eval's
    default sampler (and :class:`TrainSampler`) gives the r-th document of the original task
    (the few-shot pool has the same order and size in both), in the variant's format where
    the variant changes it. Under a sample (``shadow_items``) the item's position among the
    original task's documents (``shadow_position``) takes the place of its row. Where the
    original task leaves the evaluated item out of its draw (HellaSwag, WinoGrande: n + 1
    drawn, copies of the item dropped), the item's source row is compared with the pool's
    source rows, so a variant that rewrote the item still drops what the original dropped.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._seed: int | None = None
        self._draws: list[list[int]] = []
        self._twins: dict[str, list[int]] | None = None

    def set_rnd(self, rnd: int | None) -> PairedSampler:
        self._seed, self._draws = rnd, []
        return super().set_rnd(rnd)

    def sample(self, n: int, eval_doc: dict | None = None, df: Any = None, **kwargs: Any) -> list:
        if n == 0:
            return []
        doc = self._doc(eval_doc)
        position = doc.get("shadow_position")
        row = _row(doc) if position is None else int(position)
        k = n if eval_doc is None else n + 1
        pool = self._pool(k, n)
        if not self._draws or len(self._draws[0]) != k:
            self._draws, self._generator = [], Random(self._seed)
        while len(self._draws) <= row:
            # Random.sample consumes the generator alike for any sequence of one length,
            # so drawing positions reproduces lm-eval's draw of documents.
            self._draws.append(self._generator.sample(range(len(pool)), k))
        if eval_doc is None:
            return [pool[i] for i in self._draws[row]]
        twins = set(self._twins_of(doc))
        picked = [pool[i] for i in self._draws[row] if i not in twins][:n]
        if len(picked) < n:  # lm-eval redraws from its running generator: not reproducible
            rest = [d for i, d in enumerate(pool) if i not in twins]
            picked = Random(f"{self._seed}/{row}").sample(rest, n)
        return picked

    def _twins_of(self, doc: dict[str, Any]) -> list[int]:
        """Positions in the pool of the rows equal to ``doc``'s source row (upstream splits
        share none; a training split made of evaluated rows does)."""
        bench = get_benchmark(str(doc["shadow_benchmark"]))
        split = bench.train_split or bench.fewshot_split
        if self._twins is None:
            self._twins = {}
            if split is not None:
                rows, _ = load_split(bench.name, split, self.data_dir)
                for i, row in enumerate(rows):
                    self._twins.setdefault(_canonical(row), []).append(i)
        source, _ = load_split(bench.name, doc["shadow_id"].split("/")[1], self.data_dir)
        return self._twins.get(_canonical(source[_row(doc)]), [])


def _canonical(row: dict[str, Any]) -> str:
    return json.dumps(row, sort_keys=True, ensure_ascii=False)


# --- lm-eval's own preprocessing, reproduced for identical requests ------------------


def hellaswag_process_docs(dataset: Any) -> Any:
    def process(doc: dict[str, Any]) -> dict[str, Any]:
        return {
            "query": hellaswag_query(doc),
            "choices": [hellaswag_preprocess(ending) for ending in doc["endings"]],
            "gold": int(doc["label"]),
        }

    return dataset.map(process)


def winogrande_doc_to_text(doc: dict[str, Any]) -> int:
    return {"1": 0, "2": 1}[doc["answer"]]


def winogrande_doc_to_target(doc: dict[str, Any]) -> str:
    idx = doc["sentence"].index("_") + 1
    return doc["sentence"][idx:].strip()


def winogrande_doc_to_choice(doc: dict[str, Any]) -> list[str]:
    idx = doc["sentence"].index("_")
    return [doc["sentence"][:idx] + opt for opt in (doc["option1"], doc["option2"])]
