"""Number formatting and the method notes shared by the HTML and Markdown renderings."""

from __future__ import annotations

from shadow_suite.report.schema import Card


def pct(x: float | None, digits: int = 1) -> str:
    """A share as percent (no sign), 'n/a' when missing."""
    return "n/a" if x is None else f"{100 * x:.{digits}f}"


def signed_pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:+.1f}"


def ci(
    low: float | None,
    high: float | None,
    between: str = ", ",
    brackets: tuple[str, str] = ("[", "]"),
) -> str:
    """An interval in signed points, '[+1.0, +3.0]'; 'n/a' when a bound is missing."""
    if low is None or high is None:
        return "n/a"
    opening, closing = brackets
    return f"{opening}{100 * low:+.1f}{between}{100 * high:+.1f}{closing}"


def ci_words(low: float | None, high: float | None) -> str:
    """An interval for a sentence: '+1.0 to +3.0'."""
    return ci(low, high, " to ", ("", ""))


def pvalue(p: float | None) -> str:
    if p is None:
        return "n/a"
    if p < 1e-4:
        return "<1e-4"
    return f"{p:.3g}"


def num(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}g}"


def method_notes(card: Card) -> list[tuple[str, str]]:
    """(term, explanation) for every number on the card."""
    s = card.provenance.stats
    g = card.gap.gates
    notes = [
        (
            "Items and pairing",
            "Every benchmark item has a stable id (benchmark/split/row). A variant item is "
            "paired with the same item in its original form; only items scored on both sides "
            "count (variants skip items they do not apply to; --limit cuts both sides).",
        ),
        (
            "Accuracy",
            "Share of items right under the benchmark's leaderboard metric (acc or acc_norm "
            "for multiple choice, exact match with the strict filter for GSM8K). 'Benchmark' "
            "accuracy is on all original items; bars show 95% Wilson intervals.",
        ),
        (
            "Gap",
            "Accuracy on the unchanged item (the original, or for a 'vs' row the variant asking the "
            "unchanged item in the same format) minus accuracy on the variant, on the paired "
            "items, in percentage points. Positive: the model does worse on the variant.",
        ),
        (
            "Families",
            "content (permuted, noisy, rephrased, renumbered: same question, surface moved); "
            "format (format_swap, lettered, relabeled, answer_format: same item, another "
            "format; clean models move here too); hard (none_of_the_others, distractor: harder "
            "for every model). A family's gap is the plain mean of its gated-in rows; a content "
            "variant asked in another format than the original enters through its 'vs' row. "
            "The headline averages the content and format families (fixed in advance).",
        ),
        (
            "Gates",
            f"A row carries a verdict only if (1) in neither form one answer position takes "
            f"more than {100 * g.degenerate_share:.0f}% of the answers (degenerate: a constant "
            f"answer scores the share of gold at that position) and (2) the pooled accuracy "
            f"(orig + variant) / 2 exceeds chance + {100 * g.floor_margin:.0f}% of the distance "
            f"to 1 by a one-sided t-test over items (generation: also "
            f"{g.min_correct_generation} right answers). Both gates are symmetric in the two "
            "forms, so they do not bias the gap.",
        ),
        (
            "Intervals",
            f"Rows: Newcombe's paired score interval (not zero-width when b = c = 0). Families, "
            f"headline and reference deltas: {int(s.confidence * 100)}% percentile bootstrap, "
            f"{s.n_boot} resamples, seed {s.seed}, resampling source items within each "
            "benchmark with all of an item's rows (and every reference's answers) together; "
            "benchmarks independent.",
        ),
        (
            "MDE",
            "Minimum detectable effect: the smallest true gap (or delta, margin included) that "
            "this sample detects with 80% power, (1.96 + 0.84) x the bootstrap standard error.",
        ),
        (
            "McNemar and Holm",
            f"Exact two-sided McNemar test per row (b = right on the unchanged item only, c = right "
            f"in the variant only); Holm-adjusted across every row of the card; '*' / "
            f"highlighted: adjusted p < {s.alpha}. A significant row is a difference between "
            "two forms, not a claim about training.",
        ),
        (
            "Verdict against references",
            f"Per item e_i = target gap - mean reference gap on the same items; a cell's delta "
            f"is the mean of e_i, a family's the mean of its cells', the headline the mean of "
            f"the content and format families'. One-sided sign-flip permutation test (whole "
            f"item rows); Holm across cells and across families; the headline is the primary "
            f"test. benchmark_specific: headline CI above {100 * g.verdict_margin:.0f} points "
            f"and p < {s.alpha}; no_evidence: CI below that margin; inconclusive: neither.",
        ),
        (
            "Calibration",
            "With three or more references: per benchmark a straight line through the "
            "references' (OOD, original) accuracies on the chance-normalised scale predicts the "
            "target's original accuracy from its OOD accuracy; delta = actual - predicted, "
            "bootstrapped over items and references (after ConStat, Dekoninck et al. 2024).",
        ),
        (
            "Position signature",
            "permuted: among items right in the original and wrong in the variant, T counts "
            "answers on the slot where the original gold was; under no memorisation T is "
            "Poisson-binomial with the model's own answer-position prior (estimated on items "
            "it got wrong in the original).",
        ),
        (
            "Consistency",
            "Share of paired items answered alike (both right or both wrong).",
        ),
        (
            "Chance level",
            "Mean over original items of 1 / number of options (0 for free-form answers). "
            "The sanity table tests the original accuracy against it; that test describes "
            "the model and does not decide inclusion (the gates do).",
        ),
        (
            "Skipped items",
            "Items a variant does not apply to (e.g. an option 'all of the above' cannot be "
            "permuted); they are not in that variant's numbers.",
        ),
    ]
    if card.spectral is not None:
        notes += [
            (
                "Effective rank",
                "exp of the Shannon entropy of the normalised singular values (Roy & "
                "Vetterli 2007): how many directions a weight matrix really uses. Plotted "
                "per layer as the mean over matrices of each module kind.",
            ),
            (
                "Update relative change",
                "||W - W0||_F / ||W0||_F per layer (over the layer's matrices), where W0 is "
                "the base model's weight: how much fine-tuning moved the layer.",
            ),
            (
                "Update effective rank",
                "Effective rank of W - W0: a low value means the update is concentrated in "
                "few directions (as after narrow fine-tuning).",
            ),
            (
                "Spectra",
                "Singular values (largest first) of the most changed matrices' updates, or "
                "without a base, of one matrix per module kind in the middle layer.",
            ),
        ]
    return notes
