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

The settings include the model's identity (``shadow_suite.identity``: a digest of its files),
so a folder whose weights were replaced is another model, never "already done". A stage also
leaves ``.NAME.started.json`` (its settings) beside its folder while it runs: a run killed
midway resumes from its caches, and a rerun on another model is refused in one line before
it could resume into them. A stage that failed on an error (not an interrupt) removes it:
there is nothing of it to resume.

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
from shadow_suite.identity import IDENTITY_SETTINGS, short

STAGE_FILE = "stage.json"


class StageMismatch(ShadowSuiteError):
    """A finished stage ran with other settings than the ones asked for now."""


class StageBusy(ShadowSuiteError):
    """Another process is running this stage into the same folder."""


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def started_marker(folder: str | os.PathLike[str]) -> Path:
    """Where a running stage records its settings until it finishes (hidden, beside it; beside
    the folder a symbolic link points to, where the stage is written)."""
    path = atomic.followed(Path(folder))
    return path.parent / f".{path.name}.started.json"


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
    """``"limit: 3 then, 5 now"`` for the first setting that differs, or None (a model's
    identity first: when the weights changed, that is what the user must hear)."""
    keys = sorted(set(recorded) | set(wanted), key=lambda k: (k not in IDENTITY_SETTINGS, k))
    for key in keys:
        old, new = recorded.get(key), wanted.get(key)
        if old != new:
            if key in IDENTITY_SETTINGS:
                then = "not recorded (an older shadow-suite)" if old is None else short(old)
                return f"{key}: {then} then, {short(new)} now: other weights"
            return f"{key}: {old!r} then, {new!r} now"
    return None


def _started_settings(folder: Path) -> dict[str, Any] | None:
    try:
        started = json.loads(started_marker(folder).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # none, or damaged: our own hidden file, nothing to refuse on
    settings = started.get("settings") if isinstance(started, dict) else None
    return settings if isinstance(settings, dict) else None


def stage_is_done(
    folder: str | os.PathLike[str],
    settings: Mapping[str, Any],
    *,
    label: str | None = None,
    redo: bool = False,
    redo_hint: str | None = None,
) -> bool:
    """True when ``folder`` holds this stage finished with ``settings``; False when it must run.

    Other settings: ``StageMismatch`` (one line: which setting, how to start over), or with
    ``redo`` False is returned and ``run_stage`` replaces the old stage as a whole. A stage
    interrupted on another model (its identity settings differ) is refused the same way.
    ``redo_hint``: how the caller's user asks for ``redo`` (``"pass --force"``)."""
    wanted = _jsonable(dict(settings))
    recorded = recorded_settings(folder)
    name = label or Path(folder).name
    how = f"{redo_hint}, use another --out," if redo_hint else "use another --out,"
    if recorded is None:
        started = _started_settings(Path(folder))
        if started is None or redo:
            return False
        changed = {k: started.get(k) for k in IDENTITY_SETTINGS if started.get(k) != wanted.get(k)}
        if changed:
            difference = first_difference(changed, {k: wanted.get(k) for k in changed})
            raise StageMismatch(
                f"{folder}: an interrupted {name} stage ran on another model ({difference}), "
                f"and resuming would mix the two; {how} or rerun with that model to resume"
            )
        return False
    difference = first_difference(recorded, wanted)
    if difference is None:
        return True
    if redo:
        return False
    raise StageMismatch(
        f"{folder} holds a finished {name} stage run with other settings ({difference}); "
        f"{how} or remove {folder} to start that stage over"
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
    target = atomic.followed(Path(folder))  # a symlinked stage folder: its target is replaced
    target.parent.mkdir(parents=True, exist_ok=True)
    record = _jsonable(dict(settings))
    with _stage_lock(target):
        _remove_stale(target)
        work = atomic.make_temp_dir(target)
        started = time.perf_counter()
        running = started_marker(target)
        atomic.write_text(running, json.dumps({"settings": record}, indent=1) + "\n")
        try:
            yield work
            marker = {"settings": record, "seconds": round(time.perf_counter() - started, 2)}
            atomic.write_text(work / STAGE_FILE, json.dumps(marker, indent=1) + "\n")
            atomic.swap_into_place(work, target)
            running.unlink(missing_ok=True)
        except Exception:
            # an error, not an interrupt: nothing to resume, and the user may now fix the
            # model folder (its identity changes) without being told it is another model
            running.unlink(missing_ok=True)
            raise
        finally:
            if work.exists():
                shutil.rmtree(work, ignore_errors=True)
