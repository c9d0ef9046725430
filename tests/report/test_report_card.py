"""Cards: JSON round trip, schema versions, rendering and escaping."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from report_helpers import HOSTILE_NAME, make_run

from shadow_suite.errors import ShadowSuiteError
from shadow_suite.report.card import build_card, write_card
from shadow_suite.report.html import render_html
from shadow_suite.report.markdown import render_markdown
from shadow_suite.report.schema import SCHEMA_VERSION, Card, card_json, load_card


def test_card_round_trips_through_json(card: Card, tmp_path: Path) -> None:
    paths = write_card(card, tmp_path / "out")
    assert load_card(paths.json) == card
    assert load_card(tmp_path / "out") == card  # a folder holding card.json
    data = json.loads(paths.json.read_text())
    assert data["schema_version"] == SCHEMA_VERSION
    assert data["model"]["model_args"]["token"] == "<redacted>"
    assert data["provenance"]["seeds"]["shadow_seed"] == 1234
    assert data["provenance"]["data_sha256"]["mmlu/orig"]
    assert data["provenance"]["runs"][0]["lm_eval_version"] == "0.4.13"
    assert data["provenance"]["stats"]["n_boot"] == 500
    assert data["spectral"] is None


def test_card_content_is_the_analysis(card: Card) -> None:
    head = card.gap.headline
    # winogrande at 50% with 2 options sits at the chance floor in both forms: no verdict
    assert head.excluded["winogrande/lettered"].startswith("below_floor")
    assert head.benchmarks == ["arc_challenge", "gsm8k", "mmlu"]
    # a gap, but a single card makes no claim about training
    assert head.verdict_class == "no_reference"
    assert head.reformat_gap is not None and head.ci_low > 0
    assert card.items is not None and set(card.items["benchmark"]) == {
        "arc_challenge",
        "gsm8k",
        "mmlu",
        "winogrande",
    }


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(schema_version=0), "older than the supported"),
        (lambda d: d.update(schema_version=SCHEMA_VERSION + 1), "newer than this shadow-suite"),
        (lambda d: d.update(schema="something.else"), "not a shadow-suite report card"),
        (lambda d: d.pop("schema_version"), "schema_version missing"),
        (
            lambda d: d["gap"]["headline"].pop("verdict_class"),
            r"gap\.headline\.verdict_class: missing",
        ),
        (
            lambda d: d["gap"]["headline"].update(verdict_class="shadow"),
            r"gap\.headline\.verdict_class: 'shadow' is not one of",
        ),
        (lambda d: d["model"].update(name=3), r"model\.name: expected a string"),
    ],
)
def test_bad_cards_give_one_line_errors(card: Card, tmp_path: Path, edit, message: str) -> None:
    data = json.loads(card_json(card))
    edit(data)
    path = tmp_path / "card.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ShadowSuiteError, match=message) as err:
        load_card(path)
    assert "\n" not in str(err.value)


def test_corrupt_card_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "card.json"
    path.write_text("{oops")
    with pytest.raises(ShadowSuiteError, match=r"card\.json: corrupt JSON"):
        load_card(path)


def test_html_is_self_contained_and_escaped(card: Card) -> None:
    page = render_html(card)
    assert HOSTILE_NAME not in page
    assert "<script" not in page  # nothing executable, from us or from inputs
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&lt;b&gt;" in page
    # no network: no external URL in any src/href, no stylesheet links
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert page.count("<svg") >= 2
    for needle in (
        "reformatting gap",
        "no claim about training",
        "Method notes",
        "Holm",
        "chance",
        "Provenance",
        "below floor",  # winogrande's gate
        "relabeled",
    ):
        assert needle in page, needle
    # a card without a reference never calls anything a shadow
    assert "shadow gap" not in page.lower() and "benchmark shadow" not in page.lower()


def test_markdown_has_tables_and_escapes(card: Card) -> None:
    text = render_markdown(card)
    assert HOSTILE_NAME not in text
    assert "&lt;script&gt;" in text
    assert "| variant | family | gate |" in text
    assert "## Method notes" in text
    assert "winogrande/lettered: at the chance floor" in text  # the gate, in words
    h = card.gap.headline
    assert f"{100 * h.reformat_gap:+.1f}" in text
    assert "benchmark shadow" not in text.lower()


def test_schema_doc_names_every_field() -> None:
    import dataclasses

    from shadow_suite import error_rates
    from shadow_suite.gap import analysis, lm_eval_output, memorization, pairwise
    from shadow_suite.report import schema

    doc = (Path(schema.__file__).parent / "SCHEMA.md").read_text()
    classes = [
        schema.Card, schema.ModelInfo, schema.BaseModelInfo, schema.Provenance, schema.RunRecord,
        schema.StatsConfig, schema.SpectralSection, schema.LayerSeries, schema.MatrixSpectrum,
        analysis.GapAnalysis, analysis.Headline, analysis.BenchmarkGap, analysis.VariantGap,
        lm_eval_output.TaskStatus, memorization.MemorizationAnalysis,
        memorization.MemorizationRow, error_rates.ErrorRates, error_rates.MeasuredRate,
        pairwise.OrigPair,
    ]  # fmt: skip
    missing = [
        f"{cls.__name__}.{f.name}"
        for cls in classes
        for f in dataclasses.fields(cls)
        if f"`{f.name}`" not in doc
    ]
    assert missing == []
    assert f"now `{schema.SCHEMA_VERSION}`" in doc


def test_older_run_without_the_chosen_option_is_reported_and_left_out(tmp_path: Path) -> None:
    """Samples that do not record the per-choice scores (an older or foreign run) cannot be
    gated: the card is still made, those rows say why they carry no verdict, and the rows
    that have what they need are analysed as usual."""
    run = make_run(tmp_path / "eval", "org/older", drop=0.3, seed=5)
    for path in run.rglob("samples_shadow_mmlu_*.jsonl"):
        lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x]
        for line in lines:
            line.pop("filtered_resps", None)
            line.pop("resps", None)
        path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    card = build_card([run], n_boot=200, seed=1)
    by_bench = {b.benchmark: b for b in card.gap.benchmarks}
    assert all(v.gate == "no_answers" for v in by_bench["mmlu"].variants)
    assert "mmlu" not in card.gap.headline.benchmarks
    excluded = card.gap.headline.excluded
    assert excluded["mmlu/permuted"].startswith("no_answers: the samples do not record")
    assert any(v.gate == "ok" for v in by_bench["arc_challenge"].variants)
    assert "arc_challenge" in card.gap.headline.benchmarks
