"""Heavy-tail exponent of an eigenvalue density: power-law MLE with a KS-chosen lower cutoff.

The estimator is WeightWatcher's (Clauset-Shalizi-Newman, continuous): for every candidate
cutoff ``xmin`` among the sorted eigenvalues, ``alpha = 1 + n / sum(log(x / xmin))`` over the
``n`` eigenvalues ``x >= xmin``, and the Kolmogorov-Smirnov distance between the fitted CDF
``1 - (x / xmin)^(1 - alpha)`` and the empirical one; the cutoff with the smallest distance wins.
WeightWatcher loops over cutoffs in Python; here all cutoffs are evaluated at once as blocks of a
(cutoff x eigenvalue) matrix in torch, on the GPU when there is one. Same numbers, no loop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MIN_EIGENVALUES = 8  # fewer than this: no fit (WeightWatcher's default min_evals)
_BLOCK_ELEMENTS = 1 << 22  # 4M float64 = 32 MiB of work matrix per block


@dataclass(frozen=True)
class PowerLawFit:
    alpha: float  # density exponent: p(x) ~ x^-alpha for x >= xmin
    xmin: float
    ks_distance: float
    n_tail: int  # eigenvalues at or above xmin


NO_FIT = PowerLawFit(math.nan, math.nan, math.nan, 0)


def fit_power_law(eigenvalues: np.ndarray, device: str = "cpu") -> PowerLawFit:
    """Fit ``eigenvalues`` (any order, all > 0) as WeightWatcher's ``pl_package='WW'`` does."""
    import torch

    x = torch.as_tensor(np.sort(np.asarray(eigenvalues, dtype=np.float64)), device=device)
    count = int(x.numel())
    if count < MIN_EIGENVALUES or not bool(x[0] > 0):
        return NO_FIT
    log_x = torch.log(x)
    # suffix sums of log x: tail_log[i] = sum_{j >= i} log x_j
    tail_log = torch.flip(torch.cumsum(torch.flip(log_x, [0]), 0), [0])
    candidates = count - 1  # the largest eigenvalue is never a cutoff
    n_tail = torch.arange(count, 0, -1, dtype=torch.float64, device=device)[:candidates]
    denom = tail_log[:candidates] - n_tail * log_x[:candidates]
    alpha = 1 + n_tail / denom  # inf where the tail is all ties: D stays 1 below

    distances = torch.ones(candidates, dtype=torch.float64, device=device)
    rows = max(1, _BLOCK_ELEMENTS // count)
    cols = torch.arange(count, device=device)
    for start in range(0, candidates, rows):
        stop = min(start + rows, candidates)
        idx = torch.arange(start, stop, device=device)
        a = alpha[start:stop, None]
        j = cols[None, start:]
        offset = (j - idx[:, None]).to(torch.float64)  # j - i
        # fitted CDF at x_j with cutoff x_i, minus empirical CDF (j - i) / n_i
        fitted = 1 - torch.exp((1 - a) * (log_x[None, start:] - log_x[start:stop, None]))
        gap = torch.abs(fitted - offset / n_tail[start:stop, None])
        gap = torch.where(offset >= 0, gap, torch.zeros((), dtype=gap.dtype, device=device))
        block = gap.amax(dim=1)
        valid = torch.isfinite(a[:, 0]) & (a[:, 0] > 1)
        distances[start:stop] = torch.where(valid, block, distances[start:stop])
    best = int(torch.argmin(distances))
    return PowerLawFit(
        alpha=float(alpha[best]),
        xmin=float(x[best]),
        ks_distance=float(distances[best]),
        n_tail=count - best,
    )
