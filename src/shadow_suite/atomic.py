"""Atomic writes: one file, or a whole set of files that must come from one run.

``write_bytes`` / ``write_text`` / ``write_with``: the data goes to a temporary file in the
target's own folder, is fsynced, gets the user's normal permissions (``0o666 & ~umask``;
``mkstemp`` alone would leave 0600 and make cards unreadable to others), and is moved into
place with ``os.replace``; the folder is fsynced so the rename survives a crash. A reader sees
the old file or the new one, never a part.

``output_set(out_dir)``: a set of files (card.json/html/md + items.parquet, or
spectra.json/parquet + singular_values.npz) written into a fresh temporary folder beside
``out_dir`` and swapped into place together, under a lock, so that two runs writing into one
folder cannot leave the JSON of one beside the Parquet of the other. When ``out_dir`` holds
only files of the set (or does not exist) the whole folder is exchanged in one step
(``renameat2(RENAME_EXCHANGE)`` on Linux); when it also holds other files (the user's own),
those are kept and the set's files are replaced one by one while the lock is held.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from shadow_suite.errors import ShadowSuiteError

_UMASK_LOCK = threading.Lock()
_RENAME_EXCHANGE = 2  # linux/fs.h


def current_umask() -> int:
    """The process umask, read without changing it where the OS allows."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def file_mode() -> int:
    return 0o666 & ~current_umask()


def dir_mode() -> int:
    return 0o777 & ~current_umask()


def fsync_dir(folder: str | os.PathLike[str]) -> None:
    """Make a rename or a new entry in ``folder`` durable (no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


class DiskFull(ShadowSuiteError):
    """No space left where an output is written: one line naming it; nothing finished lost."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__(
            f"no space left on device writing {path}; finished work is kept: free some space "
            "and rerun"
        )


def is_disk_full(error: BaseException) -> bool:
    return isinstance(error, OSError) and error.errno in DISK_FULL


def followed(path: Path) -> Path:
    """``path``, or where it points when it is a symbolic link: an output given as a link is
    written through it, never replaced by a file or folder of its own."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def write_with(path: str | os.PathLike[str], write: Callable[[IO[bytes]], object]) -> Path:
    """Write ``path`` atomically with ``write(handle)`` (a binary file handle). A full disk is
    one line naming the file; the old file, if any, is left as it was."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, file_mode())
        os.replace(tmp, target)
    except BaseException as err:
        Path(tmp).unlink(missing_ok=True)
        if is_disk_full(err):
            raise DiskFull(target) from None
        raise
    fsync_dir(target.parent)
    return target


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    return write_with(path, lambda handle: handle.write(data))


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike[str], value: Any) -> Path:
    """``value`` as indented JSON (UTF-8 kept as is), one trailing newline."""
    return write_text(path, json.dumps(value, indent=1, ensure_ascii=False) + "\n")


def write_jsonl(path: str | os.PathLike[str], rows: Iterable[Any]) -> Path:
    """One JSON value per line."""
    return write_text(path, "".join(json.dumps(row) + "\n" for row in rows))


def check_writable_dir(path: str | os.PathLike[str], what: str = "--out") -> Path:
    """Fail with one line, before any work, when ``path`` cannot become a writable folder.

    Nothing is created: the nearest existing ancestor must be a writable folder."""
    folder = Path(path).expanduser()
    if folder.exists() and not folder.is_dir():
        raise ShadowSuiteError(f"{what} {folder}: exists and is not a folder")
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise ShadowSuiteError(f"{what} {folder}: {probe} is not a folder")
    try:  # a real probe: os.access says yes to root on read-only or special file systems
        with tempfile.TemporaryFile(dir=probe, prefix=".shadow-suite-probe-"):
            pass
    except OSError as err:
        raise ShadowSuiteError(
            f"{what} {folder}: {probe} is not writable ({err.strerror or err})"
        ) from None
    return folder


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike[str]) -> Iterator[None]:
    """An exclusive ``flock`` on ``folder`` itself (waits for other holders)."""
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2); False where the OS cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0


def make_temp_dir(beside: Path) -> Path:
    """A fresh, empty folder next to ``beside`` (same file system), with normal permissions."""
    beside.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=beside.parent, prefix=f".{beside.name}.tmp-"))
    os.chmod(tmp, dir_mode())
    return tmp


def _fsync_tree(folder: Path) -> None:
    for path in folder.iterdir():
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    fsync_dir(folder)


def swap_into_place(staged: Path, target: Path) -> None:
    """Make ``staged`` (a complete folder) be ``target``; the old ``target`` is removed.

    One step when the OS can exchange two paths; otherwise two renames under the lock of the
    parent folder (a reader may then briefly find ``target`` missing, never mixed). A symbolic
    link at ``target`` is followed: the folder it points to is replaced, the link stays."""
    target = followed(target)
    _fsync_tree(staged)
    if not target.exists():
        try:
            os.rename(staged, target)
            fsync_dir(target.parent)
            return
        except OSError:
            if not target.exists():
                raise
    if _exchange(staged, target):
        shutil.rmtree(staged, ignore_errors=True)  # now holds the old folder
    else:
        old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.old-"))
        os.rename(target, old / "x")
        os.rename(staged, target)
        shutil.rmtree(old, ignore_errors=True)
    fsync_dir(target.parent)


@contextlib.contextmanager
def output_set(out_dir: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a fresh temporary folder; write every file of the set into it. On a clean exit
    the set replaces the previous one in ``out_dir`` as a whole; on an error nothing changes.

    ``out_dir`` is kept as it is apart from the set's files: other files in it stay. A
    symbolic link at ``out_dir`` is followed (the set goes where it points; the link stays)."""
    target = followed(Path(out_dir))
    staged = make_temp_dir(target)
    try:
        try:
            yield staged
        except (DiskFull, OSError) as err:  # name the folder, not a temporary file in it
            if isinstance(err, DiskFull) or is_disk_full(err):
                raise DiskFull(target) from None
            raise
        with folder_lock(target.parent):
            names = {p.name for p in staged.iterdir()}
            foreign = target.is_dir() and any(p.name not in names for p in target.iterdir())
            if not foreign:
                swap_into_place(staged, target)
                return
            _fsync_tree(staged)
            for name in sorted(names):
                os.replace(staged / name, target / name)
            fsync_dir(target)
    finally:
        if staged.exists():
            shutil.rmtree(staged, ignore_errors=True)
