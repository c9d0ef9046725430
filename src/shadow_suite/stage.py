"""One stage marker: a stage folder is finished exactly when its ``stage.json`` is there.

A stage (lm-eval's output, the spectra, the demo's models...) runs into a fresh temporary
folder beside its final place; when it succeeds, ``stage.json`` (the settings it ran with) is
written into that folder and the folder is renamed into place, so the marker and the files
arrive in one step. A killed run leaves only a hidden ``.NAME.tmp-*`` folder, which the next
run removes; a folder without a marker is never read as finished.

A rerun with the same settings reuses the stage. One with other settings is refused with one
line naming the first setting that differs and how to start over (``StageMismatch``), unless
the caller asks to redo the stage, which then replaces it as a whole. Never a folder holding
files of two runs.

Usage::

    settings = {"model": "hf", "limit": 5}
    if not stage_is_done(folder, settings):
        with run_stage(folder, settings) as work:
            produce_files_into(work)
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from shadow_suite import atomic
from shadow_suite.errors import ShadowSuiteError

STAGE_FILE = "stage.json"


class StageMismatch(ShadowSuiteError):
    """A finished stage ran with other settings than the ones asked for now."""


class StageBusy(ShadowSuiteError):
    """Another process is running this stage into the same folder."""


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def recorded_settings(folder: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The settings a finished stage ran with, or None when the folder holds no finished stage."""
    marker = Path(folder) / STAGE_FILE
    if not marker.is_file():
        return None
    try:
        recorded = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ShadowSuiteError(
            f"{marker}: damaged stage marker ({err}); remove {folder} to start that stage over"
        ) from None
    settings = recorded.get("settings") if isinstance(recorded, dict) else None
    if not isinstance(settings, dict):
        raise ShadowSuiteError(
            f"{marker}: not a stage marker (no 'settings'); remove {folder} to start over"
        )
    return settings


def first_difference(recorded: Mapping[str, Any], wanted: Mapping[str, Any]) -> str | None:
    """``"limit: 3 then, 5 now"`` for the first setting that differs, or None."""
    for key in sorted(set(recorded) | set(wanted)):
        old, new = recorded.get(key), wanted.get(key)
        if old != new:
            return f"{key}: {old!r} then, {new!r} now"
    return None


def stage_is_done(
    folder: str | os.PathLike[str],
    settings: Mapping[str, Any],
    *,
    label: str | None = None,
    redo: bool = False,
) -> bool:
    """True when ``folder`` holds this stage finished with ``settings``; False when it must run.

    Other settings: ``StageMismatch`` (one line: which setting, how to start over), or with
    ``redo`` False is returned and ``run_stage`` replaces the old stage as a whole."""
    wanted = _jsonable(dict(settings))
    recorded = recorded_settings(folder)
    if recorded is None:
        return False
    difference = first_difference(recorded, wanted)
    if difference is None:
        return True
    if redo:
        return False
    name = label or Path(folder).name
    raise StageMismatch(
        f"{folder} holds a finished {name} stage run with other settings ({difference}); "
        f"use another --out, or remove {folder} to start that stage over"
    )


@contextlib.contextmanager
def _stage_lock(folder: Path) -> Iterator[None]:
    lock_path = folder.parent / f".{folder.name}.lock"
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, atomic.file_mode())
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StageBusy(
                f"{folder}: another shadow-suite process is running this stage; wait for it "
                "or use another --out"
            ) from None
        yield
    finally:
        os.close(fd)


def _remove_stale(folder: Path) -> None:
    """Temporary folders of killed runs of this stage (only called with the stage's lock)."""
    for stale in folder.parent.glob(f".{folder.name}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)


@contextlib.contextmanager
def run_stage(folder: str | os.PathLike[str], settings: Mapping[str, Any]) -> Iterator[Path]:
    """Yield a fresh temporary folder to run the stage into; on success write the marker
    there and rename the folder into place (replacing an older stage as a whole). On an error
    or an interrupt nothing changes at ``folder``.

    The settings are checked again once the lock is held, so two runs racing into one folder
    cannot both finish (the second is refused with ``StageBusy``)."""
    target = Path(folder)
    target.parent.mkdir(parents=True, exist_ok=True)
    record = _jsonable(dict(settings))
    with _stage_lock(target):
        _remove_stale(target)
        work = atomic.make_temp_dir(target)
        started = time.perf_counter()
        try:
            yield work
            marker = {"settings": record, "seconds": round(time.perf_counter() - started, 2)}
            atomic.write_text(work / STAGE_FILE, json.dumps(marker, indent=1) + "\n")
            atomic.swap_into_place(work, target)
        finally:
            if work.exists():
                shutil.rmtree(work, ignore_errors=True)
