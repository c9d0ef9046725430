"""The demo's closing table, from the three report cards (pure: card dicts in, text out)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


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
    shadow_gap: float | None
    ci_low: float | None
    ci_high: float | None
    significant: bool
    benchmarks: dict[str, BenchmarkScores]
    update_effective_rank: float | None
    """Mean entropy effective rank of ΔW = W - W0 over the matrices (None for the base)."""
    update_relative_change: float | None
    """‖ΔW‖_F / ‖W0‖_F over all matrices."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def update_effective_rank(spectra_json: Mapping[str, Any]) -> float | None:
    mean = spectra_json.get("summary", {}).get("model", {}).get("mean", {})
    value = mean.get("update_effective_rank_entropy")
    return None if value is None else float(value)


def read_update_ranks(paths: Mapping[str, Path]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for name, path in paths.items():
        out[name] = (
            update_effective_rank(json.loads(path.read_text(encoding="utf-8")))
            if path.is_file()
            else None
        )
    return out


def summary_row(name: str, card: Mapping[str, Any], update_rank: float | None) -> SummaryRow:
    h = card["gap"]["headline"]
    spectral = card.get("spectral") or {}
    update = spectral.get("update_summary") or {}
    return SummaryRow(
        model=name,
        benchmark_score=h["benchmark_score"],
        ood_score=h["ood_score"],
        shadow_gap=h["shadow_gap"],
        ci_low=h["ci_low"],
        ci_high=h["ci_high"],
        significant=bool(h["significant"]),
        benchmarks={
            b["benchmark"]: BenchmarkScores(b["acc_orig"], b["acc_variant"], bool(b["at_chance"]))
            for b in card["gap"]["benchmarks"]
        },
        update_effective_rank=update_rank,
        update_relative_change=update.get("relative_change"),
    )


def summary_rows(
    cards: Mapping[str, Mapping[str, Any]], spectra: Mapping[str, Path]
) -> list[SummaryRow]:
    ranks = read_update_ranks(spectra)
    return [summary_row(name, card, ranks.get(name)) for name, card in cards.items()]


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _pts(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:+.1f}"


def _num(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def format_table(rows: list[SummaryRow]) -> str:
    """A plain-text table: the headline, then each benchmark's original vs variant accuracy."""
    names = sorted({b for r in rows for b in r.benchmarks})
    header = [
        "model",
        "benchmark",
        "OOD",
        "shadow gap (pts) [95% CI]",
        "update eff. rank",
        "|dW|/|W0|",
        *[f"{b} orig/variants" for b in names],
    ]
    body = []
    for r in rows:
        gap = _pts(r.shadow_gap)
        if r.shadow_gap is not None:
            gap += f" [{_pts(r.ci_low)}, {_pts(r.ci_high)}]" + (" *" if r.significant else "")
        cells = [
            r.model,
            _pct(r.benchmark_score),
            _pct(r.ood_score),
            gap,
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
        "benchmark / OOD: mean original / variant accuracy on paired items over the benchmarks "
        "in the card's headline (those above chance); * = the gap's interval excludes 0; "
        "(chance) = not significantly above chance, left out of the headline."
    )
    return "\n".join(lines) + "\n" + notes
