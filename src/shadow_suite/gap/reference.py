"""The reference-relative verdict: is the target's gap larger than clean models' on the same items?

For target T and references R1..Rm, on the items i of a cell (benchmark, variant) paired in
all of them: e_i = (base_i^T - var_i^T) - mean_j (base_i^Rj - var_i^Rj), where ``base`` is
the original form (or, for a content row, the variant asking the unchanged item in the same
format). A cell's delta is the mean of e_i; a family's the plain mean of its cells'; the
headline's the mean of the content and format families' (fixed in advance).

- CI: percentile bootstrap resampling source items within each benchmark, the target and
  every reference and every cell of an item together; benchmarks independent; one pseudo
  item each way per cell (``cell_draws(pseudo_pair=True)``), so that a sample in which every
  item agrees gives an interval as wide as its size warrants, never [0, 0] (which would
  call ``no_evidence`` on 12 items).
- Test: one-sided sign-flip permutation test (the signs of whole item rows flipped at
  random); Holm across the cells, and across the families; the headline is the card's
  primary test and is not adjusted.
- MDE: the smallest true delta called ``benchmark_specific`` with 80% power:
  margin + (z_0.975 + z_0.8) x SE.

The gates are the target's (``gap.gates``); a reference row that is degenerate still serves
as its baseline, and the card lists its gate status.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from shadow_suite.contract import task_name
from shadow_suite.errors import ShadowSuiteError
from shadow_suite.gap import stats
from shadow_suite.gap.analysis import (
    FAMILY_ORDER,
    HEADLINE_FAMILIES,
    VERDICT_MARGIN,
    Cell,
    FamilyDraws,
    Form,
    VariantGap,
    cell_draws,
    forms_of,
)
from shadow_suite.gap.gates import gate_row
from shadow_suite.gap.records import (
    ReferenceAnalysis,
    ReferenceCell,
    ReferenceFamily,
    ReferenceItems,
)
from shadow_suite.numbers import finite_or_none


def _reference_values(
    cell: Cell, ref: ReferenceItems, forms: dict[tuple[str, str], Form]
) -> tuple[np.ndarray, str]:
    base = forms.get((cell.benchmark, cell.baseline))
    var = forms.get((cell.benchmark, cell.variant))
    task = task_name(cell.benchmark, cell.variant)
    if base is None or var is None:
        missing = cell.variant if var is None else cell.baseline
        raise ShadowSuiteError(
            f"reference {ref.name!r} ({ref.source}) has no {task_name(cell.benchmark, missing)} "
            f"results, which the target has; evaluate it on the same tasks"
        )
    lacking = [i for i in cell.ids if i not in base.correct or i not in var.correct]
    if lacking:
        raise ShadowSuiteError(
            f"reference {ref.name!r} ({ref.source}) lacks {len(lacking)} of the target's "
            f"{len(cell.ids)} items of {task} (e.g. {lacking[0]}); evaluate it on the same "
            "items (same --limit / sample and seed)"
        )
    o = np.array([base.correct[i] for i in cell.ids], dtype=float)
    v = np.array([var.correct[i] for i in cell.ids], dtype=float)
    chosen_o = np.array([base.chosen[i] for i in cell.ids], dtype=int)
    chosen_v = np.array([var.chosen[i] for i in cell.ids], dtype=int)
    options = [var.n_options[i] for i in cell.ids]
    multiple_choice = all(k > 0 for k in options)
    chance = float(np.mean([1.0 / k for k in options])) if multiple_choice else 0.0
    gate = gate_row(
        {cell.baseline: (o, chosen_o), cell.variant: (v, chosen_v)}, chance, multiple_choice
    )
    return o - v, gate.status


def _p_and_draws(point: float, null: np.ndarray) -> float:
    return stats.permutation_p(point, null)


def compare_with_references(
    by_bench: dict[str, list[tuple[VariantGap, Cell]]],
    references: Sequence[ReferenceItems],
    n_boot: int,
    n_perm: int,
    seed: int,
) -> ReferenceAnalysis:
    """The reference-relative cells, families and headline of a target's gated-in rows."""
    ref_forms = [forms_of(ref.items) for ref in references]
    cells_by_bench: dict[str, list[Cell]] = {}
    values: dict[str, np.ndarray] = {}
    target_gap: dict[str, float] = {}
    reference_gap: dict[str, float] = {}
    ref_gates: dict[str, list[str]] = {}
    for bench, rows in by_bench.items():
        for row, cell in rows:
            if not row.in_family:
                continue
            x_t = cell.contributions()
            per_ref = [
                _reference_values(cell, r, f) for r, f in zip(references, ref_forms, strict=True)
            ]
            x_r = np.mean([x for x, _ in per_ref], axis=0)
            values[cell.key] = x_t - x_r
            target_gap[cell.key] = float(x_t.mean())
            reference_gap[cell.key] = float(x_r.mean())
            ref_gates[cell.key] = [g for _, g in per_ref]
            cells_by_bench.setdefault(bench, []).append(cell)

    boot = cell_draws(cells_by_bench, values, n_boot, seed, stream="/reference", pseudo_pair=True)
    perm = cell_draws(
        cells_by_bench, values, n_perm, seed, stream="/permutation", sampler=stats.sign_flip_draws
    )

    cells: list[ReferenceCell] = []
    for col, cell in enumerate(boot.cells):
        draws = boot.draws[:, col]
        low, high = stats.percentile_ci(draws)
        cells.append(
            ReferenceCell(
                benchmark=cell.benchmark,
                variant=cell.variant,
                baseline=cell.baseline,
                family=cell.family,
                n_items=len(cell.ids),
                target_gap=finite_or_none(target_gap[cell.key]),
                reference_gap=finite_or_none(reference_gap[cell.key]),
                delta=finite_or_none(boot.point[col]),
                ci_low=finite_or_none(low),
                ci_high=finite_or_none(high),
                p_value=_p_and_draws(float(boot.point[col]), perm.draws[:, col]),
                p_holm=None,
                mde=_mde(draws),
                reference_gates=ref_gates[cell.key],
            )
        )
    for cell_row, p_adj in zip(
        cells, stats.holm([1.0 if c.p_value is None else c.p_value for c in cells]), strict=True
    ):
        cell_row.p_holm = float(p_adj)

    found = [_family(boot, perm, family) for family in FAMILY_ORDER]
    families = [f for f in found if f is not None]
    family_ps = [1.0 if f.p_value is None else f.p_value for f in families]
    for fam, p_adj in zip(families, stats.holm(family_ps), strict=True):
        fam.p_holm = float(p_adj)

    point, boot_draws = _headline(boot)
    _, perm_draws = _headline(perm)
    head_low: float | None = None
    head_high: float | None = None
    p: float | None = None
    mde: float | None = None
    if point is not None and boot_draws is not None and perm_draws is not None:
        head_low, head_high = stats.percentile_ci(boot_draws)
        p = stats.permutation_p(point, perm_draws)
        mde = _mde(boot_draws)
    headline_cells = [c for c in boot.cells if c.family in HEADLINE_FAMILIES]
    return ReferenceAnalysis(
        references=[r.name for r in references],
        sources=[r.source for r in references],
        delta=finite_or_none(point),
        ci_low=finite_or_none(head_low),
        ci_high=finite_or_none(head_high),
        p_value=p,
        mde=mde,
        n_items=len({(c.benchmark, i) for c in headline_cells for i in c.ids}),
        n_perm=n_perm,
        families=families,
        cells=cells,
        notes=[],  # worded by the report (words.reference_gate_notes)
    )


def _mde(draws: np.ndarray) -> float | None:
    finite = draws[np.isfinite(draws)]
    if finite.size < 2:
        return None
    detectable = stats.minimum_detectable(float(finite.std()))
    return None if detectable is None else VERDICT_MARGIN + detectable


def _family(boot: FamilyDraws, perm: FamilyDraws, family: str) -> ReferenceFamily | None:
    cols = [i for i, c in enumerate(boot.cells) if c.family == family]
    if not cols:
        return None
    draws = boot.draws[:, cols].mean(axis=1)
    point = float(boot.point[cols].mean())
    low, high = stats.percentile_ci(draws)
    return ReferenceFamily(
        family=family,
        cells=[boot.cells[i].key for i in cols],
        n_items=len({(boot.cells[i].benchmark, x) for i in cols for x in boot.cells[i].ids}),
        delta=finite_or_none(point),
        ci_low=finite_or_none(low),
        ci_high=finite_or_none(high),
        p_value=stats.permutation_p(point, perm.draws[:, cols].mean(axis=1)),
        p_holm=None,
        mde=_mde(draws),
    )


def _headline(fd: FamilyDraws) -> tuple[float | None, np.ndarray | None]:
    from shadow_suite.gap.analysis import headline_draws

    return headline_draws(fd)
