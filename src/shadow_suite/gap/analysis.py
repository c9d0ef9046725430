"""From the per-item record to gap rows, gates, families and the verdict class (numbers only).

Everything here reads the per-item table of :mod:`shadow_suite.gap.items`, so a card is
recomputable from its ``items.parquet``. The words are the report's (``report/words.py``).

Definitions (also in ``report/SCHEMA.md`` and the card's method notes):

- **Row**: one (benchmark, variant) over the items scored in both the original and the
  variant (paired by ``shadow_id``): both accuracies, the gap (orig minus variant), the
  exact McNemar test and Newcombe's paired score interval. Where a content or hard variant
  is asked in another format than the original (ARC's ``permuted`` is lettered, ``orig``
  cloze) a second row compares it with the variant asking the unchanged item in that
  format (``baseline`` = ``format_swap``): the content effect alone.
- **Gates** (:mod:`shadow_suite.gap.gates`): a row carries a verdict only when neither form
  is degenerate and the pooled accuracy clears the floor; symmetric in the two forms.
- **Families**: every variant is *content*, *format* or *hard*. A family's gap is the plain
  mean over its gated-in cells; where a variant has a same-format baseline its content
  row is the family's cell. The headline gap is the plain mean of the content and format
  family gaps (hard variants are harder for every model and stay out of it). Without a
  reference these are descriptions, not claims about training.
- **CIs** of families and the headline: percentile bootstrap resampling source items
  within each benchmark (all of an item's rows together), benchmarks independent.
- **Holm** across every row of the card (a card is one family of claims).
- With references, :mod:`shadow_suite.gap.reference` adds the reference-relative verdict.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from shadow_suite.contract import ORIG
from shadow_suite.gap import stats
from shadow_suite.gap.defaults import ALPHA, CONFIDENCE, DEFAULT_BOOTSTRAP_SEED, DEFAULT_N_BOOT
from shadow_suite.gap.gates import GateStatus, gate_row
from shadow_suite.gap.lm_eval_output import EvalResults
from shadow_suite.gap.records import (
    CalibrationRow,
    PositionSignature,
    ReferenceAnalysis,
    ReferenceItems,
)
from shadow_suite.numbers import finite_or_none

VerdictClass = Literal[
    "benchmark_specific", "no_evidence", "inconclusive", "no_reference", "no_verdict"
]
"""benchmark_specific: the reference-relative headline's CI lies above the margin and its
permutation p < alpha; no_evidence: its CI lies below the margin (equivalence);
inconclusive: neither (the card states the minimum detectable effect); no_reference: a
single card, which makes no claim about training; no_verdict: no row passed the gates."""

HEADLINE_FAMILIES = ("content", "format")
"""The families the headline averages; fixed in advance (``hard`` is hard for every model)."""
VERDICT_MARGIN = 0.02
"""A benchmark-specific gap must exceed the references' by more than 2 points."""

Floats = npt.NDArray[np.float64]
"""Per-item values (0/1 correctness, gap contributions) or bootstrap draws."""


def row_label(variant: str, baseline: str) -> str:
    """A row's name within its benchmark: the variant, or ``variant vs baseline`` for the
    content row of a variant asked in another format than the original."""
    return variant if baseline == ORIG else f"{variant} vs {baseline}"


def row_key(benchmark: str, variant: str, baseline: str) -> str:
    """A row's name on the card: ``benchmark/variant`` (or ``.../variant vs baseline``)."""
    return f"{benchmark}/{row_label(variant, baseline)}"


@dataclass
class VariantGap:
    variant: str
    task: str
    family: str
    """content, format or hard (see ``variants.FAMILIES``)."""
    baseline: str
    """What the variant is compared with: 'orig', or the variant asking the unchanged item
    in the same format (the content-effect row)."""
    description: str
    n_source: int
    """Items in the source split, or in the seeded sample of it that the run scored."""
    n_applied: int
    """Items the variant transformation applied to (the rest were skipped)."""
    n_skipped: int
    skip_reason: str
    n_evaluated: int
    """Variant items scored in this run."""
    n_paired: int
    """Items scored in both forms: the items every number below uses."""
    acc_orig: float | None
    """Accuracy of the baseline form (orig, or the same-format variant) on the paired items."""
    acc_variant: float | None
    acc_variant_ci_low: float | None
    acc_variant_ci_high: float | None
    gap: float | None
    gap_ci_low: float | None
    """Newcombe's paired score interval (not zero-width when b = c = 0)."""
    gap_ci_high: float | None
    orig_only: int
    """Discordant pairs right in the baseline form only (McNemar b)."""
    variant_only: int
    """Discordant pairs right in the variant only (McNemar c)."""
    p_mcnemar: float | None
    p_holm: float | None
    """Holm-adjusted across every row of the card."""
    significant: bool
    """Holm-adjusted McNemar p < alpha (a difference, not a claim about training)."""
    consistency: float | None
    """Share of paired items answered alike (both right or both wrong)."""
    data_sha256: str
    gate: GateStatus
    """ok, or why the row carries no verdict (degenerate, below_floor, no_answers, unpaired)."""
    modal_form: str | None
    modal_position: int | None
    modal_share: float | None
    """The most concentrated answer position of the two forms and its share."""
    pooled_accuracy: float | None
    floor: float | None
    p_floor: float | None
    in_family: bool
    """Whether the row is its family's cell (gated in, and the content row where one exists)."""


@dataclass
class FamilyGap:
    benchmark: str
    """A benchmark, or 'all' for the card-level mean over the family's cells."""
    family: str
    cells: list[str]
    """'benchmark/variant' of the rows averaged."""
    n_items: int
    """Distinct source items in those rows."""
    gap: float | None
    ci_low: float | None
    ci_high: float | None
    mde: float | None
    """Smallest true gap this sample detects with 80% power (two-sided 95%)."""


@dataclass
class BenchmarkGap:
    benchmark: str
    metric: str
    task: str
    n_orig: int
    acc_orig: float
    """Accuracy on every scored original item: the benchmark score as leaderboards report it."""
    acc_orig_ci_low: float
    acc_orig_ci_high: float
    chance: float
    """Mean over items of 1/(number of options); 0 for free generation."""
    p_above_chance: float
    """One-sided binomial p that acc_orig exceeds chance (a description of the model)."""
    at_chance: bool
    data_sha256: str
    n_fewshot: int | None
    in_headline: bool
    """At least one of its rows is a cell of a headline family."""
    variants: list[VariantGap] = field(default_factory=list)
    families: list[FamilyGap] = field(default_factory=list)


@dataclass
class Headline:
    verdict_class: VerdictClass
    reformat_gap: float | None
    """Mean of the content and format family gaps (fractions): a description."""
    ci_low: float | None
    ci_high: float | None
    mde: float | None
    benchmark_score: float | None
    """Mean over the headline's benchmarks of orig accuracy on their cells' items."""
    ood_score: float | None
    """The same mean of variant accuracy; benchmark_score - ood_score is not the headline
    gap exactly (families weigh equally), but close."""
    n_items: int
    benchmarks: list[str]
    excluded: dict[str, str]
    """'benchmark' or 'benchmark/variant' -> why it carries no verdict: its code, then the
    numbers in words. The report fills it from ``GapAnalysis.exclusions``
    (``report.words.exclusion_reason``); :func:`analyse` leaves it empty."""
    references: list[str] = field(default_factory=list)
    delta: float | None = None
    """Reference-relative headline: the target's gap minus the references' on the same items."""
    delta_ci_low: float | None = None
    delta_ci_high: float | None = None
    p_value: float | None = None
    """One-sided sign-flip permutation p of delta (the card's primary test)."""
    margin: float = VERDICT_MARGIN


@dataclass
class GateConfig:
    degenerate_share: float
    floor_margin: float
    min_correct_generation: int
    verdict_margin: float
    headline_families: list[str]


@dataclass
class GapAnalysis:
    headline: Headline
    benchmarks: list[BenchmarkGap]
    families: list[FamilyGap]
    """Card-level family rows (benchmark 'all')."""
    gates: GateConfig
    n_boot: int
    seed: int
    confidence: float
    reference: ReferenceAnalysis | None = None
    calibration: list[CalibrationRow] = field(default_factory=list)
    position: list[PositionSignature] = field(default_factory=list)
    exclusions: list[Exclusion] = field(default_factory=list, repr=False, compare=False)
    """Why each excluded row or benchmark carries no verdict, as codes and numbers, in card
    order; not part of the card's JSON, which states them in words (``headline.excluded``)."""


ExclusionCode = Literal[
    "degenerate", "below_floor", "no_answers", "unpaired", "no_variant", "no_original"
]
"""A row's gate status other than ok, or for a whole benchmark: no_variant (only its original
was scored) and no_original (only variants were scored: nothing to pair with)."""


@dataclass(frozen=True)
class Exclusion:
    key: str
    """'benchmark/variant' (``row_key``) of a gated-out row, or 'benchmark'."""
    code: ExclusionCode
    row: VariantGap | None = None
    """The gated-out row, whose gate numbers the words quote; None for a benchmark."""


def _spec(benchmark: str, variant: str) -> object | None:
    try:
        from shadow_suite.taskpack.variants import VARIANTS
    except Exception:
        return None
    return VARIANTS.get(benchmark, {}).get(variant)


def _as_items(results: EvalResults | pd.DataFrame) -> pd.DataFrame:
    if isinstance(results, pd.DataFrame):
        return results
    from shadow_suite.gap.items import items_from_results

    return items_from_results(results)


@dataclass(frozen=True)
class Form:
    """One task's answers keyed by item: correct (0/1), chosen and gold option, options."""

    correct: dict[str, int]
    chosen: dict[str, int]
    gold: dict[str, int]
    n_options: dict[str, int]
    meta: pd.Series


def forms_of(items: pd.DataFrame) -> dict[tuple[str, str], Form]:
    """(benchmark, variant) -> its answers."""
    out: dict[tuple[str, str], Form] = {}
    for (bench, variant), frame in items.groupby(["benchmark", "variant"], sort=True):
        ids = frame["shadow_id"].tolist()
        out[(str(bench), str(variant))] = Form(
            correct=dict(zip(ids, frame["correct"].astype(int), strict=True)),
            chosen=dict(zip(ids, frame["chosen"].astype(int), strict=True)),
            gold=dict(zip(ids, frame["gold"].astype(int), strict=True)),
            n_options=dict(zip(ids, frame["n_options"].astype(int), strict=True)),
            meta=frame.iloc[0],
        )
    return out


@dataclass(frozen=True)
class Cell:
    """A row's paired arrays: baseline form and variant over the same items."""

    benchmark: str
    variant: str
    baseline: str
    family: str
    ids: list[str]
    base: np.ndarray
    var: np.ndarray

    @property
    def key(self) -> str:
        return row_key(self.benchmark, self.variant, self.baseline)

    def contributions(self) -> np.ndarray:
        diff: np.ndarray = self.base - self.var
        return diff


def _arrays(form: Form, ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
    return (
        np.array([form.correct[i] for i in ids], dtype=float),
        np.array([form.chosen[i] for i in ids], dtype=int),
    )


def _row(
    benchmark: str, variant: str, baseline: str, forms: dict[tuple[str, str], Form]
) -> tuple[VariantGap, Cell]:
    base_form, var_form = forms[(benchmark, baseline)], forms[(benchmark, variant)]
    ids = sorted(set(base_form.correct) & set(var_form.correct))
    o, o_chosen = _arrays(base_form, ids)
    v, v_chosen = _arrays(var_form, ids)
    n = len(ids)
    b = int(np.sum((o == 1) & (v == 0)))
    c = int(np.sum((o == 0) & (v == 1)))
    a = int(np.sum((o == 1) & (v == 1)))
    options = [var_form.n_options[i] for i in ids]
    multiple_choice = bool(options) and all(k > 0 for k in options)
    chance = float(np.mean([1.0 / k for k in options])) if multiple_choice else 0.0
    gate = gate_row({baseline: (o, o_chosen), variant: (v, v_chosen)}, chance, multiple_choice)
    spec = _spec(benchmark, variant)
    family = str(getattr(spec, "family", "content"))
    low, high = stats.paired_interval_from_margins(b, c, n, a) if n else (None, None)
    var_ci = stats.wilson_interval(int(v.sum()), n)
    meta = var_form.meta
    row = VariantGap(
        variant=variant,
        task=str(meta["task"]),
        family=family,
        baseline=baseline,
        description=str(getattr(spec, "description", "") or ""),
        n_source=int(meta["n_source"]),
        n_applied=int(meta["n_applied"]),
        n_skipped=int(meta["n_source"]) - int(meta["n_applied"]),
        skip_reason=str(getattr(spec, "skip_reason", "") or ""),
        n_evaluated=len(var_form.correct),
        n_paired=n,
        acc_orig=finite_or_none(o.mean()) if n else None,
        acc_variant=finite_or_none(v.mean()) if n else None,
        acc_variant_ci_low=finite_or_none(var_ci[0]),
        acc_variant_ci_high=finite_or_none(var_ci[1]),
        gap=finite_or_none(o.mean() - v.mean()) if n else None,
        gap_ci_low=finite_or_none(low),
        gap_ci_high=finite_or_none(high),
        orig_only=b,
        variant_only=c,
        p_mcnemar=stats.mcnemar_exact(b, c) if n else None,
        p_holm=None,
        significant=False,
        consistency=finite_or_none(np.mean(o == v)) if n else None,
        data_sha256=str(meta["data_sha256"]),
        gate=gate.status,
        modal_form=gate.modal_form,
        modal_position=gate.modal_position,
        modal_share=finite_or_none(gate.modal_share),
        pooled_accuracy=finite_or_none(gate.pooled_accuracy),
        floor=finite_or_none(gate.floor),
        p_floor=finite_or_none(gate.p_floor),
        in_family=False,
    )
    return row, Cell(benchmark, variant, baseline, family, ids, o, v)


def build_rows(
    items: pd.DataFrame,
) -> tuple[dict[str, list[tuple[VariantGap, Cell]]], dict[tuple[str, str], Form]]:
    """Every row of every benchmark that has an original, in variant order; each row's
    ``in_family`` says whether it is its family's cell."""
    forms = forms_of(items)
    by_bench: dict[str, list[tuple[VariantGap, Cell]]] = {}
    for bench in sorted({b for b, _ in forms}):
        if (bench, ORIG) not in forms:
            continue
        rows: list[tuple[VariantGap, Cell]] = []
        for variant in sorted(v for b, v in forms if b == bench and v != ORIG):
            row, cell = _row(bench, variant, ORIG, forms)
            rows.append((row, cell))
            same = getattr(_spec(bench, variant), "same_format_as", None)
            if same and (bench, same) in forms:
                content_row, content_cell = _row(bench, variant, same, forms)
                rows.append((content_row, content_cell))
                # the family's cell is the row that moves only what the family moves
                content_row.in_family = content_row.gate == "ok"
            else:
                row.in_family = row.gate == "ok"
        by_bench[bench] = rows
    return by_bench, forms


@dataclass(frozen=True)
class FamilyDraws:
    """Point estimates and bootstrap draws of cell means, per benchmark, for the cells
    given; the family and headline numbers are plain means of these."""

    cells: list[Cell]
    point: np.ndarray  # (n_cells,)
    draws: np.ndarray  # (n_boot, n_cells)


def cell_draws(
    cells_by_bench: dict[str, list[Cell]],
    values_of: dict[str, np.ndarray],
    n_boot: int,
    seed: int,
    stream: str = "",
    sampler: Callable[
        [np.ndarray, np.ndarray, int, np.random.Generator], np.ndarray
    ] = stats.masked_mean_draws,
    pseudo_pair: bool = False,
) -> FamilyDraws:
    """Bootstrap each benchmark's cells together (rows = source items resampled whole);
    ``values_of[cell.key]`` holds that cell's per-item values in ``cell.ids`` order.
    ``sampler`` = ``stats.sign_flip_draws`` gives permutation draws instead.

    ``pseudo_pair`` adds one pseudo item of value +1 and one of -1 to every cell before
    resampling (the points stay the plain means): in the spirit of Agresti and Min's add-1/2
    adjustment for paired proportions, it keeps an interval from collapsing to zero width
    when every item agrees (12 items all right in both forms give [0, 0] otherwise, which
    would read as proof of no gap); with hundreds of items it changes the bounds by ~1/n."""
    cells: list[Cell] = []
    points: list[np.ndarray] = []
    draws: list[np.ndarray] = []
    for bench in sorted(cells_by_bench):
        group = cells_by_bench[bench]
        if not group:
            continue
        ids = sorted(set().union(*(c.ids for c in group)))
        index = {item: i for i, item in enumerate(ids)}
        values = np.zeros((len(ids), len(group)))
        mask = np.zeros((len(ids), len(group)), dtype=bool)
        for col, cell in enumerate(group):
            rows = [index[i] for i in cell.ids]
            values[rows, col] = values_of[cell.key]
            mask[rows, col] = True
        if pseudo_pair:
            values = np.vstack([values, np.ones(len(group)), -np.ones(len(group))])
            mask = np.vstack([mask, np.ones((2, len(group)), dtype=bool)])
        rng = stats.benchmark_stream_seed(seed, bench + stream)
        draws.append(sampler(values, mask, n_boot, rng))
        points.append(np.array([values_of[c.key].mean() for c in group]))
        cells.extend(group)
    if not cells:
        return FamilyDraws([], np.zeros(0), np.zeros((n_boot, 0)))
    return FamilyDraws(cells, np.concatenate(points), np.hstack(draws))


def _family_rows(
    fd: FamilyDraws, benchmark: str | None, families: Sequence[str]
) -> list[FamilyGap]:
    out = []
    for family in families:
        cols = [
            i
            for i, c in enumerate(fd.cells)
            if c.family == family and (benchmark is None or c.benchmark == benchmark)
        ]
        if not cols:
            continue
        draws = fd.draws[:, cols].mean(axis=1)
        low, high = stats.percentile_ci(draws)
        finite = draws[np.isfinite(draws)]
        out.append(
            FamilyGap(
                benchmark=benchmark or "all",
                family=family,
                cells=[fd.cells[i].key for i in cols],
                n_items=len({(fd.cells[i].benchmark, x) for i in cols for x in fd.cells[i].ids}),
                gap=finite_or_none(fd.point[cols].mean()),
                ci_low=finite_or_none(low),
                ci_high=finite_or_none(high),
                mde=stats.minimum_detectable(float(finite.std()) if finite.size else None),
            )
        )
    return out


def headline_draws(fd: FamilyDraws) -> tuple[float | None, np.ndarray | None]:
    """(point, draws) of the headline: the mean of the headline families' cell means."""
    family_points, family_draws = [], []
    for family in HEADLINE_FAMILIES:
        cols = [i for i, c in enumerate(fd.cells) if c.family == family]
        if cols:
            family_points.append(fd.point[cols].mean())
            family_draws.append(fd.draws[:, cols].mean(axis=1))
    if not family_points:
        return None, None
    return float(np.mean(family_points)), np.mean(family_draws, axis=0)


FAMILY_ORDER = ("content", "format", "hard")


def _exclusion(benchmark: str, row: VariantGap) -> Exclusion | None:
    """Why ``row`` carries no verdict; None when it passed the gates."""
    gate = row.gate
    if gate == "ok":
        return None
    return Exclusion(row_key(benchmark, row.variant, row.baseline), gate, row)


def analyse(
    results: EvalResults | pd.DataFrame,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = DEFAULT_BOOTSTRAP_SEED,
    references: Sequence[ReferenceItems] = (),
    n_perm: int | None = None,
) -> GapAnalysis:
    """Rows, gates and families of one model, and with ``references`` the verdict."""
    if n_boot < 100:
        raise ValueError("n_boot must be at least 100")
    items = _as_items(results)
    by_bench, forms = build_rows(items)

    all_rows = [row for rows in by_bench.values() for row, _ in rows]
    tested = [r for r in all_rows if r.p_mcnemar is not None]
    for row, p_adj in zip(
        tested, stats.holm([float(r.p_mcnemar or 0.0) for r in tested]), strict=True
    ):
        row.p_holm = float(p_adj)
        row.significant = bool(p_adj < ALPHA)

    cells_by_bench = {
        bench: [cell for row, cell in rows if row.in_family] for bench, rows in by_bench.items()
    }
    values = {c.key: c.contributions() for cs in cells_by_bench.values() for c in cs}
    fd = cell_draws(cells_by_bench, values, n_boot, seed, pseudo_pair=True)

    benches: list[BenchmarkGap] = []
    exclusions: list[Exclusion] = []
    for bench, rows in by_bench.items():
        orig = forms[(bench, ORIG)]
        k, n = int(sum(orig.correct.values())), len(orig.correct)
        options = list(orig.n_options.values())
        chance = float(np.mean([1.0 / x if x > 0 else 0.0 for x in options]))
        p_chance = stats.above_chance(k, n, chance)
        wilson = stats.wilson_interval(k, n)
        n_fewshot = int(orig.meta["n_fewshot"])
        bench_rows = [row for row, _ in rows]
        exclusions += [ex for row in bench_rows if (ex := _exclusion(bench, row)) is not None]
        benches.append(
            BenchmarkGap(
                benchmark=bench,
                metric=str(orig.meta["metric"]),
                task=str(orig.meta["task"]),
                n_orig=n,
                acc_orig=k / n,
                acc_orig_ci_low=wilson[0],
                acc_orig_ci_high=wilson[1],
                chance=chance,
                p_above_chance=p_chance,
                at_chance=p_chance >= ALPHA,
                data_sha256=str(orig.meta["data_sha256"]),
                n_fewshot=None if n_fewshot < 0 else n_fewshot,
                in_headline=any(r.in_family and r.family in HEADLINE_FAMILIES for r in bench_rows),
                variants=bench_rows,
                families=_family_rows(fd, bench, FAMILY_ORDER),
            )
        )
        if not bench_rows:
            exclusions.append(Exclusion(bench, "no_variant"))
    for bench in sorted({b for b, _ in forms if (b, ORIG) not in forms}):
        exclusions.append(Exclusion(bench, "no_original"))

    point, draws = headline_draws(fd)
    headline_cells = [c for c in fd.cells if c.family in HEADLINE_FAMILIES]
    low = high = None
    mde = None
    if draws is not None:
        low, high = stats.percentile_ci(draws)
        finite = draws[np.isfinite(draws)]
        mde = stats.minimum_detectable(float(finite.std()) if finite.size else None)
    headline_benches = sorted({c.benchmark for c in headline_cells})
    scores = [
        (float(np.mean([c.base.mean() for c in headline_cells if c.benchmark == b])),
         float(np.mean([c.var.mean() for c in headline_cells if c.benchmark == b])))
        for b in headline_benches
    ]  # fmt: skip
    headline = Headline(
        verdict_class="no_verdict" if point is None else "no_reference",
        reformat_gap=finite_or_none(point),
        ci_low=finite_or_none(low),
        ci_high=finite_or_none(high),
        mde=mde,
        benchmark_score=finite_or_none(np.mean([s[0] for s in scores])) if scores else None,
        ood_score=finite_or_none(np.mean([s[1] for s in scores])) if scores else None,
        n_items=len({(c.benchmark, i) for c in headline_cells for i in c.ids}),
        benchmarks=headline_benches,
        excluded={},
    )
    analysis = GapAnalysis(
        headline=headline,
        benchmarks=benches,
        families=_family_rows(fd, None, FAMILY_ORDER),
        gates=_gate_config(),
        n_boot=n_boot,
        seed=seed,
        confidence=CONFIDENCE,
        exclusions=exclusions,
    )
    from shadow_suite.gap.position import position_signatures

    analysis.position = position_signatures(items, forms, label=None)
    if references:
        from shadow_suite.gap.calibration import calibrate
        from shadow_suite.gap.reference import compare_with_references

        analysis.reference = compare_with_references(
            by_bench, references, n_boot=n_boot, n_perm=n_perm or n_boot, seed=seed
        )
        analysis.calibration = calibrate(items, references, n_boot=n_boot, seed=seed)
        for ref in references:
            analysis.position += position_signatures(ref.items, forms_of(ref.items), label=ref.name)
        _apply_verdict(analysis)
    return analysis


def _gate_config() -> GateConfig:
    from shadow_suite.gap import gates

    return GateConfig(
        degenerate_share=gates.DEGENERATE_SHARE,
        floor_margin=gates.FLOOR_MARGIN,
        min_correct_generation=gates.MIN_CORRECT_GENERATION,
        verdict_margin=VERDICT_MARGIN,
        headline_families=list(HEADLINE_FAMILIES),
    )


def _apply_verdict(analysis: GapAnalysis) -> None:
    ref = analysis.reference
    h = analysis.headline
    if ref is None:
        return
    h.references = list(ref.references)
    h.delta, h.delta_ci_low, h.delta_ci_high = ref.delta, ref.ci_low, ref.ci_high
    h.p_value = ref.p_value
    h.mde = ref.mde
    h.verdict_class = verdict_class(ref.delta, ref.ci_low, ref.ci_high, ref.p_value)


def verdict_class(
    delta: float | None,
    ci_low: float | None,
    ci_high: float | None,
    p_value: float | None,
    margin: float = VERDICT_MARGIN,
) -> VerdictClass:
    """The reference-relative verdict class of a headline (see ``VerdictClass``)."""
    if delta is None or ci_low is None or ci_high is None or p_value is None:
        return "no_verdict"
    if ci_low > margin and p_value < ALPHA:
        return "benchmark_specific"
    if ci_high < margin:
        return "no_evidence"
    return "inconclusive"
