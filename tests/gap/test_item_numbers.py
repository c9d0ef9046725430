"""items.parquet read back: numbers no model can have produced are one line naming the file,
the task, the item and the column."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "report"))
from report_helpers import make_run

from shadow_suite.errors import ShadowSuiteError
from shadow_suite.gap import load_results
from shadow_suite.gap.items import items_from_results, read_items, write_items


def _row(frame: pd.DataFrame) -> int:
    return int(frame.index[(frame.task == "shadow_mmlu_orig") & (frame.correct == 0)][0])


def _gold(frame: pd.DataFrame) -> None:
    frame.loc[_row(frame), "gold"] = 9


def _nan(frame: pd.DataFrame) -> None:
    i = _row(frame)
    frame.at[i, "loglikelihoods"] = [float("nan"), *frame.at[i, "loglikelihoods"][1:]]


def _correct(frame: pd.DataFrame) -> None:
    frame.loc[_row(frame), "correct"] = 1  # while chosen is not gold


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_gold, "gold is 9, outside the item's 4 options"),
        (_nan, "a log-likelihood is nan"),
        (_correct, "correct is 1 but the chosen option"),
    ],
)
def test_impossible_numbers_in_items_are_refused(
    tmp_path: Path, edit: Callable[[pd.DataFrame], None], message: str
) -> None:
    items = items_from_results(load_results([make_run(tmp_path / "run")]))
    write_items(items, tmp_path / "fine.parquet")
    assert len(read_items(tmp_path / "fine.parquet")) == len(items)
    edit(items)
    write_items(items, tmp_path / "items.parquet")
    with pytest.raises(ShadowSuiteError) as err:
        read_items(tmp_path / "items.parquet")
    assert "items.parquet: shadow_mmlu_orig, item mmlu/test/" in str(err.value)
    assert message in str(err.value)
