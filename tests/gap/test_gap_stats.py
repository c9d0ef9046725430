"""The paired statistics against hand-computed values and a simulated coverage check."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from shadow_suite.contract import ORIG
from shadow_suite.gap import stats


def test_mcnemar_exact_matches_hand_computed_binomial() -> None:
    # b=8, c=2: p = 2 * P(X <= 2 | n=10, 1/2) = 2 * (1 + 10 + 45) / 1024
    assert stats.mcnemar_exact(8, 2) == pytest.approx(112 / 1024)
    assert stats.mcnemar_exact(2, 8) == pytest.approx(112 / 1024)
    # b=5, c=0: p = 2 * (1/2)^5
    assert stats.mcnemar_exact(5, 0) == pytest.approx(2 / 32)
    # balanced discordance: no evidence
    assert stats.mcnemar_exact(3, 3) == pytest.approx(1.0)
    # no discordant pair at all
    assert stats.mcnemar_exact(0, 0) == 1.0


def test_holm_on_known_p_values() -> None:
    # sorted: 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06, 0.04*1=0.04 -> running max 0.06
    adjusted = stats.holm([0.01, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(adjusted, [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(stats.holm([0.5, 0.9]), [1.0, 1.0])
    assert stats.holm([]).size == 0


def test_wilson_and_above_chance() -> None:
    low, high = stats.wilson_interval(50, 100)
    assert low == pytest.approx(0.4038, abs=1e-3) and high == pytest.approx(0.5962, abs=1e-3)
    # 30/100 at chance 1/4: P(X >= 30) for Binomial(100, 0.25)
    assert stats.above_chance(30, 100, 0.25) == pytest.approx(sps.binom.sf(29, 100, 0.25))
    assert stats.above_chance(0, 10, 0.0) == 1.0
    assert stats.above_chance(1, 10, 0.0) == 0.0
    assert all(math.isnan(x) for x in stats.wilson_interval(0, 0))


def test_point_estimates_pool_variants_by_plain_mean() -> None:
    orig = np.array([1, 1, 1, 0], dtype=float)
    variant = np.array([[0, 1], [1, 0], [1, 0], [0, 0]], dtype=float)
    paired = np.array([[1, 1], [1, 1], [1, 0], [1, 0]], dtype=bool)
    point = stats.point_estimates(stats.PairedItems(orig, variant, paired))
    # variant 0 over 4 items: orig 3/4, variant 2/4 -> gap 1/4
    # variant 1 over items 0,1: orig 2/2, variant 1/2 -> gap 1/2
    np.testing.assert_allclose(point.gap[0], [0.25, 0.5])
    assert point.bench_gap[0] == pytest.approx(0.375)


def test_bootstrap_is_reproducible_and_seed_dependent() -> None:
    rng = np.random.default_rng(0)
    o = (rng.random(300) < 0.7).astype(float)
    v = o * (rng.random(300) > 0.2)
    a = stats.paired_bootstrap_ci(o, v, n_boot=2000, seed=7)
    b = stats.paired_bootstrap_ci(o, v, n_boot=2000, seed=7)
    c = stats.paired_bootstrap_ci(o, v, n_boot=2000, seed=8)
    assert a == b
    assert a != c
    assert a[0] < np.mean(o - v) < a[1]


def test_bootstrap_ci_covers_true_gap_at_stated_rate() -> None:
    """200 simulated paired data sets with a known gap; the 95% CI must cover it about
    95% of the time. Binomial tolerance: 3.5 standard errors of a 200-trial rate."""
    rng = np.random.default_rng(12345)
    n_sims, n_items = 200, 300
    p_orig, p_drop = 0.7, 0.2
    true_gap = p_orig * p_drop  # variant loses a right orig answer with prob p_drop
    covered = 0
    for sim in range(n_sims):
        o = (rng.random(n_items) < p_orig).astype(float)
        v = o * (rng.random(n_items) >= p_drop)
        low, high = stats.paired_bootstrap_ci(o, v, n_boot=1000, seed=sim)
        covered += low <= true_gap <= high
    rate = covered / n_sims
    tolerance = 3.5 * math.sqrt(0.95 * 0.05 / n_sims)
    assert abs(rate - 0.95) <= tolerance, f"coverage {rate:.3f}"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=12))
def test_holm_properties(p_values: list[float]) -> None:
    p = np.array(p_values)
    adjusted = stats.holm(p)
    assert np.all(adjusted >= p - 1e-15)
    assert np.all(adjusted <= 1.0)
    # the order of the p-values is kept (ties may merge)
    order = np.argsort(p, kind="stable")
    assert np.all(np.diff(adjusted[order]) >= -1e-15)
    # the smallest is multiplied by m (Bonferroni for the first step)
    assert adjusted[order[0]] == pytest.approx(min(1.0, p.size * p[order[0]]))


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 60), st.integers(0, 60))
def test_mcnemar_is_symmetric_and_a_probability(b: int, c: int) -> None:
    p = stats.mcnemar_exact(b, c)
    assert 0.0 < p <= 1.0
    assert p == pytest.approx(stats.mcnemar_exact(c, b))
    if b == c:
        assert p == pytest.approx(1.0)


def test_interval_of_items_that_all_agree_is_not_zero_width() -> None:
    """12 items right in both forms (or a target and its reference alike on every item)
    carry little information: the interval must say so, not read [0, 0] and let the card
    call ``no_evidence`` (an equivalence claim) on 12 items."""
    from shadow_suite.gap.analysis import Cell, cell_draws

    ids = [str(i) for i in range(12)]
    ones = np.ones(12)
    cell = Cell("arc_challenge", "noisy", ORIG, "content", ids, ones, ones)
    values = {cell.key: cell.contributions()}
    plain = cell_draws({"arc_challenge": [cell]}, values, 2000, seed=0)
    assert np.ptp(plain.draws) == 0.0  # the collapse the pseudo pair prevents
    fd = cell_draws({"arc_challenge": [cell]}, values, 2000, seed=0, pseudo_pair=True)
    low, high = stats.percentile_ci(fd.draws[:, 0])
    assert fd.point[0] == 0.0  # the point is the plain mean
    assert low < -0.1 and high > 0.1  # about +-3/n at n = 12
    # with many items the pseudo pair hardly moves the bounds
    many = [str(i) for i in range(2000)]
    rng = np.random.default_rng(1)
    base, var = (rng.random(2000) < 0.6).astype(float), (rng.random(2000) < 0.5).astype(float)
    big = Cell("mmlu", "permuted", ORIG, "content", many, base, var)
    vals = {big.key: big.contributions()}
    a = stats.percentile_ci(cell_draws({"mmlu": [big]}, vals, 2000, 0).draws[:, 0])
    b = stats.percentile_ci(
        cell_draws({"mmlu": [big]}, vals, 2000, 0, pseudo_pair=True).draws[:, 0]
    )
    assert abs(a[0] - b[0]) < 0.005 and abs(a[1] - b[1]) < 0.005
