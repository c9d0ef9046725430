"""``benchmarks/world/run_world.py --quick`` end to end on a tiny world it builds: the base's
competence is read from its lm-eval run and gates the population; every member is trained,
evaluated through lm-eval and carded against the base; the rates come out as k of n with
Clopper-Pearson intervals; shipping rates from an incompetent base is refused.

The tiny base is not competent (two layers, a few hundred steps), so this test checks the
machinery, not the rates: they are measured by the full run, never asserted."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from shadow_suite.world.measure import MemberOutcome, measure, rate

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "world" / "run_world.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("run_world", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["run_world"] = module
    spec.loader.exec_module(module)
    return module


def _outcome(name: str, regime: str, truth: str, verdict: str, memo: bool) -> MemberOutcome:
    low = 0.1 if verdict == "benchmark_specific" else -0.05
    return MemberOutcome(
        name,
        regime,
        truth,
        "" if truth in ("clean", "aligned") else "6 items x 4 passes",
        verdict,
        0.12,
        low,
        0.001 if low > 0 else 0.4,
        {"mmlu": 0.1},
        memo,
        0.01,
        0.3,
    )


def test_rates_count_each_truth_apart() -> None:
    outcomes = [
        _outcome("p0", "prose", "clean", "no_evidence", False),
        _outcome("p1", "prose", "clean", "benchmark_specific", True),
        _outcome("a0", "aligned", "aligned", "benchmark_specific", False),
        _outcome("c0", "contaminated", "contaminated", "benchmark_specific", True),
        _outcome("x0", "contaminated_all_formats", "contaminated_all_formats", "no_evidence", True),
    ]
    m = measure(outcomes)
    assert (m.verdict_false_positive.k, m.verdict_false_positive.n) == (1, 2)
    assert (m.verdict_detection_aligned.k, m.verdict_detection_aligned.n) == (1, 1)
    assert m.verdict_on_all_formats == {"no_evidence": 1}
    # the memorization test's false positives count every member that saw no test item
    assert (m.memorization_false_positive.k, m.memorization_false_positive.n) == (1, 3)
    assert m.memorization_detection_per_dose["contaminated_all_formats 6 items x 4 passes"].k == 1
    assert m.verdict_detection_strong.n == 0  # orig +10 points: not a strong contamination
    assert m.roc[0]["margin"] == 0.0 and m.roc[0]["false_positive"] == 0.5
    zero = rate([False] * 20)
    assert zero.ci_low == 0.0 and zero.ci_high == pytest.approx(0.1684, abs=1e-4)


@pytest.mark.slow
def test_quick_world_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = _script()
    work, results = tmp_path / "work", tmp_path / "results.json"
    common = ["--quick", "--work", str(work), "--results", str(results), "--workers", "1"]
    # an incompetent base stops the population, in one line
    assert script.main([*common, "--stage", "all"]) == 2
    err = capsys.readouterr().err.strip().splitlines()  # tqdm's bars come before it
    assert err[-1:] == [
        "run_world: error: the base is not competent in every form (see --stage base); a "
        "population on it would measure nothing (--even-if-incompetent to train it anyway)"
    ]
    base = json.loads(results.read_text())["base"]
    assert base["competent"] is False
    assert len(base["forms"]) == 12 and all(f["n"] == 12 for f in base["forms"])

    assert script.main([*common, "--even-if-incompetent"]) == 0
    result = json.loads(results.read_text())
    members = {m["name"]: m for m in result["analyse"]["members"]}
    assert set(members) == {
        "prose-s0",
        "instruct-s0",
        "aligned-s0",
        "contaminated-i6-p4-s0",
        "contaminated_all_formats-i6-p4-s0",
    }
    assert all(m["error"] is None and m["verdict_class"] for m in members.values())
    fp = result["analyse"]["measured"]["verdict_false_positive"]
    assert fp["n"] == 2 and 0.0 <= fp["ci_low"] <= fp["ci_high"] <= 1.0

    # the analysis reruns alone from the saved folders, with the same figures
    assert script.main([*common, "--stage", "analyse"]) == 0
    again = json.loads(results.read_text())
    assert again["analyse"] == result["analyse"]
    # a results file of another layout is refused in one line, and left as it was
    other = tmp_path / "other.json"
    other.write_text('{"version": 0}')
    assert script.main([*common[:3], "--results", str(other), "--stage", "analyse"]) == 2
    assert (
        capsys.readouterr()
        .err.strip()
        .endswith(
            f"{other}: results version 0, this script writes 1; move it away or give --results"
        )
    )
    assert other.read_text() == '{"version": 0}'
    # rates from an incompetent base are never shipped
    assert script.main([*common, "--stage", "analyse", "--write-error-rates"]) == 2
    assert "not competent" in capsys.readouterr().err
