"""The contract between the task pack and every stage that reads its output.

The task pack (``shadow_suite.taskpack.loader``) writes these names and fields into every document
it hands lm-eval; lm-eval copies each document into its samples files; the gap analysis,
``run``, the demo and the tests read them back. This module is the only place that spells
them, and it imports nothing from lm-eval, so readers need not load the harness.

* Task names: ``shadow_<benchmark>_<variant>`` (:func:`task_name`), one group per benchmark
  (``shadow_<benchmark>``) and the whole pack (``shadow_suite``).
* Item ids: ``<benchmark>/<split>/<row>`` (:class:`ItemId`), the row of the source split, so an
  item keeps its id across runs, variants and samples (lm-eval's ``doc_id`` is a position).
* :class:`ShadowMeta`: the ``shadow_*`` fields of one document (provenance and sampling).
* Run-time options, from lm-eval's ``--metadata`` (:data:`METADATA_SEED`, ...) or the
  environment (:data:`SEED_ENV`, ...), and the variant seed's default.
* The output type of each benchmark's tasks (:data:`OUTPUT_TYPES`).
* The familiarity tasks (``shadow_<benchmark>_familiarity_item`` and ``..._prompt``): the
  test items and their same-distribution twins scored as plain text, for the memorization
  test; their documents' extra fields (:data:`FAMILIARITY_SET_FIELD`, ...).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from shadow_suite.errors import ShadowSuiteError

ORIG = "orig"
"""The variant name of the unchanged benchmark (every other variant pairs with it)."""

GROUP = "shadow_suite"
"""The lm-eval group that runs every benchmark with all its variants."""

TASK_PREFIX = "shadow_"
"""Every task, group and document field of the pack starts with it."""

OutputType = Literal["multiple_choice", "generate_until"]
OUTPUT_TYPES: dict[str, OutputType] = {
    "mmlu": "multiple_choice",
    "arc_challenge": "multiple_choice",
    "hellaswag": "multiple_choice",
    "gsm8k": "generate_until",
    "winogrande": "multiple_choice",
}
"""Benchmark -> lm-eval output type of all its tasks (the benchmarks of the suite, in order)."""

BENCHMARK_NAMES: tuple[str, ...] = tuple(OUTPUT_TYPES)

# --- run-time options ------------------------------------------------------------------------

SEED_ENV = "SHADOW_SUITE_SEED"
ITEMS_ENV = "SHADOW_SUITE_ITEMS"
DATA_ENV = "SHADOW_SUITE_DATA"
METADATA_SEED = "shadow_seed"
METADATA_ITEMS = "shadow_items"
METADATA_DATA = "shadow_data"
"""Keys of lm-eval's ``--metadata`` JSON that the pack reads (the same as the environment's)."""
DEFAULT_VARIANT_SEED = 1234
"""The variant seed when neither ``--metadata`` nor $SHADOW_SUITE_SEED sets one."""
FRESH_SEED = "fresh"
"""The seed value that draws a new variant seed once per process."""

# --- task names ------------------------------------------------------------------------------


def benchmark_group(benchmark: str) -> str:
    """``shadow_mmlu``: the group of one benchmark's tasks."""
    return f"{TASK_PREFIX}{benchmark}"


def task_name(benchmark: str, variant: str) -> str:
    """``shadow_mmlu_permuted``: one benchmark asked in one variant (``orig`` included)."""
    return f"{TASK_PREFIX}{benchmark}_{variant}"


def parse_task_name(task: str) -> tuple[str, str | None] | None:
    """(benchmark, variant) of a task name, (benchmark, None) of a benchmark's group, or None
    for a name that is not the pack's (the whole-pack group included)."""
    if not task.startswith(TASK_PREFIX):
        return None
    rest = task[len(TASK_PREFIX) :]
    # the longest benchmark name first: none is a prefix of another today, but be exact
    for benchmark in sorted(BENCHMARK_NAMES, key=len, reverse=True):
        if rest == benchmark:
            return benchmark, None
        if rest.startswith(f"{benchmark}_"):
            return benchmark, rest[len(benchmark) + 1 :]
    return None


def is_familiarity_task(task: str) -> bool:
    """Whether ``task`` is one of the pack's familiarity tasks (not a variant of the test)."""
    parsed = parse_task_name(task)
    return parsed is not None and parsed[1] in FAMILIARITY_TEXTS


def benchmark_of_task(task: str) -> str | None:
    """The benchmark a task or benchmark group belongs to; None for other names."""
    parsed = parse_task_name(task)
    return None if parsed is None else parsed[0]


def unknown_benchmark(name: str) -> ShadowSuiteError:
    """The one-line error for a benchmark name the suite does not have."""
    return ShadowSuiteError(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARK_NAMES)}")


def output_type(benchmark: str) -> OutputType:
    try:
        return OUTPUT_TYPES[benchmark]
    except KeyError:
        raise unknown_benchmark(benchmark) from None


# --- item ids --------------------------------------------------------------------------------

_ITEM_ID = re.compile(
    r"^(?P<benchmark>[a-z0-9_]+)/(?P<split>[A-Za-z0-9_]+)/(?P<row>0|[1-9][0-9]*)$"
)


@dataclass(frozen=True, order=True)
class ItemId:
    """``mmlu/test/17``: row 17 of MMLU's test split."""

    benchmark: str
    split: str
    row: int

    def __str__(self) -> str:
        return f"{self.benchmark}/{self.split}/{self.row}"

    @classmethod
    def parse(cls, text: str) -> ItemId:
        match = _ITEM_ID.match(str(text))
        if match is None:
            raise ShadowSuiteError(
                f"shadow_id {text!r} is not <benchmark>/<split>/<row> (e.g. 'mmlu/test/17')"
            )
        return cls(match["benchmark"], match["split"], int(match["row"]))


def item_id(benchmark: str, split: str, row: int) -> str:
    """The ``shadow_id`` of row ``row`` of ``benchmark``'s ``split``."""
    return str(ItemId(benchmark, split, row))


# --- the fields of a document ----------------------------------------------------------------

# --- the familiarity tasks (the memorization test's input) ----------------------------------

FAMILIARITY_ITEM = "familiarity_item"
"""The task that scores each item as the test presents it, question and gold answer."""
FAMILIARITY_PROMPT = "familiarity_prompt"
"""The task that scores each item's prompt alone (what the test shows before the answer)."""
FAMILIARITY_TEXTS: tuple[str, ...] = (FAMILIARITY_ITEM, FAMILIARITY_PROMPT)
"""The familiarity tasks' names in the variant slot of :func:`task_name`. They are not variants:
each scores the log-likelihood of a text (lm-eval's ``loglikelihood_rolling``), over the test
items and their twins (items of a sibling split never in the test)."""
FamiliaritySet = Literal["test", "twin"]
FAMILIARITY_SET_FIELD = "shadow_familiarity_set"
"""``test`` (an evaluated item, with its usual id) or ``twin`` (a row of the twin split)."""
FAMILIARITY_TEXT_FIELD = "shadow_familiarity_text"
"""The text the familiarity task scores for the document."""
TWINS_DROPPED_FIELD = "shadow_twins_dropped"
"""Twin rows left out because their question repeats a test question (whitespace aside)."""

FEWSHOT_FLAG = "shadow_fewshot"
"""Set (True) on few-shot examples only: a format variant never skips an example."""


@dataclass(frozen=True)
class ShadowMeta:
    """The ``shadow_*`` fields of one document: what the gap analysis pairs and cites.

    Evaluated documents carry all of them; few-shot examples carry the first five and
    ``fewshot`` (they are never scored, so they have no sample or position)."""

    shadow_id: str
    """``<benchmark>/<split>/<row>`` (:class:`ItemId`)."""
    benchmark: str
    variant: str
    """``orig`` or the variant's name."""
    seed: int
    """The variant seed the document was made with."""
    data_sha256: str
    """SHA-256 of the data file the row came from."""
    n_source: int | None = None
    """Rows in the evaluated split."""
    sample: int | None = None
    """Source items drawn by the seeded sample (``shadow_items``); None: the whole split."""
    n_applied: int | None = None
    """Items the variant applied to, among the split or the sample (the others skipped)."""
    position: int | None = None
    """The item's position among the ``orig`` task's documents (its row without a sample)."""
    fewshot: bool = False
    """A few-shot example, not an evaluated item."""

    @property
    def item(self) -> ItemId:
        return ItemId.parse(self.shadow_id)

    @property
    def task(self) -> str:
        return task_name(self.benchmark, self.variant)

    def to_fields(self) -> dict[str, Any]:
        """The fields to merge into a document (few-shot examples: without the evaluated
        document's counts)."""
        fields: dict[str, Any] = {
            "shadow_id": self.shadow_id,
            "shadow_benchmark": self.benchmark,
            "shadow_variant": self.variant,
            "shadow_seed": self.seed,
            "shadow_data_sha256": self.data_sha256,
        }
        if self.fewshot:
            fields[FEWSHOT_FLAG] = True
            return fields
        fields.update(
            shadow_n_source=self.n_source,
            shadow_sample=self.sample,
            shadow_n_applied=self.n_applied,
            shadow_position=self.position,
        )
        return fields

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any], where: str = "document") -> ShadowMeta:
        """The fields of a document (as lm-eval logs it in a samples file). A missing field
        fails in one line naming ``where``; ``shadow_sample`` and ``shadow_position`` are
        absent in runs older than the seeded sample and read as None."""
        missing = [k for k in REQUIRED_FIELDS if k not in doc]
        fewshot = bool(doc.get(FEWSHOT_FLAG, False))
        if not fewshot:
            missing += [k for k in ("shadow_n_source", "shadow_n_applied") if k not in doc]
        if missing:
            raise ShadowSuiteError(
                f"{where}: document lacks {', '.join(missing)}; was it made by the "
                "shadow_suite task pack?"
            )
        try:
            return cls(
                shadow_id=str(ItemId.parse(str(doc["shadow_id"]))),
                benchmark=str(doc["shadow_benchmark"]),
                variant=str(doc["shadow_variant"]),
                seed=int(doc["shadow_seed"]),
                data_sha256=str(doc["shadow_data_sha256"]),
                n_source=_optional_int(doc.get("shadow_n_source")),
                sample=_optional_int(doc.get("shadow_sample")),
                n_applied=_optional_int(doc.get("shadow_n_applied")),
                position=_optional_int(doc.get("shadow_position")),
                fewshot=fewshot,
            )
        except (TypeError, ValueError) as err:
            raise ShadowSuiteError(f"{where}: bad shadow_* field ({err})") from None


REQUIRED_FIELDS: tuple[str, ...] = (
    "shadow_id",
    "shadow_benchmark",
    "shadow_variant",
    "shadow_seed",
    "shadow_data_sha256",
)
"""Fields every document of the pack carries, evaluated or few-shot."""


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def source_fields(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A document without the pack's fields (``shadow_*``; the source row has none): the row
    lm-eval's own task holds."""
    return {k: v for k, v in doc.items() if not k.startswith(TASK_PREFIX)}
