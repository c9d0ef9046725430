"""Number formatting and the method notes shared by the HTML and Markdown renderings."""

from __future__ import annotations

from shadow_suite.report.schema import Card


def pct(x: float | None, digits: int = 1) -> str:
    """A share as percent (no sign), 'n/a' when missing."""
    return "n/a" if x is None else f"{100 * x:.{digits}f}"


def signed_pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:+.1f}"


def ci(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return "n/a"
    return f"[{100 * low:+.1f}, {100 * high:+.1f}]"


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
            "Original accuracy minus variant accuracy on the paired items, in percentage "
            "points. Positive: the model does worse on the reformatted items.",
        ),
        (
            "Benchmark gap",
            "Plain mean of the benchmark's variant gaps (each variant weighs the same).",
        ),
        (
            "Shadow gap (headline)",
            "Plain mean of the benchmark gaps over benchmarks whose original accuracy is "
            "significantly above chance. Benchmark score and OOD score are the same means "
            "of the paired original and variant accuracies, so their difference is the gap. "
            "Relative gap = shadow gap / benchmark score.",
        ),
        (
            "Confidence intervals",
            f"{int(s.confidence * 100)}% percentile bootstrap, {s.n_boot} resamples, seed "
            f"{s.seed}: source items are resampled with replacement within each benchmark, "
            "keeping each item's original and variant answers together (paired); the "
            "headline resamples each benchmark independently. An interval that excludes 0 "
            "is a significant gap.",
        ),
        (
            "McNemar test",
            "Exact two-sided test on the discordant pairs: b = right on the original only, "
            "c = right on the variant only; under no difference b ~ Binomial(b + c, 1/2).",
        ),
        (
            "Holm adjustment",
            f"McNemar p-values are Holm-adjusted across the variants of each benchmark (the "
            f"family is one benchmark's variants); a variant is significant when the adjusted "
            f"p < {s.alpha}.",
        ),
        (
            "Consistency",
            "Share of paired items answered alike (both right or both wrong).",
        ),
        (
            "Chance level",
            "Mean over original items of 1 / number of options (0 for free-form answers). "
            "The original accuracy is tested against it with a one-sided binomial test; a "
            "benchmark not significantly above chance is left out of the headline, since a "
            "gap there means nothing.",
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
