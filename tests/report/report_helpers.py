"""Helpers of the report tests: synthetic lm-eval folders (imported by module name, which
is unique across the test tree, unlike ``conftest``)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

# the synthetic lm-eval writer lives with the gap tests
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gap"))

from fake_lm_eval import simulate, write_run

HOSTILE_NAME = 'org/<script>alert("x")</script>&<b>'


def make_run(
    out: Path, model_name: str = "org/tiny-model", drop: float = 0.25, seed: int = 0
) -> Path:
    rng = np.random.default_rng(seed)
    # each benchmark with variants it really has (the card refuses unknown ones)
    tasks = simulate(
        {"mmlu": 0.7, "arc_challenge": 0.6},
        {"permuted": drop, "relabeled": 0.0},
        300,
        rng,
        skip_every=10,
    )
    tasks.update(simulate({"gsm8k": 0.4}, {"rephrased": drop}, 300, rng, skip_every=10))
    tasks.update(simulate({"winogrande": 0.5}, {"lettered": 0.0}, 300, rng, skip_every=10))
    write_run(out, tasks, model_name=model_name)
    return out
