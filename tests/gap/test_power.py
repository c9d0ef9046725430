"""``gap.power``: the items a next step asks for do give about 80% power, by simulation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from shadow_suite.gap import stats
from shadow_suite.gap.power import items_to_clear_floor, items_to_decide


def test_items_to_decide_gives_80_percent_power() -> None:
    """Per-item contributions with spread sd and mean delta: on n items the reference MDE is
    margin + (z_0.975 + z_0.8) SE; at the items returned, the 95% interval of a fresh sample
    clears the margin in about 80% of samples."""
    rng = np.random.default_rng(0)
    sd, margin, delta, n = 0.6, 0.02, 0.12, 50
    mde = margin + stats.minimum_detectable(sd / np.sqrt(n))
    needed = items_to_decide(n, mde, margin, delta)
    assert needed is not None and needed > n
    samples = rng.normal(delta, sd, size=(4000, needed))
    low = samples.mean(axis=1) - 1.959964 * samples.std(axis=1, ddof=1) / np.sqrt(needed)
    assert np.mean(low > margin) == pytest.approx(0.80, abs=0.03)
    # below the margin: the upper bound clears it as often
    needed_below = items_to_decide(n, mde, margin, margin - (delta - margin))
    assert needed_below == needed


def test_items_to_decide_refuses_what_no_sample_decides() -> None:
    assert items_to_decide(50, 0.3, 0.02, 0.02) is None  # on the margin
    assert items_to_decide(50, None, 0.02, 0.1) is None
    assert items_to_decide(50, 0.3, 0.02, None) is None


def test_items_to_clear_floor_gives_80_percent_power() -> None:
    """A row pooled at 0.40 against a floor of 0.2875 (4 options): on 20 items its t-test
    does not clear the floor; at the items returned it does in about 80% of fresh samples."""
    rng = np.random.default_rng(1)
    values = np.array([0.0, 0.5, 1.0])
    probs = np.array([0.45, 0.30, 0.25])  # mean 0.40
    floor = 0.25 + 0.05 * 0.75
    sample = np.repeat(values, [9, 6, 5])  # 20 items: mean exactly 0.4
    p_floor = stats.above_floor(sample, floor)
    assert p_floor > 0.05
    needed = items_to_clear_floor(sample.size, float(sample.mean()), floor, p_floor)
    assert needed is not None and needed > sample.size
    draws = rng.choice(values, p=probs, size=(2000, needed))
    p = sps.ttest_1samp(draws, floor, axis=1, alternative="greater").pvalue
    assert np.mean(p < 0.05) == pytest.approx(0.80, abs=0.04)


def test_no_number_of_items_lifts_a_row_at_chance() -> None:
    assert items_to_clear_floor(30, 0.25, 0.2875, 0.9) is None
    assert items_to_clear_floor(30, None, 0.2875, 0.4) is None
