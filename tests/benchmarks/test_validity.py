"""``benchmarks/validity/run_validity.py --quick`` end to end, on models this test builds: a
weak base (at chance), two clean fine-tunes and two fine-tunes on the evaluated test items in
their test format, with the same token budget. The contaminated ones lift ARC's orig far above
the base and are never cleared (``no_evidence``); the clean ones are never called
``benchmark_specific``; the analysis stage reruns alone from the saved folders and gives the
same figures.

What the quick population cannot show, and the test does not pretend: at this scale the
contaminated models memorise ARC in its own (cloze) form and answer one letter on every
lettered form, so every format row is gated out as degenerate and only the content row
(``noisy``, where recall survives typos) is left: they come out ``inconclusive``. The full
run's detection rate is measured, not asserted (``benchmarks/validity/README.md``)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "validity" / "run_validity.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("run_validity", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["run_validity"] = module
    spec.loader.exec_module(module)
    return module


def test_interval_and_auroc_helpers() -> None:
    v = _script()
    low, high = v.clopper_pearson(0, 20)
    assert low == 0.0 and high == pytest.approx(0.1684, abs=1e-4)
    low, high = v.clopper_pearson(10, 10)
    assert high == 1.0 and low == pytest.approx(0.6915, abs=1e-4)
    assert v.auroc([3.0, 4.0], [1.0, 2.0]) == 1.0
    assert v.auroc([1.0], [1.0]) == 0.5
    assert v.auroc([], [1.0]) is None


@pytest.mark.slow
def test_quick_validity_run(benchmark_data: Path, tmp_path: Path) -> None:
    v = _script()
    work, results = tmp_path / "work", tmp_path / "results.json"
    assert v.main(["--quick", "--work", str(work), "--results", str(results)]) == 0
    out = json.loads(results.read_text(encoding="utf-8"))
    assert out["n_clean"] == 2 and out["n_contaminated"] == 2
    base = out["base_orig_accuracy"]
    by_name = {m["name"]: m for m in out["members"]}
    for m in out["members"]:
        assert m["verdict"].get("error") is None, m["verdict"]
        if m["contaminated"]:
            # the weak base is at chance; training on the test items lifts ARC's orig
            assert m["orig_gain_over_base"]["arc_challenge"] >= 0.2
            # never cleared: with every item agreeing the interval is as wide as 12 items
            # warrant (not [0, 0]), so the card cannot claim "no evidence"
            assert m["verdict"]["verdict_class"] in ("benchmark_specific", "inconclusive")
            if m["verdict"]["verdict_class"] == "benchmark_specific":
                assert m["verdict"]["delta_ci_low"] > m["verdict"]["margin"]
            else:
                assert m["verdict"]["delta_ci_high"] > m["verdict"]["margin"]
            # the position signature, where the letters were learnt (MMLU orig up)
            if m["orig_gain_over_base"]["mmlu"] >= 0.3:
                mmlu = [
                    p
                    for p in m["verdict"]["position"]
                    if p["benchmark"] == "mmlu" and p["variant"] == "permuted"
                ]
                assert mmlu and mmlu[0]["p_value"] < 0.05
        else:
            assert m["verdict"]["verdict_class"] != "benchmark_specific", m["verdict"]
    assert base["arc_challenge"] <= 0.5 and base["mmlu"] <= 0.5
    assert out["false_positive_rate"]["k"] == 0
    assert out["detection_rate"]["n"] == 2
    assert set(by_name) == {m.name for m in v.make_plan(True).population}
    # every member's folders are kept, and the cheap stage reruns alone to the same figures
    for name in by_name:
        assert (work / "runs" / name / "eval" / "stage.json").is_file()
        assert (work / "runs" / name / "spectra" / "spectra.json").is_file()
    again = tmp_path / "again.json"
    assert (
        v.main(["--quick", "--stage", "analyse", "--work", str(work), "--results", str(again)]) == 0
    )
    rerun = json.loads(again.read_text(encoding="utf-8"))
    assert rerun["false_positive_rate"] == out["false_positive_rate"]
    assert [m["verdict"] for m in rerun["members"]] == [m["verdict"] for m in out["members"]]
