"""Render a card as Markdown: the same numbers as the HTML page, as tables (no plots).

Cell text from inputs is escaped for Markdown tables (pipes, newlines) and for inline HTML
(``<`` and ``&``), since many Markdown viewers render raw HTML.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from shadow_suite.report.schema import Card
from shadow_suite.report.text import ci, method_notes, num, pct, pvalue, signed_pct


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


def render_markdown(card: Card) -> str:
    h = card.gap.headline
    m = card.model
    out = [f"# shadow-suite report card: {md_escape(m.name)}\n"]
    out.append(
        f"Backend {md_escape(m.backend)}, revision {md_escape(m.revision or 'n/a')}"
        + (f", base model {md_escape(card.base_model.name)}" if card.base_model else "")
        + f"; card created {md_escape(card.provenance.created)}.\n"
    )
    out.append(f"**{md_escape(h.verdict)}**\n")
    out.append(
        md_table(
            ["shadow gap (pts)", "95% CI", "relative gap (%)", "benchmark score", "OOD score"],
            [[signed_pct(h.shadow_gap), ci(h.ci_low, h.ci_high), signed_pct(h.relative_gap),
              pct(h.benchmark_score), pct(h.ood_score)]],
        )
    )  # fmt: skip
    out.append("Evidence:\n")
    out += [f"- {md_escape(e)}" for e in h.evidence]
    out.append("")
    warnings = [
        f"{b.benchmark}: original accuracy {pct(b.acc_orig)}% is not significantly above chance "
        f"({pct(b.chance)}%, p = {pvalue(b.p_above_chance)}); a gap here means nothing."
        for b in card.gap.benchmarks
        if b.at_chance
    ] + card.warnings
    warnings += [
        f"{t.task}: {t.status.replace('_', ' ')} ({t.message})"
        for t in card.tasks
        if t.status in ("missing_samples", "no_orig")
    ]
    if warnings:
        out.append("## Warnings\n")
        out += [f"- {md_escape(w)}" for w in warnings]
        out.append("")

    out.append("## Gap tables\n")
    for b in card.gap.benchmarks:
        out.append(f"### {md_escape(b.benchmark)}\n")
        out.append(
            f"Metric `{md_escape(b.metric)}`; {b.n_orig} original items, accuracy "
            f"{pct(b.acc_orig)}% (95% CI {pct(b.acc_orig_ci_low)}-{pct(b.acc_orig_ci_high)}); "
            f"chance {pct(b.chance)}%; benchmark gap {signed_pct(b.gap)} points "
            f"{ci(b.gap_ci_low, b.gap_ci_high)}"
            + ("" if b.in_headline else " (not in the headline)")
            + ".\n"
        )
        rows = [
            [v.variant, str(v.n_paired), pct(v.acc_orig), pct(v.acc_variant), signed_pct(v.gap),
             ci(v.gap_ci_low, v.gap_ci_high), f"{v.orig_only} / {v.variant_only}",
             pvalue(v.p_mcnemar), pvalue(v.p_holm) + (" *" if v.significant else ""),
             pct(v.consistency), f"{v.n_skipped} of {v.n_source}",
             "; ".join(x for x in (v.skip_reason, v.description) if x)]
            for v in b.variants
        ]  # fmt: skip
        if rows:
            out.append(
                md_table(
                    ["variant", "paired", "acc orig", "acc variant", "gap", "95% CI", "b / c",
                     "McNemar p", "Holm p", "consistency", "skipped", "why skipped / what it does"],
                    rows,
                )
            )  # fmt: skip
        else:
            out.append("No variant of this benchmark was scored.\n")
    out.append("`*`: significant (Holm-adjusted McNemar p < 0.05).\n")

    out.append("## Sanity checks\n")
    out.append(
        md_table(
            ["benchmark", "items", "accuracy", "chance", "p (above chance)", "status", "in headline"],
            [[b.benchmark, str(b.n_orig), pct(b.acc_orig), pct(b.chance), pvalue(b.p_above_chance),
              "AT CHANCE" if b.at_chance else "above chance", "yes" if b.in_headline else "no"]
             for b in card.gap.benchmarks],
        )
    )  # fmt: skip

    sec = card.spectral
    if sec is not None:
        out.append("## Weight spectra\n")
        out.append(f"From `{md_escape(sec.source)}`. Plots are in the HTML card.\n")
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
    out.append(
        md_table(
            ["task", "status", "items", "note"],
            [[t.task, t.status, str(t.n_items), t.message] for t in card.tasks],
        )
    )
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
