"""The memorization test's statistics and its pairing of a target with its references, on
familiarity tables built here (the tiny models' real ones are in tests/test_memorization_end_to_end.py)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from shadow_suite.errors import ShadowSuiteError
from shadow_suite.gap.familiarity import COLUMNS
from shadow_suite.gap.memorization import (
    FEATURES,
    PRIMARY_FEATURE,
    excess_familiarity,
    memorization_test,
)
from shadow_suite.gap.records import ReferenceItems


def table(
    item_ll: list[float],
    sets: list[str],
    benchmark: str = "arc_challenge",
    prompt_ll: list[float] | None = None,
    dropped: int = 0,
) -> pd.DataFrame:
    """A familiarity table: items of 100 bytes (prompts of 80), test rows then twins."""
    counters = {"test": 0, "twin": 0}
    rows = []
    for value, kind, prompt in zip(item_ll, sets, prompt_ll or [np.nan] * len(sets), strict=True):
        split = "test" if kind == "test" else "validation"
        rows.append(
            {
                "shadow_id": f"{benchmark}/{split}/{counters[kind]}",
                "benchmark": benchmark,
                "set": kind,
                "seed": 1234,
                "data_sha256": split * 4,
                "twins_dropped": dropped,
                "item_loglikelihood": value,
                "item_bytes": 100,
                "prompt_loglikelihood": prompt,
                "prompt_bytes": 80 if prompt_ll is not None else -1,
            }
        )
        counters[kind] += 1
    return pd.DataFrame(rows, columns=list(COLUMNS)).astype(COLUMNS)


def reference(familiarity: pd.DataFrame | None, name: str = "base") -> ReferenceItems:
    return ReferenceItems(name, pd.DataFrame(), f"runs/{name}", familiarity=familiarity)


def test_a_planted_excess_is_found_with_its_interval_and_a_null_one_is_not() -> None:
    rng = np.random.default_rng(0)
    n = 60
    values = rng.normal(size=(2 * n, 2))
    values[:n, 0] += 1.0  # the first feature: test items 1 SD more familiar
    labels = np.arange(2 * n) < n
    result = excess_familiarity(values, labels, 2000, 2000, np.random.default_rng(1))
    assert result.excess[0] == pytest.approx(values[:n, 0].mean() - values[n:, 0].mean())
    assert result.p_value[0] == pytest.approx(1 / 2001)  # no relabelling reaches it
    se = math.sqrt(2 / n)  # of the difference of two means of n unit-variance values
    assert result.ci_low[0] < 1.0 < result.ci_high[0]  # covers the planted excess
    assert result.ci_high[0] - result.ci_low[0] == pytest.approx(2 * 1.96 * se, rel=0.2)
    assert result.p_value[1] > 0.05 and result.ci_low[1] < 0 < result.ci_high[1]
    # MDE: one-sided 5% plus 80% power, about 2.5 standard errors of the difference
    assert result.mde[1] == pytest.approx(2.49 * se, rel=0.2)


def test_p_is_the_exact_share_of_relabellings_as_large() -> None:
    """Test [1, 1] against twins [0, 0]: 1 of the 6 ways to pick the test pair gives S >= 1."""
    result = excess_familiarity(
        np.array([1.0, 1.0, 0.0, 0.0]), np.array([True, True, False, False]), 20_000, 200,
        np.random.default_rng(2),
    )  # fmt: skip
    assert result.p_value[0] == pytest.approx(1 / 6, abs=0.01)


@pytest.mark.parametrize(("n_test", "n_twin"), [(8, 30), (40, 40)])
def test_rejections_stay_at_the_level_on_skewed_data_and_unequal_sets(
    n_test: int, n_twin: int
) -> None:
    """No difference between the sets (labels drawn at random each time): the share of p <=
    0.05 stays at 5% whatever the data's shape, the set sizes or the sample size."""
    rng = np.random.default_rng(3)
    values = rng.lognormal(sigma=1.5, size=n_test + n_twin)  # heavy right tail
    trials, n_perm = 600, 199
    rejected = 0
    for _ in range(trials):
        labels = rng.permutation(np.arange(n_test + n_twin) < n_test)
        rejected += excess_familiarity(values, labels, n_perm, 100, rng).p_value[0] <= 0.05
    low, high = scipy_stats.binomtest(int(rejected), trials).proportion_ci(0.99)
    assert low <= 0.05 <= high, (rejected, trials)


def test_with_a_reference_each_item_is_paired_by_id_not_by_row() -> None:
    sets = ["test"] * 4 + ["twin"] * 4
    target = table([-90.0, -90.0, -90.0, -90.0, -100.0, -100.0, -100.0, -100.0], sets)
    # the base finds the test items just as much more familiar: no excess beyond it
    base = table([-190.0] * 4 + [-200.0] * 4, sets)
    shuffled = base.sample(frac=1.0, random_state=0).reset_index(drop=True)
    result = memorization_test(target, [reference(shuffled)], n_perm=500, n_boot=200)
    (row,) = result.primary_rows()
    assert result.controlled and result.references == ["base"]
    assert row.excess == pytest.approx(0.0) and row.p_value == 1.0
    assert not result.detected
    raw = memorization_test(target, n_perm=500, n_boot=200)
    (raw_row,) = raw.primary_rows()
    assert not raw.controlled
    assert raw_row.excess == pytest.approx(10 / 100 / math.log(2))  # bits per byte
    assert raw.detected and raw_row.p_holm == raw_row.p_value  # one benchmark: Holm is p


def test_features_needing_the_prompt_task_are_left_out_without_it() -> None:
    sets = ["test"] * 3 + ["twin"] * 3
    with_prompt = table([-90.0] * 3 + [-100.0] * 3, sets, prompt_ll=[-70.0] * 6)
    result = memorization_test(with_prompt, n_perm=200, n_boot=200)
    assert [r.feature for r in result.rows] == [PRIMARY_FEATURE, "prompt", "answer"]
    answer = next(r for r in result.rows if r.feature == "answer")
    # the answer feature: (item - prompt) log-likelihood per byte the item adds (20 bytes)
    assert answer.test_mean == pytest.approx(-20 / 20 / math.log(2))
    without = memorization_test(table([-90.0] * 3 + [-100.0] * 3, sets), n_perm=200, n_boot=200)
    assert [r.feature for r in without.rows] == [PRIMARY_FEATURE]
    assert set(FEATURES) == {"item", "prompt", "answer"}


def test_benchmarks_without_twins_or_familiarity_are_listed_not_measured() -> None:
    arc = table([-90.0, -91.0, -100.0, -101.0], ["test", "test", "twin", "twin"])
    no_twins = table([-90.0], ["test"], benchmark="hellaswag")
    all_dropped = table([-90.0], ["test"], benchmark="mmlu", dropped=1531)
    result = memorization_test(
        pd.concat([arc, no_twins, all_dropped], ignore_index=True),
        benchmarks=["arc_challenge", "gsm8k", "hellaswag", "mmlu"],
        n_perm=100,
        n_boot=100,
    )
    assert result.not_measured == {
        "hellaswag": "no_twin_set",
        "mmlu": "no_twin_left",
        "gsm8k": "not_evaluated",
    }
    assert [r.benchmark for r in result.primary_rows()] == ["arc_challenge"]


def test_a_reference_evaluated_without_the_familiarity_tasks_is_one_line() -> None:
    target = table([-90.0, -91.0, -100.0, -101.0], ["test", "test", "twin", "twin"])
    with pytest.raises(ShadowSuiteError) as err:
        memorization_test(target, [reference(None, "peer")])
    message = str(err.value)
    assert "\n" not in message
    assert "reference 'peer' (runs/peer) was evaluated without the familiarity tasks" in message
    assert "shadow_arc_challenge_familiarity_item" in message
    other_benchmark = table([-1.0, -1.0, -2.0, -2.0], ["test", "test", "twin", "twin"], "mmlu")
    with pytest.raises(ShadowSuiteError, match="without the familiarity tasks"):
        memorization_test(target, [reference(other_benchmark)])


def test_a_reference_on_other_items_or_data_is_one_line() -> None:
    target = table([-90.0, -91.0, -100.0, -101.0], ["test", "test", "twin", "twin"])
    fewer = target.iloc[:3].copy()
    with pytest.raises(ShadowSuiteError, match=r"lacks 1 of the target's 4 familiarity items"):
        memorization_test(target, [reference(fewer)])
    other_file = target.copy()
    other_file.loc[3, "data_sha256"] = "f" * 64
    with pytest.raises(ShadowSuiteError, match=r"arc_challenge/validation/1 comes from another"):
        memorization_test(target, [reference(other_file)])
