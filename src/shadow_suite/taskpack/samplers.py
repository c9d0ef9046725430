"""The pack's lm-eval task class and few-shot samplers, named by the YAML with ``!function``.

* :class:`ShadowTask` is lm-eval's ConfigurableTask, except that the few-shot sampler sees the
  document it serves (lm-eval hands it over only when the few-shot split is the evaluated one).
* :class:`SubjectFirstNSampler` gives MMLU its per-subject first-n examples in one task.
* :class:`TrainSampler` is lm-eval's default sampler for the benchmarks that draw examples from
  their (optional) training split: ARC-Challenge, HellaSwag and WinoGrande.
* :class:`PairedSampler` gives a variant item the same examples that the original task gives
  the same item (in the variant's format).

The only module of the pack that imports lm-eval's task classes.
"""

from __future__ import annotations

import json
from random import Random
from typing import Any

from lm_eval.api.samplers import ContextSampler
from lm_eval.api.task import ConfigurableTask

from shadow_suite.contract import METADATA_DATA, ItemId, source_fields
from shadow_suite.errors import ShadowSuiteError
from shadow_suite.taskpack.data import load_split, missing_examples
from shadow_suite.taskpack.suite import get_benchmark


class ShadowTask(ConfigurableTask):
    """lm-eval's ConfigurableTask, except that the few-shot sampler sees the document it
    serves and knows its benchmark and data folder. lm-eval passes that document to the
    sampler only when the few-shot split is the evaluated split; MMLU's per-subject examples
    and the paired examples of variant tasks need it always, and a sampler that must refuse
    names where the missing split goes. Used through
    ``class: !function shadow_suite.taskpack.samplers.ShadowTask``.
    """

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        super().__init__(config={k: v for k, v in (config or {}).items() if k != "class"})
        sampler = getattr(self, "sampler", None)
        if isinstance(sampler, DocumentAwareSampler):
            sampler.benchmark = (self.config.dataset_kwargs or {}).get("benchmark")
            sampler.data_dir = (self.config.metadata or {}).get(METADATA_DATA)

    def fewshot_context(self, doc: dict, num_fewshot: int, *args: Any, **kwargs: Any) -> Any:
        sampler = getattr(self, "sampler", None)
        if isinstance(sampler, DocumentAwareSampler):
            sampler.current_doc = doc
        return super().fewshot_context(doc, num_fewshot, *args, **kwargs)


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
                f"{type(self).__name__} needs `class: !function shadow_suite.taskpack.samplers.ShadowTask`"
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
        pool, twin = self._pool(n + 1, n), source_fields(eval_doc)
        picked = [d for d in self.rnd.sample(pool, n + 1) if source_fields(d) != twin][:n]
        if len(picked) < n:  # the pool holds the document more than once: lm-eval redraws
            picked = self.rnd.sample([d for d in pool if source_fields(d) != twin], n)
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
        row = ItemId.parse(doc["shadow_id"]).row if position is None else int(position)
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
        item = ItemId.parse(doc["shadow_id"])
        source, _ = load_split(bench.name, item.split, self.data_dir)
        return self._twins.get(_canonical(source[item.row]), [])


def _canonical(row: dict[str, Any]) -> str:
    return json.dumps(row, sort_keys=True, ensure_ascii=False)
