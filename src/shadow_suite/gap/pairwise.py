"""Two models on the same items, tested as pairs rather than by whether their intervals touch.

For every ordered pair of models (A, B) that were evaluated on the same items:

- per benchmark, the original accuracies and an exact McNemar test of A against B on the
  original items both scored (right in one model only: a_only, b_only); Holm across every
  (pair, benchmark) of the comparison;
- the difference of their reformatting gaps, once per pair: B serves as A's reference, so
  the number is the reference-relative headline of ``gap.reference`` (per item e_i = A's gap
  - B's gap on the rows that pass the gates for both, bootstrap CI resampling items with
  both models together, one-sided sign-flip permutation p that A loses more than B).

Numbers only; ``report.compare`` renders them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from shadow_suite.contract import ORIG
from shadow_suite.errors import ShadowSuiteError
from shadow_suite.gap import stats
from shadow_suite.gap.analysis import build_rows
from shadow_suite.gap.records import ReferenceItems
from shadow_suite.gap.reference import compare_with_references


@dataclass
class OrigPair:
    model_a: str
    model_b: str
    benchmark: str
    n_items: int
    """Original items scored by both models."""
    acc_a: float
    acc_b: float
    a_only: int
    """Items right for A only (McNemar b)."""
    b_only: int
    p_mcnemar: float
    p_holm: float | None = None
    """Holm-adjusted across every (pair, benchmark) row of the comparison."""


@dataclass
class GapPair:
    model_a: str
    model_b: str
    cells: list[str]
    """'benchmark/variant' rows compared: those that pass the gates for both models."""
    delta: float | None
    """A's reformatting gap minus B's on the same items (fraction): content and format
    families averaged as in a card's headline."""
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    """One-sided: A loses more than B when reformatted."""
    n_items: int
    note: str = ""
    """Why there is no number when the reference check refused the pair (its message, e.g.
    the two were not evaluated on the same items); empty when no row passes the gates for
    both (``cells`` empty), which the report states in words."""


def orig_pairs(labels: Sequence[str], items: Sequence[pd.DataFrame]) -> list[OrigPair]:
    out: list[OrigPair] = []
    for a in range(len(labels)):
        for b in range(a + 1, len(labels)):
            for bench in sorted(set(items[a]["benchmark"]) & set(items[b]["benchmark"])):
                ra, rb = (_orig(items[k], bench) for k in (a, b))
                shared = ra.index.intersection(rb.index)
                if shared.empty:
                    continue
                x, y = ra.loc[shared].to_numpy(), rb.loc[shared].to_numpy()
                a_only, b_only = int(((x == 1) & (y == 0)).sum()), int(((x == 0) & (y == 1)).sum())
                out.append(
                    OrigPair(labels[a], labels[b], bench, len(shared), float(x.mean()),
                             float(y.mean()), a_only, b_only, stats.mcnemar_exact(a_only, b_only))
                )  # fmt: skip
    for row, p in zip(out, stats.holm([r.p_mcnemar for r in out]), strict=True):
        row.p_holm = float(p)
    return out


def originals_against_references(
    name: str, items: pd.DataFrame, references: Sequence[ReferenceItems]
) -> list[OrigPair]:
    """The model ``name`` (``model_a``) against each reference (``model_b``) on the original
    items both scored, per benchmark; Holm across these rows only."""
    out: list[OrigPair] = []
    for ref in references:
        for pair in orig_pairs(["model", "reference"], [items, ref.items]):
            out.append(replace(pair, model_a=name, model_b=ref.name, p_holm=None))
    for row, p in zip(out, stats.holm([r.p_mcnemar for r in out]), strict=True):
        row.p_holm = float(p)
    return out


def _orig(items: pd.DataFrame, bench: str) -> pd.Series:
    frame = items[(items["benchmark"] == bench) & (items["variant"] == ORIG)]
    return frame.set_index("shadow_id")["correct"].astype(int)


def gap_pairs(
    labels: Sequence[str], items: Sequence[pd.DataFrame], n_boot: int, seed: int
) -> list[GapPair]:
    """One row per unordered pair, on the rows that pass the gates for both models, so the
    comparison reads the same from either side (each model's own gated-in rows differ)."""
    rows = [build_rows(frame)[0] for frame in items]
    gated = [
        {cell.key for rs in by_bench.values() for row, cell in rs if row.in_family}
        for by_bench in rows
    ]
    out = []
    for a in range(len(labels)):
        for b in range(a + 1, len(labels)):
            shared = gated[a] & gated[b]
            if not shared:
                out.append(GapPair(labels[a], labels[b], [], None, None, None, None, 0))
                continue
            by_bench, _ = build_rows(items[a])
            for bench_rows in by_bench.values():
                for row, cell in bench_rows:
                    row.in_family = cell.key in shared
            reference = ReferenceItems(labels[b], items[b], "compare")
            try:
                ref = compare_with_references(by_bench, [reference], n_boot, n_boot, seed)
            except ShadowSuiteError as err:
                out.append(GapPair(labels[a], labels[b], [], None, None, None, None, 0, str(err)))
                continue
            out.append(
                GapPair(labels[a], labels[b], sorted(shared), ref.delta, ref.ci_low, ref.ci_high,
                        ref.p_value, ref.n_items)
            )  # fmt: skip
    return out


def as_frame(rows: Sequence[OrigPair] | Sequence[GapPair]) -> pd.DataFrame:
    frame = pd.DataFrame([vars(r) for r in rows])
    return frame.replace({np.nan: None}) if not frame.empty else frame
