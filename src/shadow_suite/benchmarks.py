"""The five benchmarks of the suite: where their data lives and how they are scored.

One place for what every stage needs to know about a benchmark: the task pack (data
files, splits), the gap analysis (which metric decides if an item is right, chance
level) and the report card.
"""

from __future__ import annotations

from dataclasses import dataclass

from shadow_suite.errors import ShadowSuiteError


@dataclass(frozen=True)
class Benchmark:
    name: str
    """Our name, used in task names (``shadow_<name>_<variant>``) and in the data folder."""
    lm_eval_task: str
    """lm-eval's own task (or group) whose requests our ``orig`` task reproduces."""
    hub_path: str
    hub_name: str | None
    """The Hugging Face dataset lm-eval loads (used when no local data folder is set)."""
    eval_split: str
    fewshot_split: str | None
    """Split the few-shot examples come from, or None when the benchmark runs zero-shot."""
    local_splits: tuple[str, ...]
    """Files ``<data_dir>/<name>/<split>.jsonl`` the pack reads, in the upstream row order."""
    primary_metric: str
    """The per-item metric (as in lm-eval's samples files, ``metric,filter``) that decides
    whether the model got an item right; the one leaderboards report."""


BENCHMARKS: dict[str, Benchmark] = {
    b.name: b
    for b in (
        Benchmark(
            name="mmlu",
            lm_eval_task="mmlu",
            hub_path="cais/mmlu",
            hub_name="all",
            eval_split="test",
            fewshot_split="dev",
            local_splits=("test", "dev"),
            primary_metric="acc,none",
        ),
        Benchmark(
            name="arc_challenge",
            lm_eval_task="arc_challenge",
            hub_path="allenai/ai2_arc",
            hub_name="ARC-Challenge",
            eval_split="test",
            fewshot_split=None,
            local_splits=("test",),
            primary_metric="acc_norm,none",
        ),
        Benchmark(
            name="hellaswag",
            lm_eval_task="hellaswag",
            hub_path="Rowan/hellaswag",
            hub_name=None,
            eval_split="validation",
            fewshot_split=None,
            local_splits=("validation",),
            primary_metric="acc_norm,none",
        ),
        Benchmark(
            name="gsm8k",
            lm_eval_task="gsm8k",
            hub_path="openai/gsm8k",
            hub_name="main",
            eval_split="test",
            fewshot_split="train",
            local_splits=("test", "train", "test_rephrased"),
            primary_metric="exact_match,strict-match",
        ),
        Benchmark(
            name="winogrande",
            lm_eval_task="winogrande",
            hub_path="allenai/winogrande",
            hub_name="winogrande_xl",
            eval_split="validation",
            fewshot_split=None,
            local_splits=("validation",),
            primary_metric="acc,none",
        ),
    )
}


def get_benchmark(name: str) -> Benchmark:
    try:
        return BENCHMARKS[name]
    except KeyError:
        raise ShadowSuiteError(
            f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}"
        ) from None
