"""The memorization test: does the model find the test items more familiar than their twins?

A model trained on a benchmark's test items finds them more familiar than *twins*, items of the
same distribution the test never scores (``Benchmark.twin_split``), beyond what its references
find; a model that merely improved finds both alike more familiar. Input: the per-item
familiarity record (:mod:`shadow_suite.gap.familiarity`) of the target and of each reference.

Per item i (a test item or a twin) and feature f (:data:`FEATURES`):

    x_i = f(target, i) - mean_j f(reference_j, i)     with references (the base, trusted peers)
    x_i = f(target, i)                                 without: split differences not controlled

Per benchmark, the statistic is S = mean of x over the test items - mean over the twins.

- **Test**: one-sided permutation test that exchanges the test/twin labels (``n_perm`` random
  relabellings of the same items, sizes kept), p = (1 + #{S* >= S}) / (1 + n_perm). For a model
  trained on neither set the labels are exchangeable, and then P(p <= alpha) <= alpha exactly,
  at any sample size: the false-positive rate holds by construction.
- **CI**: percentile bootstrap resampling the test items and the twins apart (each set with
  replacement at its own size); x_i holds the target and every reference, so they move together.
- **MDE**: the smallest true S the test rejects with 80% power: the permutation null's
  (1 - alpha) quantile plus z_0.8 times the bootstrap standard error.
- **Multiplicity**: Holm across the benchmarks, per feature. The card's claim uses the primary
  feature (:data:`PRIMARY_FEATURE`) only: memorization is *detected* when some benchmark's
  Holm-adjusted p is below alpha (the family-wise error rate over the benchmarks stays at alpha).

Which features, and which is primary, is decided here and nowhere else: on the known-truth
population (models trained on known items), not by taste. Numbers only; the words are
``report/memorization.py``'s.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats as scipy_stats

from shadow_suite.contract import FAMILIARITY_ITEM, task_name
from shadow_suite.errors import ShadowSuiteError
from shadow_suite.gap import stats
from shadow_suite.gap.defaults import ALPHA, CONFIDENCE, DEFAULT_BOOTSTRAP_SEED, DEFAULT_N_BOOT
from shadow_suite.gap.records import ReferenceItems
from shadow_suite.numbers import finite_or_none

Floats = npt.NDArray[np.float64]

# --- the features -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Feature:
    """One per-item familiarity measure, higher = more familiar."""

    name: str
    description: str
    unit: str
    compute: Callable[[pd.DataFrame], Floats]
    """Per row of a familiarity table; NaN where the table lacks what it needs."""


def _bits(nats: pd.Series) -> Floats:
    return np.asarray(nats, dtype=float) / math.log(2)


def _per_byte(loglikelihood: str, n_bytes: str) -> Callable[[pd.DataFrame], Floats]:
    def compute(table: pd.DataFrame) -> Floats:
        size = np.asarray(table[n_bytes], dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            out: Floats = np.where(size > 0, _bits(table[loglikelihood]) / size, np.nan)
        return out

    return compute


def _answer(table: pd.DataFrame) -> Floats:
    gained = _bits(table["item_loglikelihood"]) - _bits(table["prompt_loglikelihood"])
    size = np.asarray(table["item_bytes"], dtype=float) - np.asarray(table["prompt_bytes"])
    with np.errstate(invalid="ignore", divide="ignore"):
        out: Floats = np.where(size > 0, gained / size, np.nan)
    return out


FEATURES: dict[str, Feature] = {
    f.name: f
    for f in (
        Feature(
            "item",
            "log-likelihood per byte of the item as the test presents it (prompt, gold answer)",
            "bits per byte",
            _per_byte("item_loglikelihood", "item_bytes"),
        ),
        Feature(
            "prompt",
            "log-likelihood per byte of the item's prompt alone",
            "bits per byte",
            _per_byte("prompt_loglikelihood", "prompt_bytes"),
        ),
        Feature(
            "answer",
            "log-likelihood the item adds to its prompt's, per byte it adds (for a prompt "
            "followed by its answer: the gold answer's given the prompt)",
            "bits per byte",
            _answer,
        ),
    )
}
"""Every feature measured, in the order the card lists them."""
PRIMARY_FEATURE = "item"
"""The feature of the card's test. A default until the known-truth population has measured
each feature's detection rate at a fixed false-positive rate; change it here only with those
figures (they go in the README beside the verdict's)."""

NotMeasured = Literal["not_evaluated", "no_twin_set", "no_twin_left", "too_few_items"]
"""Why a benchmark has no memorization row: its familiarity tasks were not evaluated; the data
had no twin split for it; every twin row repeated a test question; fewer than two test items
or twins were scored."""
MIN_PER_SET = 2


@dataclass
class MemorizationRow:
    """One benchmark under one feature."""

    benchmark: str
    feature: str
    unit: str
    n_test: int
    n_twin: int
    test_mean: float | None
    """Mean of x over the test items (relative to the references when ``controlled``)."""
    twin_mean: float | None
    excess: float | None
    """test_mean - twin_mean: the statistic S."""
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    """One-sided permutation p (test items more familiar than twins)."""
    p_holm: float | None
    """Holm-adjusted across the benchmarks of this feature."""
    mde: float | None
    """Smallest true excess this test detects with 80% power at alpha."""


@dataclass
class MemorizationAnalysis:
    feature: str
    """The feature of the card's test (``PRIMARY_FEATURE`` when the card was made)."""
    references: list[str]
    controlled: bool
    """x_i is the target's familiarity minus the references' mean: split differences are
    controlled. False: raw familiarity (no reference), which a difference between the two
    splits' texts moves as much as training does."""
    detected: bool
    """Some benchmark's primary row has Holm p < alpha."""
    alpha: float
    n_perm: int
    n_boot: int
    seed: int
    rows: list[MemorizationRow] = field(default_factory=list)
    """Every benchmark under the primary feature, then under each other feature."""
    twins_dropped: dict[str, int] = field(default_factory=dict)
    """Benchmark -> twin rows left out because their question repeats a test question."""
    not_measured: dict[str, NotMeasured] = field(default_factory=dict)
    """Benchmark -> why it has no row."""

    def primary_rows(self) -> list[MemorizationRow]:
        return [r for r in self.rows if r.feature == self.feature]


# --- the statistic ----------------------------------------------------------------------------

Z_POWER_80 = float(scipy_stats.norm.ppf(0.80))
_CHUNK = 256


@dataclass(frozen=True)
class ExcessFamiliarity:
    """The test on one benchmark's values, per feature (columns)."""

    n_test: int
    n_twin: int
    test_mean: Floats
    twin_mean: Floats
    excess: Floats
    ci_low: Floats
    ci_high: Floats
    p_value: Floats
    mde: Floats


def excess_familiarity(
    values: Floats,
    is_test: npt.NDArray[np.bool_],
    n_perm: int,
    n_boot: int,
    rng: np.random.Generator,
    alpha: float = ALPHA,
) -> ExcessFamiliarity:
    """The permutation test, bootstrap CI and MDE of S = mean(test) - mean(twin) for each column
    of ``values`` (items x features; every column the same items), labels ``is_test``. The
    relabellings are shared by the columns, so features are tested on the same draws."""
    x = np.asarray(values, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    labels = np.asarray(is_test, dtype=bool)
    n_test, n_twin = int(labels.sum()), int((~labels).sum())
    if n_test < 1 or n_twin < 1 or not np.all(np.isfinite(x)):
        raise ValueError("need at least one test item and one twin, and finite values")
    test_x, twin_x = x[labels], x[~labels]
    point = test_x.mean(axis=0) - twin_x.mean(axis=0)
    total = x.sum(axis=0)
    null = np.empty((n_perm, x.shape[1]))
    base = np.zeros(x.shape[0])
    base[:n_test] = 1.0
    for start in range(0, n_perm, _CHUNK):
        size = min(_CHUNK, n_perm - start)
        relabelled = rng.permuted(np.tile(base, (size, 1)), axis=1)
        in_test = relabelled @ x
        null[start : start + size] = in_test / n_test - (total - in_test) / n_twin
    boot = np.empty((n_boot, x.shape[1]))
    test_draws = stats._resample_counts(rng, n_boot, n_test)
    twin_draws = stats._resample_counts(rng, n_boot, n_twin)
    for (start, test_counts), (_, twin_counts) in zip(test_draws, twin_draws, strict=True):
        boot[start : start + len(test_counts)] = (test_counts @ test_x) / n_test - (
            twin_counts @ twin_x
        ) / n_twin
    p_values = np.array(
        [stats.permutation_p(float(point[k]), null[:, k]) for k in range(x.shape[1])]
    )
    low = np.quantile(boot, (1 - CONFIDENCE) / 2, axis=0)
    high = np.quantile(boot, 1 - (1 - CONFIDENCE) / 2, axis=0)
    mde = np.quantile(null, 1 - alpha, axis=0) + Z_POWER_80 * boot.std(axis=0)
    return ExcessFamiliarity(
        n_test,
        n_twin,
        test_x.mean(axis=0),
        twin_x.mean(axis=0),
        point,
        low,
        high,
        p_values,
        mde,
    )


# --- pairing the target with its references ---------------------------------------------------


def check_reference_familiarity(ref: ReferenceItems, benchmark: str) -> pd.DataFrame:
    """The reference's familiarity record, which must hold ``benchmark``; one line naming the
    reference for one evaluated without the familiarity tasks (also what ``run --reference``
    checks before evaluating anything)."""
    table = ref.familiarity
    if table is None or not (table["benchmark"] == benchmark).any():
        raise ShadowSuiteError(
            f"reference {ref.name!r} ({ref.source}) was evaluated without the familiarity tasks "
            f"({task_name(benchmark, FAMILIARITY_ITEM)}), which the target has; evaluate it "
            "with them (shadow-suite run does by default) or leave it out"
        )
    return table


def _reference_table(ref: ReferenceItems, benchmark: str, ids: list[str]) -> pd.DataFrame:
    """The reference's familiarity rows of ``ids`` in that order; one line naming the
    reference for one that was evaluated without the familiarity tasks or on other items."""
    where = f"reference {ref.name!r} ({ref.source})"
    indexed = check_reference_familiarity(ref, benchmark).set_index("shadow_id")
    lacking = [i for i in ids if i not in indexed.index]
    if lacking:
        raise ShadowSuiteError(
            f"{where} lacks {len(lacking)} of the target's {len(ids)} familiarity items of "
            f"{benchmark} (e.g. {lacking[0]}); evaluate it with the same seed and --limit"
        )
    return indexed.loc[ids].reset_index()


def _check_same_files(target: pd.DataFrame, ref: pd.DataFrame, name: str, source: str) -> None:
    differ = target["data_sha256"].to_numpy() != ref["data_sha256"].to_numpy()
    if differ.any():
        item = str(target["shadow_id"].iloc[int(np.argmax(differ))])
        raise ShadowSuiteError(
            f"reference {name!r} ({source}): familiarity item {item} comes from another data "
            "file than the target's; evaluate both on the same data"
        )


def memorization_test(
    target: pd.DataFrame,
    references: Sequence[ReferenceItems] = (),
    *,
    benchmarks: Sequence[str] = (),
    n_perm: int = DEFAULT_N_BOOT,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = DEFAULT_BOOTSTRAP_SEED,
    alpha: float = ALPHA,
    primary: str = PRIMARY_FEATURE,
    features: Sequence[str] = tuple(FEATURES),
) -> MemorizationAnalysis:
    """The memorization test of a target's familiarity record (``familiarity.parquet``'s table)
    against the references' (``ReferenceItems.familiarity``, paired by ``shadow_id``).

    ``benchmarks``: benchmarks the target was evaluated on; those absent from its familiarity
    record are listed as not measured. A reference without the familiarity tasks, or on other
    items or data, is refused in one line."""
    if primary not in features or any(f not in FEATURES for f in features):
        raise ValueError(f"unknown feature among {primary!r}, {list(features)}")
    ordered = [primary] + [f for f in features if f != primary]
    analysis = MemorizationAnalysis(
        feature=primary,
        references=[r.name for r in references],
        controlled=bool(references),
        detected=False,
        alpha=alpha,
        n_perm=n_perm,
        n_boot=n_boot,
        seed=seed,
    )
    measured: dict[str, ExcessFamiliarity] = {}
    usable: dict[str, list[str]] = {}
    for benchmark in sorted(set(target["benchmark"])):
        mine = target[target["benchmark"] == benchmark].sort_values("shadow_id")
        analysis.twins_dropped[benchmark] = int(mine["twins_dropped"].max())
        is_test = (mine["set"] == "test").to_numpy()
        if not (~is_test).any():
            dropped = analysis.twins_dropped[benchmark] > 0
            analysis.not_measured[benchmark] = "no_twin_left" if dropped else "no_twin_set"
            continue
        if is_test.sum() < MIN_PER_SET or (~is_test).sum() < MIN_PER_SET:
            analysis.not_measured[benchmark] = "too_few_items"
            continue
        ids = mine["shadow_id"].tolist()
        theirs = [_reference_table(r, benchmark, ids) for r in references]
        for ref, table in zip(references, theirs, strict=True):
            _check_same_files(mine, table, ref.name, ref.source)
        columns, names = [], []
        for name in ordered:
            x = FEATURES[name].compute(mine)
            if theirs:
                x = x - np.mean([FEATURES[name].compute(t) for t in theirs], axis=0)
            if np.all(np.isfinite(x)):  # a feature needing the prompt task that did not run
                columns.append(x)
                names.append(name)
        if primary not in names:
            analysis.not_measured[benchmark] = "not_evaluated"
            continue
        rng = stats.benchmark_stream_seed(seed, benchmark + "/memorization")
        measured[benchmark] = excess_familiarity(
            np.column_stack(columns), is_test, n_perm, n_boot, rng, alpha
        )
        usable[benchmark] = names
    for benchmark in benchmarks:
        if benchmark not in measured and benchmark not in analysis.not_measured:
            analysis.not_measured[benchmark] = "not_evaluated"
    for name in ordered:
        rows = [
            _row(benchmark, name, result, usable[benchmark].index(name))
            for benchmark, result in measured.items()
            if name in usable[benchmark]
        ]
        adjusted = stats.holm([1.0 if r.p_value is None else r.p_value for r in rows])
        for row, p_adj in zip(rows, adjusted, strict=True):
            row.p_holm = float(p_adj)
        analysis.rows += rows
    analysis.detected = any(
        r.p_holm is not None and r.p_holm < alpha for r in analysis.primary_rows()
    )
    return analysis


def _row(benchmark: str, name: str, result: ExcessFamiliarity, col: int) -> MemorizationRow:
    return MemorizationRow(
        benchmark=benchmark,
        feature=name,
        unit=FEATURES[name].unit,
        n_test=result.n_test,
        n_twin=result.n_twin,
        test_mean=finite_or_none(result.test_mean[col]),
        twin_mean=finite_or_none(result.twin_mean[col]),
        excess=finite_or_none(result.excess[col]),
        ci_low=finite_or_none(result.ci_low[col]),
        ci_high=finite_or_none(result.ci_high[col]),
        p_value=float(result.p_value[col]),
        p_holm=None,
        mde=finite_or_none(result.mde[col]),
    )


def memorization_from_eval(
    target: str | Path,
    references: Sequence[str | Path] = (),
    *,
    n_perm: int = DEFAULT_N_BOOT,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = DEFAULT_BOOTSTRAP_SEED,
    alpha: float = ALPHA,
    primary: str = PRIMARY_FEATURE,
) -> MemorizationAnalysis:
    """The memorization test of one model's lm-eval output folder against its references'
    (each an lm-eval output folder of the same tasks, seed and sample, or a card folder): what a
    population script calls for one target and its base. The options are
    :func:`memorization_test`'s.

    The references are read and checked as ``report --reference`` reads them (a card's
    familiarity record must be its own model's; the target cannot be its own reference; one
    model given twice counts once, with a warning), so a script and a card agree."""
    import warnings

    from shadow_suite.gap.familiarity import familiarity_from_samples
    from shadow_suite.gap.items import items_from_results
    from shadow_suite.gap.lm_eval_output import load_results

    # report's reader and identity checks, imported here: report builds on gap, not the reverse
    from shadow_suite.report.card import load_reference
    from shadow_suite.report.identity_checks import distinct_references

    results = load_results([target])
    familiarity = familiarity_from_samples(results.familiarity)
    folders = [p for r in results.runs for p in Path(r.results_file).parents[:2]]
    refs, repeats = distinct_references(
        [load_reference(folder) for folder in references],
        items_from_results(results),
        results.model_identity,
        folders,
        familiarity,
    )
    for repeat in repeats:
        warnings.warn(repeat, stacklevel=2)
    return memorization_test(
        familiarity,
        refs,
        benchmarks=sorted({t.benchmark for t in results.tasks.values()}),
        n_perm=n_perm,
        n_boot=n_boot,
        seed=seed,
        alpha=alpha,
        primary=primary,
    )
