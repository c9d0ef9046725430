"""Paired statistics for benchmark-vs-variant accuracy: pure functions on numpy arrays.

Everything here works on 0/1 correctness vectors of items paired by their stable id, so
the tests can check each number against a hand computation.

- ``mcnemar_exact``: exact (binomial) McNemar test on the discordant pairs.
- ``holm``: Holm's step-down adjustment of a family of p-values.
- ``bootstrap_benchmark``: one vectorised paired bootstrap over the items of a benchmark
  that yields, per resample, every per-variant and per-benchmark number the card shows.
- ``above_chance``: one-sided binomial test that accuracy exceeds the chance level.
- ``wilson_interval``: a 95% interval for a plain accuracy.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from shadow_suite.gap.defaults import CONFIDENCE, DEFAULT_BOOTSTRAP_SEED, DEFAULT_N_BOOT

# resamples per chunk: bounds memory at chunk x n_items counts (MMLU: 500 x 14k floats)
_CHUNK = 500

Counts = npt.NDArray[np.intp]


def mcnemar_exact(orig_only: int, variant_only: int) -> float:
    """Two-sided exact McNemar p-value.

    ``orig_only`` (b) counts pairs right on the original and wrong on the variant,
    ``variant_only`` (c) the reverse. Under no difference each discordant pair is a fair
    coin, so p is the two-sided binomial test of b successes in b + c trials at 1/2.
    With no discordant pair there is no evidence either way: p = 1.
    """
    if orig_only < 0 or variant_only < 0:
        raise ValueError("discordant counts must be non-negative")
    n = orig_only + variant_only
    if n == 0:
        return 1.0
    return float(stats.binomtest(orig_only, n, 0.5, alternative="two-sided").pvalue)


def holm(p_values: list[float] | np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values (controls the family-wise error rate).

    Sort ascending; the i-th smallest (0-based) is multiplied by (m - i), then a running
    maximum keeps the adjusted values monotone, and everything is capped at 1.
    """
    p = np.asarray(p_values, dtype=float)
    m = p.size
    if m == 0:
        return p.copy()
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted_sorted = np.maximum.accumulate(scaled)
    out = np.empty(m)
    out[order] = adjusted_sorted
    return out


def wilson_interval(successes: int, n: int) -> tuple[float, float]:
    """95% Wilson score interval for an accuracy; (nan, nan) when there are no items."""
    if n == 0:
        return (float("nan"), float("nan"))
    ci = stats.binomtest(successes, n).proportion_ci(confidence_level=CONFIDENCE, method="wilson")
    return (float(ci.low), float(ci.high))


def clopper_pearson(successes: int, n: int, level: float = CONFIDENCE) -> tuple[float, float]:
    """Exact binomial interval for an error rate measured on n models ((nan, nan) for n = 0):
    at k = 0 or k = n it stays honest where Wilson's would be optimistic."""
    if n == 0:
        return (float("nan"), float("nan"))
    a = (1 - level) / 2
    low = 0.0 if successes == 0 else float(stats.beta.ppf(a, successes, n - successes + 1))
    high = 1.0 if successes == n else float(stats.beta.ppf(1 - a, successes + 1, n - successes))
    return (low, high)


def above_chance(successes: int, n: int, chance: float) -> float:
    """One-sided p-value that accuracy exceeds ``chance`` (binomial test, 'greater').

    With chance 0 (free-form generation) a single correct item is already above chance;
    no correct item gives p = 1.
    """
    if n == 0:
        return 1.0
    if chance <= 0.0:
        return 0.0 if successes > 0 else 1.0
    if chance >= 1.0:
        return 1.0
    return float(stats.binomtest(successes, n, chance, alternative="greater").pvalue)


@dataclass(frozen=True)
class PairedItems:
    """One benchmark's items as a matrix: rows are source items, columns variants.

    ``orig[i]`` is 1 when the model got item i right in benchmark form; ``variant[i, v]``
    when it got the v-th variant of item i right; ``paired[i, v]`` is True where item i has
    both an original and a v-th variant result (variants skip some items).
    """

    orig: np.ndarray  # (n_items,) float 0/1
    variant: np.ndarray  # (n_items, n_variants) float 0/1 (0 where not paired)
    paired: np.ndarray  # (n_items, n_variants) bool


@dataclass(frozen=True)
class BootstrapDraws:
    """Per-resample statistics of one benchmark (arrays of length n_boot).

    Per variant (n_boot, n_variants): accuracy on the original and on the variant over the
    paired items, and the gap. Per benchmark (n_boot,): the same pooled as the plain mean
    over variants. NaN where a resample drew no paired item for a variant.
    """

    orig_acc: np.ndarray
    variant_acc: np.ndarray
    gap: np.ndarray
    bench_orig_acc: np.ndarray
    bench_variant_acc: np.ndarray
    bench_gap: np.ndarray


def _pooled(per_variant: np.ndarray) -> np.ndarray:
    # mean over variants; a NaN variant (no pairs drawn) makes that resample NaN
    pooled: np.ndarray = per_variant.mean(axis=-1)
    return pooled


def benchmark_stream_seed(seed: int, benchmark: str) -> np.random.Generator:
    """A generator for one benchmark, independent of which other benchmarks are present."""
    return np.random.default_rng([seed, zlib.crc32(benchmark.encode("utf-8"))])


def _resample_counts(
    rng: np.random.Generator, n_draws: int, n_items: int
) -> Iterator[tuple[int, Counts]]:
    """Per chunk of at most ``_CHUNK`` bootstrap draws: (first draw's index, the counts of each
    item in each draw, shape (chunk, n_items)), items drawn with replacement."""
    done = 0
    while done < n_draws:
        size = min(_CHUNK, n_draws - done)
        idx = rng.integers(0, n_items, size=(size, n_items))
        flat = (idx + (np.arange(size) * n_items)[:, None]).ravel()
        yield done, np.bincount(flat, minlength=size * n_items).reshape(size, n_items)
        done += size


def point_estimates(items: PairedItems) -> BootstrapDraws:
    """The statistics on the data itself (every item weighted once), shaped like one draw."""
    return _weighted(items, np.ones((1, items.orig.size)))


def _design(items: PairedItems) -> np.ndarray:
    """Columns [orig where paired | variant where paired | paired], one matrix so that a
    resample's sums come from a single product. float32 is exact here: every sum is an
    integer below 2**24 (at most n_items per resample)."""
    mask = items.paired.astype(np.float32)
    return np.hstack(
        [
            items.orig[:, None].astype(np.float32) * mask,
            items.variant.astype(np.float32) * mask,
            mask,
        ]
    )


def _weighted(
    items: PairedItems, weights: np.ndarray, design: np.ndarray | None = None
) -> BootstrapDraws:
    design = _design(items) if design is None else design
    n_var = items.paired.shape[1]
    sums = (weights.astype(np.float32) @ design).astype(np.float64)
    s_orig, s_var, n = sums[:, :n_var], sums[:, n_var : 2 * n_var], sums[:, 2 * n_var :]
    with np.errstate(invalid="ignore", divide="ignore"):
        orig_acc = s_orig / n
        variant_acc = s_var / n
    gap = orig_acc - variant_acc
    return BootstrapDraws(
        orig_acc=orig_acc,
        variant_acc=variant_acc,
        gap=gap,
        bench_orig_acc=_pooled(orig_acc),
        bench_variant_acc=_pooled(variant_acc),
        bench_gap=_pooled(gap),
    )


def bootstrap_benchmark(
    items: PairedItems, n_boot: int, rng: np.random.Generator
) -> BootstrapDraws:
    """Paired bootstrap: resample source items with replacement, keep each item's pairs.

    Resampling whole items (not pairs per variant) keeps the correlation between an item's
    original and its variants, and between variants of the same item, so one set of draws
    serves the per-variant CIs and the pooled benchmark CI. Counts per item are built with
    ``bincount`` in chunks and applied by matrix products, so memory stays at
    chunk x n_items.
    """
    n_items = items.orig.size
    if n_items == 0:
        raise ValueError("no items to resample")
    design = _design(items)
    parts = [
        _weighted(items, counts.astype(np.float32), design)
        for _, counts in _resample_counts(rng, n_boot, n_items)
    ]
    return BootstrapDraws(
        *(
            np.concatenate([getattr(p, f) for p in parts])
            for f in BootstrapDraws.__dataclass_fields__
        )
    )


def percentile_ci(draws: np.ndarray) -> tuple[float, float]:
    """Percentile 95% interval along axis 0, ignoring NaN draws; (nan, nan) if all NaN."""
    finite = draws[np.isfinite(draws)]
    if finite.size == 0:
        return (float("nan"), float("nan"))
    alpha = (1.0 - CONFIDENCE) / 2.0
    low, high = np.quantile(finite, [alpha, 1.0 - alpha])
    return (float(low), float(high))


def paired_bootstrap_ci(
    orig: np.ndarray,
    variant: np.ndarray,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = DEFAULT_BOOTSTRAP_SEED,
) -> tuple[float, float]:
    """95% percentile CI of mean(orig - variant) for one set of fully paired items."""
    orig = np.asarray(orig, dtype=float)
    variant = np.asarray(variant, dtype=float)
    items = PairedItems(
        orig=orig, variant=variant[:, None], paired=np.ones((orig.size, 1), dtype=bool)
    )
    draws = bootstrap_benchmark(items, n_boot, np.random.default_rng(seed))
    return percentile_ci(draws.gap[:, 0])


# -- interval, floor, power and permutation helpers of the gated, family-level analysis --

Z_POWER_80 = float(stats.norm.ppf(0.80))
"""z of 80% power: the minimum detectable effect is (z_{1-alpha/2} + z_0.8) x its SE."""


def paired_interval_from_margins(
    orig_only: int,
    variant_only: int,
    n: int,
    both_right: int | None,
    confidence: float = CONFIDENCE,
) -> tuple[float, float]:
    """Newcombe's method 10 with all four cells (a = both right, b, c, d = both wrong).

    ``both_right`` None: phi is set to 0 (no correlation correction), which widens the
    interval, never narrows it.
    """
    z = float(stats.norm.ppf(0.5 + confidence / 2.0))
    b, c = orig_only, variant_only
    a = 0 if both_right is None else both_right
    p1, p2 = (a + b) / n, (a + c) / n

    def wilson(x: int, m: int) -> tuple[float, float]:
        centre = (x + z * z / 2) / (m + z * z)
        half = z * np.sqrt(x * (m - x) / m + z * z / 4) / (m + z * z)
        return (float(centre - half), float(centre + half))

    l1, u1 = wilson(a + b, n)
    l2, u2 = wilson(a + c, n)
    phi = 0.0
    if both_right is not None:
        d = n - a - b - c
        denominator = (a + b) * (c + d) * (a + c) * (b + d)
        if denominator > 0:
            phi = (a * d - b * c) / np.sqrt(denominator)
            if a * d - b * c > 0:
                phi = max(a * d - b * c - n / 2, 0.0) / np.sqrt(denominator)
    diff = p1 - p2
    low = diff - np.sqrt(
        max((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2, 0.0)
    )
    high = diff + np.sqrt(
        max((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2, 0.0)
    )
    return (float(max(low, -1.0)), float(min(high, 1.0)))


def above_floor(per_item: np.ndarray, floor: float) -> float:
    """One-sided p that the mean of ``per_item`` (each item's accuracy pooled over its two
    forms: 0, 0.5 or 1) exceeds ``floor``: a t-test on items, so the two answers of one item
    count as one observation (they are not independent)."""
    values = np.asarray(per_item, dtype=float)
    if values.size == 0:
        return 1.0
    mean = float(values.mean())
    if values.size < 2 or float(values.std()) == 0.0:
        return 0.0 if mean > floor else 1.0
    result = stats.ttest_1samp(values, floor, alternative="greater")
    return float(result.pvalue)


def minimum_detectable(se: float | None, confidence: float = CONFIDENCE) -> float | None:
    """Smallest true effect a two-sided interval at ``confidence`` excludes 0 for with 80%
    probability, given the estimate's standard error."""
    if se is None or not np.isfinite(se):
        return None
    return float((stats.norm.ppf(0.5 + confidence / 2.0) + Z_POWER_80) * se)


def masked_mean_draws(
    values: np.ndarray, mask: np.ndarray, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    """Bootstrap draws (n_boot, n_cells) of each column's mean over its masked rows.

    Rows are source items and are resampled whole, so the cells of one item move together
    (and, where ``values`` already combines several models, so do the models).
    """
    n_items = values.shape[0]
    if n_items == 0:
        raise ValueError("no items to resample")
    weighted = np.where(mask, values, 0.0)
    masked = mask.astype(float)
    out = np.empty((n_boot, values.shape[1]))
    for start, counts in _resample_counts(rng, n_boot, n_items):
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start : start + len(counts)] = (counts @ weighted) / (counts @ masked)
    return out


def sign_flip_draws(
    values: np.ndarray, mask: np.ndarray, n_perm: int, rng: np.random.Generator
) -> np.ndarray:
    """Permutation draws (n_perm, n_cells) of each column's masked mean when every item's
    row has its sign flipped at random (all cells of an item together): the null
    distribution of a paired difference that is symmetric around 0."""
    weighted = np.where(mask, values, 0.0)
    n = mask.sum(axis=0).astype(float)
    out = np.empty((n_perm, values.shape[1]))
    done = 0
    while done < n_perm:
        size = min(_CHUNK, n_perm - done)
        signs = rng.choice(np.array([-1.0, 1.0]), size=(size, values.shape[0]))
        with np.errstate(invalid="ignore", divide="ignore"):
            out[done : done + size] = (signs @ weighted) / n
        done += size
    return out


def permutation_p(observed: float, null_draws: np.ndarray) -> float:
    """One-sided p (observed large) with the +1 correction, so p is never 0."""
    finite = null_draws[np.isfinite(null_draws)]
    return float((1 + np.sum(finite >= observed - 1e-12)) / (1 + finite.size))


def poisson_binomial_sf(k: int, probabilities: np.ndarray) -> float:
    """P(T >= k) for T a sum of independent Bernoulli(p_i) (exact, by convolution)."""
    dist = np.zeros(len(probabilities) + 1)
    dist[0] = 1.0
    for p in probabilities:
        dist[1:] = dist[1:] * (1 - p) + dist[:-1] * p
        dist[0] *= 1 - p
    return float(min(1.0, max(0.0, dist[k:].sum())))
