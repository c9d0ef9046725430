"""Our ``orig`` tasks send lm-eval's own requests: same contexts, continuations, few-shot
examples, generation settings, metrics and filters, on the same documents.

lm-eval's tasks are built from lm-eval's own YAML (found through its TaskManager), with only
the data source swapped for the local rows, so that nothing is downloaded.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import datasets
import pytest
from lm_eval.api.task import ConfigurableTask
from lm_eval.tasks import TaskManager
from lm_eval.tasks._yaml_loader import load_yaml

from shadow_suite.data import load_split

FEWSHOT_SEED = 1234


@pytest.fixture(scope="module")
def task_manager() -> TaskManager:
    return TaskManager()


def requests_by_doc(
    task: Any, limit: int | None = None, samples: list[int] | None = None
) -> list[list[tuple]]:
    task.set_fewshot_seed(FEWSHOT_SEED)
    task.build_all_requests(limit=limit, samples=samples)
    grouped: dict[int, list[tuple]] = defaultdict(list)
    for inst in task.instances:
        grouped[inst.doc_id].append((inst.request_type, inst.idx, _freeze(inst.arguments)))
    return [sorted(grouped[i]) for i in sorted(grouped)]


def _freeze(arguments: tuple) -> tuple:
    return tuple(repr(sorted(a.items())) if isinstance(a, dict) else a for a in arguments)


def lm_eval_task(tm: TaskManager, name: str, splits: dict[str, list[dict]]) -> ConfigurableTask:
    """lm-eval's own task ``name``, reading ``splits`` instead of the hub."""
    config = load_yaml(tm.task_index[name].yaml_path, resolve_func=True, recursive=True)
    config.pop("dataset_kwargs", None)
    config["custom_dataset"] = lambda **_: datasets.DatasetDict(
        {split: datasets.Dataset.from_list(rows) for split, rows in splits.items()}
    )
    return ConfigurableTask(config=config)


def our_task(tm: TaskManager, name: str) -> ConfigurableTask:
    return tm.load([name])["tasks"][name]


def assert_same_config(ours: ConfigurableTask, theirs: ConfigurableTask) -> None:
    for field in (
        "output_type", "num_fewshot", "metric_list", "filter_list", "generation_kwargs",
        "target_delimiter", "fewshot_delimiter", "repeats",
    ):  # fmt: skip
        assert getattr(ours.config, field) == getattr(theirs.config, field), field


@pytest.mark.parametrize(
    ("benchmark", "lm_eval_name", "split_map", "limit"),
    [
        # lm-eval's split name -> our split whose rows it gets (the extra ones only feed
        # the few-shot fallback of zero-shot tasks, never a request).
        (
            "arc_challenge",
            "arc_challenge",
            {"test": "test", "train": "test", "validation": "test"},
            None,
        ),
        ("hellaswag", "hellaswag", {"validation": "validation", "train": "validation"}, 1000),
        ("winogrande", "winogrande", {"validation": "validation", "train": "validation"}, None),
        ("gsm8k", "gsm8k", {"test": "test", "train": "train"}, 400),
    ],
)
def test_orig_requests_match_lm_eval(
    benchmark_data, task_manager, benchmark, lm_eval_name, split_map, limit
):
    splits = {theirs: load_split(benchmark, ours)[0] for theirs, ours in split_map.items()}
    theirs = lm_eval_task(task_manager, lm_eval_name, splits)
    ours = our_task(task_manager, f"shadow_{benchmark}_orig")
    assert_same_config(ours, theirs)
    expected = requests_by_doc(theirs, limit)
    got = requests_by_doc(ours, limit)
    assert len(got) == len(expected) > 0
    for doc_id, (a, b) in enumerate(zip(got, expected, strict=True)):
        assert a == b, f"{benchmark} doc {doc_id}"


def test_mmlu_orig_matches_all_57_subject_tasks(benchmark_data, task_manager):
    """One task over all subjects == lm-eval's 57 subject tasks, 5-shot, on the first
    items of every subject (building requests for all 14,042 items takes minutes)."""
    per_subject = 4
    test_rows, dev_rows = load_split("mmlu", "test")[0], load_split("mmlu", "dev")[0]
    subjects = sorted({row["subject"] for row in test_rows})
    assert len(subjects) == 57
    rows_of = {s: [i for i, r in enumerate(test_rows) if r["subject"] == s] for s in subjects}
    checked = sorted(i for s in subjects for i in rows_of[s][:per_subject])

    ours = our_task(task_manager, "shadow_mmlu_orig")
    ours.set_config("num_fewshot", 5)
    got = requests_by_doc(ours, samples=checked)

    expected: list[list[tuple]] = []
    for subject in subjects:
        theirs = lm_eval_task(
            task_manager,
            f"mmlu_{subject}",
            {
                "test": [test_rows[i] for i in rows_of[subject]],
                "dev": [r for r in dev_rows if r["subject"] == subject],
            },
        )
        theirs.set_config("num_fewshot", 5)
        assert_same_config(ours, theirs)
        expected += requests_by_doc(theirs, limit=per_subject)
    assert len(got) == len(expected) == 57 * per_subject
    for row, a, b in zip(checked, got, expected, strict=True):
        assert a == b, f"mmlu row {row} ({test_rows[row]['subject']})"
