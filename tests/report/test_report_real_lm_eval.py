"""The report on a real lm-eval output folder: the task pack run on a tiny model."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from shadow_suite.report.card import build_card, write_card
from shadow_suite.report.caveats import caveats
from shadow_suite.report.schema import load_card

REPO = Path(__file__).resolve().parents[2]
LIMIT = 8


@pytest.mark.slow
def test_card_from_real_lm_eval_run(tiny_model: Path, benchmark_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "eval"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    cmd = [
        sys.executable, "-m", "lm_eval",
        "--model", "hf",
        "--model_args", f"pretrained={tiny_model}",
        "--tasks", "shadow_arc_challenge",
        "--limit", str(LIMIT),
        "--output_path", str(out),
        "--log_samples",
    ]  # fmt: skip
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]

    card = build_card([out], n_boot=300)
    (bench,) = card.gap.benchmarks
    assert bench.benchmark == "arc_challenge" and bench.metric == "acc_norm,none"
    assert bench.n_orig == LIMIT
    assert 0.2 <= bench.chance <= 1 / 3  # ARC items have 3 to 5 options
    variants = {v.variant for v in bench.variants}
    assert {"permuted", "relabeled", "format_swap"} <= variants
    for v in bench.variants:
        assert 0 < v.n_paired <= LIMIT
        assert v.n_source == 1172 and v.n_applied <= v.n_source
    expected = hashlib.sha256((benchmark_data / "arc_challenge" / "test.jsonl").read_bytes())
    assert card.provenance.data_sha256["arc_challenge/orig"] == expected.hexdigest()
    assert card.provenance.runs[0].lm_eval_version == "0.4.13"
    assert card.provenance.runs[0].limit == LIMIT
    assert "first_n" in [c.code for c in caveats(card)]  # lm-eval's --limit: a caveat
    statuses = {t.task: t.status for t in card.tasks}
    assert statuses["shadow_arc_challenge_orig"] == "ok"
    assert statuses["shadow_mmlu"] == "not_run"
    # no reference: the card never makes a claim about training, whatever the gaps are
    assert card.gap.headline.verdict_class in ("no_verdict", "no_reference")
    # a random tiny model is at chance in both forms: no row can carry a verdict
    if bench.at_chance:
        assert card.gap.headline.verdict_class == "no_verdict"
        assert all(v.gate != "ok" for v in bench.variants)
    paths = write_card(card, tmp_path / "card")
    assert load_card(paths.json) == card
