"""ConStat-style calibration on models whose scores are planted: references of several
strengths on a line (orig accuracy rises with OOD accuracy); a target on that line is not
flagged, a target whose orig sits far above what its OOD accuracy predicts is."""

from __future__ import annotations

import numpy as np
import pandas as pd

from shadow_suite.contract import ORIG
from shadow_suite.gap.calibration import calibrate
from shadow_suite.gap.records import ReferenceItems

N, K = 400, 4


def _model(p_orig: float, p_ood: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for variant, family, p in ((ORIG, ORIG, p_orig), ("permuted", "content", p_ood),
                               ("relabeled", "format", p_ood)):  # fmt: skip
        for i, right in enumerate(rng.random(N) < p):
            rows.append(
                {"shadow_id": f"mmlu/test/{i}", "benchmark": "mmlu", "variant": variant,
                 "family": family, "correct": int(right), "n_options": K}
            )  # fmt: skip
    return pd.DataFrame(rows)


def _references() -> list[ReferenceItems]:
    # clean models: orig accuracy a little above OOD accuracy, on one line
    return [
        ReferenceItems(f"ref{j}", _model(0.35 + 0.5 * s, 0.30 + 0.5 * s, seed=j), "planted")
        for j, s in enumerate((0.0, 0.2, 0.4, 0.6, 0.8))
    ]


def test_target_on_the_references_line_is_not_flagged() -> None:
    (row,) = calibrate(_model(0.60, 0.55, seed=99), _references(), n_boot=400, seed=0)
    assert row.references == ["ref0", "ref1", "ref2", "ref3", "ref4"]
    assert row.delta is not None and abs(row.delta) < 0.06
    assert row.ci_low is not None and row.ci_high is not None and row.ci_low < 0 < row.ci_high
    assert row.p_value is not None and row.p_value > 0.05


def test_target_above_the_line_is_flagged() -> None:
    # orig 0.90 where its OOD accuracy 0.40 predicts about 0.45: a ConStat-positive model
    (row,) = calibrate(_model(0.90, 0.40, seed=98), _references(), n_boot=400, seed=0)
    assert row.delta is not None and row.delta > 0.4
    assert row.ci_low is not None and row.ci_low > 0.2
    assert row.p_value is not None and row.p_value < 0.01


def test_fewer_than_three_references_give_no_calibration() -> None:
    assert calibrate(_model(0.6, 0.5, 1), _references()[:2], n_boot=100, seed=0) == []
