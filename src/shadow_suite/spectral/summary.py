"""Summaries of the per-tensor table: per model, per module kind, per (kind, layer), updates.

Pure pandas over the tidy table; the output is plain JSON-ready dicts (the report card's input).
NaN becomes None so the JSON stays standard.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from shadow_suite.spectral.names import KINDS

PROFILE_METRICS: tuple[str, ...] = (
    "effective_rank_entropy",
    "effective_rank_energy",
    "stable_rank",
    "participation_ratio",
    "spectral_norm",
    "alpha",
)
UPDATE_PROFILE_METRICS: tuple[str, ...] = (
    "update_relative_change",
    "update_effective_rank_entropy",
    "update_effective_rank_energy",
    "update_stable_rank",
    "update_rank_above_noise",
    "cosine_to_base",
)
TOP_CHANGED = 10
TOP_CHANGED_SINGULAR_VALUES = 64


def clean(value: Any) -> Any:
    """JSON-safe: numpy scalars to Python, NaN/Inf to None, recursively."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return [clean(v) for v in value.tolist()]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        value = float(value)
        return value if math.isfinite(value) else None
    return value


def _means(frame: pd.DataFrame, columns: tuple[str, ...]) -> dict[str, float]:
    return {c: float(frame[c].astype(float).mean()) for c in columns if c in frame}


def _kind_order(kind: str) -> int:
    return KINDS.index(kind) if kind in KINDS else len(KINDS)


def summarize(table: pd.DataFrame, update_singular: dict[str, np.ndarray]) -> dict[str, Any]:
    """The ``summary`` block of spectra.json (see the package docstring for the schema)."""
    analyzed = table[table["status"] == "ok"]
    has_base = (
        "update_relative_change" in analyzed and analyzed["update_relative_change"].notna().any()
    )
    columns = PROFILE_METRICS + (UPDATE_PROFILE_METRICS if has_base else ())
    model: dict[str, Any] = {
        "matrices": len(analyzed),
        "parameters": int((analyzed["rows"] * analyzed["cols"]).sum()),
        "mean": _means(analyzed, columns),
        "median": {c: float(analyzed[c].astype(float).median()) for c in columns if c in analyzed},
    }
    by_kind = []
    for kind, group in sorted(analyzed.groupby("kind"), key=lambda kv: _kind_order(str(kv[0]))):
        by_kind.append({"kind": kind, "matrices": len(group), **_means(group, columns)})
    by_kind_layer = []
    layered = analyzed[analyzed["layer"].notna()]
    for (kind, layer), group in sorted(
        layered.groupby(["kind", "layer"]), key=lambda kv: (_kind_order(str(kv[0][0])), kv[0][1])
    ):
        by_kind_layer.append(
            {"kind": kind, "layer": int(layer), "matrices": len(group), **_means(group, columns)}
        )
    summary: dict[str, Any] = {
        "model": model,
        "by_kind": by_kind,
        "by_kind_layer": by_kind_layer,
        "update": _update_summary(analyzed, update_singular) if has_base else None,
    }
    return clean(summary)


def _update_summary(analyzed: pd.DataFrame, update_singular: dict[str, np.ndarray]) -> dict:
    matched = analyzed[analyzed["update_relative_change"].notna()]
    base2 = matched["base_frobenius_norm"] ** 2
    delta2 = matched["update_frobenius_norm"] ** 2
    by_layer = []
    layered = matched[matched["layer"].notna()]
    for layer, group in layered.groupby("layer"):
        g_base2 = group["base_frobenius_norm"] ** 2
        by_layer.append(
            {
                "layer": int(layer),
                "matrices": len(group),
                # ||sum of updates|| / ||sum of base|| over the layer's matrices
                "relative_change": math.sqrt(
                    float((group["update_frobenius_norm"] ** 2).sum()) / float(g_base2.sum())
                ),
                "update_effective_rank_entropy": float(
                    group["update_effective_rank_entropy"].mean()
                ),
                "update_effective_rank_energy": float(group["update_effective_rank_energy"].mean()),
                "update_rank_above_noise": float(group["update_rank_above_noise"].mean()),
                "noise_dominated": int(group["update_noise_dominated"].astype(bool).sum()),
            }
        )
    top = matched.sort_values("update_relative_change", ascending=False).head(TOP_CHANGED)
    top_changed = []
    for row in top.itertuples(index=False):
        values = update_singular.get(row.name)
        top_changed.append(
            {
                "name": row.name,
                "kind": row.kind,
                "layer": None if pd.isna(row.layer) else int(row.layer),
                "shape": [int(row.rows), int(row.cols)],
                "relative_change": row.update_relative_change,
                "cosine_to_base": row.cosine_to_base,
                "update_effective_rank_entropy": row.update_effective_rank_entropy,
                "update_stable_rank": row.update_stable_rank,
                "update_rank_above_noise": row.update_rank_above_noise,
                "noise_floor_sv": row.noise_floor_sv,
                "noise_dominated": bool(row.update_noise_dominated),
                "update_singular_values": []
                if values is None
                else values[:TOP_CHANGED_SINGULAR_VALUES].astype(float).tolist(),
            }
        )
    return {
        "matrices_compared": len(matched),
        "relative_change": math.sqrt(float(delta2.sum()) / float(base2.sum()))
        if float(base2.sum()) > 0
        else None,
        "relative_change_median": float(matched["update_relative_change"].median()),
        "noise_dominated_matrices": int(matched["update_noise_dominated"].astype(bool).sum()),
        "unchanged_matrices": int((matched["update_frobenius_norm"] == 0).sum()),
        "by_layer": by_layer,
        "top_changed": top_changed,
    }
