"""The demo's closing table, from the three report cards (typed cards in, text out)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from shadow_suite.report.schema import Card


@dataclass(frozen=True)
class BenchmarkScores:
    acc_orig: float | None
    """Accuracy on the original items (the leaderboard number)."""
    acc_variant: float | None
    """Mean accuracy on the variants' paired items."""
    at_chance: bool


@dataclass(frozen=True)
class SummaryRow:
    model: str
    benchmark_score: float | None
    ood_score: float | None
    verdict_class: str
    """The card's class: benchmark_specific, no_evidence, inconclusive (against the base),
    no_reference (the base itself), no_verdict."""
    delta: float | None
    """The model's gap minus the base's on the same items (fractions), the headline."""
    delta_ci_low: float | None
    delta_ci_high: float | None
    p_value: float | None
    family_delta: dict[str, float | None]
    """content / format / hard family deltas against the base."""
    excluded: dict[str, str]
    """Rows the gates kept out of the verdict, with the reason."""
    benchmarks: dict[str, BenchmarkScores]
    update_effective_rank: float | None
    """Mean entropy effective rank of ΔW = W - W0 over the matrices (None for the base)."""
    update_relative_change: float | None
    """‖ΔW‖_F / ‖W0‖_F over all matrices."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def summary_row(name: str, card: Card) -> SummaryRow:
    """One model's row, from its card (the update's numbers from its spectral section)."""
    headline = card.gap.headline
    update = (card.spectral.update_summary if card.spectral is not None else None) or {}
    reference = card.gap.reference
    variant_acc: dict[str, float | None] = {}
    for bench in card.gap.benchmarks:
        accs = [v.acc_variant for v in bench.variants if v.acc_variant is not None]
        variant_acc[bench.benchmark] = sum(accs) / len(accs) if accs else None
    return SummaryRow(
        model=name,
        benchmark_score=headline.benchmark_score,
        ood_score=headline.ood_score,
        verdict_class=str(headline.verdict_class),
        delta=headline.delta,
        delta_ci_low=headline.delta_ci_low,
        delta_ci_high=headline.delta_ci_high,
        p_value=headline.p_value,
        family_delta={f.family: f.delta for f in reference.families} if reference else {},
        excluded={str(k): str(v) for k, v in headline.excluded.items()},
        benchmarks={
            b.benchmark: BenchmarkScores(b.acc_orig, variant_acc[b.benchmark], b.at_chance)
            for b in card.gap.benchmarks
        },
        update_effective_rank=update.get("effective_rank_entropy"),
        update_relative_change=update.get("relative_change"),
    )


def summary_rows(cards: Mapping[str, Card]) -> list[SummaryRow]:
    return [summary_row(name, card) for name, card in cards.items()]


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _pts(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:+.1f}"


def _num(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def format_table(rows: list[SummaryRow]) -> str:
    """A plain-text table: the verdict against the base, then each benchmark's original vs
    mean variant accuracy."""
    names = sorted({b for r in rows for b in r.benchmarks})
    families = sorted({f for r in rows for f in r.family_delta})
    header = [
        "model",
        "verdict vs base",
        "delta (pts) [95% CI]",
        "p",
        *[f"{f} delta" for f in families],
        "update eff. rank",
        "|dW|/|W0|",
        *[f"{b} orig/variants" for b in names],
    ]
    body = []
    for r in rows:
        delta = _pts(r.delta)
        if r.delta is not None:
            delta += f" [{_pts(r.delta_ci_low)}, {_pts(r.delta_ci_high)}]"
        cells = [
            r.model,
            r.verdict_class,
            delta,
            "n/a" if r.p_value is None else f"{r.p_value:.3g}",
            *[_pts(r.family_delta.get(f)) for f in families],
            _num(r.update_effective_rank),
            _num(r.update_relative_change, 3),
        ]
        for b in names:
            s = r.benchmarks.get(b)
            cells.append(
                "n/a"
                if s is None
                else f"{_pct(s.acc_orig)} / {_pct(s.acc_variant)}"
                + (" (chance)" if s.at_chance else "")
            )
        body.append(cells)
    widths = [max(len(str(row[i])) for row in [header, *body]) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in [header, *body]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = (
        "delta: the model's reformatting gap minus the base's on the same items (content and "
        "format families; the card's headline), with its paired bootstrap CI and one-sided "
        "permutation p; the base is the reference, so its own row has no verdict. orig / "
        "variants: accuracy on the original items and mean over the variant rows; (chance) = "
        "orig not significantly above chance."
    )
    excluded = [f"  {r.model}: {k}: {v}" for r in rows for k, v in r.excluded.items()]
    if excluded:
        notes += "\nRows kept out of the verdict by the gates:\n" + "\n".join(excluded)
    return "\n".join(lines) + "\n" + notes
