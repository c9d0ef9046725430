"""lm-eval finds exactly our tasks and groups: through the installed hook, and through
``--include_path`` at the pack's folder, with or without the hook; the ``lm_eval.tasks`` entry
point (lm-evaluation-harness PR #4015) resolves to the same folder."""

from __future__ import annotations

import importlib.util
import logging
import os
import subprocess
import sys
import types
from importlib import metadata
from pathlib import Path

import pytest
from lm_eval.tasks import TaskManager

from shadow_suite.contract import (
    FAMILIARITY_TEXTS,
    GROUP,
    ORIG,
    TASK_PREFIX,
    benchmark_group,
    task_name,
)
from shadow_suite.taskpack import plugin
from shadow_suite.taskpack.plugin import task_pack_dir
from shadow_suite.taskpack.suite import BENCHMARKS
from shadow_suite.taskpack.variants import VARIANTS

REPO = Path(__file__).resolve().parents[2]
PACK = REPO / "src" / "shadow_suite" / "taskpack" / "tasks"
EXPECTED_TASKS = {
    task_name(benchmark, variant)
    for benchmark, variants in VARIANTS.items()
    for variant in [ORIG, *variants, *FAMILIARITY_TEXTS]
}
EXPECTED_GROUPS = {GROUP, *(benchmark_group(b) for b in BENCHMARKS)}


def shadow_names(names: list[str]) -> set[str]:
    return {n for n in names if n.startswith(TASK_PREFIX)}


@pytest.fixture(scope="module")
def default_manager() -> TaskManager:
    return TaskManager()


def test_every_variant_has_a_task_and_every_task_a_variant(default_manager):
    assert shadow_names(default_manager.all_subtasks) == EXPECTED_TASKS
    assert shadow_names(default_manager.all_groups) == EXPECTED_GROUPS


def test_include_path_of_the_checkout_adds_nothing_twice(default_manager, caplog):
    with caplog.at_level(logging.WARNING):
        manager = TaskManager(include_path=str(PACK))
    assert "overrides existing task" not in caplog.text
    assert shadow_names(manager.all_tasks) == shadow_names(default_manager.all_tasks)


def test_task_pack_dir_is_the_checkout_in_an_editable_install():
    assert task_pack_dir() == PACK


def test_the_entry_point_resolves_to_the_pack_as_pr_4015_reads_it():
    """PR #4015's ``_resolve_task_dir``: the module part of the value, found by
    ``importlib.util.find_spec``, and its package folder (scanned for YAML)."""
    (entry,) = [e for e in metadata.entry_points(group="lm_eval.tasks") if e.name == GROUP]
    spec = importlib.util.find_spec(entry.value.split(":", 1)[0].strip())
    assert spec is not None and spec.submodule_search_locations
    folder = Path(next(iter(spec.submodule_search_locations))).resolve()
    assert folder == task_pack_dir()
    assert (folder / GROUP / f"{GROUP}.yaml").is_file()


def test_the_hook_stands_aside_for_an_lm_eval_that_reads_entry_points():
    """Once lm-eval finds plugins itself, wrapping its TaskManager would load the pack twice."""

    class TaskManager:
        def __init__(self, include_path=None, include_defaults=True):
            self.include_path = include_path

    newer = types.ModuleType("lm_eval.tasks.manager")
    newer.TaskManager = TaskManager  # type: ignore[attr-defined]
    newer.discover_plugin_task_paths = lambda: [task_pack_dir()]  # type: ignore[attr-defined]
    plugin._patch_task_manager(newer)
    assert TaskManager().include_path is None

    older = types.ModuleType("lm_eval.tasks.manager")
    older.TaskManager = type("TaskManager", (TaskManager,), {})  # type: ignore[attr-defined]
    plugin._patch_task_manager(older)
    assert older.TaskManager().include_path == [task_pack_dir()]


def test_include_path_works_without_the_hook():
    code = (
        "from lm_eval.tasks import TaskManager; import sys;"
        "plain = TaskManager().all_tasks;"
        f"included = TaskManager(include_path={str(PACK)!r}).all_tasks;"
        "print(any(n.startswith('shadow_') for n in plain), 'shadow_suite' in included)"
    )
    env = {**os.environ, "SHADOW_SUITE_LM_EVAL_PLUGIN": "0"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "True"]
