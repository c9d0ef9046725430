"""The typed results of the reference-relative verdict, the calibration and the position test.

Kept apart from the code that computes them so that the card schema, the analysis and each
computation import one definition (shares are fractions: 0.25 = 25 points).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class ReferenceItems:
    """A trusted model evaluated on the same items: its per-item record and where it came from."""

    name: str
    items: pd.DataFrame
    source: str
    n_shot: dict[str, int] = field(default_factory=dict)
    tokenizer: str | None = None
    model_identity: str | None = None
    """The reference model's identity (``shadow_suite.identity``), when one was recorded."""


@dataclass
class ReferenceCell:
    benchmark: str
    variant: str
    baseline: str
    family: str
    n_items: int
    """Items paired in the target and in every reference."""
    target_gap: float | None
    reference_gap: float | None
    """Mean over references of their gap on the same items."""
    delta: float | None
    """target_gap - reference_gap: the mean over items of e_i."""
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    """One-sided sign-flip permutation p (delta > 0)."""
    p_holm: float | None
    """Holm-adjusted across the card's cells."""
    mde: float | None
    reference_gates: list[str]
    """Each reference's gate status on this row; a degenerate reference row still serves as
    its baseline (its floor follows from its answer distribution)."""


@dataclass
class ReferenceFamily:
    family: str
    cells: list[str]
    n_items: int
    delta: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    p_holm: float | None
    """Holm-adjusted across the families."""
    mde: float | None


@dataclass
class ReferenceAnalysis:
    references: list[str]
    sources: list[str]
    delta: float | None
    """Headline: mean of the content and format family deltas."""
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    """One-sided sign-flip permutation p of the headline: the card's primary test."""
    mde: float | None
    """Smallest true delta called benchmark_specific with 80% power (margin included)."""
    n_items: int
    n_perm: int
    families: list[ReferenceFamily]
    cells: list[ReferenceCell]
    notes: list[str] = field(default_factory=list)


@dataclass
class CalibrationRow:
    benchmark: str
    references: list[str]
    target_orig: float | None
    """Chance-normalised accuracies: (acc - chance) / (1 - chance)."""
    target_ood: float | None
    predicted_orig: float | None
    """g(target_ood): the original accuracy the references' relation predicts."""
    delta: float | None
    """target_orig - predicted_orig (chance-normalised)."""
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    """One-sided bootstrap p (over items and references) that delta <= 0."""
    slope: float | None
    intercept: float | None


@dataclass
class PositionSignature:
    model: str
    """'target' or the reference's name."""
    benchmark: str
    variant: str
    n: int
    """Items right in orig and wrong in the variant."""
    t: int
    """Of those, answers on the slot where the original gold was."""
    expected: float | None
    """E[T] under the model's own answer-position prior (Poisson-binomial)."""
    p_value: float | None
    """P(T >= t) under that prior."""
    n_prior: int
    """Items the prior was estimated on (wrong in orig)."""
