"""Make ``lm_eval --tasks shadow_suite`` find the task pack with no ``--include_path``.

lm-eval 0.4.13 discovers tasks only in its own ``lm_eval/tasks/`` folder and in the
folders given as ``include_path`` to its ``TaskManager`` (the CLI's ``--include_path``);
it has no entry points for task packages (upstream proposal: lm-evaluation-harness PR
#4015). Copying our YAML into lm-eval's folder would write into another distribution,
and a symlink is not followed by its scan. So this package installs a one-line
``shadow_suite_lm_eval.pth`` into site-packages that imports this module at start-up.
It is cheap (no lm-eval import): it only adds an import hook, and when
``lm_eval.tasks.manager`` is first imported, it wraps ``TaskManager.__init__`` so that
our task folder is scanned right after lm-eval's built-in tasks and before any user
``include_path``, the precedence the upstream proposal specifies (a user's folder can
still override a task of ours).

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
    """The folder that holds the ``shadow_suite`` task pack.

    In an installed wheel the pack is copied into the package; in a checkout (editable
    install, or ``PYTHONPATH=src``) it is the top-level ``tasks/`` folder.
    """
    installed = Path(__file__).resolve().parent / "tasks"
    if (installed / "shadow_suite").is_dir():
        return installed
    checkout = Path(__file__).resolve().parents[2] / "tasks"
    if (checkout / "shadow_suite").is_dir():
        return checkout
    raise FileNotFoundError(
        f"shadow-suite: task pack not found in {installed} or {checkout}; reinstall the package"
    )


def _patch_task_manager(module: ModuleType) -> None:
    task_manager = module.TaskManager
    if getattr(task_manager.__init__, "_shadow_suite", False):
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
    _print_our_errors_as_one_line()


def _print_our_errors_as_one_line() -> None:
    """Inside ``lm_eval``, bad input to the pack (unknown variant, missing data file, bad
    seed) raises ShadowSuiteError while tasks are built; print it as one line, like the
    ``shadow-suite`` command does, instead of lm-eval's traceback. Other errors keep
    Python's usual report."""
    previous = sys.excepthook
    if getattr(previous, "_shadow_suite", False):
        return

    def excepthook(kind: type[BaseException], error: BaseException, tb: Any) -> None:
        from shadow_suite.errors import ShadowSuiteError

        if issubclass(kind, ShadowSuiteError):
            print(f"shadow-suite: error: {error}", file=sys.stderr)
        else:
            previous(kind, error, tb)

    excepthook._shadow_suite = True  # type: ignore[attr-defined]
    sys.excepthook = excepthook


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
