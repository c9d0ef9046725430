"""Summaries of the per-tensor table: per model, per module kind, per (kind, layer), updates.

Pure pandas over the tidy table; the output is the typed ``summary`` block of the spectra
document (:class:`shadow_suite.spectral.document.Summary`), NaN and infinity as None.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from shadow_suite.numbers import finite_or_none
from shadow_suite.spectral.document import (
    PROFILE_METRICS,
    UPDATE_PROFILE_METRICS,
    ChangedMatrix,
    KindLayerSummary,
    KindSummary,
    Metric,
    ModelSummary,
    Summary,
    UpdateLayer,
    UpdateSummary,
)
from shadow_suite.spectral.names import KINDS

TOP_CHANGED = 10
TOP_CHANGED_SINGULAR_VALUES = 64


def _number(value: Any) -> float | None:
    """A table cell as a float, None for NA, NaN and infinity."""
    return None if pd.isna(value) else finite_or_none(float(value))


def _means(frame: pd.DataFrame, columns: tuple[Metric, ...]) -> dict[Metric, float | None]:
    return {c: _number(frame[c].astype(float).mean()) for c in columns if c in frame}


def _kind_order(kind: str) -> int:
    return KINDS.index(kind) if kind in KINDS else len(KINDS)


def summarize(table: pd.DataFrame, update_singular: dict[str, np.ndarray]) -> Summary:
    """The ``summary`` block of spectra.json."""
    analyzed = table[table["status"] == "ok"]
    has_base = bool(
        "update_relative_change" in analyzed and analyzed["update_relative_change"].notna().any()
    )
    columns: tuple[Metric, ...] = PROFILE_METRICS + (UPDATE_PROFILE_METRICS if has_base else ())
    model = ModelSummary(
        matrices=len(analyzed),
        parameters=int((analyzed["rows"] * analyzed["cols"]).sum()),
        mean=_means(analyzed, columns),
        median={c: _number(analyzed[c].astype(float).median()) for c in columns if c in analyzed},
    )
    by_kind = tuple(
        KindSummary(str(kind), len(group), _means(group, columns))
        for kind, group in sorted(analyzed.groupby("kind"), key=lambda kv: _kind_order(str(kv[0])))
    )
    layered = analyzed[analyzed["layer"].notna()]
    by_kind_layer = tuple(
        KindLayerSummary(str(kind), int(layer), len(group), _means(group, columns))
        for (kind, layer), group in sorted(
            layered.groupby(["kind", "layer"]),
            key=lambda kv: (_kind_order(str(kv[0][0])), kv[0][1]),
        )
    )
    return Summary(
        model=model,
        by_kind=by_kind,
        by_kind_layer=by_kind_layer,
        update=_update_summary(analyzed, update_singular) if has_base else None,
    )


def _update_summary(
    analyzed: pd.DataFrame, update_singular: dict[str, np.ndarray]
) -> UpdateSummary:
    matched = analyzed[analyzed["update_relative_change"].notna()]
    base2 = matched["base_frobenius_norm"] ** 2
    delta2 = matched["update_frobenius_norm"] ** 2
    by_layer = []
    layered = matched[matched["layer"].notna()]
    for layer, group in layered.groupby("layer"):
        g_base2 = group["base_frobenius_norm"] ** 2
        by_layer.append(
            UpdateLayer(
                layer=int(layer),
                matrices=len(group),
                # ||sum of updates|| / ||sum of base|| over the layer's matrices
                relative_change=finite_or_none(
                    math.sqrt(
                        float((group["update_frobenius_norm"] ** 2).sum()) / float(g_base2.sum())
                    )
                ),
                update_effective_rank_entropy=_number(
                    group["update_effective_rank_entropy"].mean()
                ),
                update_effective_rank_energy=_number(group["update_effective_rank_energy"].mean()),
                update_rank_above_noise=_number(group["update_rank_above_noise"].mean()),
                noise_dominated=int(group["update_noise_dominated"].astype(bool).sum()),
            )
        )
    top = matched.sort_values("update_relative_change", ascending=False).head(TOP_CHANGED)
    top_changed = []
    for row in top.itertuples(index=False):
        values = update_singular.get(str(row.name))
        top_changed.append(
            ChangedMatrix(
                name=str(row.name),
                kind=str(row.kind),
                layer=None if pd.isna(row.layer) else int(row.layer),
                shape=(int(row.rows), int(row.cols)),
                relative_change=_number(row.update_relative_change),
                cosine_to_base=_number(row.cosine_to_base),
                update_effective_rank_entropy=_number(row.update_effective_rank_entropy),
                update_stable_rank=_number(row.update_stable_rank),
                update_rank_above_noise=_number(row.update_rank_above_noise),
                noise_floor_sv=_number(row.noise_floor_sv),
                noise_dominated=bool(row.update_noise_dominated),
                update_singular_values=()
                if values is None
                else tuple(float(v) for v in values[:TOP_CHANGED_SINGULAR_VALUES]),
            )
        )
    pooled = float(base2.sum())
    return UpdateSummary(
        matrices_compared=len(matched),
        relative_change=finite_or_none(math.sqrt(float(delta2.sum()) / pooled))
        if pooled > 0
        else None,
        relative_change_median=_number(matched["update_relative_change"].median()),
        noise_dominated_matrices=int(matched["update_noise_dominated"].astype(bool).sum()),
        unchanged_matrices=int((matched["update_frobenius_norm"] == 0).sum()),
        by_layer=tuple(by_layer),
        top_changed=tuple(top_changed),
    )
