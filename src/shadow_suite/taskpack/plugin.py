"""Make ``lm_eval --tasks shadow_suite`` find the task pack with no ``--include_path``.

The pack's YAML lives in ``shadow_suite/taskpack/tasks/``. Two ways lead lm-eval there:

* **The entry point** ``lm_eval.tasks`` -> ``shadow_suite.taskpack.tasks`` (pyproject.toml), as
  lm-evaluation-harness PR #4015 defines task plugins: lm-eval scans the package folder of the
  entry point's module for YAML, after its built-in tasks and before any ``--include_path``.
  No released lm-eval (0.4.13) reads it yet; once one does, this hook stands aside.
* **Until then, an import hook.** lm-eval 0.4.13 discovers tasks only in its own folder and in
  ``include_path``. Copying our YAML into lm-eval's folder would write into another
  distribution, and a symlink is not followed by its scan. So the package installs a one-line
  ``shadow_suite_lm_eval.pth`` into site-packages that imports this module at start-up. It is
  cheap (no lm-eval import): it adds an import hook, and when ``lm_eval.tasks.manager`` is
  first imported it wraps ``TaskManager.__init__`` so that our task folder is scanned right
  after lm-eval's built-in tasks and before any user ``include_path``, the precedence of the
  entry points (a user's folder can still override a task of ours).

It changes nothing else in the process: a bad input to the pack (unknown variant, missing data
file, bad seed) is lm-eval's error to report, and its last line is our one-line message.
Set ``SHADOW_SUITE_LM_EVAL_PLUGIN=0`` to switch the hook off.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import inspect
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

_TARGET = "lm_eval.tasks.manager"


def task_pack_dir() -> Path:
    """The folder that holds the ``shadow_suite`` task pack (``shadow_suite/`` inside it),
    the same in a checkout, an editable install and a wheel."""
    return Path(__file__).resolve().parent / "tasks"


def lm_eval_reads_entry_points(module: ModuleType) -> bool:
    """Whether this lm-eval finds task plugins by their entry points (PR #4015) itself."""
    return hasattr(module, "discover_plugin_task_paths")


def _patch_task_manager(module: ModuleType) -> None:
    task_manager = module.TaskManager
    if getattr(task_manager.__init__, "_shadow_suite", False) or lm_eval_reads_entry_points(module):
        return
    original_init = task_manager.__init__

    signature = inspect.signature(original_init)

    @functools.wraps(original_init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        if bound.arguments.get("include_defaults", True):
            bound.arguments["include_path"] = _with_our_tasks(bound.arguments.get("include_path"))
        original_init(*bound.args, **bound.kwargs)

    __init__._shadow_suite = True  # type: ignore[attr-defined]
    task_manager.__init__ = __init__


def _with_our_tasks(include_path: Any) -> list[str | Path]:
    ours = task_pack_dir()
    theirs: list[str | Path] = []
    if include_path:
        theirs = list(include_path) if isinstance(include_path, list | tuple) else [include_path]
    # --include_path pointing at our own folder (from a checkout) must not load it twice.
    theirs = [p for p in theirs if Path(p).resolve() != ours]
    return [ours, *theirs]


class _PatchingLoader(importlib.abc.Loader):
    def __init__(self, wrapped: importlib.abc.Loader) -> None:
        self._wrapped = wrapped

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._wrapped.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._wrapped.exec_module(module)
        _patch_task_manager(module)


class _TaskManagerFinder(importlib.abc.MetaPathFinder):
    """Finds nothing itself; wraps the real loader of ``lm_eval.tasks.manager``."""

    def find_spec(
        self, fullname: str, path: Any = None, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != _TARGET:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _PatchingLoader(spec.loader)
                return spec
        return None


def install() -> None:
    """Register the hook (idempotent); patch at once if lm-eval is already imported."""
    if os.environ.get("SHADOW_SUITE_LM_EVAL_PLUGIN", "1") == "0":
        return
    if _TARGET in sys.modules:
        _patch_task_manager(sys.modules[_TARGET])
        return
    if not any(isinstance(f, _TaskManagerFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _TaskManagerFinder())


try:
    install()
except Exception as err:  # never break interpreter start-up
    print(f"shadow-suite: lm-eval task hook not installed: {err}", file=sys.stderr)
