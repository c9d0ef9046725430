"""Fixtures of the report tests: a synthetic lm-eval folder and its card."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_helpers import HOSTILE_NAME, make_run

from shadow_suite.report.card import build_card
from shadow_suite.report.schema import Card


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return make_run(tmp_path / "eval", HOSTILE_NAME)


@pytest.fixture
def card(run_dir: Path) -> Card:
    return build_card([run_dir], n_boot=500, seed=3)
