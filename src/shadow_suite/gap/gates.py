"""Which (benchmark, variant) rows can carry a verdict: the degenerate-answer and floor gates.

Both gates look at the original and the variant *together*, so passing them says nothing
about which of the two is higher: under no true gap the included rows' mean gap stays 0
(gating on the original's accuracy alone, as the first version did, selects rows whose
original happened to come out high, and so inflates the gap; see
``benchmarks/gates/simulate_inclusion.py``).

- **degenerate**: in either form one option position (or label symbol) takes more than
  ``DEGENERATE_SHARE`` of the model's answers. A model that answers "A" everywhere scores
  the share of items whose gold is A; the difference of two such floors is the data's gold
  placement, not the model.
- **floor**: the pooled accuracy (orig + variant) / 2 must exceed chance by
  ``FLOOR_MARGIN`` of the distance from chance to 1, by a one-sided t-test over items at
  ``ALPHA``; generation tasks (chance 0) also need ``MIN_CORRECT_GENERATION`` right answers
  over the two forms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from shadow_suite.gap import stats
from shadow_suite.gap.defaults import ALPHA

DEGENERATE_SHARE = 0.70
FLOOR_MARGIN = 0.05
MIN_CORRECT_GENERATION = 5

GateStatus = Literal["ok", "degenerate", "below_floor", "no_answers", "unpaired"]
"""ok: the row carries a verdict; degenerate / below_floor: a gate excluded it;
no_answers: the samples do not say which option was chosen (an older run), so the
degenerate gate cannot be checked; unpaired: no item scored in both forms."""


@dataclass
class GateResult:
    status: GateStatus
    modal_form: str | None
    """Form ('orig' or the variant) whose answers are most concentrated on one position."""
    modal_position: int | None
    """That position (0-based option index)."""
    modal_share: float | None
    """Share of that form's answers on that position."""
    pooled_accuracy: float | None
    """Mean over paired items of (orig + variant) / 2."""
    floor: float | None
    """chance + FLOOR_MARGIN x (1 - chance): what the pooled accuracy must exceed."""
    p_floor: float | None
    """One-sided t-test p that the pooled accuracy exceeds the floor."""


def modal_share(chosen: np.ndarray) -> tuple[int | None, float | None]:
    """(most chosen position, its share) among known answers (chosen >= 0)."""
    known = chosen[chosen >= 0]
    if known.size == 0:
        return (None, None)
    counts = np.bincount(known)
    position = int(np.argmax(counts))
    return (position, float(counts[position] / known.size))


def gate_row(
    forms: dict[str, tuple[np.ndarray, np.ndarray]],
    chance: float,
    multiple_choice: bool,
) -> GateResult:
    """Gate one paired row. ``forms`` maps 'orig' and the variant to (correct, chosen)
    arrays over the same paired items, in the same order."""
    (o, _), (v, _) = list(forms.values())[:2]
    n = o.size
    if n == 0:
        return GateResult("unpaired", None, None, None, None, None, None)
    pooled = (o + v) / 2.0
    floor = chance + FLOOR_MARGIN * (1.0 - chance)
    p_floor = stats.above_floor(pooled, floor)
    modal: tuple[str | None, int | None, float | None] = (None, None, None)
    unknown = False
    if multiple_choice:
        for form, (_, chosen) in forms.items():
            if np.any(chosen < 0):
                unknown = True
                continue
            position, share = modal_share(chosen)
            if share is not None and (modal[2] is None or share > modal[2]):
                modal = (form, position, share)
    status: GateStatus = "ok"
    if multiple_choice and unknown:
        status = "no_answers"
    elif modal[2] is not None and modal[2] > DEGENERATE_SHARE:
        status = "degenerate"
    elif p_floor >= ALPHA or (
        not multiple_choice and int(o.sum() + v.sum()) < MIN_CORRECT_GENERATION
    ):
        status = "below_floor"
    return GateResult(status, modal[0], modal[1], modal[2], float(pooled.mean()), floor, p_floor)
