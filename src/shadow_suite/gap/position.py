"""The answer-position signature of ``permuted``: does a wrong answer land where gold used to be?

A model that memorised "the answer to this item is C" still answers C after the options are
reordered. Among the items right in the original and wrong in ``permuted``, T counts the
answers on the slot where the original gold was. Without memorisation, each such item's
chance of that slot follows the model's own answer-position prior (how often it picks each
position when it does not know: estimated on the permuted form of the items it got wrong in
the original, add-one smoothed), restricted to the wrong options; T is then
Poisson-binomial, and the card reports T, E[T] and P(T >= t). A model that always answers A
puts its prior on A and shows no signal unless gold used to be at A more than chance says.
(``relabeled`` keeps every option in its place, so it has no moved slot to test.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from shadow_suite.contract import ORIG
from shadow_suite.gap import stats
from shadow_suite.gap.records import PositionSignature

if TYPE_CHECKING:
    from shadow_suite.gap.analysis import Form

POSITION_VARIANTS = ("permuted",)


def position_signatures(
    items: pd.DataFrame, forms: dict[tuple[str, str], Form], label: str | None
) -> list[PositionSignature]:
    """One signature per benchmark that has ``orig`` and ``permuted`` with chosen options."""
    out = []
    for bench, variant in sorted(forms):
        if variant not in POSITION_VARIANTS or (bench, ORIG) not in forms:
            continue
        orig, var = forms[(bench, ORIG)], forms[(bench, variant)]
        ids = sorted(set(orig.correct) & set(var.correct))
        ids = [
            i
            for i in ids
            if var.chosen[i] >= 0 and orig.gold[i] >= 0 and var.gold[i] >= 0 and var.n_options[i]
        ]
        if not ids:
            continue
        width = max(var.n_options[i] for i in ids)
        prior_ids = [i for i in ids if orig.correct[i] == 0]
        prior = np.ones(width)  # add-one smoothing
        for i in prior_ids:
            prior[var.chosen[i]] += 1
        prior /= prior.sum()
        signal = [i for i in ids if orig.correct[i] == 1 and var.correct[i] == 0]
        t = sum(var.chosen[i] == orig.gold[i] for i in signal)
        probabilities = []
        for i in signal:
            allowed = [k for k in range(var.n_options[i]) if k != var.gold[i]]
            probabilities.append(prior[orig.gold[i]] / prior[allowed].sum())
        p = np.asarray(probabilities)
        out.append(
            PositionSignature(
                model=label or "target",
                benchmark=bench,
                variant=variant,
                n=len(signal),
                t=int(t),
                expected=float(p.sum()) if signal else None,
                p_value=stats.poisson_binomial_sf(int(t), p) if signal else None,
                n_prior=len(prior_ids),
            )
        )
    return out
