"""The range rules a card is read with (report/ranges.py): a delta against the references is a
difference of two gaps, so it and its interval may leave [-1, 1]; gaps and accuracies may not."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from shadow_suite.errors import ShadowSuiteError
from shadow_suite.report.ranges import check_card_ranges

SHIPPED = sorted((Path(__file__).resolve().parents[2] / "reports").rglob("card.json"))


def _card(**gap: Any) -> dict[str, Any]:
    return {"gap": gap}


@pytest.mark.parametrize(
    "card",
    [
        # a family delta's bootstrap interval above 1 (30/27, as in reports/demo)
        _card(reference={"delta": 0.9, "ci_low": 0.5, "ci_high": 30 / 27, "families": []}),
        _card(reference={"families": [{"delta": 0.9, "ci_low": 0.7, "ci_high": 1.11}]}),
        _card(reference={"cells": [{"delta": -2.0, "ci_low": -2.0, "ci_high": -1.5}]}),
        _card(headline={"delta": 1.5, "delta_ci_low": 1.0, "delta_ci_high": 2.0}),
    ],
)
def test_deltas_against_references_may_reach_two(card: dict[str, Any]) -> None:
    check_card_ranges(card, "card.json")


@pytest.mark.parametrize(
    ("card", "message"),
    [
        (
            _card(reference={"families": [{"ci_high": 2.5}]}),
            "gap.reference.families[0].ci_high: 2.5 is not a difference of two gaps",
        ),
        (
            _card(headline={"delta_ci_low": -2.01}),
            "gap.headline.delta_ci_low: -2.01 is not a difference of two gaps",
        ),
        # a gap is a difference of two shares, also inside the reference cells
        (
            _card(reference={"cells": [{"target_gap": 1.1}]}),
            "target_gap: 1.1 is not a difference of two shares",
        ),
        (
            _card(headline={"reformat_gap": 1.2}),
            "reformat_gap: 1.2 is not a difference of two shares",
        ),
        (
            _card(headline={"ci_high": 1.2}),
            "headline.ci_high: 1.2 is not a difference of two shares",
        ),
        (
            _card(families=[{"ci_high": 1.11}]),
            "families[0].ci_high: 1.11 is not a difference of two shares",
        ),
        # accuracies stay shares
        (
            _card(benchmarks=[{"acc_orig": 1.11}]),
            "benchmarks[0].acc_orig: 1.11 is not a share between 0 and 1",
        ),
    ],
)
def test_gaps_and_accuracies_keep_their_ranges(card: dict[str, Any], message: str) -> None:
    with pytest.raises(ShadowSuiteError, match=re.escape(message)):
        check_card_ranges(card, "card.json")


@pytest.mark.parametrize(
    ("card", "message"),
    [
        (
            {"reference_originals": [{"acc_b": 1.5}]},
            "reference_originals[0].acc_b: 1.5 is not a share",
        ),
        (
            {"reference_originals": [{"a_only": -1}]},
            "reference_originals[0].a_only: -1 is not a count",
        ),
        (
            {"error_rates": {"detection": {"ci_high": 2.0}}},
            "error_rates.detection.ci_high: 2.0 is not a share",
        ),
        (
            {"error_rates": {"false_positive": {"k": -3}}},
            "error_rates.false_positive.k: -3 is not a count",
        ),
        (
            {"provenance": {"sampled_items": [30, -1]}},
            "provenance.sampled_items[1]: -1 is not a count",
        ),
    ],
)
def test_reference_originals_error_rates_and_sample_sizes_are_checked(
    card: dict[str, Any], message: str
) -> None:
    with pytest.raises(ShadowSuiteError, match=re.escape(message)):
        check_card_ranges(card, "card.json")


@pytest.mark.parametrize("path", SHIPPED, ids=[str(p.parent.name) for p in SHIPPED])
def test_shipped_cards_are_in_range(path: Path) -> None:
    check_card_ranges(json.loads(path.read_text()), str(path))
