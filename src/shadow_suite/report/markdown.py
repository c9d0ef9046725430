"""Render a card as Markdown: the same numbers as the HTML page, as tables (no plots).

Cell text from inputs is escaped for Markdown tables (pipes, newlines) and for inline HTML
(``<`` and ``&``), since many Markdown viewers render raw HTML.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from shadow_suite.report import rows, words
from shadow_suite.report.schema import Card
from shadow_suite.report.text import method_notes, num


def md_escape(text: str) -> str:
    return (
        str(text)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("|", "\\|")
        .replace("\r", " ")
        .replace("\n", " ")
    )


def md_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = [
        "| " + " | ".join(md_escape(h) for h in headers) + " |",
        "|" + "---|" * len(headers),
    ]
    lines += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _md(table: rows.Table) -> str:
    return md_table(table.headers, table.rows)


def render_markdown(card: Card) -> str:
    m = card.model
    out = [f"# shadow-suite report card: {md_escape(m.name)}\n"]
    out.append(
        f"Backend {md_escape(m.backend)}, revision {md_escape(m.revision or 'n/a')}"
        + (f", base model {md_escape(card.base_model.name)}" if card.base_model else "")
        + f"; card created {md_escape(card.provenance.created)}.\n"
    )
    out.append(f"**{md_escape(words.CLASS_TITLES[card.gap.headline.verdict_class])}.** "
               f"{md_escape(words.verdict_sentence(card))}\n")  # fmt: skip
    out.append(_md(rows.headline_table(card)))
    if not card.gap.headline.references:
        out.append(f"_{md_escape(words.single_card_caveat())}_\n")
    if card.gap.families:
        out.append("## Gap by family\n")
        out.append(_md(rows.family_table(card)))
    ref_families = rows.reference_family_table(card)
    if ref_families is not None:
        out.append("## Against the references\n")
        out += [f"- {md_escape(line)}" for line in words.reference_note(card)]
        out.append("")
        out.append(_md(ref_families))
        cells = rows.reference_cell_table(card)
        if cells is not None:
            out.append(_md(cells))
    calibration = rows.calibration_table(card)
    if calibration is not None:
        out.append("### Calibration across references (ConStat-style)\n")
        out.append(_md(calibration))
    position = rows.position_table(card)
    if position is not None:
        out.append("## Answer-position signature\n")
        out.append(_md(position))
    warnings = rows.warnings(card)
    if warnings:
        out.append("## Excluded rows and warnings\n")
        out += [f"- {md_escape(w)}" for w in warnings]
        out.append("")

    out.append("## Gap tables\n")
    for b in card.gap.benchmarks:
        out.append(f"### {md_escape(b.benchmark)}\n")
        out.append(md_escape(rows.benchmark_line(b)) + "\n")
        if b.variants:
            out.append(_md(rows.gap_table(b)))
            out += [f"- **{md_escape(name)}**: {md_escape(text)}" for name, text in rows.legend(b)]
            out.append("")
        else:
            out.append("No variant of this benchmark was scored.\n")

    out.append("## Sanity checks\n")
    out.append(_md(rows.sanity_table(card)))

    sec = card.spectral
    if sec is not None:
        out.append("## Weight spectra\n")
        out.append(f"From `{md_escape(sec.source)}`. Plots are in the HTML card.\n")
        out.append(words.spectral_caveat() + "\n")
        if sec.summary:
            out.append(
                md_table(
                    ["metric (mean over matrices)", "value"],
                    [[k, num(v)] for k, v in sec.summary.items()],
                )
            )
        if sec.update_summary:
            out.append(
                md_table(
                    ["update (W - W0)", "value"],
                    [[k, num(v)] for k, v in sec.update_summary.items()],
                )
            )
        if sec.update_relative_change_by_layer is not None:
            s = sec.update_relative_change_by_layer
            out.append(
                md_table(
                    ["layer", "relative change"],
                    [[str(la), num(v)] for la, v in zip(s.layers, s.values, strict=False)],
                )
            )
        if sec.top_changed:
            out.append(
                md_table(
                    ["matrix", "kind", "layer", "relative change", "top singular values"],
                    [[t.name, t.kind, "" if t.layer is None else str(t.layer), num(t.relative_change),
                      ", ".join(f"{x:.3g}" for x in t.singular_values[:5])] for t in sec.top_changed],
                )
            )  # fmt: skip
        out += [f"_{md_escape(n)}_\n" for n in sec.notes]

    out.append("## Tasks\n")
    out.append(_md(rows.tasks_table(card)))
    p = card.provenance
    out.append("## Provenance\n")
    out.append(
        md_table(
            ["field", "value"],
            [
                ["model", m.name],
                ["backend", m.backend],
                ["model arguments", ", ".join(f"{k}={v}" for k, v in m.model_args.items())],
                ["revision / sha", f"{m.revision or 'n/a'} / {m.sha or 'n/a'}"],
                ["seeds", ", ".join(f"{k}={v}" for k, v in p.seeds.items())],
                ["chat template", words.chat_settings(card)],
                ["lm-eval", ", ".join(sorted({r.lm_eval_version or "n/a" for r in p.runs}))],
                ["runs", ", ".join(f"{r.results_file} ({r.date})" for r in p.runs)],
                ["packages (report)", ", ".join(f"{k} {v}" for k, v in p.packages.items())],
                ["shadow-suite", p.shadow_suite_version],
                ["card schema", f"{card.schema} v{card.schema_version}"],
            ],
        )
    )
    out.append(
        md_table(
            ["data (benchmark/variant)", "SHA-256"], [[k, v] for k, v in p.data_sha256.items()]
        )
    )
    out.append("## Method notes\n")
    out += [f"- **{md_escape(t)}**: {md_escape(d)}" for t, d in method_notes(card)]
    return "\n".join(out) + "\n"
