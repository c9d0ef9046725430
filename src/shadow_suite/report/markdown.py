"""Render a card as Markdown: the same numbers as the HTML page, as tables (no plots).

Cell text from inputs is escaped for Markdown tables (pipes, newlines) and for inline HTML
(``<`` and ``&``), since many Markdown viewers render raw HTML.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from shadow_suite.report import rows, words
from shadow_suite.report.first_screen import first_screen
from shadow_suite.report.memorization import memorization_section
from shadow_suite.report.schema import Card
from shadow_suite.report.text import method_notes, num


def md_escape(text: str) -> str:
    # "](" too: a model name such as "[x](https://...)" or "![x](...)" would otherwise be a
    # live link or image in card.md ("]\(" shows the same characters and links nothing)
    return (
        str(text)
        .replace("](", "]\\(")
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
    """A :class:`rows.Table`; its summary lines in bold."""
    lines = []
    for i, row in enumerate(table.rows):
        if i < len(table.summary) and table.summary[i]:
            lines.append([f"**{md_escape(c)}**" if c else "" for c in row])
        else:
            lines.append([md_escape(c) for c in row])
    head = "| " + " | ".join(md_escape(h) for h in table.headers) + " |\n"
    return (
        head
        + "|"
        + "---|" * len(table.headers)
        + "\n"
        + "".join("| " + " | ".join(line) + " |\n" for line in lines)
    )


def section_md(section: rows.Section) -> list[str]:
    """A :class:`rows.Section` as Markdown blocks (joined by newlines)."""
    out = [f"{'#' * section.level} {md_escape(section.title)}\n"]
    out += [md_escape(text) + "\n" for text in section.paragraphs]
    if section.bullets:
        out += [f"- {md_escape(b)}" for b in section.bullets] + [""]
    out += [_md(t) for t in section.tables]
    if section.legend:
        out += [f"- **{md_escape(n)}**: {md_escape(t)}" for n, t in section.legend] + [""]
    return out


MD_PROVENANCE = ("model", "backend", "model arguments", "revision / sha", "seeds",
                 "chat template", "lm-eval", "runs", "packages (report)", "shadow-suite",
                 "card schema")  # fmt: skip
"""The file's provenance rows: the runs in two lines, without a runs table."""


def first_screen_md(card: Card) -> list[str]:
    """The card's first screen (:mod:`shadow_suite.report.first_screen`) as Markdown blocks."""
    screen = first_screen(card)
    out = [f"**{md_escape(screen.title)}.** {md_escape(screen.verdict)}\n"]
    out += [md_escape(n) + "\n" for n in screen.notes]
    if screen.memorization is not None:
        out.append(f"**Memorization.** {md_escape(screen.memorization)}\n")
    if screen.tiles:
        out.append(
            md_table(
                ["number", "what", "detail"], [[t.value, t.label, t.detail] for t in screen.tiles]
            )
        )
    if screen.averages:
        out.append(md_escape(screen.averages) + "\n")
    if screen.caveats:
        out += ["**What this card cannot tell**\n"]
        out += [f"- {md_escape(c.text)}" for c in screen.caveats] + [""]
    if screen.next_steps:
        out.append(f"**Next steps.** {md_escape(' '.join(screen.next_steps))}\n")
    if screen.rows is not None:
        out.append(_md(screen.rows))
    return out


def render_markdown(card: Card) -> str:
    m = card.model
    out = [f"# shadow-suite report card: {md_escape(m.name)}\n"]
    out.append(
        f"Backend {md_escape(m.backend)}, revision {md_escape(m.revision or 'n/a')}"
        + (f", base model {md_escape(card.base_model.name)}" if card.base_model else "")
        + f"; card created {md_escape(card.provenance.created)}.\n"
    )
    out += first_screen_md(card)
    for section in rows.evidence_sections(card):
        out += section_md(section)
    if (memorization_block := memorization_section(card)) is not None:
        out += section_md(memorization_block)
    warnings = rows.warnings(card)
    if warnings:
        out += section_md(rows.Section("Excluded rows and warnings", bullets=warnings))

    out.append("## Gap tables\n")
    for section in rows.benchmark_sections(card):
        out += section_md(section)
    out += section_md(rows.Section("Sanity checks", tables=[rows.sanity_table(card)]))

    sec = card.spectral
    if sec is not None:
        out.append("## Weight spectra\n")
        out.append(f"From `{md_escape(sec.source)}`. Plots are in the HTML card.\n")
        out.append(words.spectral_caveat() + "\n")
        out += [_md(t) for t in rows.spectral_summary_tables(sec)]
        if sec.update_relative_change_by_layer is not None:
            s = sec.update_relative_change_by_layer
            out.append(
                md_table(
                    ["layer", "relative change"],
                    [[str(la), num(v)] for la, v in zip(s.layers, s.values, strict=False)],
                )
            )
        if sec.top_changed:
            out.append(_md(rows.top_changed_table(sec, singular_values=True)))
        out += [f"_{md_escape(n)}_\n" for n in sec.notes]

    out += section_md(rows.Section("Tasks", tables=[rows.tasks_table(card)]))
    out += section_md(
        rows.Section(
            "Provenance",
            tables=[rows.provenance_table(card, MD_PROVENANCE), rows.data_table(card)],
        )
    )
    out.append("## Method notes\n")
    out += [f"- **{md_escape(t)}**: {md_escape(d)}" for t, d in method_notes(card)]
    return "\n".join(out) + "\n"
