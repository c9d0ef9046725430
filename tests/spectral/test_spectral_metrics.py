"""Every metric against its direct float64 formula; alpha against planted power laws."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from spectral_helpers import with_spectrum

from shadow_suite.spectral.linalg import matrix_stats
from shadow_suite.spectral.metrics import rounding_noise_sv, spectrum_metrics, update_metrics
from shadow_suite.spectral.powerlaw import fit_power_law


def test_metrics_match_direct_formulas_on_a_matrix() -> None:
    rng = np.random.default_rng(3)
    s = np.sort(rng.pareto(2.0, 150) + 0.1)[::-1]
    w = with_spectrum(rng, 240, 150, s)
    got = spectrum_metrics(matrix_stats(torch.from_numpy(w)).singular_values, w.shape)
    direct = np.linalg.svd(w, compute_uv=False)
    p1 = direct / direct.sum()
    p2 = direct**2 / np.sum(direct**2)
    assert got["frobenius_norm"] == pytest.approx(np.linalg.norm(w, "fro"), rel=1e-12)
    assert got["spectral_norm"] == pytest.approx(np.linalg.norm(w, 2), rel=1e-12)
    assert got["stable_rank"] == pytest.approx(
        np.linalg.norm(w, "fro") ** 2 / np.linalg.norm(w, 2) ** 2, rel=1e-11
    )
    assert got["effective_rank_entropy"] == pytest.approx(
        math.exp(-np.sum(p1 * np.log(p1))), rel=1e-11
    )
    assert got["effective_rank_energy"] == pytest.approx(
        math.exp(-np.sum(p2 * np.log(p2))), rel=1e-11
    )
    assert got["participation_ratio"] == pytest.approx(1 / np.sum(p2**2), rel=1e-11)
    # 1% of 150 -> top 2 values, 10% -> top 15
    assert got["energy_top1pct"] == pytest.approx(p2[:2].sum(), rel=1e-11)
    assert got["energy_top10pct"] == pytest.approx(p2[:15].sum(), rel=1e-11)
    assert got["numerical_rank"] == np.linalg.matrix_rank(w) == 150


def test_simple_spectra_have_exact_metric_values() -> None:
    flat = spectrum_metrics(np.ones(10), (10, 20), fit_alpha=False)
    for name in ("stable_rank", "effective_rank_entropy", "effective_rank_energy"):
        assert flat[name] == pytest.approx(10.0, rel=1e-14)
    assert flat["participation_ratio"] == pytest.approx(10.0, rel=1e-14)
    rank_one = spectrum_metrics(np.array([2.0, 0, 0, 0]), (4, 4), fit_alpha=False)
    assert rank_one["stable_rank"] == 1.0
    assert rank_one["effective_rank_entropy"] == 1.0
    assert rank_one["numerical_rank"] == 1.0
    assert rank_one["energy_top1pct"] == 1.0
    zero = spectrum_metrics(np.zeros(5), (5, 5))
    assert zero["frobenius_norm"] == 0.0 and math.isnan(zero["stable_rank"])


def _reference_fit(x: np.ndarray) -> tuple[float, float, float]:
    """WeightWatcher's WWFit loop (pl_package='WW'), transcribed: (alpha, xmin, D)."""
    data = np.sort(x)
    log_data = np.log(data)
    n_all = len(data)
    alphas = np.zeros(n_all - 1)
    ds = np.ones(n_all - 1)
    for i, xmin in enumerate(data[:-1]):
        n = float(n_all - i)
        alpha = 1 + n / (np.sum(log_data[i:]) - n * log_data[i])
        alphas[i] = alpha
        if alpha > 1:
            fitted = 1 - (data[i:] / xmin) ** (-alpha + 1)
            ds[i] = np.max(np.abs(fitted - np.arange(n) / n))
    best = int(np.argmin(ds))
    return alphas[best], data[best], ds[best]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_vectorised_fit_equals_the_loop(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.uniform(0.1, 1.0, 300), 1.0 + rng.pareto(1.5 + seed, 200)])
    fit = fit_power_law(x)
    alpha, xmin, ks = _reference_fit(x)
    assert fit.alpha == pytest.approx(alpha, rel=1e-10)
    assert fit.xmin == xmin
    assert fit.ks_distance == pytest.approx(ks, rel=1e-10)
    assert fit.n_tail == int(np.sum(x >= xmin))


@pytest.mark.parametrize("alpha", [2.0, 3.5, 5.0])
def test_alpha_recovers_planted_power_law(alpha: float) -> None:
    rng = np.random.default_rng(int(alpha * 10))
    # inverse-CDF sampling of p(x) ~ x^-alpha on [1, inf), plus a bulk below the cutoff
    tail = (1 - rng.uniform(size=3000)) ** (-1 / (alpha - 1))
    bulk = rng.uniform(0.05, 0.9, size=1000)
    fit = fit_power_law(np.concatenate([tail, bulk]))
    assert fit.alpha == pytest.approx(alpha, abs=0.15)
    assert 0.5 <= fit.xmin <= 3.0
    assert fit.ks_distance < 0.05


def test_alpha_through_a_matrix_uses_eigenvalues_of_wtw() -> None:
    rng = np.random.default_rng(11)
    eigen = np.sort((1 - rng.uniform(size=400)) ** (-1 / 1.5))[::-1]  # alpha = 2.5
    w = with_spectrum(rng, 600, 400, np.sqrt(eigen))
    got = spectrum_metrics(matrix_stats(torch.from_numpy(w)).singular_values, w.shape)
    assert got["alpha"] == pytest.approx(fit_power_law(eigen).alpha, rel=1e-8)
    assert got["alpha"] == pytest.approx(2.5, abs=0.25)
    assert math.isnan(fit_power_law(np.arange(1.0, 6.0)).alpha)  # too few eigenvalues


def test_update_metrics_formulas() -> None:
    u = np.array([3.0, 1.0, 0.5, 0.01, 0.001])
    got = update_metrics(
        u,
        (5, 8),
        weight_frob2=100.0,
        base_frob2=81.0,
        inner=85.0,
        update_frob2=float(np.sum(u**2)),
        noise_frob2=(0.004 * math.sqrt(40)) ** 2,
        top_k=2,
    )
    assert got["update_relative_change"] == pytest.approx(math.sqrt(np.sum(u**2)) / 9)
    assert got["cosine_to_base"] == pytest.approx(85 / 90)
    assert got["update_energy_top_k"] == pytest.approx((9 + 1) / np.sum(u**2))
    assert got["noise_floor_sv"] == pytest.approx(0.004 * (math.sqrt(5) + math.sqrt(8)))
    assert got["update_rank_above_noise"] == 3
    assert got["update_noise_dominated"] is False
    assert rounding_noise_sv(0.0, (3, 3)) == 0.0
