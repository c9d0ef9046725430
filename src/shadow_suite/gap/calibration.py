"""ConStat-style calibration with several references (m >= 3).

Dekoninck et al. (2024) call a model contaminated when its benchmark score is higher than
the relation between benchmark and reference scores that clean models show predicts. Here,
per benchmark, on the chance-normalised scale a' = (a - chance) / (1 - chance): x = the mean
accuracy over the benchmark's content and format variants, y = the original accuracy, both
over the items every model scored. A straight line g is fitted through the references'
(x, y) by least squares (with few references a line is what the data can carry), and
delta = y_T - g(x_T). The CI and the one-sided p (share of draws with delta <= 0) come from
a bootstrap that resamples items (all models together) and references (with replacement).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from shadow_suite.contract import ORIG
from shadow_suite.gap import stats
from shadow_suite.gap.analysis import HEADLINE_FAMILIES
from shadow_suite.gap.records import CalibrationRow, ReferenceItems
from shadow_suite.numbers import finite_or_none

MIN_REFERENCES = 3


def _matrix(items: pd.DataFrame, bench: str, ids: list[str], variants: list[str]) -> np.ndarray:
    """(n_items, 1 + n_variants) correctness: orig first, then the variants."""
    frame = items[items["benchmark"] == bench]
    out = np.zeros((len(ids), 1 + len(variants)))
    for col, variant in enumerate([ORIG, *variants]):
        part = frame[frame["variant"] == variant].set_index("shadow_id")["correct"]
        out[:, col] = part.reindex(ids).to_numpy(dtype=float)
    return out


def calibrate(
    target: pd.DataFrame, references: Sequence[ReferenceItems], n_boot: int, seed: int
) -> list[CalibrationRow]:
    if len(references) < MIN_REFERENCES:
        return []
    rows = []
    models = [target, *(r.items for r in references)]
    for bench in sorted(set(target["benchmark"])):
        frame = target[target["benchmark"] == bench]
        variants = sorted(
            v for v, fam in frame.groupby("variant")["family"].first().items()
            if fam in HEADLINE_FAMILIES
        )  # fmt: skip
        if not variants:
            continue
        id_sets = [
            set(m[(m["benchmark"] == bench) & (m["variant"] == v)]["shadow_id"])
            for m in models
            for v in [ORIG, *variants]
        ]
        ids = sorted(set.intersection(*id_sets))
        if len(ids) < 2:
            continue
        options = frame[frame["variant"] == ORIG].set_index("shadow_id")["n_options"]
        opts = options.reindex(ids).to_numpy(dtype=float)
        chance = float(np.mean(np.where(opts > 0, 1.0 / np.maximum(opts, 1), 0.0)))
        mats = np.stack([_matrix(m, bench, ids, variants) for m in models])  # (models, items, 1+v)

        rows.append(_row(bench, mats, chance, references, n_boot, seed))
    return rows


def _delta(
    mats: np.ndarray, chance: float, weights: np.ndarray, ref_index: np.ndarray
) -> tuple[float, float, float, float, float]:
    """(delta, slope, intercept, target y, target x) for item weights and references."""
    acc = np.einsum("i,mic->mc", weights, mats) / weights.sum()
    y = (acc[:, 0] - chance) / (1.0 - chance)
    x = (acc[:, 1:].mean(axis=1) - chance) / (1.0 - chance)
    xr, yr = x[1:][ref_index], y[1:][ref_index]
    if np.ptp(xr) == 0:
        return (np.nan, np.nan, np.nan, float(y[0]), float(x[0]))
    slope, intercept = np.polyfit(xr, yr, 1)
    return (float(y[0] - (intercept + slope * x[0])), float(slope), float(intercept),
            float(y[0]), float(x[0]))  # fmt: skip


def _row(
    bench: str,
    mats: np.ndarray,
    chance: float,
    references: Sequence[ReferenceItems],
    n_boot: int,
    seed: int,
) -> CalibrationRow:
    m, n_items = len(references), mats.shape[1]
    point, slope, intercept, y_t, x_t = _delta(mats, chance, np.ones(n_items), np.arange(m))
    rng = stats.benchmark_stream_seed(seed, bench + "/calibration")
    draws = np.empty(n_boot)
    for k in range(n_boot):
        weights = np.bincount(rng.integers(0, n_items, n_items), minlength=n_items)
        draws[k] = _delta(mats, chance, weights.astype(float), rng.integers(0, m, m))[0]
    finite = draws[np.isfinite(draws)]
    low, high = stats.percentile_ci(draws)
    return CalibrationRow(
        benchmark=bench,
        references=[r.name for r in references],
        target_orig=finite_or_none(y_t),
        target_ood=finite_or_none(x_t),
        predicted_orig=finite_or_none(y_t - point) if np.isfinite(point) else None,
        delta=finite_or_none(point),
        ci_low=finite_or_none(low),
        ci_high=finite_or_none(high),
        p_value=finite_or_none(float(np.mean(finite <= 0))) if finite.size else None,
        slope=finite_or_none(slope),
        intercept=finite_or_none(intercept),
    )
