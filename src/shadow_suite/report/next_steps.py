"""What would make an undecided card decidable, computed from the card: for ``no_verdict``
and ``inconclusive`` only (the other classes are decided, or make no claim by design).

- inconclusive: the items at which the observed delta would be decided with 80% power
  (``gap.power.items_to_decide``), and the ``run --limit`` that reaches them when the card
  was made from a per-benchmark item count (a seeded sample, or lm-eval's first N);
- the rows the gates left out and why, with the lever for each: the chat template and
  few-shot examples for a model that answers one letter, the items that would lift a row
  just above chance over the floor (``gap.power.items_to_clear_floor``), a seeded sample
  instead of lm-eval's first N, a rerun for samples without the chosen option, and a
  reference when there is none.

The sentences are :mod:`shadow_suite.report.words`'; this module decides which apply.
"""

from __future__ import annotations

import math

from shadow_suite.gap.analysis import VariantGap, row_key
from shadow_suite.gap.power import items_to_clear_floor, items_to_decide
from shadow_suite.report import words
from shadow_suite.report.schema import Card

UNDECIDED = ("no_verdict", "inconclusive")
FEASIBLE = 10
"""A row that would need more than this many times its items to clear the floor is listed
with the rows at chance: no practical sample lifts it."""


def _per_benchmark_count(card: Card) -> int | None:
    """Items per benchmark the run asked for: the seeded sample, else lm-eval's first N."""
    sizes = card.provenance.sampled_items
    if len(sizes) == 1:
        return sizes[0]
    limits = {r.limit for r in card.provenance.runs if r.limit is not None}
    if len(limits) == 1:
        (limit,) = limits
        return int(limit) if limit >= 1 else None
    return None


def next_steps(card: Card) -> list[str]:
    """Sentences of the next-steps paragraph; empty for a decided card."""
    h = card.gap.headline
    if h.verdict_class not in UNDECIDED:
        return []
    out: list[str] = []
    if h.verdict_class == "inconclusive" and h.delta is not None:
        n = card.gap.reference.n_items if card.gap.reference else h.n_items
        needed = items_to_decide(n, h.mde, h.margin, h.delta)
        if needed is not None:
            now = _per_benchmark_count(card)
            later = None if now is None else math.ceil(now * needed / n)
            out.append(words.decide_step(h.delta, h.margin, n, needed, now, later))
    excluded: list[tuple[str, VariantGap]] = [
        (row_key(b.benchmark, v.variant, v.baseline), v)
        for b in card.gap.benchmarks
        for v in b.variants
        if v.gate != "ok"
    ]
    if excluded:
        out.append(words.gated_step([r for _, r in excluded], [k for k, _ in excluded]))
    degenerate = any(r.gate == "degenerate" for _, r in excluded)
    if degenerate and not card.model.chat_template_applied:
        out.append(words.chat_template_step(card.model.name))
    if degenerate:
        out.append(words.FEWSHOT_STEP)
    near: list[tuple[str, int, int]] = []
    at_chance: list[str] = []
    for key, row in excluded:
        if row.gate == "below_floor":
            needed = items_to_clear_floor(row.n_paired, row.pooled_accuracy, row.floor, row.p_floor)
            if needed is None or needed > FEASIBLE * row.n_paired:
                at_chance.append(key)
            else:
                near.append((key, needed, row.n_paired))
    out += words.floor_steps(near, at_chance)
    if any(r.gate == "no_answers" for _, r in excluded):
        out.append(words.NO_ANSWERS_STEP)
    if any(r.limit is not None for r in card.provenance.runs):
        out.append(words.FIRST_N_STEP)
    if not h.references:
        out.append(words.NEEDS_REFERENCE_STEP)
    return out
