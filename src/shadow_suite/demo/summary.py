"""The demo's closing table, from the three report cards and the models' spectra documents
(card dicts and typed spectra in, text out)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from shadow_suite.spectral.document import UPDATE_EFFECTIVE_RANK, SpectraDocument, read_document


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


def update_effective_rank(document: SpectraDocument) -> float | None:
    """Mean entropy effective rank of the update over the matrices; None without a base."""
    return document.summary.model.mean.get(UPDATE_EFFECTIVE_RANK)


def read_update_ranks(paths: Mapping[str, Path]) -> dict[str, float | None]:
    """Each model's update effective rank from its spectra.json (None where there is none)."""
    return {
        name: update_effective_rank(read_document(path)) if path.is_file() else None
        for name, path in paths.items()
    }


def summary_row(name: str, card: Mapping[str, Any], update_rank: float | None) -> SummaryRow:
    gap = card["gap"]
    h = gap["headline"]
    spectral = card.get("spectral") or {}
    update = spectral.get("update_summary") or {}
    reference = gap.get("reference") or {}
    variant_acc: dict[str, float | None] = {}
    for b in gap["benchmarks"]:
        accs = [v.get("acc_variant") for v in b.get("variants", [])]
        accs = [a for a in accs if a is not None]
        variant_acc[b["benchmark"]] = sum(accs) / len(accs) if accs else None
    return SummaryRow(
        model=name,
        benchmark_score=h.get("benchmark_score"),
        ood_score=h.get("ood_score"),
        verdict_class=str(h.get("verdict_class")),
        delta=h.get("delta"),
        delta_ci_low=h.get("delta_ci_low"),
        delta_ci_high=h.get("delta_ci_high"),
        p_value=h.get("p_value"),
        family_delta={f["family"]: f.get("delta") for f in reference.get("families", [])},
        excluded={str(k): str(v) for k, v in (h.get("excluded") or {}).items()},
        benchmarks={
            b["benchmark"]: BenchmarkScores(
                b["acc_orig"], variant_acc[b["benchmark"]], bool(b["at_chance"])
            )
            for b in gap["benchmarks"]
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
