"""The card's tables and lists, built once and rendered by both the HTML page and Markdown.

Each builder returns a :class:`Table` of plain strings (the renderers escape them), so the
two renderings cannot disagree on a number, a row or a warning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from shadow_suite.gap.analysis import BenchmarkGap, row_key, row_label
from shadow_suite.gap.pairwise import GapPair, OrigPair
from shadow_suite.gap.verdict_rows import rows_by_benchmark
from shadow_suite.report import words
from shadow_suite.report.schema import Card, SpectralSection
from shadow_suite.report.text import ci, num, pct, pvalue, signed_pct
from shadow_suite.report.words import (
    FAMILY_WORDS,
    chat_settings,
    excluded_sentence,
    reference_note,
)

GATE_WORDS = {
    "ok": "ok",
    "degenerate": "DEGENERATE",
    "below_floor": "below floor",
    "no_answers": "not gated (no answers)",
    "unpaired": "unpaired",
}


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    numeric: list[bool] = field(default_factory=list)
    """Per column: right-aligned numbers."""
    highlight: list[bool] = field(default_factory=list)
    """Per row: a significant or decisive row."""
    summary: list[bool] = field(default_factory=list)
    """Per row: a summary line (a mean of the lines above it), drawn bold."""
    breaks: bool = False
    """Text cells may wrap after an underscore or slash (tables of many columns whose row
    names, such as ``none_of_the_others vs format_swap``, would widen them past the page)."""


@dataclass
class Section:
    """A titled block that both renderings draw in this order: heading, paragraphs, bullet
    list, tables, legend (name: text)."""

    title: str
    level: int = 2
    paragraphs: list[str] = field(default_factory=list)
    bullets: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)


def _letter(position: int | None) -> str:
    if position is None:
        return "n/a"
    return "ABCDEFGHIJ"[position] if 0 <= position < 10 else str(position)


def family_table(card: Card) -> Table:
    rows, hl = [], []
    for f in card.gap.families:
        rows.append([FAMILY_WORDS.get(f.family, f.family), str(len(f.cells)), str(f.n_items),
                     signed_pct(f.gap), ci(f.ci_low, f.ci_high), pct(f.mde),
                     ", ".join(f.cells)])  # fmt: skip
        hl.append(False)
    return Table(
        ["family", "rows", "items", "gap (pts)", "95% CI", "MDE (pts)", "rows averaged"],
        rows,
        [False, True, True, True, True, True, False],
        hl,
    )


def reference_family_table(card: Card) -> Table | None:
    ref = card.gap.reference
    if ref is None:
        return None
    rows = [
        [FAMILY_WORDS.get(f.family, f.family), str(f.n_items), signed_pct(f.delta),
         ci(f.ci_low, f.ci_high), pvalue(f.p_value), pvalue(f.p_holm), pct(f.mde)]
        for f in ref.families
    ]  # fmt: skip
    return Table(
        ["family", "items", "delta (pts)", "95% CI", "p", "Holm p", "MDE (pts)"],
        rows,
        [False] + [True] * 6,
        [f.p_holm is not None and f.p_holm < 0.05 for f in ref.families],
    )


def reference_cell_table(card: Card) -> Table | None:
    ref = card.gap.reference
    if ref is None:
        return None
    rows = []
    for c in ref.cells:
        rows.append([row_key(c.benchmark, c.variant, c.baseline), c.family, str(c.n_items),
                     signed_pct(c.target_gap), signed_pct(c.reference_gap), signed_pct(c.delta),
                     ci(c.ci_low, c.ci_high), pvalue(c.p_value), pvalue(c.p_holm), pct(c.mde),
                     ", ".join(c.reference_gates)])  # fmt: skip
    return Table(
        ["row", "family", "items", "target gap", "reference gap", "delta", "95% CI", "p",
         "Holm p", "MDE", "reference gates"],
        rows,
        [False, False] + [True] * 8 + [False],
        [c.p_holm is not None and c.p_holm < 0.05 for c in ref.cells],
        breaks=True,
    )  # fmt: skip


def calibration_table(card: Card) -> Table | None:
    if not card.gap.calibration:
        return None
    rows = [
        [c.benchmark, str(len(c.references)), pct(c.target_ood), pct(c.target_orig),
         pct(c.predicted_orig), signed_pct(c.delta), ci(c.ci_low, c.ci_high), pvalue(c.p_value)]
        for c in card.gap.calibration
    ]  # fmt: skip
    return Table(
        ["benchmark", "references", "target OOD (norm.)", "target orig (norm.)",
         "predicted orig", "delta", "95% CI", "p (one-sided)"],
        rows,
        [False] + [True] * 7,
        [c.p_value is not None and c.p_value < 0.05 for c in card.gap.calibration],
    )  # fmt: skip


def position_table(card: Card) -> Table | None:
    sigs = [s for s in card.gap.position if s.expected is not None]
    if not sigs:
        return None
    rows = [
        [s.model, f"{s.benchmark}/{s.variant}", str(s.n), str(s.t), f"{s.expected:.1f}",
         pvalue(s.p_value), str(s.n_prior)]
        for s in sigs
    ]  # fmt: skip
    return Table(
        ["model", "row", "right in orig, wrong in variant", "T (on old gold slot)", "E[T]", "p",
         "prior items"],
        rows,
        [False, False, True, True, True, True, True],
        [s.p_value is not None and s.p_value < 0.05 for s in sigs],
    )  # fmt: skip


def gap_table(bench: BenchmarkGap) -> Table:
    rows, hl = [], []
    for v in bench.variants:
        gate = GATE_WORDS.get(v.gate, v.gate)
        if v.gate == "degenerate":
            gate += f" ({_letter(v.modal_position)} {pct(v.modal_share, 0)}%, {v.modal_form})"
        rows.append([
            row_label(v.variant, v.baseline), v.family, gate,
            "yes" if v.in_family else "no", str(v.n_paired), pct(v.acc_orig),
            pct(v.acc_variant), signed_pct(v.gap), ci(v.gap_ci_low, v.gap_ci_high),
            f"{v.orig_only} / {v.variant_only}", pvalue(v.p_mcnemar), pvalue(v.p_holm),
            pct(v.consistency), f"{v.n_skipped} of {v.n_source}",
        ])  # fmt: skip
        hl.append(v.significant)
    return Table(
        ["variant", "family", "gate", "in family", "paired", "acc unchanged", "acc variant", "gap",
         "95% CI", "b / c", "McNemar p", "Holm p", "consistency", "skipped"],
        rows,
        [False, False, False, False] + [True] * 10,
        hl,
        breaks=True,
    )  # fmt: skip


def legend(bench: BenchmarkGap) -> list[tuple[str, str]]:
    """Each variant once per benchmark: what it does and when it skips an item."""
    seen: dict[str, str] = {}
    for v in bench.variants:
        if v.variant not in seen:
            text = v.description
            if v.skip_reason and v.skip_reason != "never skipped":
                text += f" Skipped when: {v.skip_reason}."
            seen[v.variant] = text
    return list(seen.items())


def benchmark_line(b: BenchmarkGap) -> str:
    shots = "" if b.n_fewshot is None else f"; {b.n_fewshot}-shot"
    return (
        f"Metric {b.metric}{shots}; {b.n_orig} original items, accuracy {pct(b.acc_orig)}% "
        f"(95% CI {pct(b.acc_orig_ci_low)}-{pct(b.acc_orig_ci_high)}); chance {pct(b.chance)}%."
    )


def sanity_table(card: Card) -> Table:
    rows = [
        [b.benchmark, str(b.n_orig), pct(b.acc_orig), pct(b.chance), pvalue(b.p_above_chance),
         "at chance" if b.at_chance else "above chance", "yes" if b.in_headline else "no"]
        for b in card.gap.benchmarks
    ]  # fmt: skip
    return Table(
        ["benchmark", "items", "accuracy", "chance", "p (above chance)", "status", "in headline"],
        rows,
        [False, True, True, True, True, False, False],
    )


def evidence_sections(card: Card) -> list[Section]:
    """Family gaps, the comparison with references, calibration and the position signature:
    each section present only where the card has its numbers."""
    out = []
    if card.gap.families:
        out.append(Section("Gap by family", tables=[family_table(card)]))
    ref_families = reference_family_table(card)
    if ref_families is not None:
        cells = reference_cell_table(card)
        out.append(
            Section(
                "Against the references",
                bullets=reference_note(card),
                tables=[ref_families] + ([] if cells is None else [cells]),
            )
        )
    calibration = calibration_table(card)
    if calibration is not None:
        out.append(
            Section("Calibration across references (ConStat-style)", 3, tables=[calibration])
        )
    position = position_table(card)
    if position is not None:
        out.append(Section("Answer-position signature", tables=[position]))
    return out


def benchmark_sections(card: Card) -> list[Section]:
    """Per benchmark: its line, its gap table and the legend of its variants."""
    out = []
    for b in card.gap.benchmarks:
        section = Section(b.benchmark, 3, paragraphs=[benchmark_line(b)])
        if b.variants:
            section.tables.append(gap_table(b))
            section.legend = legend(b)
        else:
            section.paragraphs.append("No variant of this benchmark was scored.")
        out.append(section)
    return out


def warnings(card: Card) -> list[str]:
    items = [excluded_sentence(k, r) for k, r in card.gap.headline.excluded.items()]
    items += card.warnings
    items += [
        f"{t.task}: {t.status.replace('_', ' ')} ({t.message})"
        for t in card.tasks
        if t.status in ("missing_samples", "no_orig", "incomplete")
    ]
    return items


def tasks_table(card: Card) -> Table:
    return Table(
        ["task", "status", "items", "note"],
        [[t.task, t.status, str(t.n_items), t.message] for t in card.tasks],
        [False, False, True, False],
    )


PROVENANCE_FIELDS = ("model", "backend", "model arguments", "revision / sha",
                     "dtype / parameters", "base model", "seeds", "chat template", "n-shot",
                     "lm-eval", "runs", "shadow-suite", "packages (report)", "card created",
                     "card schema")  # fmt: skip
"""Every row :func:`provenance_table` can show, in this order."""


def provenance_table(card: Card, fields: Sequence[str] = PROVENANCE_FIELDS) -> Table:
    """The card's provenance as (field, value) rows, for ``fields`` in the order given."""
    m, p = card.model, card.provenance
    values = {
        "model": m.name,
        "backend": m.backend,
        "model arguments": ", ".join(f"{k}={v}" for k, v in m.model_args.items()),
        "revision / sha": f"{m.revision or 'n/a'} / {m.sha or 'n/a'}",
        "dtype / parameters": f"{m.dtype or 'n/a'} / {m.num_parameters or 'n/a'}",
        "base model": card.base_model.name if card.base_model else "none",
        "seeds": ", ".join(f"{k}={v}" for k, v in p.seeds.items()),
        "chat template": chat_settings(card),
        "n-shot": ", ".join(f"{k}={v}" for k, v in sorted(p.n_shot.items())),
        "lm-eval": ", ".join(sorted({r.lm_eval_version or "n/a" for r in p.runs})),
        "runs": ", ".join(f"{r.results_file} ({r.date})" for r in p.runs),
        "shadow-suite": p.shadow_suite_version,
        "packages (report)": ", ".join(f"{k} {v}" for k, v in p.packages.items()),
        "card created": p.created,
        "card schema": words.schema_note(card),
    }
    return Table(["field", "value"], [[name, values[name]] for name in fields])


def runs_table(card: Card) -> Table:
    """One row per lm-eval results file the card read."""
    return Table(
        ["results file", "date (UTC)", "backend", "lm-eval", "transformers", "batch", "limit",
         "seconds"],
        [
            [r.results_file, r.date, r.backend, r.lm_eval_version or "n/a",
             r.transformers_version or "n/a", r.batch_size or "n/a",
             "none" if r.limit is None else f"{r.limit:g}",
             "n/a" if r.evaluation_seconds is None else f"{r.evaluation_seconds:.0f}"]
            for r in card.provenance.runs
        ],
    )  # fmt: skip


def data_table(card: Card) -> Table:
    return Table(
        ["data (benchmark/variant)", "SHA-256"],
        [[k, v] for k, v in card.provenance.data_sha256.items()],
    )


def spectral_summary_tables(sec: SpectralSection) -> list[Table]:
    """The model-level means and, with a base, the update's summary."""
    named = [("metric (mean over matrices)", sec.summary), ("update (W - W0)", sec.update_summary)]
    return [
        Table([name, "value"], [[k, num(v)] for k, v in values.items()], [False, True])
        for name, values in named
        if values
    ]


def top_changed_table(sec: SpectralSection, singular_values: bool = False) -> Table:
    """The most changed matrices; ``singular_values`` adds their five largest (where no plot
    shows the spectra)."""
    headers = ["matrix", "kind", "layer", "relative change"]
    body = [
        [m.name, m.kind, "" if m.layer is None else str(m.layer), num(m.relative_change)]
        for m in sec.top_changed
    ]
    if singular_values:
        headers.append("top singular values")
        for row, m in zip(body, sec.top_changed, strict=True):
            row.append(", ".join(f"{x:.3g}" for x in m.singular_values[:5]))
    return Table(headers, body, [False, False, True, True])


def pairwise_orig_table(pairs: list[OrigPair]) -> Table:
    """compare: two models on the original items both scored (exact McNemar, Holm)."""
    headers = ["model A", "model B", "benchmark", "items", "A orig (%)", "B orig (%)",
               "right in A only", "right in B only", "McNemar p", "Holm p"]  # fmt: skip
    body = [
        [r.model_a, r.model_b, r.benchmark, str(r.n_items), pct(r.acc_a), pct(r.acc_b),
         str(r.a_only), str(r.b_only), pvalue(r.p_mcnemar), pvalue(r.p_holm)]
        for r in pairs
    ]  # fmt: skip
    return Table(headers, body, [False] * 3 + [True] * 7,
                 [r.p_holm is not None and r.p_holm < 0.05 for r in pairs])  # fmt: skip


def pairwise_gap_table(pairs: list[GapPair]) -> Table:
    """compare: A's reformatting gap minus B's on the rows both pass the gates on."""
    headers = ["model A", "model B", "rows", "A's gap minus B's (pts)", "95% CI",
               "p (A loses more)", "items"]  # fmt: skip
    body = [
        [g.model_a, g.model_b, str(len(g.cells)), signed_pct(g.delta), ci(g.ci_low, g.ci_high),
         pvalue(g.p_value), str(g.n_items)] if g.delta is not None
        else [g.model_a, g.model_b, "0", "n/a", g.note, "", ""]
        for g in pairs
    ]  # fmt: skip
    return Table(headers, body, [False, False] + [True] * 5,
                 [g.p_value is not None and g.p_value < 0.05 for g in pairs])  # fmt: skip


def benchmark_rows_table(labels: Sequence[str], cards: Sequence[Card]) -> Table:
    """compare: per model and benchmark, the rows its headline averages and their mean
    accuracies (what the per-benchmark scatters draw)."""
    body = [
        [label, r.benchmark, ", ".join(r.rows), pct(r.unchanged), pct(r.variant), signed_pct(r.gap)]
        for label, card in zip(labels, cards, strict=True)
        for r in rows_by_benchmark(card.gap)
    ]
    return Table(
        ["model", "benchmark", "rows in its headline", "unchanged item (%)", "variant (%)",
         "mean gap (pts)"],
        body,
        [False, False, False, True, True, True],
        breaks=True,
    )  # fmt: skip
