"""Per-tensor result cache, so an interrupted or repeated run recomputes nothing finished.

Key: SHA-256 of the tensor's stored bytes with its dtype and shape (and the base tensor's, for
an update), the method and ``METHOD_VERSION``. Keying on the tensor's own bytes rather than on
the whole file means no pass over a multi-GB shard is needed before resuming, identical tensors
(tied embeddings, layers a fine-tune left untouched) are computed once, and a re-saved shard
with unchanged tensors still hits. Entries are ``.npz`` files written to a temporary name and
moved into place with ``os.replace`` (``shadow_suite.atomic``), so a killed run never leaves a
half-written entry; an entry damaged anyway (an empty or truncated file, a disk error, another
tool) is removed and recomputed, never an error.

A sibling update (``--base A --against B``) is keyed like a base update with B's bytes in the
base's place plus the word "sibling" (its noise floor counts B's rounding too, so it differs
from ``--base B``'s): an entry of the ancestor, of another sibling or of ``--base B`` is never
taken for it, and a rerun recomputes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from shadow_suite import atomic

# Bump when any computed number would change for the same input.
METHOD_VERSION = "spectral-1"


def default_cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "shadow-suite" / "spectral"


def tensor_digest(raw: bytes | bytearray | memoryview, dtype: str, shape: tuple[int, ...]) -> str:
    digest = hashlib.sha256(f"{dtype}{list(shape)}".encode())
    digest.update(raw)
    return digest.hexdigest()


def cache_key(*parts: str) -> str:
    return hashlib.sha256("|".join((METHOD_VERSION, *parts)).encode()).hexdigest()


def _entry_path(cache_dir: Path, key: str) -> Path:
    return cache_dir / key[:2] / f"{key}.npz"


def load_entry(cache_dir: Path | None, key: str) -> dict[str, Any] | None:
    """The cached arrays and metrics for ``key``, or None (also for an unreadable entry)."""
    if cache_dir is None:
        return None
    path = _entry_path(cache_dir, key)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            entry = {name: data[name] for name in data.files}
        entry["metrics"] = json.loads(str(entry["metrics"]))
        if not isinstance(entry["metrics"], dict):
            raise ValueError("metrics is not an object")
        return entry
    except Exception:  # any damage (EOFError, BadZipFile, zlib.error ...): recompute
        path.unlink(missing_ok=True)
        return None


def store_entry(
    cache_dir: Path | None, key: str, metrics: dict[str, Any], **arrays: np.ndarray
) -> None:
    if cache_dir is None:
        return
    path = _entry_path(cache_dir, key)
    named: dict[str, Any] = dict(arrays)  # typed Any for numpy's allow_pickle overload
    atomic.write_with(
        path, lambda handle: np.savez(handle, metrics=np.array(json.dumps(metrics)), **named)
    )
