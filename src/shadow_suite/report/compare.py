"""Several cards side by side: a pandas table and a benchmark-vs-OOD scatter with the diagonal.

``comparison_table`` is pure (cards -> DataFrame); ``write_comparison`` writes compare.html
(self-contained, like the cards), compare.md and compare.csv.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from html import escape
from pathlib import Path

import pandas as pd

from shadow_suite.errors import ShadowSuiteError
from shadow_suite.gap import pairwise
from shadow_suite.gap.verdict_rows import rows_by_benchmark
from shadow_suite.report import rows, svg, words
from shadow_suite.report.html import CSS, rows_table
from shadow_suite.report.markdown import md_escape, md_table
from shadow_suite.report.schema import Card, load_card, write_text_atomic
from shadow_suite.report.text import ci, pct, signed_pct
from shadow_suite.report.words import PAIRWISE_NOTE, pair_note, verdict_paragraph

REFERENCE_SUFFIX = " (reference)"


def _labels(cards: Sequence[Card]) -> list[str]:
    """Model names, made unique (the same model may appear twice, e.g. two revisions)."""
    seen: dict[str, int] = {}
    out = []
    for card in cards:
        name = card.model.name
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} #{seen[name]}")
    return out


def comparison_table(cards: Sequence[Card], n_references: int = 0) -> pd.DataFrame:
    """One row per card; shares as fractions (0-1), None where a card has no number. The last
    ``n_references`` cards are trusted references (``role``). Per benchmark: ``acc_<b>`` the
    accuracy on every original item; ``rows_<b>`` the rows of the benchmark the card's
    headline averages, ``unchanged_<b>`` and ``variant_<b>`` their mean accuracies on the
    unchanged item and on the variant (what the scatter draws)."""
    benchmarks = sorted({b.benchmark for c in cards for b in c.gap.benchmarks})
    rows = []
    first_reference = len(cards) - n_references
    for i, (label, card) in enumerate(zip(_labels(cards), cards, strict=True)):
        h = card.gap.headline
        row: dict[str, object] = {
            "model": label,
            "role": "reference" if i >= first_reference else "model",
            "backend": card.model.backend,
            "verdict_class": h.verdict_class,
            "reformat_gap": h.reformat_gap,
            "gap_ci_low": h.ci_low,
            "gap_ci_high": h.ci_high,
            "delta_vs_references": h.delta,
            "delta_ci_low": h.delta_ci_low,
            "delta_ci_high": h.delta_ci_high,
            "n_items": h.n_items,
            "benchmarks_in_headline": len(h.benchmarks),
        }
        by_name = {b.benchmark: b for b in card.gap.benchmarks}
        placed = {r.benchmark: r for r in rows_by_benchmark(card.gap)}
        for name in benchmarks:
            b = by_name.get(name)
            row[f"acc_{name}"] = None if b is None else b.acc_orig
            r = placed.get(name)
            row[f"rows_{name}"] = None if r is None else ", ".join(r.rows)
            row[f"unchanged_{name}"] = None if r is None else r.unchanged
            row[f"variant_{name}"] = None if r is None else r.variant
        rows.append(row)
    return pd.DataFrame(rows)


def _display(frame: pd.DataFrame) -> pd.DataFrame:
    """Human-readable copy: percents and signed points as strings ('n/a' when missing:
    pandas stores a missing number as NaN, so it is mapped back to None first)."""

    def shown(column: str, fmt: Callable[[float | None], str]) -> pd.Series:
        if column not in frame:
            return pd.Series(["n/a"] * len(frame))
        return frame[column].map(lambda x: fmt(_none(x)))

    def interval(low: str, high: str) -> list[str]:
        if low not in frame:
            return ["n/a"] * len(frame)
        return [ci(_none(a), _none(b)) for a, b in zip(frame[low], frame[high], strict=True)]

    out = pd.DataFrame({"model": frame["model"], "backend": frame["backend"]})
    if "role" in frame:
        out["role"] = frame["role"].astype(str)
    if "verdict_class" in frame:
        out["verdict"] = frame["verdict_class"].astype(str)
    out["delta vs references (pts)"] = shown("delta_vs_references", signed_pct)
    out["delta 95% CI"] = interval("delta_ci_low", "delta_ci_high")
    out["reformat gap (pts)"] = shown("reformat_gap", signed_pct)
    out["95% CI"] = interval("gap_ci_low", "gap_ci_high")
    if "n_items" in frame:
        out["items"] = frame["n_items"].map(lambda x: "n/a" if _none(x) is None else f"{x:.0f}")
    for col in frame.columns:
        if col.startswith("acc_"):
            out[f"{col[4:]} original (%)"] = shown(col, pct)
    return out


TEXT_COLUMNS = ("model", "backend", "role", "verdict")


def display_table(frame: pd.DataFrame) -> rows.Table:
    """``_display`` as a :class:`rows.Table` (numbers right-aligned, as on the cards)."""
    shown = _display(frame)
    return rows.Table(
        [str(c) for c in shown.columns],
        shown.astype(str).values.tolist(),
        [c not in TEXT_COLUMNS for c in shown.columns],
    )


@dataclass
class Pairwise:
    """Paired tests between the cards' models (empty when a card lacks items.parquet)."""

    orig: list[pairwise.OrigPair]
    gaps: list[pairwise.GapPair]


PAIRWISE_N_BOOT = 2000
FOOTPRINT_KINDS = ("attn_v", "mlp_up")
"""The module kinds the comparison page draws (the seed study's figures); all in footprint.html."""


def pairwise_tests(cards: Sequence[Card], seed: int = 0) -> Pairwise:
    if len(cards) < 2 or any(c.items is None for c in cards):
        return Pairwise([], [])
    labels = _labels(cards)
    items = [c.items for c in cards if c.items is not None]
    gaps = pairwise.gap_pairs(labels, items, n_boot=PAIRWISE_N_BOOT, seed=seed)
    return Pairwise(
        pairwise.orig_pairs(labels, items),
        [replace(g, note=pair_note(g)) for g in gaps],
    )


def _none(x: object) -> float | None:
    return None if x is None or pd.isna(x) else float(x)  # type: ignore[arg-type]


def _pairwise_html(pairs: Pairwise) -> str:
    if not pairs.orig and not pairs.gaps:
        return ""
    return (
        f"<h2>Pairwise tests</h2><p>{escape(PAIRWISE_NOTE)}</p>"
        f"<h3>Original items</h3>{rows_table(rows.pairwise_orig_table(pairs.orig))}"
        f"<h3>Reformatting gaps</h3>{rows_table(rows.pairwise_gap_table(pairs.gaps))}"
    )


@dataclass
class Panel:
    """One benchmark's scatter: the models placed on it, the rows each averages, and the
    models that have the benchmark but no row of it in their headline."""

    benchmark: str
    points: list[svg.Point]
    rows: dict[str, str]
    missing: list[str]


def benchmark_panels(frame: pd.DataFrame) -> list[Panel]:
    """A panel per benchmark on which at least one model is placed (``comparison_table``'s
    ``unchanged_<b>`` and ``variant_<b>``)."""
    panels = []
    for column in [c for c in frame.columns if c.startswith("unchanged_")]:
        bench = column[len("unchanged_") :]
        points, rows, missing = [], {}, []
        for r in frame.to_dict("records"):
            x, y = _none(r.get(column)), _none(r.get(f"variant_{bench}"))
            if x is None or y is None:
                if _none(r.get(f"acc_{bench}")) is not None:
                    missing.append(str(r["model"]))
                continue
            reference = r.get("role", "model") == "reference"
            points.append(svg.Point(str(r["model"]), x, y, reference=reference))
            rows[str(r["model"])] = str(r[f"rows_{bench}"])
        if points:
            panels.append(Panel(bench, points, rows, missing))
    return panels


def _panel_html(panel: Panel) -> str:
    chart = svg.scatter_diagonal(
        panel.points,
        f"{panel.benchmark}: unchanged item vs variant",
        "unchanged item (%)",
        "variant (%)",
    )
    notes = [words.panel_rows_note(panel.rows)]
    if panel.missing:
        notes.append(words.panel_missing_note(panel.benchmark, panel.missing))
    return f"<figure>{chart}<figcaption>{escape(' '.join(notes))}</figcaption></figure>"


def scatter_html(frame: pd.DataFrame) -> str:
    """The per-benchmark scatters with one caption for what they draw, or a sentence when no
    model can be placed."""
    panels = benchmark_panels(frame)
    if not panels:
        return f"<p>{escape(words.NO_PANEL)}</p>"
    references = any(p.reference for panel in panels for p in panel.points)
    return (
        f"<p>{escape(words.scatter_caption(references))}</p>"
        f'<div class="panels">{"".join(_panel_html(p) for p in panels)}</div>'
    )


def render_compare_html(
    cards: Sequence[Card],
    frame: pd.DataFrame,
    pairs: Pairwise | None = None,
    footprint: str = "",
) -> str:
    table = rows_table(display_table(frame))
    verdicts = "".join(
        f"<li><b>{escape(label)}</b>: {escape(verdict_paragraph(c))}</li>"
        for label, c in zip(_labels(cards), cards, strict=True)
    )
    rates = words.compare_error_rates(cards)
    created = datetime.now(UTC).isoformat(timespec="seconds")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<link rel="icon" href="data:,">'
        f"<title>shadow-suite comparison of {len(cards)} models</title>"
        f"<style>{CSS}{PANEL_CSS}</style></head>"
        f'<body><main><h1>shadow-suite comparison</h1><p class="sub">{len(cards)} models; '
        f"created {escape(created)}</p>"
        f"<h2>Table</h2>{table}"
        f"<h2>Unchanged item vs variant, per benchmark</h2>{scatter_html(frame)}"
        + _placed_table(cards)
        + f"<h2>Verdicts</h2><ul>{verdicts}</ul>"
        + (f"<p>{escape(rates)}</p>" if rates else "")
        + f"{_pairwise_html(pairs or Pairwise([], []))}{footprint}"
        f"<p>{escape(words.COMPARE_SOURCE_NOTE)}</p>"
        "</main></body></html>\n"
    )


def _placed_table(cards: Sequence[Card]) -> str:
    table = rows.benchmark_rows_table(_labels(cards), cards)
    return rows_table(table) if table.rows else ""


PANEL_CSS = (
    ".panels{display:flex;flex-wrap:wrap;gap:8px 24px}.panels figure{margin:6px 0}"
    ".panels figcaption{max-width:600px}"
    "main table{display:block;overflow-x:auto}"
)


def render_compare_markdown(
    cards: Sequence[Card], frame: pd.DataFrame, pairs: Pairwise | None = None
) -> str:
    shown = _display(frame)
    out = [f"# shadow-suite comparison of {len(cards)} models\n"]
    out.append(md_table(list(shown.columns), shown.astype(str).values.tolist()))
    placed = rows.benchmark_rows_table(_labels(cards), cards)
    out.append("## Per benchmark: the rows each headline averages\n")
    out.append(md_table(placed.headers, placed.rows) if placed.rows else words.NO_PANEL + "\n")
    out.append("## Verdicts\n")
    out += [
        f"- **{md_escape(label)}**: {md_escape(verdict_paragraph(c))}"
        for label, c in zip(_labels(cards), cards, strict=True)
    ]
    rates = words.compare_error_rates(cards)
    out += ["", md_escape(rates) + "\n"] if rates else [""]
    if pairs is not None and (pairs.orig or pairs.gaps):
        out.append("## Pairwise tests\n")
        out.append(PAIRWISE_NOTE + "\n")
        for table in (rows.pairwise_orig_table(pairs.orig), rows.pairwise_gap_table(pairs.gaps)):
            out.append(md_table(table.headers, table.rows))
    return "\n".join(out) + "\n"


@dataclass(frozen=True)
class ComparePaths:
    html: Path
    markdown: Path
    csv: Path
    pairs_csv: Path
    """compare_pairs.csv: every pairwise test, original-item rows and gap rows (kind column)."""


def write_comparison(
    cards: Sequence[str | os.PathLike[str] | Card],
    out_dir: str | os.PathLike[str],
    references: Sequence[str | os.PathLike[str] | Card] = (),
    spectra: Sequence[str | os.PathLike[str]] = (),
    ancestor_spectra: str | os.PathLike[str] | None = None,
) -> ComparePaths:
    """``references``: trusted models' cards, shown as references (hollow dots, the band on
    the scatter) and tested pairwise against every model. ``spectra``: one spectra folder per
    card (``shadow-suite spectra MODEL --base ANCESTOR``, the same ancestor for all): the
    page gets the parameter footprints of the models against that ancestor (attention v and
    MLP up here; every kind in footprint.html/.csv/.parquet beside it), ``ancestor_spectra``
    the ancestor's own spectra for the effective-rank pairs."""
    loaded = [c if isinstance(c, Card) else load_card(c) for c in cards]
    if not loaded:
        raise ShadowSuiteError("compare needs at least one card")
    if spectra and len(spectra) != len(loaded):
        raise ShadowSuiteError(
            f"--spectra given {len(spectra)} times for {len(loaded)} cards: one per card, in order"
        )
    refs = [c if isinstance(c, Card) else load_card(c) for c in references]
    # copies named as references: the caller's cards stay as they were
    loaded += [
        replace(r, model=replace(r.model, name=r.model.name + REFERENCE_SUFFIX)) for r in refs
    ]
    frame = comparison_table(loaded, n_references=len(refs))
    pairs = pairwise_tests(loaded)
    out = Path(out_dir)
    footprint = ""
    if spectra:
        from shadow_suite.report.footprint import footprint_section, write_footprint

        labels = _labels(loaded)[: len(spectra)]
        footprint = footprint_section(spectra, labels, base_spectra=ancestor_spectra,
                                      kinds=FOOTPRINT_KINDS, heading="Parameter footprints")  # fmt: skip
        footprint += (
            '<p>Every attention and MLP kind in <a href="footprint.html">footprint.html</a>, '
            'the numbers in <a href="footprint.csv">footprint.csv</a>.</p>'
        )
        write_footprint(spectra, out, labels, base_spectra=ancestor_spectra)
    paths = ComparePaths(
        out / "compare.html", out / "compare.md", out / "compare.csv", out / "compare_pairs.csv"
    )
    write_text_atomic(paths.html, render_compare_html(loaded, frame, pairs, footprint))
    write_text_atomic(paths.markdown, render_compare_markdown(loaded, frame, pairs))
    write_text_atomic(paths.csv, frame.to_csv(index=False))
    tables = [pairwise.as_frame(pairs.orig).assign(kind="orig"),
              pairwise.as_frame(pairs.gaps).assign(kind="gap")]  # fmt: skip
    write_text_atomic(paths.pairs_csv, pd.concat(tables, ignore_index=True).to_csv(index=False))
    return paths
