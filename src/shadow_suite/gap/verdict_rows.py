"""The rows a card's headline averages, read back from its analysis (numbers only).

The headline is the mean of the headline families' numbers (``gates.headline_families``), a
family's the mean of its cells' (``FamilyGap.cells``), and a cell is one gated-in row of a
benchmark: so every headline number is an average of rows whose two accuracies the card
holds. These functions pick those rows out of a :class:`GapAnalysis` (as loaded from a
card.json too), with each row's reference cell when the card has references, so that the
first screen and the comparison page show the rows a number averages and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shadow_suite.gap.analysis import FamilyGap, GapAnalysis, VariantGap, row_key, row_label
from shadow_suite.gap.records import ReferenceCell, ReferenceFamily


@dataclass(frozen=True)
class VerdictRow:
    """One row the headline averages: the benchmark's row and, with references, its cell."""

    benchmark: str
    row: VariantGap
    reference: ReferenceCell | None

    @property
    def key(self) -> str:
        return row_key(self.benchmark, self.row.variant, self.row.baseline)


@dataclass(frozen=True)
class VerdictFamily:
    """A headline family: its rows, its gap and, with references, its delta."""

    family: str
    gap: FamilyGap
    reference: ReferenceFamily | None
    rows: list[VerdictRow]


def headline_families(analysis: GapAnalysis) -> list[VerdictFamily]:
    """The families the headline averages, in card order, each with the rows it averages."""
    rows = {
        row_key(b.benchmark, v.variant, v.baseline): (b.benchmark, v)
        for b in analysis.benchmarks
        for v in b.variants
    }
    ref = analysis.reference
    cells = (
        {} if ref is None else {row_key(c.benchmark, c.variant, c.baseline): c for c in ref.cells}
    )
    ref_families = {} if ref is None else {f.family: f for f in ref.families}
    out = []
    for fam in analysis.families:
        if fam.family not in analysis.gates.headline_families:
            continue
        members = [
            VerdictRow(rows[key][0], rows[key][1], cells.get(key))
            for key in fam.cells
            if key in rows
        ]
        out.append(VerdictFamily(fam.family, fam, ref_families.get(fam.family), members))
    return out


def verdict_rows(analysis: GapAnalysis) -> list[VerdictRow]:
    """Every row the headline averages, family by family."""
    return [row for fam in headline_families(analysis) for row in fam.rows]


@dataclass(frozen=True)
class BenchmarkRows:
    """One benchmark's rows in the headline, averaged: the unchanged form's and the variants'
    accuracy (each a plain mean over the rows, on each row's paired items), and their
    difference, which is the mean of the rows' gaps."""

    benchmark: str
    rows: list[str]
    """Row names within the benchmark (``variant`` or ``variant vs baseline``)."""
    unchanged: float
    variant: float

    @property
    def gap(self) -> float:
        return self.unchanged - self.variant


def rows_by_benchmark(analysis: GapAnalysis) -> list[BenchmarkRows]:
    """Per benchmark with at least one headline row that has both accuracies."""
    by_bench: dict[str, list[VariantGap]] = {}
    for vr in verdict_rows(analysis):
        if vr.row.acc_orig is not None and vr.row.acc_variant is not None:
            by_bench.setdefault(vr.benchmark, []).append(vr.row)
    return [
        BenchmarkRows(
            benchmark=bench,
            rows=[row_label(r.variant, r.baseline) for r in rs],
            unchanged=float(np.mean([r.acc_orig for r in rs])),
            variant=float(np.mean([r.acc_variant for r in rs])),
        )
        for bench, rs in sorted(by_bench.items())
    ]
