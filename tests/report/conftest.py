"""Shared fixtures of the report tests: synthetic lm-eval folders and cards."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

# the synthetic lm-eval writer lives with the gap tests
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gap"))

from fake_lm_eval import simulate, write_run

from shadow_suite.report.card import build_card
from shadow_suite.report.schema import Card

HOSTILE_NAME = 'org/<script>alert("x")</script>&<b>'


def make_run(
    out: Path, model_name: str = "org/tiny-model", drop: float = 0.25, seed: int = 0
) -> Path:
    rng = np.random.default_rng(seed)
    tasks = simulate(
        {"mmlu": 0.7, "arc_challenge": 0.6, "gsm8k": 0.4, "winogrande": 0.5},
        {"permuted": drop, "relabeled": 0.0},
        300,
        rng,
        skip_every=10,
    )
    write_run(out, tasks, model_name=model_name)
    return out


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return make_run(tmp_path / "eval", HOSTILE_NAME)


@pytest.fixture
def card(run_dir: Path) -> Card:
    return build_card([run_dir], n_boot=500, seed=3)
