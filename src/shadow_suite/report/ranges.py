"""The range of every number a card holds, checked when a card is read.

A card is JSON anyone can edit: an accuracy of 7.5 would render as 750%, 1e308 as "inf%", and
a comparison page would rank on them. The typed reader checks each value's type; this module
checks that it is a number a card can hold, before anything renders it: every value finite,
shares and p-values in [0, 1], gaps (differences of two shares) in [-1, 1], deltas against the
references (differences of two gaps) in [-2, 2], counts not negative. Rules go by the field's name and where it sits, so a field added later under a
known name is checked too; a number of no known kind must still be finite.
"""

from __future__ import annotations

import math
import re
from typing import Any

from shadow_suite.errors import ShadowSuiteError

_SHARE = (0.0, 1.0)
_DIFFERENCE = (-1.0, 1.0)
_DIFFERENCE_OF_DIFFERENCES = (-2.0, 2.0)
_COUNT = (0.0, math.inf)
_ANY = (-math.inf, math.inf)

# (pattern on the dotted path without list indices, range); the first that matches applies
_RULES: tuple[tuple[re.Pattern[str], tuple[float, float]], ...] = tuple(
    (re.compile(pattern), bounds)
    for pattern, bounds in (
        # chance-normalised accuracies and a fitted line: any finite number
        (r"^gap\.calibration\.", _ANY),
        (r"(^|\.)(p_value|p_[a-z_]+)$", _SHARE),
        (
            r"^gap\..*(^|\.)(acc_orig|acc_variant|benchmark_score|ood_score|chance|consistency"
            r"|modal_share|pooled_accuracy|floor|degenerate_share|confidence)(_ci_low|_ci_high)?$",
            _SHARE,
        ),
        (r"^provenance\.stats\.(confidence|alpha)$", _SHARE),
        # A delta is the target's gap minus the references' gap on the same items: each gap
        # lies in [-1, 1], so the delta, and the bootstrap interval of its per-item mean, lie
        # in [-2, 2] (a card had a family delta's ci_high of 30/27 = 1.11). Only these fields:
        # headline.delta*, and delta / ci_low / ci_high under gap.reference (headline, family
        # and cell: all intervals of deltas). Everything else named gap or ci_* is a difference
        # of two shares, and target_gap / reference_gap are gaps: they stay in [-1, 1].
        (
            r"^gap\.(headline\.(delta|delta_ci_low|delta_ci_high)"
            r"|reference\.((families|cells)\.)?(delta|ci_low|ci_high))$",
            _DIFFERENCE_OF_DIFFERENCES,
        ),
        (
            r"^gap\..*(^|\.)(gap|gap_ci_low|gap_ci_high|reformat_gap|ci_low|ci_high|delta"
            r"|delta_ci_low|delta_ci_high|target_gap|reference_gap|margin|floor_margin"
            r"|verdict_margin)$",
            _DIFFERENCE,
        ),
        (r"^gap\..*(^|\.)(n|t|n_[a-z_]+|orig_only|variant_only|min_correct_[a-z_]+)$", _COUNT),
        (r"^model\.num_parameters$", _COUNT),
        (r"^provenance\.sampled_items$", _COUNT),
        # the model against each reference on the original items, and the measured error rates
        (r"^reference_originals\.(acc_a|acc_b)$", _SHARE),
        (r"^reference_originals\.(n_items|a_only|b_only)$", _COUNT),
        (
            r"^error_rates\.((false_positive|detection)\.(ci_low|ci_high)|detection_min_gain)$",
            _SHARE,
        ),
        (r"^error_rates\.((false_positive|detection)\.(k|n)|version)$", _COUNT),
        # the memorization test: its level, and its counts (excesses are bits per byte: any)
        (r"^memorization\.alpha$", _SHARE),
        (r"^memorization\.(n_perm|n_boot|twins_dropped\..+|rows\.(n_test|n_twin))$", _COUNT),
    )
)


def _bounds(path: str) -> tuple[float, float]:
    for pattern, bounds in _RULES:
        if pattern.search(path):
            return bounds
    return _ANY


def check_card_ranges(data: Any, source: str) -> None:
    """One line naming the file and the field of the first number out of its range."""
    _walk(data, "", "", source)


def _walk(value: Any, path: str, shown: str, source: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            dotted = f"{path}.{key}" if path else str(key)
            _walk(item, dotted, f"{shown}.{key}" if shown else str(key), source)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, path, f"{shown}[{index}]", source)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        low, high = _bounds(path)
        if not math.isfinite(value) or not low <= value <= high:
            kind = {_SHARE: "a share between 0 and 1", _DIFFERENCE: "a difference of two "
                    "shares, between -1 and 1", _DIFFERENCE_OF_DIFFERENCES: "a difference of "
                    "two gaps, between -2 and 2", _COUNT: "a count, not negative"}.get(
                        (low, high), "a finite number")  # fmt: skip
            raise ShadowSuiteError(f"{source}: {shown}: {value!r} is not {kind}")
