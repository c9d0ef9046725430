"""``shadow-suite variants`` on the real data: one line per variant with consistent counts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shadow_suite.cli import main
from shadow_suite.taskpack.variants import VARIANTS, apply_variant


def test_variants_command_counts_each_variant(
    benchmark_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "variants",
            "--data",
            str(benchmark_data),
            "--seed",
            "7",
            "--benchmark",
            "arc_challenge",
            "--benchmark",
            "winogrande",
        ]
    )
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "seed 7"
    assert lines[-1].startswith("arc_challenge relabeled uses ")
    rows = {tuple(line.split()[:2]): line.split()[2:5] for line in lines[2:-1]}
    expected = {("arc_challenge", v) for v in VARIANTS["arc_challenge"]} | {
        ("winogrande", v) for v in VARIANTS["winogrande"]
    }
    assert set(rows) == expected
    for (benchmark, _variant), (source, applied, skipped) in rows.items():
        assert int(source) == int(applied) + int(skipped)
        assert int(source) == {"arc_challenge": 1172, "winogrande": 1267}[benchmark]
    # the counts are those of the variant itself, with the task pack's document ids
    rows_path = benchmark_data / "arc_challenge" / "test.jsonl"
    docs = [json.loads(line) for line in rows_path.read_text("utf-8").splitlines() if line]
    applied = sum(
        apply_variant("arc_challenge", "noisy", d, f"arc_challenge/test/{i}", 7) is not None
        for i, d in enumerate(docs)
    )
    assert int(rows[("arc_challenge", "noisy")][1]) == applied


def test_variants_command_reports_missing_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["variants", "--data", str(tmp_path), "--benchmark", "winogrande"]) == 2
    err = capsys.readouterr().err
    assert "missing data file" in err and "winogrande" in err
