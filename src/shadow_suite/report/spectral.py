"""Map the spectral engine's spectra document onto the card's :class:`SpectralSection`.

The document is read once, strictly, by :func:`shadow_suite.spectral.document.read_document`
(a missing or mistyped field is a one-line error naming the file and the field); this module
only chooses what the card shows. What a valid document may lack (a base, layered matrices)
becomes an empty series and a note.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from shadow_suite.errors import ShadowSuiteError
from shadow_suite.identity import same_checkpoint, short
from shadow_suite.numbers import finite_or_none
from shadow_suite.report.schema import LayerSeries, MatrixSpectrum, SpectralSection
from shadow_suite.spectral.document import (
    EFFECTIVE_RANK,
    PROFILE_METRICS,
    UPDATE_EFFECTIVE_RANK,
    KindLayerSummary,
    SpectraDocument,
    UpdateLayer,
    UpdateSummary,
    document_path,
    read_document,
)
from shadow_suite.spectral.names import layer_index, module_kind
from shadow_suite.spectral.result import read_singular_values

MAX_SINGULAR_VALUES = 64
MAX_MATRICES = 6


def _by_layer(rows: Iterable[KindLayerSummary]) -> list[LayerSeries]:
    """The effective rank by layer, one series per module kind (kinds in document order)."""
    series: dict[str, list[tuple[int, float | None]]] = {}
    for row in rows:
        if EFFECTIVE_RANK in row.metrics:
            series.setdefault(row.kind, []).append((row.layer, row.metrics[EFFECTIVE_RANK]))
    out = []
    for kind, points in series.items():
        points.sort(key=lambda p: p[0])
        out.append(LayerSeries(kind, [p[0] for p in points], [p[1] for p in points]))
    return out


def _layer_total(
    rows: Iterable[UpdateLayer], value: Callable[[UpdateLayer], float | None]
) -> LayerSeries | None:
    points = sorted(((row.layer, value(row)) for row in rows), key=lambda p: p[0])
    if not points:
        return None
    return LayerSeries("all", [p[0] for p in points], [p[1] for p in points])


def _values(raw: Iterable[float]) -> list[float]:
    out = [v for v in (finite_or_none(x) for x in raw) if v is not None]
    return sorted(out, reverse=True)[:MAX_SINGULAR_VALUES]


def _chosen_weights(singular_values: Mapping[str, np.ndarray]) -> list[MatrixSpectrum]:
    """Without a base: the middle layer's matrix of each module kind, from the npz."""
    by_kind: dict[str, list[tuple[int, str]]] = {}
    for name in sorted(singular_values):
        layer = layer_index(name)
        if layer is not None:
            by_kind.setdefault(module_kind(name), []).append((layer, name))
    chosen = []
    for kind, entries in list(by_kind.items())[:MAX_MATRICES]:
        entries.sort()
        layer, name = entries[len(entries) // 2]
        values = np.asarray(singular_values[name], dtype=float)
        chosen.append(
            MatrixSpectrum(
                name=name,
                kind=kind,
                layer=layer,
                shape=[],
                relative_change=None,
                what="weight",
                singular_values=_values(values.tolist()),
            )
        )
    return chosen


def _top_changed(update: UpdateSummary) -> list[MatrixSpectrum]:
    return [
        MatrixSpectrum(
            name=row.name,
            kind=row.kind,
            layer=row.layer,
            shape=list(row.shape),
            relative_change=row.relative_change,
            what="update",
            singular_values=_values(row.update_singular_values),
        )
        for row in update.top_changed
    ]


def _update_summary(update: UpdateSummary, effective_rank: float | None) -> dict[str, float | None]:
    """The card's update numbers (in the card's order; counts as numbers, as ever), with the
    update's mean entropy effective rank over the matrices compared."""
    return {
        "relative_change": update.relative_change,
        "relative_change_median": update.relative_change_median,
        "effective_rank_entropy": effective_rank,
        "matrices_compared": float(update.matrices_compared),
        "noise_dominated_matrices": float(update.noise_dominated_matrices),
        "unchanged_matrices": float(update.unchanged_matrices),
    }


def _document(value: SpectraDocument | Mapping[str, Any], source: str) -> SpectraDocument:
    if isinstance(value, SpectraDocument):
        return value
    return SpectraDocument.from_json(dict(value) if isinstance(value, Mapping) else value, source)


def spectral_section(
    spectra: SpectraDocument | Mapping[str, Any],
    source: str = "spectra.json",
    singular_values: Mapping[str, np.ndarray] | None = None,
    base_spectra: SpectraDocument | Mapping[str, Any] | None = None,
) -> SpectralSection:
    """The card's spectral section from a spectra document (a parsed spectra.json is checked
    by the document's own loader), optionally with the model's singular values (from
    singular_values.npz) and the base model's own spectra document."""
    document = _document(spectra, source)
    summary = document.summary
    update = summary.update
    notes: list[str] = []
    top_changed: list[MatrixSpectrum] = []
    if update is not None:
        top_changed = _top_changed(update)
    else:
        notes.append("no base model: update plots are omitted")
        if singular_values:
            top_changed = _chosen_weights(singular_values)
    base_series: list[LayerSeries] = []
    if base_spectra is not None:
        base_series = _by_layer(_document(base_spectra, "base spectra").summary.by_kind_layer)
    mean = summary.model.mean
    measured_against = document.ancestor or document.base  # the model's base
    return SpectralSection(
        source=source,
        spectra_schema_version=document.schema_version,
        model_path=document.model.path,
        base_path=document.base.path if document.base is not None else None,
        ancestor_path=document.ancestor.path if document.ancestor is not None else None,
        method=document.method.singular_values,
        effective_rank_metric=EFFECTIVE_RANK,
        summary={k: mean[k] for k in PROFILE_METRICS if k in mean},
        update_summary=None
        if update is None
        else _update_summary(update, mean.get(UPDATE_EFFECTIVE_RANK)),
        effective_rank_by_layer=_by_layer(summary.by_kind_layer),
        base_effective_rank_by_layer=base_series,
        update_relative_change_by_layer=None
        if update is None
        else _layer_total(update.by_layer, lambda row: row.relative_change),
        update_effective_rank_by_layer=None
        if update is None
        else _layer_total(update.by_layer, lambda row: row.update_effective_rank_entropy),
        top_changed=top_changed,
        notes=notes,
        model_identity=document.model.identity,
        base_identity=measured_against.identity if measured_against is not None else None,
    )


def check_base_spectra(document: SpectraDocument, base: SpectraDocument, source: str) -> None:
    """``--base-spectra`` must be the spectra of the model's base: the checkpoint the
    model's updates were measured against (with ``--against``, the ancestor)."""
    measured_against = document.ancestor or document.base
    if measured_against is None:
        return  # spectra without a base: the base is only a name the user gives
    if not same_checkpoint(base.model, measured_against):
        raise ShadowSuiteError(
            f"--base-spectra {source} are the spectra of {base.model.path} (identity "
            f"{short(base.model.identity)}), not of the base {measured_against.path} the "
            f"model was measured against ({short(measured_against.identity)})"
        )


def load_spectral_section(path: str | Path, base_path: str | Path | None = None) -> SpectralSection:
    """Read spectra.json (a file or the engine's output folder), its singular values and
    optionally the base model's spectra.json, and map them."""
    document = read_document(path)
    weights, _ = read_singular_values(path, document)
    base = read_document(base_path) if base_path is not None else None
    if base is not None:
        check_base_spectra(document, base, str(base_path))
    return spectral_section(
        document,
        source=document_path(path).name,
        singular_values=weights,
        base_spectra=base,
    )
