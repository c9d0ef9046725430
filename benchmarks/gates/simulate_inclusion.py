"""Does the inclusion rule bias the gap? A seeded simulation with no true gap.

Each replicate is one row (benchmark x variant): n items with 4 options, the model right on
each item with probability ``acc`` in both forms, independently, so the true gap is 0. Two
inclusion rules are compared:

- *orig only* (the first version): include the row when the original accuracy is
  significantly above chance (one-sided binomial, p < 0.05);
- *pooled* (``shadow_suite.gap.gates``): include it when (orig + variant) / 2 clears the
  floor (chance + 5% of the distance to 1) by a one-sided t-test over items.

Among included rows it reports the mean gap and the share called significantly positive
by the exact McNemar test (two-sided p < 0.05 with a positive gap; nominal level 2.5%).

    python benchmarks/gates/simulate_inclusion.py [--reps 4000] [--n 30] [--acc 0.30]
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np

from shadow_suite.gap import stats
from shadow_suite.gap.gates import gate_row


@dataclass(frozen=True)
class RuleResult:
    included: int
    mean_gap: float
    false_positive_rate: float


def simulate(reps: int, n: int, acc: float, seed: int = 0) -> dict[str, RuleResult]:
    rng = np.random.default_rng(seed)
    chance = 0.25
    kept: dict[str, list[tuple[float, bool]]] = {"orig only": [], "pooled": []}
    for _ in range(reps):
        o = (rng.random(n) < acc).astype(float)
        v = (rng.random(n) < acc).astype(float)
        # answers spread over the four positions, so the degenerate gate never fires here
        chosen = rng.integers(0, 4, n)
        gap = float(o.mean() - v.mean())
        b, c = int(np.sum((o == 1) & (v == 0))), int(np.sum((o == 0) & (v == 1)))
        positive = gap > 0 and stats.mcnemar_exact(b, c) < 0.05
        if stats.above_chance(int(o.sum()), n, chance) < 0.05:
            kept["orig only"].append((gap, positive))
        if gate_row({"orig": (o, chosen), "v": (v, chosen)}, chance, True).status == "ok":
            kept["pooled"].append((gap, positive))
    out = {}
    for rule, rows in kept.items():
        gaps = np.array([g for g, _ in rows])
        out[rule] = RuleResult(
            included=len(rows),
            mean_gap=float(gaps.mean()) if rows else float("nan"),
            false_positive_rate=float(np.mean([p for _, p in rows])) if rows else float("nan"),
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=4000)
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--acc", type=float, default=0.30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    results = simulate(args.reps, args.n, args.acc, args.seed)
    print(f"no true gap: {args.reps} rows, n = {args.n}, accuracy {args.acc} in both forms")
    print("| rule | rows included | mean gap of included (pts) | significant positive |")
    print("|---|---|---|---|")
    for rule, r in results.items():
        print(f"| {rule} | {r.included} | {100 * r.mean_gap:+.2f} | "
              f"{100 * r.false_positive_rate:.1f}% |")  # fmt: skip


if __name__ == "__main__":
    main()
