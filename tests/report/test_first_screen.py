"""The card's first screen adds up: every number is a card.json field, every gap is the
difference of the two accuracies beside it, every family line the mean of its rows and the
headline the mean of its families; tiles only for numbers that exist.

Checked on every card in reports/ (read as plain JSON, independently of the loader) and on
synthetic cards of each verdict class.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from report_helpers import make_run

from shadow_suite.report.card import build_card
from shadow_suite.report.first_screen import FirstScreen, first_screen
from shadow_suite.report.html import render_html
from shadow_suite.report.markdown import render_markdown
from shadow_suite.report.schema import Card, card_to_dict, load_card
from shadow_suite.report.words import CLASS_TITLES

REPORTS = Path(__file__).resolve().parents[2] / "reports"
SHIPPED = sorted(REPORTS.rglob("card.json"))
ROUNDING = 0.1 + 1e-9
"""Shown values carry one decimal: a difference or mean of shown values may be off by this."""


def _pts(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:+.1f}"


def _interval(low: float | None, high: float | None) -> str:
    return "n/a" if low is None or high is None else f"[{100 * low:+.1f}, {100 * high:+.1f}]"


def _num(cell: str) -> float:
    return float(cell)


def check_first_screen(screen: FirstScreen, data: dict) -> None:
    """``screen`` against ``data`` (a card as parsed JSON)."""
    gap = data["gap"]
    h = gap["headline"]
    assert screen.title == CLASS_TITLES[h["verdict_class"]]
    refs = bool(h["references"])
    number = h["delta"] if refs else h["reformat_gap"]
    tiles = list(screen.tiles)
    if number is None:
        assert not any(t.value.endswith("pts") for t in tiles)
    else:
        tile = tiles.pop(0)
        assert tile.value == f"{_pts(number)} pts"
        low, high = (h["delta_ci_low"], h["delta_ci_high"]) if refs else (h["ci_low"], h["ci_high"])
        n = gap["reference"]["n_items"] if refs else h["n_items"]
        assert _interval(low, high) in tile.detail and f"{n} items" in tile.detail
    assert len(tiles) == len(gap["benchmarks"])  # one tile per benchmark, nothing else
    for tile, bench in zip(tiles, gap["benchmarks"], strict=True):
        assert tile.value == f"{100 * bench['acc_orig']:.1f}%"
        assert tile.label.startswith(bench["benchmark"])
        assert f"{bench['n_orig']} items" in tile.detail

    families = [f for f in gap["families"] if f["family"] in gap["gates"]["headline_families"]]
    if not families:
        assert screen.rows is None and screen.averages == ""
        return
    assert screen.rows is not None
    table = screen.rows
    rows = {
        (f"{b['benchmark']}/{v['variant']}" if v["baseline"] == "orig"
         else f"{b['benchmark']}/{v['variant']} vs {v['baseline']}"): v
        for b in gap["benchmarks"] for v in b["variants"]
    }  # fmt: skip
    cells = {}
    if refs:
        for c in gap["reference"]["cells"]:
            base = "" if c["baseline"] == "orig" else f" vs {c['baseline']}"
            cells[f"{c['benchmark']}/{c['variant']}{base}"] = c
    ref_families = {f["family"]: f for f in gap["reference"]["families"]} if refs else {}
    lines = iter(zip(table.rows, table.summary, strict=True))
    family_gaps, family_deltas = [], []
    for fam in families:
        row_gaps, row_deltas = [], []
        for key in fam["cells"]:
            line, summary = next(lines)
            assert not summary and line[0] == key and line[1] == fam["family"]
            v = rows[key]
            assert line[2] == str(v["n_paired"])
            assert (
                line[3] == f"{100 * v['acc_orig']:.1f}"
                and line[4] == f"{100 * v['acc_variant']:.1f}"
            )
            assert line[5] == _pts(v["gap"])
            # the gap is the difference of the two accuracies beside it
            assert abs(_num(line[5]) - (_num(line[3]) - _num(line[4]))) <= ROUNDING
            row_gaps.append(_num(line[5]))
            if refs:
                c = cells[key]
                assert line[6] == _pts(c["reference_gap"]) and line[7] == _pts(c["delta"])
                assert abs(_num(line[7]) - (_num(line[5]) - _num(line[6]))) <= ROUNDING
                row_deltas.append(_num(line[7]))
        line, summary = next(lines)
        assert summary and line[0].startswith(
            f"{fam['family']} family: mean of {len(fam['cells'])}"
        )
        assert line[5] == _pts(fam["gap"])
        assert abs(_num(line[5]) - sum(row_gaps) / len(row_gaps)) <= ROUNDING
        family_gaps.append(_num(line[5]))
        if refs:
            assert line[7] == _pts(ref_families[fam["family"]]["delta"])
            assert abs(_num(line[7]) - sum(row_deltas) / len(row_deltas)) <= ROUNDING
            family_deltas.append(_num(line[7]))
    line, summary = next(lines)
    assert summary and line[0].startswith("headline: mean of")
    assert line[5] == _pts(h["reformat_gap"])
    assert abs(_num(line[5]) - sum(family_gaps) / len(family_gaps)) <= ROUNDING
    if refs:
        assert line[7] == _pts(h["delta"]) and line[8] == _interval(
            h["delta_ci_low"], h["delta_ci_high"]
        )
        assert abs(_num(line[7]) - sum(family_deltas) / len(family_deltas)) <= ROUNDING
    assert next(lines, None) is None
    # the line that says what the headline averages names the number and each family's
    assert _pts(number) in screen.averages
    for fam in families:
        value = ref_families[fam["family"]]["delta"] if refs else fam["gap"]
        assert f"{fam['family']} {_pts(value)} (mean of {len(fam['cells'])} row" in screen.averages


@pytest.mark.parametrize("path", SHIPPED, ids=[str(p.parent.relative_to(REPORTS)) for p in SHIPPED])
def test_first_screen_reconciles_with_every_shipped_card(path: Path) -> None:
    check_first_screen(first_screen(load_card(path)), json.loads(path.read_text(encoding="utf-8")))


def _shown(card: Card) -> None:
    """The first screen reconciles, and both renderings open with it, in its order."""
    screen = first_screen(card)
    check_first_screen(screen, json.loads(json.dumps(card_to_dict(card))))
    html = render_html(card)
    first = html.index('<section class="first">')
    assert first < html.index("<h2>")  # before every section
    positions = [html.index(t.value, first) for t in screen.tiles]
    assert positions == sorted(positions)
    markdown = render_markdown(card)
    assert markdown.index(f"**{screen.title}.**") < markdown.index("\n## ")


def test_single_card_first_screen(run_dir: Path) -> None:
    card = build_card([run_dir], n_boot=300, seed=1)
    assert card.gap.headline.verdict_class == "no_reference"
    _shown(card)
    assert first_screen(card).tiles[0].label == "reformatting gap"


def test_reference_card_first_screen(tmp_path: Path) -> None:
    make_run(tmp_path / "a", "org/model-a", drop=0.3, seed=1)
    make_run(tmp_path / "b", "org/model-b", drop=0.0, seed=2)
    card = build_card([tmp_path / "a"], n_boot=300, seed=1, references=[tmp_path / "b"])
    assert card.gap.headline.verdict_class == "benchmark_specific"
    _shown(card)
    screen = first_screen(card)
    assert screen.tiles[0].label == "gap beyond the references"
    assert screen.next_steps == []  # a decided card needs none


def test_no_verdict_card_has_no_empty_tiles_or_tables(tmp_path: Path) -> None:
    """A model whose every row fails a gate: no number tile, no rows table, no 'n/a' on the
    first screen; next steps instead."""
    import numpy as np
    from fake_lm_eval import simulate, write_run

    rng = np.random.default_rng(0)
    write_run(tmp_path / "eval", simulate({"mmlu": 0.25}, {"permuted": 0.0}, 60, rng), "org/chance")
    card = build_card([tmp_path / "eval"], n_boot=300, seed=1)
    assert card.gap.headline.verdict_class == "no_verdict"
    _shown(card)
    screen = first_screen(card)
    assert screen.rows is None and all(not t.value.endswith("pts") for t in screen.tiles)
    assert all("n/a" not in t.value for t in screen.tiles)
    assert screen.next_steps
    html = render_html(card)
    section = html[html.index('<section class="first">') : html.index("</section>")]
    assert "n/a" not in section and "<table" not in section and "Next steps." in section
