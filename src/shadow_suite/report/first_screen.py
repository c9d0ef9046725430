"""The top of a card, built once for the HTML page and the Markdown file: what a buyer reads
before scrolling.

In order: the verdict class and its sentence; the memorization test's line, beside the
verdict and never merged into its class (:mod:`shadow_suite.report.memorization`); tiles for the numbers that exist (the number
the verdict is about, with its interval and n, and each benchmark's accuracy on its original
items); one line saying what the headline number averages; the caveats; for an undecided
card, the next steps; and the table of the rows the headline averages, each with both
accuracies, so that every gap is a subtraction and every family and headline number a mean
of the lines above it. Every number is a card field, formatted (the test
``test_first_screen.py`` reconciles them with card.json).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shadow_suite.gap.verdict_rows import VerdictFamily, headline_families
from shadow_suite.report import words
from shadow_suite.report.caveats import Caveat, caveats
from shadow_suite.report.memorization import memorization_line
from shadow_suite.report.next_steps import next_steps
from shadow_suite.report.rows import Table
from shadow_suite.report.schema import Card
from shadow_suite.report.text import ci, pct, pvalue, signed_pct


@dataclass(frozen=True)
class Tile:
    value: str
    label: str
    detail: str = ""


@dataclass
class FirstScreen:
    verdict_class: str
    title: str
    verdict: str
    tiles: list[Tile]
    averages: str
    """One line: what the headline number averages ('' when there is no headline)."""
    caveats: list[Caveat]
    next_steps: list[str]
    rows: Table | None
    """The rows the headline averages, then its families and the headline itself."""
    notes: list[str] = field(default_factory=list)
    """More lines for the first paragraph (other lines of evidence may add theirs)."""
    memorization: str | None = None
    """The memorization test's line (shown as 'Memorization. ...' right after the verdict);
    None when the card has no memorization section."""


def _p(p: float | None) -> str:
    text = pvalue(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def verdict_tile(card: Card) -> Tile | None:
    """The number the verdict is about, with its interval, n and test; None without one."""
    h = card.gap.headline
    if h.references and h.delta is not None:
        n = card.gap.reference.n_items if card.gap.reference else h.n_items
        detail = f"95% CI {ci(h.delta_ci_low, h.delta_ci_high)}; {n} items; {_p(h.p_value)}"
        if h.verdict_class == "inconclusive" and h.mde is not None:
            detail += f"; detectable at 80% power: {signed_pct(h.mde)}"
        return Tile(f"{signed_pct(h.delta)} pts", "gap beyond the references", detail)
    if not h.references and h.reformat_gap is not None:
        detail = f"95% CI {ci(h.ci_low, h.ci_high)}; {h.n_items} items"
        return Tile(f"{signed_pct(h.reformat_gap)} pts", "reformatting gap", detail)
    return None


def benchmark_tiles(card: Card) -> list[Tile]:
    out = []
    for b in card.gap.benchmarks:
        detail = (
            f"{b.n_orig} items; 95% CI {pct(b.acc_orig_ci_low)}-{pct(b.acc_orig_ci_high)}; "
            f"chance {pct(b.chance)}" + ("; at chance" if b.at_chance else "")
        )
        out.append(Tile(f"{pct(b.acc_orig)}%", f"{b.benchmark}, original items", detail))
    return out


def rows_table(card: Card, families: list[VerdictFamily]) -> Table | None:
    """One line per row the headline averages (unchanged-item and variant accuracy, their
    difference, and with references their gap and the delta), one per family (the mean of
    its lines) and the headline (the mean of the families)."""
    if not families:
        return None
    h = card.gap.headline
    refs = bool(h.references) and card.gap.reference is not None
    headers = ["row", "family", "items", "unchanged item (%)", "variant (%)", "gap (pts)"]
    headers += ["references' gap (pts)", "delta (pts)", "95% CI"] if refs else ["95% CI"]
    body: list[list[str]] = []
    summary: list[bool] = []
    for fam in families:
        for vr in fam.rows:
            v = vr.row
            line = [vr.key, fam.family, str(v.n_paired), pct(v.acc_orig), pct(v.acc_variant),
                    signed_pct(v.gap)]  # fmt: skip
            if refs:
                c = vr.reference
                line += (
                    ["n/a"] * 3
                    if c is None
                    else [signed_pct(c.reference_gap), signed_pct(c.delta), ci(c.ci_low, c.ci_high)]
                )
            else:
                line.append(ci(v.gap_ci_low, v.gap_ci_high))
            body.append(line)
            summary.append(False)
        line = [f"{fam.family} family: mean of {len(fam.rows)} row{'s' if len(fam.rows) != 1 else ''}", "", str(fam.gap.n_items), "",
                "", signed_pct(fam.gap.gap)]  # fmt: skip
        if refs:
            r = fam.reference
            line += (
                ["", "n/a", "n/a"]
                if r is None
                else ["", signed_pct(r.delta), ci(r.ci_low, r.ci_high)]
            )
        else:
            line.append(ci(fam.gap.ci_low, fam.gap.ci_high))
        body.append(line)
        summary.append(True)
    line = [f"headline: mean of {len(families)} famil{'y' if len(families) == 1 else 'ies'}",
            "", str(h.n_items), "", "", signed_pct(h.reformat_gap)]  # fmt: skip
    if refs:
        line += ["", signed_pct(h.delta), ci(h.delta_ci_low, h.delta_ci_high)]
    else:
        line.append(ci(h.ci_low, h.ci_high))
    body.append(line)
    summary.append(True)
    numeric = [False, False] + [True] * (len(headers) - 2)
    return Table(headers, body, numeric, [False] * len(body), summary, breaks=True)


def first_screen(card: Card) -> FirstScreen:
    h = card.gap.headline
    families = headline_families(card.gap)
    tile = verdict_tile(card)
    return FirstScreen(
        verdict_class=h.verdict_class,
        title=words.CLASS_TITLES[h.verdict_class],
        verdict=words.verdict_sentence(card),
        tiles=([tile] if tile else []) + benchmark_tiles(card),
        averages=words.averages_sentence(card, families),
        caveats=caveats(card),
        next_steps=next_steps(card),
        rows=rows_table(card, families),
        memorization=memorization_line(card),
    )
