"""``benchmarks/gates/simulate_inclusion.py``: with no true gap, the pooled gate keeps the
included rows' mean gap at zero and the share called significantly positive at or below the
nominal one-sided 2.5%, while the first version's rule (orig accuracy alone) inflates both."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gates" / "simulate_inclusion.py"
NOMINAL = 0.025  # two-sided McNemar p < 0.05 with a positive gap


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("simulate_inclusion", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["simulate_inclusion"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("acc", [0.30, 0.40])
def test_pooled_gate_is_unbiased_and_at_nominal_level(acc: float) -> None:
    results = _script().simulate(reps=6000, n=30, acc=acc, seed=1)
    pooled, orig_only = results["pooled"], results["orig only"]
    assert pooled.included > 300
    # Monte Carlo standard errors of the two figures among the included rows
    gap_se = math.sqrt(2 * acc * (1 - acc) / 30) / math.sqrt(pooled.included)
    rate_se = math.sqrt(NOMINAL * (1 - NOMINAL) / pooled.included)
    assert abs(pooled.mean_gap) < 3.5 * gap_se
    assert pooled.false_positive_rate <= NOMINAL + 3 * rate_se
    # the rule it replaced selects rows whose original came out high
    assert orig_only.mean_gap > 0.05
    assert orig_only.mean_gap > pooled.mean_gap + 10 * gap_se
