"""lm-eval finds exactly our tasks and groups: through the installed hook, and through
``--include_path tasks/`` from a checkout, with or without the hook."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from lm_eval.tasks import TaskManager

from shadow_suite.taskpack.plugin import task_pack_dir
from shadow_suite.taskpack.suite import BENCHMARKS
from shadow_suite.taskpack.variants import VARIANTS

REPO = Path(__file__).resolve().parents[2]
EXPECTED_TASKS = {
    f"shadow_{benchmark}_{variant}"
    for benchmark, variants in VARIANTS.items()
    for variant in ["orig", *variants]
}
EXPECTED_GROUPS = {"shadow_suite", *(f"shadow_{b}" for b in BENCHMARKS)}


def shadow_names(names: list[str]) -> set[str]:
    return {n for n in names if n.startswith("shadow_")}


@pytest.fixture(scope="module")
def default_manager() -> TaskManager:
    return TaskManager()


def test_every_variant_has_a_task_and_every_task_a_variant(default_manager):
    assert shadow_names(default_manager.all_subtasks) == EXPECTED_TASKS
    assert shadow_names(default_manager.all_groups) == EXPECTED_GROUPS


def test_include_path_of_the_checkout_adds_nothing_twice(default_manager, caplog):
    with caplog.at_level(logging.WARNING):
        manager = TaskManager(include_path=str(REPO / "tasks"))
    assert "overrides existing task" not in caplog.text
    assert shadow_names(manager.all_tasks) == shadow_names(default_manager.all_tasks)


def test_task_pack_dir_is_the_checkout_in_an_editable_install():
    assert task_pack_dir() == REPO / "tasks"


def test_include_path_works_without_the_hook():
    code = (
        "from lm_eval.tasks import TaskManager; import sys;"
        "plain = TaskManager().all_tasks;"
        f"included = TaskManager(include_path={str(REPO / 'tasks')!r}).all_tasks;"
        "print(any(n.startswith('shadow_') for n in plain), 'shadow_suite' in included)"
    )
    env = {**os.environ, "SHADOW_SUITE_LM_EVAL_PLUGIN": "0"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "True"]
