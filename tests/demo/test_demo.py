"""``shadow-suite demo --quick`` end to end: three cards, a comparison page and the fine-tunes'
footprints, well-formed.

No verdict is asserted: the outcome of the experiment is whatever it is."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from shadow_suite.cli import main
from shadow_suite.demo.config import MODEL_NAMES, QUICK
from shadow_suite.report.footprint import DEFAULT_KINDS, MODEL_METRICS, PAIR_METRIC
from shadow_suite.report.schema import load_card


@pytest.mark.slow
def test_quick_demo_end_to_end(
    benchmark_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo"
    assert main(["demo", "--quick", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"comparison page: {(out / 'compare.html').resolve()}" in printed
    assert "verdict vs base" in printed and "update eff. rank" in printed

    for name in MODEL_NAMES:
        model = out / "models" / name
        assert (model / "model.safetensors").is_file() and (model / "tokenizer.json").is_file()
        run = out / "runs" / name
        assert list((run / "eval").rglob("samples_shadow_mmlu_orig_*.jsonl"))
        assert (run / "spectra" / "spectra.json").is_file()
        raw = json.loads((run / "card" / "card.json").read_text(encoding="utf-8"))
        assert raw["schema"] == "shadow-suite.card"
        headline = raw["gap"]["headline"]
        for key in ("benchmark_score", "ood_score", "verdict_class", "ci_low", "ci_high"):
            assert key in headline
        if name == "base":  # the reference of the other two: no claim about its own training
            assert headline["verdict_class"] in ("no_reference", "no_verdict")
        else:  # judged against the base, evaluated on the same items
            assert headline["references"] and headline["verdict_class"] != "no_reference"
        card = load_card(run / "card" / "card.json")  # checks every field's type
        assert name in card.model.name
        assert {b.benchmark for b in card.gap.benchmarks} == set(QUICK.benchmarks)
        for bench in card.gap.benchmarks:
            assert bench.n_orig == QUICK.n_items
        assert card.spectral is not None
        if name == "base":
            assert card.spectral.update_summary is None
        else:
            assert card.base_model is not None and card.base_model.name.endswith("base")
            assert card.spectral.update_summary is not None
            assert card.spectral.update_summary["relative_change"] > 0
        assert name in (run / "card" / "card.html").read_text(encoding="utf-8")

    html = (out / "compare.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    for name in MODEL_NAMES:
        assert name in html
    assert len((out / "compare.csv").read_text(encoding="utf-8").splitlines()) == 4

    # footprints of the fine-tunes against the base: one line per model, layer and kind for
    # each metric; the base's own spectra only in the effective-rank pairs
    assert (out / "footprint.html").is_file()
    assert 'href="footprint.html"' in html and 'class="footprint"' in html
    footprint = pd.read_csv(out / "footprint.csv")
    grid = {(k, layer) for k in DEFAULT_KINDS for layer in range(QUICK.num_layers)}
    lines = footprint.groupby(["model", "against", "metric"], dropna=False)
    expected = {(m, None, metric) for m in MODEL_NAMES[1:] for metric in MODEL_METRICS}
    expected |= {("base", None, "effective_rank")}
    expected |= {
        (b, a, PAIR_METRIC) for i, a in enumerate(MODEL_NAMES) for b in MODEL_NAMES[i + 1 :]
    }
    got = {(m, None if pd.isna(a) else a, metric) for m, a, metric in lines.groups}
    assert got == expected
    for key, rows in lines:
        assert len(rows) == len(grid) and set(zip(rows.kind, rows.layer, strict=True)) == grid, key
    assert footprint["value"].notna().all()

    tokens = json.loads((out / "corpus" / "tokens.json").read_text(encoding="utf-8"))
    assert tokens["benchmark-aligned"]["tokens"] == tokens["coverage-expanding"]["tokens"]
    assert tokens["benchmark-aligned"]["tokens"] == QUICK.finetune_tokens
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert [r["model"] for r in summary["rows"]] == list(MODEL_NAMES)

    # a rerun reuses every model and evaluation and gives the same table
    weights = (out / "models" / "base" / "model.safetensors").stat().st_mtime_ns
    assert main(["demo", "--quick", "--out", str(out)]) == 0
    again = capsys.readouterr().out
    assert (
        "reused from an earlier run: base model, base evaluation, benchmark-aligned model" in again
    )
    assert (out / "models" / "base" / "model.safetensors").stat().st_mtime_ns == weights
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["rows"] == summary["rows"]
