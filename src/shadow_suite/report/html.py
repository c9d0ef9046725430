"""Render a card as one self-contained HTML page: inline CSS and SVG, no script, no network.

Every string that comes from inputs (model names, arguments, task names, file names, variant
descriptions) goes through ``html.escape``; the charts escape their own labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from shadow_suite.contract import ORIG
from shadow_suite.gap.analysis import row_label
from shadow_suite.report import rows, svg, words
from shadow_suite.report.first_screen import first_screen
from shadow_suite.report.memorization import memorization_section
from shadow_suite.report.schema import Card, LayerSeries, SpectralSection, schema_doc
from shadow_suite.report.text import method_notes

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;background:#f7f7f5;color:#1d1d1d}
main{max-width:1320px;margin:0 auto;padding:24px 28px 60px;background:#fff}
h1{font-size:1.6em;margin:0 0 4px}h2{margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:4px}
.sub{color:#555;margin:0 0 18px}
.headline{display:flex;gap:18px;flex-wrap:wrap;margin:16px 0}
.stat{background:#f1f4f8;border-radius:8px;padding:12px 16px;min-width:150px}
.stat b{display:block;font-size:1.6em}.stat span{color:#555;font-size:.9em}
.verdict{font-size:1.15em;padding:12px 16px;border-left:5px solid #4e79a7;background:#f5f8fc}
.verdict.shadow{border-color:#e15759;background:#fdf3f3}.verdict.none{border-color:#999;background:#f6f6f6}
.warn{background:#fff7e0;border-left:5px solid #edc948;padding:8px 14px;margin:6px 0}
.stat small{display:block;color:#555;font-size:.8em;margin-top:4px;max-width:280px}
.averages{color:#333;font-size:.95em}
.caveats{background:#fff7e0;border-left:5px solid #edc948;padding:6px 14px;margin:10px 0;font-size:.92em}
.caveats ul{margin:4px 0;padding-left:20px}.caveats li{margin:2px 0}
.next{background:#eef5ee;border-left:5px solid #59a14f;padding:8px 14px}
tr.sum td{font-weight:bold;background:#fafafa}
table{border-collapse:collapse;margin:10px 0;font-size:.92em;display:block;overflow-x:auto;max-width:100%}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.sig td{background:#fdf0f0}
code{font-size:.9em;word-break:break-all}
figure{margin:14px 0}figcaption{color:#555;font-size:.9em;max-width:800px}
dl dt{font-weight:bold;margin-top:8px}dl dd{margin-left:18px}
dl.legend{font-size:.88em;color:#333;columns:2 360px}dl.legend dt{margin-top:4px}
svg{max-width:100%;height:auto}
details pre{white-space:pre-wrap;font-size:.82em;background:#f6f6f6;padding:10px}
@page{margin:14mm 12mm 16mm;@bottom-right{content:counter(page) " / " counter(pages);font:8pt system-ui,sans-serif;color:#777}}
@media print{
html{-webkit-print-color-adjust:exact;print-color-adjust:exact}
body{background:#fff;font-size:10pt}main{max-width:none;padding:0}h2{margin-top:1.4em}
h1,h2,h3,h3+p,dl dt{break-after:avoid}
tr,figure,.stat,.verdict,.warn,.next,.caveats li,dl dd{break-inside:avoid}
table{display:table;font-size:.8em}thead{display:table-header-group}
td{overflow-wrap:break-word}td.n{white-space:nowrap}
.headline{gap:8px}.stat{min-width:0;flex:1 1 110px;padding:8px 10px}.stat b{font-size:1.4em}
figure svg{width:100%;max-height:95mm}figcaption{max-width:none}
}
"""


def _figure(svg_text: str, caption: str) -> str:
    return f"<figure>{svg_text}<figcaption>{escape(caption)}</figcaption></figure>"


def rows_table(table: rows.Table) -> str:
    """A :class:`rows.Table` as an HTML table (the card's and the comparison page's); headers
    and cells are escaped here."""
    out = ["<table><thead><tr>"]
    out += [f"<th>{escape(h)}</th>" for h in table.headers]
    out.append("</tr></thead><tbody>")
    for i, row in enumerate(table.rows):
        sig = i < len(table.highlight) and table.highlight[i]
        total = i < len(table.summary) and table.summary[i]
        classes = " ".join(c for c, on in (("sig", sig), ("sum", total)) if on)
        out.append(f'<tr class="{classes}">' if classes else "<tr>")
        for j, cell in enumerate(row):
            numeric = j < len(table.numeric) and table.numeric[j]
            attr = ' class="n"' if numeric else ""
            text = breakable(cell) if table.breaks and not numeric else escape(cell)
            out.append(f"<td{attr}>{text}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def breakable(text: str) -> str:
    """``text`` escaped, with a line-break opportunity after each underscore and slash: names
    such as ``none_of_the_others`` may wrap inside a narrow column rather than widen the
    table past the page (a word never breaks elsewhere)."""
    return escape(text).replace("_", "_<wbr>").replace("/", "/<wbr>")


VERDICT_STYLE = {
    "benchmark_specific": "shadow",
    "no_evidence": "",
    "inconclusive": "none",
    "no_reference": "none",
    "no_verdict": "none",
}


def first_screen_html(card: Card) -> str:
    """The verdict, the tiles, what the headline averages, the caveats, the next steps and
    the rows the headline averages (:mod:`shadow_suite.report.first_screen`)."""
    screen = first_screen(card)
    tiles = "".join(
        f'<div class="stat"><b>{escape(t.value)}</b><span>{escape(t.label)}</span>'
        + (f"<small>{escape(t.detail)}</small>" if t.detail else "")
        + "</div>"
        for t in screen.tiles
    )
    out = [
        f'<section class="first"><p class="verdict {VERDICT_STYLE[screen.verdict_class]}">'
        f"<b>{escape(screen.title)}.</b> {escape(screen.verdict)}</p>",
        *(f'<p class="verdict-note">{escape(n)}</p>' for n in screen.notes),
        ""
        if screen.memorization is None
        else f'<p class="verdict-note"><b>Memorization.</b> {escape(screen.memorization)}</p>',
        f'<div class="headline">{tiles}</div>' if tiles else "",
        f'<p class="averages">{escape(screen.averages)}</p>' if screen.averages else "",
    ]
    if screen.caveats:
        items = "".join(
            f'<li data-caveat="{escape(c.code)}">{escape(c.text)}</li>' for c in screen.caveats
        )
        out.append(f'<div class="caveats"><b>What this card cannot tell</b><ul>{items}</ul></div>')
    if screen.next_steps:
        out.append(f'<p class="next"><b>Next steps.</b> {escape(" ".join(screen.next_steps))}</p>')
    if screen.rows is not None:
        out.append(rows_table(screen.rows))
    out.append("</section>")
    return "".join(out)


def _warnings(card: Card) -> str:
    return "".join(f'<div class="warn">{escape(i)}</div>' for i in rows.warnings(card))


def section_html(section: rows.Section) -> str:
    """A :class:`rows.Section`: heading, paragraphs, bullet list, tables, legend."""
    h = f"h{section.level}"
    out = [f"<{h}>{escape(section.title)}</{h}>"]
    out += [f"<p>{escape(text)}</p>" for text in section.paragraphs]
    if section.bullets:
        out.append("<ul>" + "".join(f"<li>{escape(b)}</li>" for b in section.bullets) + "</ul>")
    out += [rows_table(t) for t in section.tables]
    if section.legend:
        items = "".join(f"<dt>{escape(n)}</dt><dd>{escape(t)}</dd>" for n, t in section.legend)
        out.append(f'<dl class="legend">{items}</dl>')
    return "".join(out)


def _accuracy_chart(card: Card) -> str:
    groups = []
    refs = []
    # one colour per variant name across benchmarks; the original is always the first
    names = sorted({v.variant for b in card.gap.benchmarks for v in b.variants})
    colors = {n: svg.PALETTE[(i + 1) % len(svg.PALETTE)] for i, n in enumerate(names)}
    for b in card.gap.benchmarks:
        bars = [
            svg.Bar("original", b.acc_orig, b.acc_orig_ci_low, b.acc_orig_ci_high, svg.PALETTE[0])
        ]
        bars += [
            svg.Bar(
                v.variant,
                v.acc_variant,
                v.acc_variant_ci_low,
                v.acc_variant_ci_high,
                colors[v.variant],
            )
            for v in b.variants
            if v.baseline == ORIG
        ]
        groups.append((b.benchmark, bars))
        refs.append(b.chance if b.chance > 0 else None)
    return _figure(
        svg.grouped_bars(groups, "Accuracy on original and variant items", "accuracy (%)", refs),
        "Accuracy (%) on the original benchmark (all items) and on each variant (paired items), "
        "with 95% Wilson intervals; dashed line: chance level.",
    )


def _gap_chart(card: Card) -> str:
    chart_rows: list[tuple[str, float | None, float | None, float | None, bool]] = []
    for f in card.gap.families:
        chart_rows.append((f"{f.family} (family)", f.gap, f.ci_low, f.ci_high, False))
    for b in card.gap.benchmarks:
        chart_rows += [
            (
                f"{b.benchmark} {row_label(v.variant, v.baseline)}"
                + ("" if v.gate == "ok" else " [gated out]"),
                v.gap, v.gap_ci_low, v.gap_ci_high, v.significant,
            )
            for v in b.variants
        ]  # fmt: skip
    return _figure(
        svg.forest(chart_rows, "Gap per family and row", "gap: unchanged item - variant (points)"),
        "Family gaps (bootstrap 95% CI) and each row's gap (Newcombe paired 95% interval). "
        "Filled dots: Holm-adjusted McNemar p < 0.05 (a difference, not a claim about training).",
    )


def _series(
    series: Sequence[LayerSeries], dashed: bool = False, suffix: str = ""
) -> list[svg.Series]:
    return [svg.Series(s.kind + suffix, s.layers, s.values, dashed) for s in series]


def _spectra_base(sec: SpectralSection) -> str:
    if sec.ancestor_path and sec.base_path:
        return (
            f", updates against the sibling <code>{escape(sec.base_path)}</code> (both from "
            f"<code>{escape(sec.ancestor_path)}</code>)"
        )
    return f", base <code>{escape(sec.base_path or '')}</code>"


def _spectral(sec: SpectralSection) -> str:
    out = ["<h2>Weight spectra</h2>"]
    out.append(
        f"<p>From <code>{escape(sec.source)}</code>"
        + (f" (model <code>{escape(sec.model_path)}</code>)" if sec.model_path else "")
        + (_spectra_base(sec) if sec.base_path else "")
        + (f"; singular values by {escape(sec.method)}" if sec.method else "")
        + ".</p>"
    )
    out.append(f"<p>{escape(words.spectral_caveat())}</p>")
    out += [rows_table(t) for t in rows.spectral_summary_tables(sec)]
    for note in sec.notes:
        out.append(f"<p><i>{escape(note)}</i></p>")
    series = _series(sec.effective_rank_by_layer) + _series(
        sec.base_effective_rank_by_layer, True, " (base)"
    )
    if series:
        out.append(
            _figure(
                svg.lines(series, "Effective rank by layer", "layer", "effective rank"),
                "Effective rank (entropy) by layer, mean over the matrices of each module kind"
                + ("; dashed: base model." if sec.base_effective_rank_by_layer else "."),
            )
        )
    update_plots = [
        (sec.update_relative_change_by_layer, "relative change", "Update relative change by layer",
         "||W-W0|| / ||W0||", "How much each layer moved from the base model."),
        (sec.update_effective_rank_by_layer, "update eff. rank", "Update effective rank by layer",
         "effective rank of W - W0",
         "Effective rank of the update W - W0 by layer (mean over the layer's matrices)."),
    ]  # fmt: skip
    for s, name, title, y_label, caption in update_plots:
        if s is not None:
            chart = svg.lines([svg.Series(name, s.layers, s.values)], title, "layer", y_label)
            out.append(_figure(chart, caption))
    if sec.top_changed:
        what = "update W - W0" if sec.top_changed[0].what == "update" else "weight W"
        series_sv = [
            svg.Series(
                m.kind if m.layer is None else f"L{m.layer} {m.kind}",
                list(range(1, len(m.singular_values) + 1)),
                m.singular_values,
            )
            for m in sec.top_changed[:8]
        ]
        out.append(
            _figure(
                svg.lines(
                    series_sv,
                    "Singular value spectra",
                    "index (largest first)",
                    "singular value",
                    log_y=True,
                ),
                f"Singular values of the {what} for "
                + (
                    "the most changed matrices."
                    if what.startswith("update")
                    else "one matrix per module kind."
                ),
            )
        )
        out.append(rows_table(rows.top_changed_table(sec)))
    return "".join(out)


HTML_PROVENANCE = tuple(f for f in rows.PROVENANCE_FIELDS if f not in ("lm-eval", "runs"))
"""The page lists the runs in their own table."""


def render_html(card: Card) -> str:
    m = card.model
    title = f"shadow-suite report card: {m.name}"
    notes = "".join(f"<dt>{escape(t)}</dt><dd>{escape(d)}</dd>" for t, d in method_notes(card))
    body = [
        f"<h1>{escape(m.name)}</h1>",
        f'<p class="sub">backend {escape(m.backend)}'
        + (f", revision {escape(m.revision)}" if m.revision else "")
        + (f"; base model {escape(card.base_model.name)}" if card.base_model else "")
        + f'; card created {escape(card.provenance.created)}; <a href="#schema">card.json '
        "fields</a></p>",
        first_screen_html(card),
        *(section_html(s) for s in rows.evidence_sections(card)),
        section_html(memo) if (memo := memorization_section(card)) is not None else "",
        "<h2>Excluded rows and warnings</h2>" if rows.warnings(card) else "",
        _warnings(card),
        "<h2>Benchmark vs variants</h2>",
        _accuracy_chart(card) if card.gap.benchmarks else "<p>No benchmark scored.</p>",
        _gap_chart(card) if card.gap.benchmarks else "",
        "<h2>Gap tables</h2>",
        *(section_html(s) for s in rows.benchmark_sections(card)),
        section_html(rows.Section("Sanity checks", tables=[rows.sanity_table(card)])),
        _spectral(card.spectral) if card.spectral is not None else "",
        section_html(rows.Section("Tasks", tables=[rows.tasks_table(card)])),
        section_html(
            rows.Section(
                "Provenance",
                tables=[
                    rows.provenance_table(card, HTML_PROVENANCE),
                    rows.runs_table(card),
                    rows.data_table(card),
                ],
            )
        ),
        f"<h2>Method notes</h2><dl>{notes}</dl>",
        '<details id="schema"><summary>Card schema: every field of card.json '
        f"(report/SCHEMA.md)</summary><pre>{escape(schema_doc())}</pre></details>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )
