"""The default demo, end to end: a fine-tune that saw the test items in their test format,
from a base at chance, is ``benchmark_specific`` against that base evaluated on the same items,
and its answer-position signature is significant where it learnt the letters (MMLU). Slow
(about 4 minutes of CPU); deterministic (one training thread), so the outcome is the one the
README reports. Clean fine-tunes with the same budget are never flagged: see
tests/benchmarks/test_validity.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from shadow_suite.cli import main
from shadow_suite.report.schema import load_card


@pytest.mark.slow
def test_default_demo_flags_the_benchmark_aligned_fine_tune(
    benchmark_data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    base = load_card(out / "runs" / "base" / "card" / "card.json")
    assert all(b.at_chance for b in base.gap.benchmarks)  # a weak base
    card = load_card(out / "runs" / "benchmark-aligned" / "card" / "card.json")
    head = card.gap.headline
    assert head.references == ["base"]
    assert head.verdict_class == "benchmark_specific"
    assert head.delta_ci_low is not None and head.delta_ci_low > head.margin
    (mmlu,) = [p for p in card.gap.position if p.model == "target" and p.benchmark == "mmlu"]
    assert mmlu.p_value is not None and mmlu.p_value < 0.05
    assert mmlu.expected is not None and mmlu.t > mmlu.expected
