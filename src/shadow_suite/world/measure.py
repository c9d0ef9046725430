"""Error rates measured on a population of known truth: every member's card against the
base (the reference), then how often each truth gets each answer.

Two pieces of evidence are measured separately, as the card keeps them apart:

- the reformatting **verdict** (``benchmark_specific`` or not): its false-positive rate on
  clean members, its detection rate on aligned members and per dose on contaminated ones,
  and what it says about members contaminated in every format (it should not see them);
- the **memorization** test (test items more familiar than their twins): its false-positive
  rate on clean and aligned members (neither saw a test item), its detection rate per dose.

Every rate is k of n with its Clopper-Pearson 95% interval.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from shadow_suite.error_rates import MeasuredRate
from shadow_suite.errors import ShadowSuiteError
from shadow_suite.gap.stats import clopper_pearson
from shadow_suite.report.words import measured_rate

VERDICT_POSITIVE = "benchmark_specific"
STRONG_GAIN = 0.20
"""Orig accuracy gain (share) over the base that makes a contamination "strong"."""
MARGINS = tuple(round(0.01 * k, 2) for k in range(0, 31))
"""Verdict margins of the ROC (shares: 0.02 = 2 points)."""


def rate(hits: Sequence[bool]) -> MeasuredRate:
    """k of n hits, with the Clopper-Pearson 95% interval."""
    k, n = sum(hits), len(hits)
    low, high = clopper_pearson(k, n)
    return MeasuredRate(k, n, low, high)


@dataclass(frozen=True)
class MemberOutcome:
    """What one member's card against the base says."""

    name: str
    regime: str
    truth: str
    dose: str
    verdict_class: str | None
    delta: float | None
    delta_ci_low: float | None
    p_value: float | None
    orig_gain: dict[str, float]
    """Benchmark -> orig accuracy minus the base's (shares)."""
    memorization_detected: bool | None
    memorization_p: float | None
    """The smallest Holm-adjusted p of the primary feature's rows."""
    memorization_excess: float | None
    error: str | None = None
    families: dict[str, dict[str, float | None]] = field(default_factory=dict)
    """Family -> its delta against the base, interval and Holm p (the verdict's pieces)."""
    memorization_by_feature: dict[str, bool] = field(default_factory=dict)
    """Familiarity feature -> whether some benchmark's row under it has Holm p < alpha (the
    card tests the primary feature only; the others are measured here to choose it)."""

    @property
    def called(self) -> bool:
        return self.verdict_class == VERDICT_POSITIVE

    def positive_at(self, margin: float, alpha: float = 0.05) -> bool:
        """The verdict's rule at another margin: CI lower bound above it and p below alpha."""
        if self.delta_ci_low is None or self.p_value is None:
            return False
        return self.delta_ci_low > margin and self.p_value < alpha


def orig_accuracy(eval_dir: Path) -> dict[str, float]:
    from shadow_suite.gap.lm_eval_output import load_results

    results = load_results([eval_dir])
    return {
        t.benchmark: sum(t.scores.values()) / len(t.scores)
        for t in results.tasks.values()
        if t.variant == "orig" and t.scores
    }


def member_outcome(
    name: str,
    regime: str,
    truth: str,
    dose: str,
    eval_dir: Path,
    base_eval: Path,
    base_orig: dict[str, float],
) -> MemberOutcome:
    """The member's card against the base; ``base_orig`` is :func:`orig_accuracy` of the
    base (read once for the whole population, not once per member)."""
    from shadow_suite.report.card import build_card

    try:
        card = build_card([eval_dir], references=[base_eval])
    except ShadowSuiteError as err:
        return MemberOutcome(
            name, regime, truth, dose, None, None, None, None, {}, None, None, None, str(err)
        )
    gain = {
        b.benchmark: b.acc_orig - base_orig[b.benchmark]
        for b in card.gap.benchmarks
        if b.benchmark in base_orig
    }
    h = card.gap.headline
    reference = card.gap.reference
    families = {
        f.family: {"delta": f.delta, "ci_low": f.ci_low, "ci_high": f.ci_high, "p_holm": f.p_holm}
        for f in ([] if reference is None else reference.families)
    }
    memo = card.memorization
    rows = [] if memo is None else [r for r in memo.primary_rows() if r.p_holm is not None]
    best = min(rows, key=lambda r: r.p_holm or 1.0) if rows else None
    by_feature: dict[str, bool] = {}
    if memo is not None:
        for row in memo.rows:
            hit = row.p_holm is not None and row.p_holm < memo.alpha
            by_feature[row.feature] = by_feature.get(row.feature, False) or hit
    return MemberOutcome(
        name,
        regime,
        truth,
        dose,
        h.verdict_class,
        h.delta,
        h.delta_ci_low,
        h.p_value,
        gain,
        None if memo is None else memo.detected,
        None if best is None else best.p_holm,
        None if best is None else best.excess,
        families=families,
        memorization_by_feature=by_feature,
    )


@dataclass(frozen=True)
class Measured:
    verdict_classes: dict[str, dict[str, int]]
    """Truth -> verdict class -> members."""
    verdict_false_positive: MeasuredRate
    """Clean members called ``benchmark_specific``."""
    verdict_detection_aligned: MeasuredRate
    verdict_detection_contaminated: MeasuredRate
    verdict_detection_per_dose: dict[str, MeasuredRate]
    verdict_detection_strong: MeasuredRate
    """Contaminated members whose orig accuracy rose by ``STRONG_GAIN`` or more over the base
    on some benchmark (the issue's goal: >= 80% of these called)."""
    verdict_on_all_formats: dict[str, int]
    """Verdict classes of members contaminated in every format (invisible to it by design)."""
    memorization_false_positive: MeasuredRate
    """Clean and aligned members (no test item seen) whose memorization test fired."""
    memorization_detection_per_dose: dict[str, MeasuredRate]
    """Contaminated members (either kind) detected, by dose."""
    roc: list[dict[str, float | None]]
    """Verdict margin -> detection (contaminated and aligned) and false-positive rates."""
    memorization_features: dict[str, dict[str, MeasuredRate]]
    """Feature -> its false-positive rate (clean and aligned) and detection rate (every
    contaminated member), had the test used it."""
    family_shares: dict[str, dict[str, int]]
    """Truth -> family -> members called ``benchmark_specific`` whose family's own delta
    interval lies above zero (which families carry the positive verdicts)."""
    errors: dict[str, str] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        out: dict[str, Any] = json.loads(json.dumps(asdict(self)))
        return out

    def lines(self) -> list[str]:
        out = [
            f"verdict classes by truth: {json.dumps(self.verdict_classes)}",
            f"verdict false-positive rate (clean called {VERDICT_POSITIVE}): "
            f"{measured_rate(self.verdict_false_positive)}",
            f"verdict detection, aligned: {measured_rate(self.verdict_detection_aligned)}",
            f"verdict detection, contaminated: {measured_rate(self.verdict_detection_contaminated)}",
        ]
        out += [
            f"  {dose}: {measured_rate(r)}" for dose, r in self.verdict_detection_per_dose.items()
        ]
        out.append(
            f"  orig +{100 * STRONG_GAIN:.0f} points or more: {measured_rate(self.verdict_detection_strong)}"
        )
        out.append(f"verdict on contaminated-in-every-format: {self.verdict_on_all_formats}")
        out.append(
            "memorization false-positive rate (clean and aligned): "
            f"{measured_rate(self.memorization_false_positive)}"
        )
        out += [
            f"  memorization detection {dose}: {measured_rate(r)}"
            for dose, r in self.memorization_detection_per_dose.items()
        ]
        out += [
            f"  memorization feature {name}: false positives {measured_rate(r['false_positive'])}, "
            f"detection {measured_rate(r['detection'])}"
            for name, r in self.memorization_features.items()
        ]
        out.append(f"families carrying the positive verdicts: {json.dumps(self.family_shares)}")
        out += [f"  error {name}: {e}" for name, e in self.errors.items()]
        return out


def measure(outcomes: Sequence[MemberOutcome]) -> Measured:
    by_truth: dict[str, list[MemberOutcome]] = {}
    for o in outcomes:
        by_truth.setdefault(o.truth, []).append(o)
    clean = by_truth.get("clean", [])
    aligned = by_truth.get("aligned", [])
    dirty = by_truth.get("contaminated", [])
    everywhere = by_truth.get("contaminated_all_formats", [])
    classes = {
        truth: _count([str(o.verdict_class) for o in members])
        for truth, members in sorted(by_truth.items())
    }
    per_dose: dict[str, list[MemberOutcome]] = {}
    for o in dirty:
        per_dose.setdefault(o.dose, []).append(o)
    memo_dose: dict[str, list[MemberOutcome]] = {}
    for o in dirty + everywhere:
        memo_dose.setdefault(f"{o.regime} {o.dose}", []).append(o)
    positives = dirty + aligned
    roc: list[dict[str, float | None]] = [
        {
            "margin": m,
            "detection": rate([o.positive_at(m) for o in positives]).rate,
            "false_positive": rate([o.positive_at(m) for o in clean]).rate,
        }
        for m in MARGINS
    ]
    return Measured(
        classes,
        rate([o.called for o in clean]),
        rate([o.called for o in aligned]),
        rate([o.called for o in dirty]),
        {d: rate([o.called for o in ms]) for d, ms in sorted(per_dose.items())},
        rate([o.called for o in dirty if max(o.orig_gain.values(), default=0.0) >= STRONG_GAIN]),
        _count([str(o.verdict_class) for o in everywhere]),
        rate([bool(o.memorization_detected) for o in clean + aligned]),
        {
            d: rate([bool(o.memorization_detected) for o in ms])
            for d, ms in sorted(memo_dose.items())
        },
        roc,
        {
            feature: {
                "false_positive": rate(
                    [o.memorization_by_feature.get(feature, False) for o in clean + aligned]
                ),
                "detection": rate(
                    [o.memorization_by_feature.get(feature, False) for o in dirty + everywhere]
                ),
            }
            for feature in sorted({f for o in outcomes for f in o.memorization_by_feature})
        },
        {
            truth: _count(
                [
                    family
                    for o in members
                    if o.called
                    for family, f in o.families.items()
                    if (f.get("ci_low") or 0.0) > 0.0
                ]
            )
            for truth, members in sorted(by_truth.items())
        },
        {o.name: o.error for o in outcomes if o.error},
    )


def _count(values: Sequence[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return dict(sorted(out.items()))
