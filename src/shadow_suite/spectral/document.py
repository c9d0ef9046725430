"""The spectra document (``spectra.json``): typed, versioned, read strictly.

The spectral engine writes one :class:`SpectraDocument` per run; the report card, the
footprints and the demo read it back with :func:`read_document`. Everything a reader may look
up is a field here, and the metric names of the summaries are the two ``Literal`` vocabularies
below: nothing else spells them.

Reading is the report card's own strict reader (``shadow_suite.typed_json``): a missing
field, a value of the wrong type, another schema or an unsupported version is a
:class:`~shadow_suite.errors.ShadowSuiteError` whose one line names the file and the field
(``out/spectra.json: summary.model.matrices: missing``).
Fields added after version 1 was first written have defaults, so every file written under
version 1 still loads; unknown fields are ignored. NaN and infinity are written as null.
"""

from __future__ import annotations

import dataclasses
import json
import os
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from shadow_suite.errors import ShadowSuiteError
from shadow_suite.typed_json import FLATTEN, from_json

SCHEMA: Literal["shadow-suite.spectra"] = "shadow-suite.spectra"
SCHEMA_VERSION = 1
"""1: the first version (``ancestor`` joined it with ``spectra --against``; files written
before that have no such field and load with ``ancestor`` None)."""
DOCUMENT_NAME = "spectra.json"

SpectrumMetric = Literal[
    "effective_rank_entropy",
    "effective_rank_energy",
    "stable_rank",
    "participation_ratio",
    "spectral_norm",
    "alpha",
]
"""Metrics of a matrix's own spectrum that the summaries average."""
UpdateMetric = Literal[
    "update_relative_change",
    "update_effective_rank_entropy",
    "update_effective_rank_energy",
    "update_stable_rank",
    "update_rank_above_noise",
    "cosine_to_base",
]
"""Metrics of the update W - W0 (and of W against W0) that the summaries average (with a base)."""
Metric = Literal[SpectrumMetric, UpdateMetric]
PROFILE_METRICS: tuple[SpectrumMetric, ...] = typing.get_args(SpectrumMetric)
UPDATE_PROFILE_METRICS: tuple[UpdateMetric, ...] = typing.get_args(UpdateMetric)
EFFECTIVE_RANK: SpectrumMetric = "effective_rank_entropy"
"""The effective rank the plots and the demo show (entropy effective rank, Roy & Vetterli)."""
UPDATE_EFFECTIVE_RANK: UpdateMetric = "update_effective_rank_entropy"

MetricValues = Mapping[Metric, float | None]
"""Metric name -> mean (or median) over a group of matrices; None when not finite."""


@dataclass(frozen=True)
class FileRecord:
    name: str
    bytes: int
    sha256: str | None
    """None when the run was told not to hash (``--no-file-hash``)."""


@dataclass(frozen=True)
class CheckpointRecord:
    """One checkpoint read by the run (the model, its base, or the shared ancestor)."""

    path: str
    """Absolute path of the checkpoint folder."""
    format: str
    """``safetensors`` or ``pytorch-pickle``."""
    model_type: str | None
    architectures: tuple[str, ...] | None
    quantization_config: bool
    """Whether config.json declares a quantization (its weights are then not plain floats)."""
    tensors: int
    dtypes: Mapping[str, int]
    """safetensors dtype (BF16, F32, ...) -> number of tensors."""
    files: tuple[FileRecord, ...]
    identity: str | None = None
    """``sha256:...``: the checkpoint's model identity (``shadow_suite.identity``), the same
    digest a card and a run's stage markers record for this folder; None in files written
    before identities."""


@dataclass(frozen=True)
class Method:
    singular_values: str
    """How singular values were computed, in words."""
    name: Literal["gram", "svd"]
    method_version: str
    device: str
    modules: str | None
    """The ``--modules`` regular expression, None for every tensor."""
    alpha: str | None
    """The power-law estimator in words; None when alpha was not fitted."""
    update_top_k: int
    noise_dominated_below_relative_change: float
    nd_rule: str
    cache_dir: str | None


@dataclass(frozen=True)
class Timings:
    total_s: float
    read_s: float
    compute_s: float
    workers: int
    tensors_per_s: float | None


@dataclass(frozen=True)
class Counts:
    tensors: int
    selected: int
    analyzed: int
    skipped: int
    nonfinite: int
    cached: int


@dataclass(frozen=True)
class ListedTensor:
    """A tensor left out (``skipped``) or holding NaN/Inf (``nonfinite``), and why."""

    name: str
    reason: str


@dataclass(frozen=True)
class ShapeMismatch:
    name: str
    shape: tuple[int, ...]
    base_shape: tuple[int, ...]
    note: str


@dataclass(frozen=True)
class Unmatched:
    """How the model's tensors matched the base's, by name and shape."""

    only_in_model: tuple[str, ...]
    only_in_base: tuple[str, ...]
    shape_mismatch: tuple[ShapeMismatch, ...]


@dataclass(frozen=True)
class ModelSummary:
    matrices: int
    """Analysed matrices."""
    parameters: int
    mean: MetricValues
    median: MetricValues


@dataclass(frozen=True)
class KindSummary:
    """Means over the matrices of one module kind (written flat: kind, matrices, METRIC...)."""

    kind: str
    matrices: int
    metrics: MetricValues = field(metadata={FLATTEN: True})


@dataclass(frozen=True)
class KindLayerSummary:
    """Means over the matrices of one module kind in one layer: the depth profiles."""

    kind: str
    layer: int
    matrices: int
    metrics: MetricValues = field(metadata={FLATTEN: True})


@dataclass(frozen=True)
class UpdateLayer:
    layer: int
    matrices: int
    relative_change: float | None
    """sqrt(sum ||W - W0||^2 / sum ||W0||^2) over the layer's matrices."""
    update_effective_rank_entropy: float | None
    update_effective_rank_energy: float | None
    update_rank_above_noise: float | None
    noise_dominated: int
    """Matrices of the layer whose update is mostly rounding noise."""


@dataclass(frozen=True)
class ChangedMatrix:
    """One of the matrices that changed most (by relative change)."""

    name: str
    kind: str
    layer: int | None
    shape: tuple[int, ...]
    relative_change: float | None
    cosine_to_base: float | None
    update_effective_rank_entropy: float | None
    update_stable_rank: float | None
    update_rank_above_noise: float | None
    noise_floor_sv: float | None
    noise_dominated: bool
    update_singular_values: tuple[float, ...]
    """The update's largest singular values, descending (at most 64)."""


@dataclass(frozen=True)
class UpdateSummary:
    matrices_compared: int
    relative_change: float | None
    """Pooled: sqrt(sum ||W - W0||^2 / sum ||W0||^2) over the matrices compared."""
    relative_change_median: float | None
    noise_dominated_matrices: int
    unchanged_matrices: int
    by_layer: tuple[UpdateLayer, ...]
    top_changed: tuple[ChangedMatrix, ...]


@dataclass(frozen=True)
class Summary:
    model: ModelSummary
    by_kind: tuple[KindSummary, ...]
    """In the order of ``names.KINDS``."""
    by_kind_layer: tuple[KindLayerSummary, ...]
    update: UpdateSummary | None
    """None without a base."""


@dataclass(frozen=True)
class OutputFiles:
    """The other files of the output folder, relative to it."""

    table: str
    singular_values: str


@dataclass(frozen=True, kw_only=True)
class SpectraDocument:
    """The content of spectra.json."""

    schema: Literal["shadow-suite.spectra"] = SCHEMA
    schema_version: int = SCHEMA_VERSION
    created: str
    """ISO 8601, UTC, seconds."""
    model: CheckpointRecord
    base: CheckpointRecord | None
    """The checkpoint every update is measured against (the sibling B with ``--against``)."""
    ancestor: CheckpointRecord | None = None
    """With ``spectra MODEL --base A --against B``: A (its weights are not read)."""
    method: Method
    environment: Mapping[str, str]
    """Package versions: python, shadow-suite, torch, numpy, ..."""
    timings: Timings
    counts: Counts
    summary: Summary
    skipped: tuple[ListedTensor, ...]
    nonfinite: tuple[ListedTensor, ...]
    unmatched: Unmatched | None
    """None without a base."""
    files: OutputFiles | None = None
    """Set when the folder is written (``result.write_result``)."""

    def to_json(self) -> dict[str, Any]:
        """The JSON object (field order kept; tuples as lists, metrics spread flat)."""
        data: dict[str, Any] = _to_json(self)
        return data

    @classmethod
    def from_json(cls, data: Any, source: str = DOCUMENT_NAME) -> SpectraDocument:
        """Build from parsed JSON; ``source`` (the file) starts every error message."""
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            raise ShadowSuiteError(f"{source}: not a {SCHEMA} document (schema)")
        version = data.get("schema_version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise ShadowSuiteError(f"{source}: schema_version: missing or not an integer")
        if version != SCHEMA_VERSION:
            newer = "newer than this shadow-suite reads; upgrade shadow-suite"
            older = "not a version this shadow-suite reads; rerun `shadow-suite spectra`"
            raise ShadowSuiteError(
                f"{source}: schema_version: {version} is "
                f"{newer if version > SCHEMA_VERSION else older} ({SCHEMA_VERSION})"
            )
        return from_json(cls, data, source)


def document_path(path: str | os.PathLike[str]) -> Path:
    """spectra.json itself, given the file or the engine's output folder."""
    path = Path(path)
    return path / DOCUMENT_NAME if path.is_dir() else path


def read_document(path: str | os.PathLike[str]) -> SpectraDocument:
    """Read and check spectra.json (a file or the engine's output folder): the one loader."""
    file = document_path(path)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ShadowSuiteError(f"{file}: no such spectra file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ShadowSuiteError(f"{file}: not valid JSON ({err})") from None
    return SpectraDocument.from_json(data, str(file))


def document_text(document: SpectraDocument) -> str:
    """spectra.json's text (one-space indent, as the engine has always written it)."""
    return json.dumps(document.to_json(), indent=1, allow_nan=False)


# -- (de)serialisation -------------------------------------------------------------------

_T = TypeVar("_T")


def _to_json(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if f.metadata.get(FLATTEN):
                out.update({str(k): _to_json(v) for k, v in item.items()})
            else:
                out[f.name] = _to_json(item)
        return out
    if isinstance(value, tuple | list):
        return [_to_json(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _to_json(v) for k, v in value.items()}
    return value
