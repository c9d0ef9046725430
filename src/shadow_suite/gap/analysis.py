"""From per-item scores to the gap tables and the headline *shadow gap* (pure computation).

Definitions (also in the card's method notes, ``report/SCHEMA.md``):

- Variant gap: over the items that have both an original and a variant result (paired by
  ``shadow_id``), accuracy on the original minus accuracy on the variant.
- Benchmark gap: the plain mean of its variants' gaps (every variant weighs the same,
  whatever its number of paired items).
- Shadow gap (headline): the plain mean of the benchmark gaps over the benchmarks whose
  original accuracy is significantly above chance (a gap at chance means nothing).
- Relative gap: shadow gap / benchmark score, where the benchmark score is the same mean
  of the original accuracies on the paired items; so benchmark score - OOD score = gap.
- CIs: percentile 95% from one paired bootstrap per benchmark that resamples source items
  (seeded per benchmark); the headline resamples every benchmark independently.
- McNemar: exact, on each variant's discordant pairs; Holm-adjusted across the variants of
  one benchmark (the family is one benchmark's variants, not the whole card).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from shadow_suite.gap import stats
from shadow_suite.gap.defaults import ALPHA
from shadow_suite.gap.lm_eval_output import ORIG, EvalResults, TaskSamples


@dataclass
class VariantGap:
    variant: str
    task: str
    description: str
    n_source: int
    """Items in the source split."""
    n_applied: int
    """Items the variant transformation applied to (the rest were skipped)."""
    n_skipped: int
    skip_reason: str
    n_evaluated: int
    """Variant items scored in this run (fewer than n_applied under --limit)."""
    n_paired: int
    """Variant items whose original was scored too: the items every number below uses."""
    acc_orig: float | None
    acc_variant: float | None
    acc_variant_ci_low: float | None
    acc_variant_ci_high: float | None
    gap: float | None
    gap_ci_low: float | None
    gap_ci_high: float | None
    orig_only: int
    """Discordant pairs right on the original, wrong on the variant (McNemar b)."""
    variant_only: int
    """Discordant pairs wrong on the original, right on the variant (McNemar c)."""
    p_mcnemar: float | None
    p_holm: float | None
    significant: bool
    """Holm-adjusted McNemar p < 0.05."""
    consistency: float | None
    """Share of paired items answered alike (both right or both wrong)."""
    data_sha256: str


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
    """One-sided binomial p that acc_orig exceeds chance."""
    at_chance: bool
    data_sha256: str
    gap: float | None
    gap_ci_low: float | None
    gap_ci_high: float | None
    acc_orig_paired: float | None
    acc_variant: float | None
    significant: bool
    """The benchmark gap's 95% CI excludes 0."""
    in_headline: bool
    variants: list[VariantGap] = field(default_factory=list)


@dataclass
class Headline:
    shadow_gap: float | None
    ci_low: float | None
    ci_high: float | None
    relative_gap: float | None
    relative_ci_low: float | None
    relative_ci_high: float | None
    benchmark_score: float | None
    ood_score: float | None
    benchmarks: list[str]
    excluded: dict[str, str]
    """Benchmark -> why it is not in the headline."""
    significant: bool
    verdict: str
    evidence: list[str]


@dataclass
class GapAnalysis:
    headline: Headline
    benchmarks: list[BenchmarkGap]
    n_boot: int
    seed: int
    confidence: float


def _num(x: float | np.floating | None) -> float | None:
    """JSON-safe float: NaN and inf become None."""
    if x is None:
        return None
    value = float(x)
    return value if math.isfinite(value) else None


def _variant_info(benchmark: str, variant: str) -> tuple[str, str]:
    """(description, skip_reason) from the variants registry, if it is importable."""
    try:
        from shadow_suite.variants import VARIANTS  # optional: written in parallel
    except Exception:
        return ("", "")
    try:
        spec = VARIANTS[benchmark][variant]
    except (KeyError, TypeError, AttributeError):
        return ("", "")
    return (
        str(getattr(spec, "description", "") or ""),
        str(getattr(spec, "skip_reason", "") or ""),
    )


def _chance(orig: TaskSamples) -> float:
    values = [1.0 / n if n > 0 else 0.0 for n in orig.n_choices.values()]
    return float(np.mean(values)) if values else 0.0


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}"


def _analyse_benchmark(
    benchmark: str,
    orig: TaskSamples,
    variants: list[TaskSamples],
    n_boot: int,
    seed: int,
) -> tuple[BenchmarkGap, stats.BootstrapDraws | None]:
    n_orig = len(orig.scores)
    k_orig = int(sum(orig.scores.values()))
    chance = _chance(orig)
    p_chance = stats.above_chance(k_orig, n_orig, chance)
    ci = stats.wilson_interval(k_orig, n_orig)

    rows: list[VariantGap] = []
    paired_tasks: list[TaskSamples] = []
    for task in sorted(variants, key=lambda t: t.variant):
        common = sorted(set(task.scores) & set(orig.scores))
        description, skip_reason = _variant_info(benchmark, task.variant)
        o = np.array([orig.scores[i] for i in common])
        v = np.array([task.scores[i] for i in common])
        b = int(np.sum((o == 1) & (v == 0)))
        c = int(np.sum((o == 0) & (v == 1)))
        n = len(common)
        var_ci = stats.wilson_interval(int(v.sum()), n)
        rows.append(
            VariantGap(
                variant=task.variant,
                task=task.task,
                description=description,
                n_source=task.n_source,
                n_applied=task.n_applied,
                n_skipped=task.n_source - task.n_applied,
                skip_reason=skip_reason,
                n_evaluated=len(task.scores),
                n_paired=n,
                acc_orig=_num(o.mean()) if n else None,
                acc_variant=_num(v.mean()) if n else None,
                acc_variant_ci_low=_num(var_ci[0]),
                acc_variant_ci_high=_num(var_ci[1]),
                gap=_num(o.mean() - v.mean()) if n else None,
                gap_ci_low=None,
                gap_ci_high=None,
                orig_only=b,
                variant_only=c,
                p_mcnemar=stats.mcnemar_exact(b, c) if n else None,
                p_holm=None,
                significant=False,
                consistency=_num(np.mean(o == v)) if n else None,
                data_sha256=task.data_sha256,
            )
        )
        if n:
            paired_tasks.append(task)

    tested = [r for r in rows if r.p_mcnemar is not None]
    for row, p_adj in zip(tested, stats.holm([r.p_mcnemar for r in tested]), strict=True):
        row.p_holm = float(p_adj)
        row.significant = bool(p_adj < ALPHA)

    draws: stats.BootstrapDraws | None = None
    result = BenchmarkGap(
        benchmark=benchmark,
        metric=orig.metric,
        task=orig.task,
        n_orig=n_orig,
        acc_orig=k_orig / n_orig,
        acc_orig_ci_low=ci[0],
        acc_orig_ci_high=ci[1],
        chance=chance,
        p_above_chance=p_chance,
        at_chance=p_chance >= ALPHA,
        data_sha256=orig.data_sha256,
        gap=None,
        gap_ci_low=None,
        gap_ci_high=None,
        acc_orig_paired=None,
        acc_variant=None,
        significant=False,
        in_headline=False,
        variants=rows,
    )
    if paired_tasks:
        ids = sorted(set().union(*(set(t.scores) & set(orig.scores) for t in paired_tasks)))
        index = {item: i for i, item in enumerate(ids)}
        items = stats.PairedItems(
            orig=np.array([orig.scores[i] for i in ids]),
            variant=np.zeros((len(ids), len(paired_tasks))),
            paired=np.zeros((len(ids), len(paired_tasks)), dtype=bool),
        )
        for col, task in enumerate(paired_tasks):
            for item, score in task.scores.items():
                if item in index:
                    items.variant[index[item], col] = score
                    items.paired[index[item], col] = True
        point = stats.point_estimates(items)
        draws = stats.bootstrap_benchmark(
            items, n_boot, stats.benchmark_stream_seed(seed, benchmark)
        )
        by_variant = {r.variant: r for r in rows}
        for col, task in enumerate(paired_tasks):
            low, high = stats.percentile_ci(draws.gap[:, col])
            by_variant[task.variant].gap_ci_low = _num(low)
            by_variant[task.variant].gap_ci_high = _num(high)
        low, high = stats.percentile_ci(draws.bench_gap)
        result.gap = _num(point.bench_gap[0])
        result.gap_ci_low, result.gap_ci_high = _num(low), _num(high)
        result.acc_orig_paired = _num(point.bench_orig_acc[0])
        result.acc_variant = _num(point.bench_variant_acc[0])
        result.significant = bool(
            result.gap_ci_low is not None
            and result.gap_ci_high is not None
            and (result.gap_ci_low > 0 or result.gap_ci_high < 0)
        )
    return result, draws


def _verdict(headline: Headline, benches: list[BenchmarkGap]) -> tuple[str, list[str]]:
    n_sig = sum(v.significant for b in benches for v in b.variants)
    n_var = sum(v.p_holm is not None for b in benches for v in b.variants)
    evidence = [
        f"{b.benchmark}: gap {_pct(b.gap)} points (95% CI {_pct(b.gap_ci_low)} to "
        f"{_pct(b.gap_ci_high)}) over {len([v for v in b.variants if v.n_paired])} variants"
        for b in benches
        if b.in_headline
    ]
    evidence.append(
        f"{n_sig} of {n_var} variants differ from the original significantly "
        "(exact McNemar, Holm-adjusted within each benchmark, p < 0.05)"
    )
    for name, why in headline.excluded.items():
        evidence.append(f"{name} left out of the headline: {why}")
    if headline.shadow_gap is None:
        if any(b.at_chance for b in benches):
            return (
                "No verdict: the model is at chance on the original benchmarks, so a gap "
                "between original and reformatted items means nothing.",
                evidence,
            )
        return ("No verdict: no benchmark has both original and variant results to pair.", evidence)
    ci_text = (
        f"95% CI {_pct(headline.ci_low)} to {_pct(headline.ci_high)} points; relative gap "
        f"{_pct(headline.relative_gap)}%"
    )
    n_bench = len(headline.benchmarks)
    scope = f"averaged over {n_bench} benchmark{'s' if n_bench != 1 else ''}"
    if headline.significant and headline.shadow_gap > 0:
        text = (
            f"Benchmark shadow: the model scores {_pct(headline.shadow_gap)} points lower on "
            f"the same items reformatted than in benchmark form ({ci_text}), {scope}; the "
            "interval excludes zero."
        )
    elif headline.significant:
        text = (
            f"No benchmark shadow: the model scores {_pct(-headline.shadow_gap)} points higher "
            f"on the reformatted items than in benchmark form ({ci_text}), {scope}; the "
            "interval excludes zero."
        )
    else:
        text = (
            f"No significant shadow gap: the gap is {_pct(headline.shadow_gap)} points "
            f"({ci_text}), {scope}, consistent with zero at this sample size."
        )
    return text, evidence


def analyse(
    results: EvalResults, n_boot: int = stats.DEFAULT_N_BOOT, seed: int = stats.DEFAULT_SEED
) -> GapAnalysis:
    """Gap tables per benchmark and variant, and the headline shadow gap."""
    if n_boot < 100:
        raise ValueError("n_boot must be at least 100")
    by_bench: dict[str, list[TaskSamples]] = {}
    for task in results.tasks.values():
        by_bench.setdefault(task.benchmark, []).append(task)

    benches: list[BenchmarkGap] = []
    all_draws: dict[str, stats.BootstrapDraws] = {}
    excluded: dict[str, str] = {}
    for name in sorted(by_bench):
        tasks = by_bench[name]
        orig = next((t for t in tasks if t.variant == ORIG), None)
        if orig is None:
            excluded[name] = "no original (orig) results to pair with"
            continue
        variants = [t for t in tasks if t.variant != ORIG]
        bench, draws = _analyse_benchmark(name, orig, variants, n_boot, seed)
        benches.append(bench)
        if bench.gap is None:
            excluded[name] = "no variant item paired with an original item"
        elif bench.at_chance:
            excluded[name] = (
                f"original accuracy {_pct(bench.acc_orig)}% is not significantly above "
                f"chance {_pct(bench.chance)}% (one-sided binomial p = {bench.p_above_chance:.2g})"
            )
        elif draws is not None:
            bench.in_headline = True
            all_draws[name] = draws

    included = [b for b in benches if b.in_headline]
    if included:
        gap_draws = np.mean([all_draws[b.benchmark].bench_gap for b in included], axis=0)
        orig_draws = np.mean([all_draws[b.benchmark].bench_orig_acc for b in included], axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            rel_draws = gap_draws / orig_draws
        gap = float(np.mean([b.gap for b in included]))
        score = float(np.mean([b.acc_orig_paired for b in included]))
        ood = float(np.mean([b.acc_variant for b in included]))
        low, high = stats.percentile_ci(gap_draws)
        rlow, rhigh = stats.percentile_ci(rel_draws)
        headline = Headline(
            shadow_gap=gap,
            ci_low=_num(low),
            ci_high=_num(high),
            relative_gap=_num(gap / score) if score > 0 else None,
            relative_ci_low=_num(rlow),
            relative_ci_high=_num(rhigh),
            benchmark_score=score,
            ood_score=ood,
            benchmarks=[b.benchmark for b in included],
            excluded=excluded,
            significant=bool(low > 0 or high < 0),
            verdict="",
            evidence=[],
        )
    else:
        headline = Headline(
            None, None, None, None, None, None, None, None, [], excluded, False, "", []
        )
    headline.verdict, headline.evidence = _verdict(headline, benches)
    return GapAnalysis(
        headline=headline,
        benchmarks=benches,
        n_boot=n_boot,
        seed=seed,
        confidence=stats.CONFIDENCE,
    )
