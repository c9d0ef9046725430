"""Map the spectral engine's ``spectra.json`` onto the card's :class:`SpectralSection`.

Tolerant on purpose: the card must still render when a field is missing (older spectra
files, an engine run without a base, a model with no layered matrices); what is absent
becomes an empty series and a note, never a crash. Field names follow
``shadow_suite.spectral.summary`` (schema ``shadow-suite.spectra`` version 1).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from shadow_suite.errors import ShadowSuiteError
from shadow_suite.report.schema import LayerSeries, MatrixSpectrum, SpectralSection

EFFECTIVE_RANK = "effective_rank_entropy"
SUMMARY_KEYS = (
    "effective_rank_entropy",
    "effective_rank_energy",
    "stable_rank",
    "participation_ratio",
    "spectral_norm",
    "alpha",
)
UPDATE_KEYS = (
    "relative_change",
    "relative_change_median",
    "matrices_compared",
    "noise_dominated_matrices",
    "unchanged_matrices",
)
MAX_SINGULAR_VALUES = 64
MAX_MATRICES = 6


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _by_layer(rows: list[Any], metric: str) -> list[LayerSeries]:
    series: dict[str, list[tuple[int, float | None]]] = {}
    for row in rows:
        row = _dict(row)
        if not isinstance(row.get("layer"), int) or metric not in row:
            continue
        series.setdefault(str(row.get("kind", "other")), []).append(
            (row["layer"], _num(row[metric]))
        )
    return [
        LayerSeries(kind, [p[0] for p in sorted(points)], [p[1] for p in sorted(points)])
        for kind, points in series.items()
    ]


def _layer_total(rows: list[Any], metric: str) -> LayerSeries | None:
    points = sorted(
        (r["layer"], _num(r.get(metric)))
        for r in map(_dict, rows)
        if isinstance(r.get("layer"), int) and metric in r
    )
    if not points:
        return None
    return LayerSeries("all", [p[0] for p in points], [p[1] for p in points])


def _values(raw: Any) -> list[float]:
    out = [v for v in (_num(x) for x in _list(raw)) if v is not None]
    return sorted(out, reverse=True)[:MAX_SINGULAR_VALUES]


def _chosen_weights(
    document: dict[str, Any], singular_values: Mapping[str, np.ndarray]
) -> list[MatrixSpectrum]:
    """Without a base: the middle layer's matrix of each module kind, from the npz."""
    by_kind: dict[str, list[tuple[int, str]]] = {}
    names = sorted(singular_values)
    try:
        from shadow_suite.spectral.names import layer_index, module_kind
    except ImportError:  # the engine is optional for the report
        return []
    for name in names:
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


def spectral_section(
    spectra_json: dict[str, Any],
    source: str = "spectra.json",
    singular_values: Mapping[str, np.ndarray] | None = None,
    base_spectra_json: dict[str, Any] | None = None,
) -> SpectralSection:
    """The card's spectral section from a spectra.json document (and optionally the model's
    singular values from singular_values.npz and the base model's own spectra.json)."""
    if not isinstance(spectra_json, dict):
        raise ShadowSuiteError(f"{source}: spectral summary is not a JSON object")
    notes: list[str] = []
    summary = _dict(spectra_json.get("summary"))
    if not summary:
        notes.append("the spectra file has no 'summary' block; spectral plots are empty")
    model = _dict(summary.get("model"))
    means = _dict(model.get("mean"))
    update = _dict(summary.get("update")) or None
    method = _dict(spectra_json.get("method"))

    top_changed: list[MatrixSpectrum] = []
    if update:
        for row in map(_dict, _list(update.get("top_changed"))):
            top_changed.append(
                MatrixSpectrum(
                    name=str(row.get("name", "?")),
                    kind=str(row.get("kind", "other")),
                    layer=row["layer"] if isinstance(row.get("layer"), int) else None,
                    shape=[int(x) for x in _list(row.get("shape")) if isinstance(x, int)],
                    relative_change=_num(row.get("relative_change")),
                    what="update",
                    singular_values=_values(row.get("update_singular_values")),
                )
            )
    elif singular_values:
        top_changed = _chosen_weights(spectra_json, singular_values)
    if not update:
        notes.append("no base model: update plots are omitted")

    base_series: list[LayerSeries] = []
    if base_spectra_json is not None:
        base_summary = _dict(_dict(base_spectra_json).get("summary"))
        base_series = _by_layer(_list(base_summary.get("by_kind_layer")), EFFECTIVE_RANK)

    base_doc = _dict(spectra_json.get("base"))
    model_doc = _dict(spectra_json.get("model"))
    version = spectra_json.get("schema_version")
    return SpectralSection(
        source=source,
        spectra_schema_version=version if isinstance(version, int) else None,
        model_path=model_doc.get("path") if isinstance(model_doc.get("path"), str) else None,
        base_path=base_doc.get("path") if isinstance(base_doc.get("path"), str) else None,
        method=method.get("singular_values")
        if isinstance(method.get("singular_values"), str)
        else None,
        effective_rank_metric=EFFECTIVE_RANK,
        summary={k: _num(means.get(k)) for k in SUMMARY_KEYS if k in means},
        update_summary=None
        if not update
        else {k: _num(update.get(k)) for k in UPDATE_KEYS if k in update},
        effective_rank_by_layer=_by_layer(_list(summary.get("by_kind_layer")), EFFECTIVE_RANK),
        base_effective_rank_by_layer=base_series,
        update_relative_change_by_layer=None
        if not update
        else _layer_total(_list(update.get("by_layer")), "relative_change"),
        update_effective_rank_by_layer=None
        if not update
        else _layer_total(_list(update.get("by_layer")), "update_effective_rank_entropy"),
        top_changed=top_changed,
        notes=notes,
    )


def load_spectral_section(path: str | Path, base_path: str | Path | None = None) -> SpectralSection:
    """Read spectra.json (a file or the engine's output folder) and map it."""

    def read(p: str | Path) -> tuple[Path, dict[str, Any]]:
        p = Path(p)
        file = p / "spectra.json" if p.is_dir() else p
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ShadowSuiteError(f"{file}: no such spectra file") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ShadowSuiteError(f"{file}: corrupt JSON ({err})") from None
        return file, data

    file, data = read(path)
    values: dict[str, np.ndarray] = {}
    npz = file.parent / str(
        _dict(data.get("files") if isinstance(data, dict) else {}).get(
            "singular_values", "singular_values.npz"
        )
    )
    if npz.is_file():
        try:
            with np.load(npz, allow_pickle=False) as arrays:
                values = {
                    k.partition("::")[2]: arrays[k] for k in arrays.files if k.startswith("sv::")
                }
        except (OSError, ValueError) as err:
            raise ShadowSuiteError(f"{npz}: unreadable singular values ({err})") from None
    base = read(base_path)[1] if base_path is not None else None
    return spectral_section(data, source=file.name, singular_values=values, base_spectra_json=base)
