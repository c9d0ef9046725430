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
from shadow_suite.report import rows, svg
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
    ``n_references`` cards are trusted references (``role``)."""
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
            "benchmark_score": h.benchmark_score,
            "ood_score": h.ood_score,
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
        for name in benchmarks:
            b = by_name.get(name)
            row[f"acc_{name}"] = None if b is None else b.acc_orig
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
    out["benchmark score (%)"] = shown("benchmark_score", pct)
    out["OOD score (%)"] = shown("ood_score", pct)
    out["reformat gap (pts)"] = shown("reformat_gap", signed_pct)
    out["95% CI"] = interval("gap_ci_low", "gap_ci_high")
    out["delta vs references (pts)"] = shown("delta_vs_references", signed_pct)
    out["delta 95% CI"] = interval("delta_ci_low", "delta_ci_high")
    for col in frame.columns:
        if col.startswith("acc_"):
            out[f"acc {col[4:]} (%)"] = shown(col, pct)
    return out


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


def render_compare_html(
    cards: Sequence[Card],
    frame: pd.DataFrame,
    pairs: Pairwise | None = None,
    footprint: str = "",
) -> str:
    points = [
        svg.Point(str(r.model), float(r.benchmark_score), float(r.ood_score),
                  reference=getattr(r, "role", "model") == "reference")
        for r in frame.itertuples()
        if _none(r.benchmark_score) is not None and _none(r.ood_score) is not None
    ]  # fmt: skip
    chart = svg.scatter_diagonal(
        points, "Benchmark score vs OOD score", "benchmark score (%)", "OOD (variant) score (%)"
    )
    table = _display(frame).to_html(index=False, escape=True, border=0)
    verdicts = "".join(
        f"<li><b>{escape(label)}</b>: {escape(verdict_paragraph(c))}</li>"
        for label, c in zip(_labels(cards), cards, strict=True)
    )
    created = datetime.now(UTC).isoformat(timespec="seconds")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<link rel="icon" href="data:,">'
        f"<title>shadow-suite comparison of {len(cards)} models</title><style>{CSS}</style></head>"
        f'<body><main><h1>shadow-suite comparison</h1><p class="sub">{len(cards)} models; '
        f"created {escape(created)}</p>"
        f"<figure>{chart}<figcaption>Each dot is a model: its benchmark score (mean original "
        "accuracy on paired items over the benchmarks in its headline) against its OOD score "
        "(the same on the reformatted variants). Below the dashed diagonal the model does worse "
        "out of distribution; the vertical distance is its reformatting gap. Hollow grey dots "
        "are trusted references (--reference) and the grey band spans their gaps: a model "
        "below it loses more than every reference.</figcaption></figure>"
        f"<h2>Table</h2>{table}{_pairwise_html(pairs or Pairwise([], []))}"
        f"<h2>Verdicts</h2><ul>{verdicts}</ul>{footprint}"
        "<p>Numbers are taken from each card unchanged; see a card's method notes for what "
        "they mean. Models whose benchmarks are all at chance have no headline and no dot.</p>"
        "</main></body></html>\n"
    )


def render_compare_markdown(
    cards: Sequence[Card], frame: pd.DataFrame, pairs: Pairwise | None = None
) -> str:
    shown = _display(frame)
    out = [f"# shadow-suite comparison of {len(cards)} models\n"]
    out.append(md_table(list(shown.columns), shown.astype(str).values.tolist()))
    if pairs is not None and (pairs.orig or pairs.gaps):
        out.append("## Pairwise tests\n")
        out.append(PAIRWISE_NOTE + "\n")
        for table in (rows.pairwise_orig_table(pairs.orig), rows.pairwise_gap_table(pairs.gaps)):
            out.append(md_table(table.headers, table.rows))
    out.append("## Verdicts\n")
    out += [
        f"- **{md_escape(label)}**: {md_escape(verdict_paragraph(c))}"
        for label, c in zip(_labels(cards), cards, strict=True)
    ]
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
