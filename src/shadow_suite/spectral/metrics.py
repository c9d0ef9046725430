"""Spectral metrics of one matrix (and of an update W - W0) from its singular values.

Pure functions of numbers: no tensors, files or devices, except the alpha fit, which may run on
the GPU. Definitions (s_1 >= s_2 >= ... >= s_k the singular values, k = min(m, n)):

- ``stable_rank`` = ||W||_F^2 / ||W||_2^2 = sum s_i^2 / s_1^2
- ``effective_rank_entropy`` (Roy & Vetterli 2007) = exp(H(p)), p_i = s_i / sum s
- ``effective_rank_energy`` = exp(H(p)), p_i = s_i^2 / sum s^2
- ``participation_ratio`` = (sum s_i^2)^2 / sum s_i^4
- ``energy_top1pct`` / ``energy_top10pct``: share of sum s^2 in the largest ceil(1% k) / ceil(10% k)
- ``numerical_rank``: s_i > s_1 * max(m, n) * eps(float64), numpy's ``matrix_rank`` rule
- ``alpha``: power-law exponent of the density of the eigenvalues lambda_i = s_i^2 of W^T W
  (see powerlaw.py), over the eigenvalues above 1e-10 * lambda_max (numerical zeros dropped)
"""

from __future__ import annotations

import math

import numpy as np

from shadow_suite.spectral.powerlaw import fit_power_law

EPS64 = float(np.finfo(np.float64).eps)
# Below this relative change ||W - W0||_F / ||W0||_F the rank of the update is mostly rounding
# noise of 16-bit storage (noise ~2.3e-3 ||W||_F spread over all k directions).
NOISE_DOMINATED_RELATIVE_CHANGE = 1e-2
_ALPHA_RELATIVE_CUTOFF = 1e-10

SPECTRUM_METRICS: tuple[str, ...] = (
    "frobenius_norm",
    "spectral_norm",
    "stable_rank",
    "effective_rank_entropy",
    "effective_rank_energy",
    "participation_ratio",
    "energy_top1pct",
    "energy_top10pct",
    "numerical_rank",
    "alpha",
    "alpha_xmin",
    "alpha_ks_distance",
    "alpha_n_tail",
)


def _entropy_rank(p: np.ndarray) -> float:
    p = p[p > 0]
    return float(math.exp(-np.sum(p * np.log(p))))


def top_share(s: np.ndarray, fraction: float | None = None, count: int | None = None) -> float:
    """Share of the energy sum s^2 in the largest ``count`` (or ceil(fraction * k)) values."""
    energy = np.asarray(s, dtype=np.float64) ** 2
    total = float(energy.sum())
    if total == 0:
        return math.nan
    if count is None:
        count = max(1, math.ceil((fraction or 0.0) * len(energy) - 1e-9))
    return float(np.sort(energy)[::-1][:count].sum() / total)


def spectrum_metrics(
    s: np.ndarray, shape: tuple[int, int], fit_alpha: bool = True, device: str = "cpu"
) -> dict[str, float]:
    """All ``SPECTRUM_METRICS`` of a matrix of ``shape`` with singular values ``s``."""
    s = np.sort(np.asarray(s, dtype=np.float64))[::-1]
    out = dict.fromkeys(SPECTRUM_METRICS, math.nan)
    out["numerical_rank"] = 0.0
    out["alpha_n_tail"] = 0.0
    if len(s) == 0 or s[0] <= 0:
        out["frobenius_norm"] = 0.0
        out["spectral_norm"] = 0.0
        return out
    energy = s**2
    total = float(energy.sum())
    out["frobenius_norm"] = math.sqrt(total)
    out["spectral_norm"] = float(s[0])
    out["stable_rank"] = total / float(energy[0])
    out["effective_rank_entropy"] = _entropy_rank(s / s.sum())
    out["effective_rank_energy"] = _entropy_rank(energy / total)
    out["participation_ratio"] = total**2 / float(np.sum(energy**2))
    out["energy_top1pct"] = top_share(s, fraction=0.01)
    out["energy_top10pct"] = top_share(s, fraction=0.10)
    out["numerical_rank"] = float(np.sum(s > s[0] * max(shape) * EPS64))
    if fit_alpha:
        eigenvalues = energy[energy > energy[0] * _ALPHA_RELATIVE_CUTOFF]
        fit = fit_power_law(eigenvalues, device=device)
        out["alpha"] = fit.alpha
        out["alpha_xmin"] = fit.xmin
        out["alpha_ks_distance"] = fit.ks_distance
        out["alpha_n_tail"] = float(fit.n_tail)
    return out


def rounding_noise_sv(noise_frobenius: float, shape: tuple[int, int]) -> float:
    """Largest singular value of a full-rank noise matrix with that Frobenius norm.

    Rounding errors are nearly independent per entry, so the noise matrix is close to an iid
    random matrix, whose largest singular value is sigma (sqrt(m) + sqrt(n)) (Marchenko-Pastur
    edge) with sigma^2 = ||E||_F^2 / (m n). Update singular values above it carry signal.
    """
    m, n = shape
    return noise_frobenius / math.sqrt(m * n) * (math.sqrt(m) + math.sqrt(n))


UPDATE_METRICS: tuple[str, ...] = (
    "update_relative_change",
    "update_frobenius_norm",
    "base_frobenius_norm",
    "cosine_to_base",
    "update_spectral_norm",
    "update_stable_rank",
    "update_effective_rank_entropy",
    "update_effective_rank_energy",
    "update_energy_top_k",
    "update_energy_top1pct",
    "update_energy_top10pct",
    "noise_floor_frobenius",
    "noise_floor_sv",
    "update_rank_above_noise",
)


def update_metrics(
    update_s: np.ndarray,
    shape: tuple[int, int],
    *,
    weight_frob2: float,
    base_frob2: float,
    inner: float,
    update_frob2: float,
    noise_frob2: float,
    top_k: int = 8,
) -> dict[str, float | bool]:
    """Metrics of W - W0 given its singular values and the norms gathered while streaming."""
    u = np.sort(np.asarray(update_s, dtype=np.float64))[::-1]
    out: dict[str, float | bool] = dict.fromkeys(UPDATE_METRICS, math.nan)
    base_norm = math.sqrt(base_frob2)
    weight_norm = math.sqrt(weight_frob2)
    update_norm = math.sqrt(max(update_frob2, 0.0))
    out["update_frobenius_norm"] = update_norm
    out["base_frobenius_norm"] = base_norm
    out["update_relative_change"] = update_norm / base_norm if base_norm > 0 else math.nan
    if base_norm > 0 and weight_norm > 0:
        out["cosine_to_base"] = inner / (base_norm * weight_norm)
    noise_norm = math.sqrt(noise_frob2)
    out["noise_floor_frobenius"] = noise_norm
    out["noise_floor_sv"] = rounding_noise_sv(noise_norm, shape)
    out["update_rank_above_noise"] = float(np.sum(u > out["noise_floor_sv"]))
    if len(u) and u[0] > 0:
        spectrum = spectrum_metrics(u, shape, fit_alpha=False)
        out["update_spectral_norm"] = spectrum["spectral_norm"]
        out["update_stable_rank"] = spectrum["stable_rank"]
        out["update_effective_rank_entropy"] = spectrum["effective_rank_entropy"]
        out["update_effective_rank_energy"] = spectrum["effective_rank_energy"]
        out["update_energy_top_k"] = top_share(u, count=top_k)
        out["update_energy_top1pct"] = spectrum["energy_top1pct"]
        out["update_energy_top10pct"] = spectrum["energy_top10pct"]
    else:
        out["update_spectral_norm"] = 0.0
    relative = out["update_relative_change"]
    out["update_noise_dominated"] = bool(
        isinstance(relative, float) and 0 < relative < NOISE_DOMINATED_RELATIVE_CHANGE
    )
    return out
