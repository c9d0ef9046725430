"""A model's identity: a digest of the files that decide what it does, never its path.

A folder is a model only through its files: the same path can hold other weights tomorrow
(a copy over the old shards, a re-trained checkpoint saved in place), and the same files can
sit under two paths. So every stage marker, ``spectra.json``, the card and lm-eval's request
cache are keyed by :func:`model_identity`, and a rerun whose digest differs is refused
(``shadow_suite.stage``) instead of reusing another model's answers.

What goes in: every regular file at the top of the folder (weights and their index,
``config.json``, ``generation_config.json``, the tokenizer's files, chat templates, custom
code) by name, size and the SHA-256 of its bytes; only files that cannot change behaviour are
left out (documentation, licences, images, hidden files), and subfolders (loaders read a model
from its top level). A file's SHA-256 is computed once and cached by its real path, size,
mtime, ctime and inode: an unchanged 7B model costs milliseconds on a rerun, the first time one
read of its bytes (``benchmarks/identity/bench_digest.py``). ctime is in the key because no
tool can set it: a copy that keeps the old mtime (``cp -p``) still changes it.

Digests are ``sha256:<hex>``; :func:`short` gives the 12 characters messages show.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from shadow_suite.errors import ShadowSuiteError

IDENTITY_VERSION = "shadow-suite.model-identity.1"
"""Changes with the recipe below, so that digests of two recipes never compare equal."""
MODEL_IDENTITY = "model_identity"
"""The stage-marker setting holding the evaluated (or analysed) model's digest."""
BASE_IDENTITY = "base_identity"
"""The stage-marker setting holding the base model's digest (spectra against a base)."""
IDENTITY_SETTINGS = (MODEL_IDENTITY, BASE_IDENTITY)
"""Settings that name a model: an interrupted stage resumes only with the same values."""

# Files a loader never reads, so that editing a README does not make another model.
_IGNORED_SUFFIXES = (".md", ".rst", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".pdf", ".lock")
_IGNORED_STEMS = ("readme", "license", "licence", "notice", "use_policy", "citation")
# Below this a file is hashed directly: cheaper than reading and writing a cache entry.
_CACHE_FROM_BYTES = 4 << 20
_HASH_WORKERS = 4


@dataclass(frozen=True)
class ModelIdentity:
    """What a model folder holds, as one digest (and the files it was made from)."""

    digest: str
    """``sha256:<hex>`` over the recipe's version and every file's name, size and SHA-256."""
    folder: Path
    """The folder's real path (symlinks resolved)."""
    files: tuple[str, ...]
    """The names of the files that went into the digest, sorted."""

    @property
    def short(self) -> str:
        return short(self.digest)


def short(digest: str | None) -> str:
    """The 12 hex characters of a digest that a one-line message shows."""
    if digest is None:
        return "unknown"
    return digest.removeprefix("sha256:")[:12]


def defining_files(folder: Path) -> list[Path]:
    """The files of ``folder`` that decide what the model does (see the module docstring)."""
    chosen = []
    for path in folder.iterdir():
        name = path.name.lower()
        if name.startswith(".") or name.endswith(_IGNORED_SUFFIXES):
            continue
        if name.split(".")[0].startswith(_IGNORED_STEMS):
            continue
        if path.is_file():  # follows symlinks: a hub cache snapshot links to its blobs
            chosen.append(path)
    return sorted(chosen, key=lambda p: p.name)


def model_identity(folder: str | os.PathLike[str]) -> ModelIdentity:
    """The identity of a local model folder; one line naming the folder when it cannot be read."""
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise ShadowSuiteError(f"{root}: not a model folder (no such folder)")
    try:
        files = defining_files(root)
        hashes = file_hashes(files)
        digest = hashlib.sha256(IDENTITY_VERSION.encode())
        for path in files:
            size = path.stat().st_size
            digest.update(f"\n{path.name}\0{size}\0{hashes[path]}".encode())
    except OSError as err:
        raise ShadowSuiteError(
            f"{err.filename or root}: cannot read ({err.strerror or err})"
        ) from None
    if not files:
        raise ShadowSuiteError(f"{root}: an empty model folder (no weights, config or tokenizer)")
    return ModelIdentity(
        "sha256:" + digest.hexdigest(), Path(os.path.realpath(root)), tuple(p.name for p in files)
    )


def identity_of(where: str | os.PathLike[str] | None) -> str | None:
    """The digest of a model given as a local folder; None for anything else (a served
    model, a hub id). A hub id is left out even when its snapshot is in the hub cache: its
    first run may download it, so a digest would appear between two runs of one model and
    read as other weights; its settings (id, revision) key its stages, as before."""
    if where is None:
        return None
    folder = Path(where).expanduser()
    return model_identity(folder).digest if folder.is_dir() else None


def local_model_folder(where: str, revision: str | None = None) -> Path | None:
    """``where`` as a folder on this machine: the folder itself, or a hub id's snapshot in the
    hub cache (what transformers and vLLM load offline); None when it is neither."""
    path = Path(where).expanduser()
    if path.is_dir():
        return path
    if path.exists() or where.startswith(("/", ".", "~")) or where.count("/") != 1:
        return None
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    try:
        found = try_to_load_from_cache(where, "config.json", revision=revision)
    except Exception:  # a malformed id or revision: not in the cache as far as we can tell
        return None
    return Path(found).parent if isinstance(found, str) else None


# -- the SHA-256 of one file, cached ------------------------------------------------------


def cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "shadow-suite" / "identity"


def _stamp(path: Path) -> list[int]:
    """What changes whenever the bytes may have: size, mtime, ctime, inode and device."""
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, stat.st_dev]


def _entry(real: str) -> Path:
    key = hashlib.sha256(real.encode()).hexdigest()
    return cache_dir() / key[:2] / f"{key}.json"


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes, from the cache when the file has not changed since."""
    real = os.path.realpath(path)
    target = Path(real)
    stamp = _stamp(target)
    if stamp[0] < _CACHE_FROM_BYTES:
        return _sha256(target)
    entry = _entry(real)
    try:
        cached = json.loads(entry.read_text(encoding="utf-8"))
        if cached.get("path") == real and cached.get("stamp") == stamp:
            return str(cached["sha256"])
    except (OSError, ValueError, AttributeError, KeyError):
        pass  # no entry, or a damaged one: hash again
    digest = _sha256(target)
    if _stamp(target) == stamp:  # not written to while we read it
        _store(entry, {"path": real, "stamp": stamp, "sha256": digest})
    return digest


def _store(entry: Path, value: dict[str, Any]) -> None:
    from shadow_suite.atomic import write_text

    # an unwritable (or full) cache costs time on the next run, never a result
    with contextlib.suppress(OSError, ShadowSuiteError):
        write_text(entry, json.dumps(value) + "\n")


def file_hashes(paths: Iterable[Path]) -> dict[Path, str]:
    """SHA-256 of each file (cached), large files hashed in parallel (hashlib releases the GIL)."""
    files = list(paths)
    workers = max(1, min(_HASH_WORKERS, os.cpu_count() or 1, len(files)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="identity-hash") as pool:
        return dict(zip(files, pool.map(file_sha256, files), strict=True))


# -- two records of one checkpoint ---------------------------------------------------------


class _FileRecord(Protocol):
    @property
    def sha256(self) -> str | None: ...


class CheckpointLike(Protocol):
    """What ``spectra.json`` records of a checkpoint (``spectral.document.CheckpointRecord``)."""

    @property
    def path(self) -> str: ...

    @property
    def identity(self) -> str | None: ...

    @property
    def files(self) -> tuple[_FileRecord, ...]: ...


def checkpoint_key(record: CheckpointLike) -> tuple[str, ...]:
    """What tells one recorded checkpoint from another: its identity; for documents written
    before identities, its files' SHA-256 when all were hashed, else its path."""
    if record.identity is not None:
        return (record.identity,)
    hashes = [f.sha256 for f in record.files]
    known = [h for h in hashes if h is not None]
    if hashes and len(known) == len(hashes):
        return tuple(sorted(known))
    return (record.path,)


def same_checkpoint(a: CheckpointLike, b: CheckpointLike) -> bool:
    """Whether two records describe one checkpoint (by identity when both have one)."""
    if a.identity is not None and b.identity is not None:
        return a.identity == b.identity
    if a.identity is None and b.identity is None:
        return checkpoint_key(a) == checkpoint_key(b)
    # one document older than identities: compare what both recorded
    return checkpoint_key(_without_identity(a)) == checkpoint_key(_without_identity(b))


@dataclass(frozen=True)
class _Bare:
    path: str
    files: tuple[_FileRecord, ...]
    identity: str | None = None


def _without_identity(record: CheckpointLike) -> CheckpointLike:
    return _Bare(record.path, tuple(record.files))
