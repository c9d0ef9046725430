"""How many items would decide what a card left open (numbers only; the words are the report's).

Both answers assume the standard error of a mean over items shrinks as 1 / sqrt(n) with the
per-item spread staying what this sample shows: an estimate for planning the next run, not
a promise (a new sample has its own spread, and the observed effect is itself uncertain).

- :func:`items_to_decide`: the reference-relative verdict (``gap.reference``) calls a delta
  ``benchmark_specific`` when its 95% interval lies above the margin, ``no_evidence`` when it
  lies below. Its minimum detectable effect is ``margin + (z_0.975 + z_0.8) x SE``
  (``reference._mde``), so SE = (mde - margin) / (z_0.975 + z_0.8), and the observed delta
  ``d`` would be decided with 80% power at n' = n x ((mde - margin) / |d - margin|)^2 items.
- :func:`items_to_clear_floor`: the floor gate (``gap.gates``) passes a row when a one-sided
  t-test over items puts its pooled accuracy above the floor at alpha 0.05. Its observed t
  statistic (read back from its p, with n - 1 degrees of freedom) grows as sqrt(n); the row
  would clear the floor with 80%
  power at n' = n x ((z_0.95 + z_0.8) / t)^2 items, if the pooled accuracy is above the
  floor at all (otherwise no number of items helps).
"""

from __future__ import annotations

import math

from scipy import stats

from shadow_suite.gap.defaults import ALPHA
from shadow_suite.gap.stats import Z_POWER_80


def _scaled(n: int, ratio: float) -> int | None:
    if not math.isfinite(ratio) or ratio <= 0:
        return None
    return max(n, math.ceil(n * ratio * ratio))


def items_to_decide(
    n_items: int, mde: float | None, margin: float, delta: float | None
) -> int | None:
    """Items at which the observed ``delta`` would be decided (its 95% interval clear of
    ``margin``) with 80% power; None when a number is missing or ``delta`` sits on the
    margin (no sample size decides that)."""
    if mde is None or delta is None or n_items < 1 or mde <= margin:
        return None
    distance = abs(delta - margin)
    if distance == 0:
        return None
    return _scaled(n_items, (mde - margin) / distance)


def items_to_clear_floor(
    n_items: int, pooled: float | None, floor: float | None, p_floor: float | None
) -> int | None:
    """Items at which a row whose pooled accuracy is ``pooled`` would clear the ``floor``
    gate with 80% power, from its one-sided ``p_floor`` on ``n_items``; None when the pooled
    accuracy is not above the floor (more items do not lift it) or a number is missing."""
    if pooled is None or floor is None or p_floor is None or n_items < 2 or pooled <= floor:
        return None
    if not 0.0 < p_floor < 1.0:
        return None
    t_observed = float(stats.t.isf(p_floor, n_items - 1))  # the gate's t-test, n - 1 df
    if t_observed <= 0:
        return None
    needed = float(stats.norm.isf(ALPHA)) + Z_POWER_80
    return _scaled(n_items, needed / t_observed)
