"""The answer-position signature of ``permuted`` on models whose behaviour is known: a model
that memorised each item's gold letter answers the old slot after reordering (significant);
a model that always answers A lands on A as its own prior predicts (no signal); a model that
knows the answers follows the content (no signal)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from shadow_suite.contract import ORIG
from shadow_suite.gap.analysis import forms_of
from shadow_suite.gap.position import position_signatures

N, K = 200, 4


def _items(answer: Callable[[int, int, np.random.Generator], int], seed: int = 0) -> pd.DataFrame:
    """orig and permuted forms of N items; ``answer(gold, item, rng)`` picks an option index.
    The permuted form moves every item's gold to another slot."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(N):
        gold = int(rng.integers(K))
        new_gold = int((gold + rng.integers(1, K)) % K)
        for variant, g in ((ORIG, gold), ("permuted", new_gold)):
            # the memorising model answers its remembered letter in both forms
            chosen = answer(gold if variant == "permuted" else g, i, rng)
            rows.append(
                {"shadow_id": f"mmlu/test/{i}", "benchmark": "mmlu", "variant": variant,
                 "correct": int(chosen == g), "chosen": chosen, "gold": g, "n_options": K}
            )  # fmt: skip
    return pd.DataFrame(rows)


def _signature(items: pd.DataFrame):  # type: ignore[no-untyped-def]
    (sig,) = position_signatures(items, forms_of(items), label=None)
    return sig


def test_memorised_letters_are_significant() -> None:
    # right on 90% of originals by recall of the letter, which survives the reordering
    def memorised(old_gold: int, i: int, rng: np.random.Generator) -> int:
        return old_gold if i % 10 else int(rng.integers(K))

    sig = _signature(_items(memorised))
    assert sig.n > 100 and sig.t >= 0.95 * sig.n
    assert sig.expected is not None and sig.expected < 0.5 * sig.n
    assert sig.p_value is not None and sig.p_value < 1e-6


def test_always_a_shows_no_signal() -> None:
    sig = _signature(_items(lambda gold, i, rng: 0))
    # every orig hit had gold at A and still answers A: the prior predicts exactly that
    assert sig.n > 20 and sig.t == sig.n
    assert sig.p_value is not None and sig.p_value > 0.05


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_content_knowledge_shows_no_signal(seed: int) -> None:
    # answers by content: right 60% of the time in either form, else a random wrong option
    def knows(gold: int, i: int, rng: np.random.Generator) -> int:
        if rng.random() < 0.6:
            return gold
        return int(rng.choice([k for k in range(K) if k != gold]))

    items = _items(knows, seed)
    # the orig answer of a knowing model follows the orig gold, the permuted one the new gold
    items.loc[items["variant"] == "permuted", "chosen"] = [
        g if c else c2
        for g, c, c2 in zip(
            items.loc[items["variant"] == "permuted", "gold"],
            np.random.default_rng(seed + 10).random(N) < 0.6,
            np.random.default_rng(seed + 20).integers(0, K, N),
            strict=True,
        )
    ]
    items["correct"] = (items["chosen"] == items["gold"]).astype(int)
    sig = _signature(items)
    assert sig.n > 10
    assert sig.p_value is not None and sig.p_value > 0.01
