"""``analyze_model``: stream a checkpoint tensor by tensor, decompose, measure, summarise.

A single background thread reads (and hashes) the next tensor while the current one is
decomposed, so disk and compute overlap; at most two tensors are in memory at any time.
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shadow_suite import __version__
from shadow_suite.errors import ShadowSuiteError
from shadow_suite.identity import file_hashes, model_identity
from shadow_suite.numbers import finite_or_none
from shadow_suite.spectral import cache as cache_mod
from shadow_suite.spectral.document import (
    CheckpointRecord,
    Counts,
    FileRecord,
    ListedTensor,
    Method,
    ShapeMismatch,
    SpectraDocument,
    Timings,
    Unmatched,
)
from shadow_suite.spectral.linalg import as_matrix, matrix_stats, nonfinite_counts
from shadow_suite.spectral.metrics import (
    NOISE_DOMINATED_RELATIVE_CHANGE,
    SPECTRUM_METRICS,
    UPDATE_METRICS,
    spectrum_metrics,
    update_metrics,
)
from shadow_suite.spectral.names import layer_index, module_kind
from shadow_suite.spectral.reader import (
    SIGNIFICAND_BITS,
    Checkpoint,
    TensorInfo,
    open_checkpoint,
    read_tensor,
)
from shadow_suite.spectral.result import SpectralResult
from shadow_suite.spectral.summary import summarize

# A base sharing fewer than this share of the model's matrices (by name and shape) is taken to
# be a different architecture: comparing it would be meaningless, so it is refused.
MIN_MATCHED_SHARE = 0.5
# Hand freed memory back to the OS after this many bytes of tensors: often enough that RSS
# stays flat, rarely enough that fresh pages (slow to fault in, in a VM) are not needed per tensor.
TRIM_EVERY_BYTES = 256 << 20


# Only these kinds can grow by rows when tokens are added to the vocabulary.
VOCABULARY_KINDS = ("embedding", "lm_head")


@dataclass(frozen=True)
class Job:
    info: TensorInfo
    base: TensorInfo | None
    shared_rows: int | None  # compare only the first rows (vocabulary grown by added tokens)
    note: str | None


def _grown_vocabulary(info: TensorInfo, candidate: TensorInfo) -> bool:
    """Rows added to an embedding or lm_head (new tokens), columns unchanged: the one shape
    change that is compared (on the base's rows). Any other mismatch is a listed skip."""
    return (
        len(info.shape) == 2
        and len(candidate.shape) == 2
        and module_kind(info.name) in VOCABULARY_KINDS
        and info.shape[1] == candidate.shape[1]
        and info.shape[0] > candidate.shape[0]
        and candidate.skip_reason() is None
    )


@dataclass
class Loaded:
    job: Job
    tensor: Any
    base_tensor: Any
    key: str
    cached: dict[str, Any] | None
    read_s: float


def _trim_heap() -> Callable[[], None]:
    """glibc's ``malloc_trim``, or a no-op elsewhere.

    Freed tensor buffers of a few MB otherwise stay in glibc's heaps (its mmap threshold rises
    after the first large free, and each worker thread gets its own arena), so RSS would creep
    up with the number of tensors seen instead of staying at the largest tensor's footprint.
    """
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return lambda: None

    def release() -> None:
        trim(0)

    return release


def _single_threaded_blas() -> Any:
    """Pin numpy's BLAS/LAPACK to one thread (threadpoolctl); None when that is not possible.

    The CPU path runs numpy's syrk/eigvalsh in several worker threads at once; left at its
    default, OpenBLAS would start a thread team per call and the run slows down 30-100x
    (measured: 485 s instead of 5 s on 2 busy cores)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    return threadpool_limits(limits=1)


def resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ShadowSuiteError(f"--device {device}: CUDA is not available on this machine")
    if device != "cpu" and not device.startswith("cuda"):
        raise ShadowSuiteError(f"--device {device}: expected auto, cpu or cuda")
    return device


def _package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "shadow-suite": __version__}
    for name in ("torch", "numpy", "safetensors", "pandas", "pyarrow", "scipy"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    return versions


def _identities(
    checkpoints: list[Checkpoint], hash_files: bool
) -> tuple[dict[Path, str], dict[Path, str]]:
    """Each checkpoint's model identity (by its folder) and, with ``hash_files``, each weight
    file's SHA-256: both from ``shadow_suite.identity``'s cache, so only a file not seen
    before (or changed since) is read."""
    identities = {ckpt.root: model_identity(ckpt.root).digest for ckpt in checkpoints}
    files = [path for ckpt in checkpoints for path in ckpt.files]
    return identities, (file_hashes(files) if hash_files else {})


def _plan(
    model: Checkpoint,
    base: Checkpoint | None,
    pattern: re.Pattern[str] | None,
    role: str = "base",
) -> tuple[list[Job], list[dict[str, Any]], Unmatched | None]:
    """Which tensors to decompose, which to list as skipped, and the base-matching report.
    ``role`` names ``base`` in the one-line refusal of another architecture."""
    jobs: list[Job] = []
    skipped: list[dict[str, Any]] = []
    selected = [t for t in model.tensors if pattern is None or pattern.search(t.name)]
    base_by_name = {t.name: t for t in base.tensors} if base is not None else {}
    only_in_model: list[str] = []
    mismatched: list[ShapeMismatch] = []
    matched = 0
    for info in selected:
        reason = info.skip_reason()
        if reason is not None:
            skipped.append({"info": info, "reason": reason})
            continue
        base_info, shared_rows, note = None, None, None
        if base is not None:
            candidate = base_by_name.get(info.name)
            if candidate is None:
                only_in_model.append(info.name)
            elif candidate.shape == info.shape and candidate.skip_reason() is None:
                base_info = candidate
            elif _grown_vocabulary(info, candidate):
                base_info = candidate
                shared_rows = candidate.shape[0]
                grown = info.shape[0] - candidate.shape[0]
                note = (
                    f"grown vocabulary: compared the {shared_rows} shared rows "
                    f"(grown by {grown} rows vs base: added tokens)"
                )
                mismatched.append(
                    ShapeMismatch(info.name, tuple(info.shape), tuple(candidate.shape), note)
                )
            else:
                why = (
                    f"base tensor skipped ({candidate.skip_reason()})"
                    if candidate.shape == info.shape
                    else f"shape {list(info.shape)} vs base {list(candidate.shape)}"
                )
                note = f"not compared with the base: {why}"
                mismatched.append(
                    ShapeMismatch(info.name, tuple(info.shape), tuple(candidate.shape), note)
                )
            matched += base_info is not None
        jobs.append(Job(info, base_info, shared_rows, note))
    report = None
    if base is not None:
        model_names = {t.name for t in model.tensors}
        only_in_base = [
            t.name
            for t in base.tensors
            if t.name not in model_names and (pattern is None or pattern.search(t.name))
        ]
        model_type = model.config.get("model_type")
        base_type = base.config.get("model_type")
        if model_type and base_type and model_type != base_type:
            raise ShadowSuiteError(
                f"{base.root}: {role} is a different architecture "
                f"(model_type {base_type!r}, {model.root.name} is {model_type!r})"
            )
        if jobs and matched < MIN_MATCHED_SHARE * len(jobs):
            raise ShadowSuiteError(
                f"{base.root}: {role} looks like a different architecture: only {matched} of "
                f"{len(jobs)} matrices match those of {model.root.name} by name and shape"
            )
        report = Unmatched(tuple(only_in_model), tuple(only_in_base), tuple(mismatched))
    return jobs, skipped, report


def _nothing_selected(model: Checkpoint, modules: str | None, skipped: list[dict[str, Any]]) -> str:
    """The one line for a selection without a single matrix to analyse."""
    if modules and not skipped:
        count = len(model.tensors)
        return f"--modules {modules!r} matches none of the {count} tensors of {model.root}"
    where = f"of {model.root}" + (f" matched by --modules {modules!r}" if modules else "")
    reasons = sorted({str(s["reason"]).split(":")[0] for s in skipped})
    shown = "; ".join(reasons[:3]) + (" ..." if len(reasons) > 3 else "")
    return f"no weight matrix to analyse: all {len(skipped)} tensors {where} are skipped ({shown})"


def _digest(info: TensorInfo, raw: bytearray | None) -> str:
    if raw is None:  # pickle tensors: no raw bytes, key on file identity instead
        return f"pickle:{info.path}:{info.name}:{info.path.stat().st_mtime_ns}"
    return cache_mod.tensor_digest(raw, info.dtype, info.shape)


def _load(
    job: Job, cache_dir: Path | None, method: str, top_k: int, fit_alpha: bool, sibling: bool
) -> Loaded:
    """Read a job's tensor(s) and, with a cache, look up its result (runs in the read thread)."""
    start = time.perf_counter()
    tensor, raw = read_tensor(job.info)
    base_tensor, base_raw = read_tensor(job.base) if job.base is not None else (None, None)
    key, cached = "", None
    if cache_dir is not None:  # hashing every byte is only worth it when results are kept
        parts = [method, f"alpha={fit_alpha}", _digest(job.info, raw)]
        if job.base is not None:
            parts += [_digest(job.base, base_raw), f"rows={job.shared_rows}:top_k={top_k}"]
            if sibling:  # another noise floor than the same pair as model and base
                parts.append("sibling")
        key = cache_mod.cache_key(*parts)
        cached = cache_mod.load_entry(cache_dir, key)
    if cached is not None:
        tensor = base_tensor = None  # not needed: free the memory now
    return Loaded(job, tensor, base_tensor, key, cached, time.perf_counter() - start)


@dataclass
class Done:
    loaded: Loaded  # tensors dropped
    entry: dict[str, Any]
    seconds: float


def _process_when_loaded(process: Callable[[Loaded], Done], loading: Future[Loaded]) -> Done:
    return process(loading.result())


def _pipeline(
    jobs: list[Job], load: Callable[[Job], Loaded], process: Callable[[Loaded], Done], workers: int
) -> Iterator[Done]:
    """Yield finished jobs in order. One thread reads ahead while ``workers`` threads decompose;
    at most ``workers + 1`` tensors are held at any time, so memory stays flat."""
    readers = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spectral-read")
    computers = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="spectral-compute")
    pending: deque[Future[Done]] = deque()
    try:
        for job in jobs:
            loading = readers.submit(load, job)
            pending.append(computers.submit(_process_when_loaded, process, loading))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()
        readers.shutdown(wait=True, cancel_futures=True)
        computers.shutdown(wait=True, cancel_futures=True)


def _compute(
    loaded: Loaded, device: str, method: str, top_k: int, fit_alpha: bool, sibling: bool = False
) -> dict[str, Any]:
    """Metrics and spectra for one job: a dict of cache arrays plus ``metrics``."""
    job = loaded.job
    # on the device from here: the NaN/Inf scan and the float64 conversion run there too
    weight, reshape_note = as_matrix(loaded.tensor.to(device))
    nan, inf = nonfinite_counts(weight)
    full_weight, base = weight, None
    if job.base is not None:
        base, _ = as_matrix(loaded.base_tensor.to(device))
        if job.shared_rows is not None:  # the update is over the shared rows only
            weight, base = weight[: job.shared_rows], base[: job.shared_rows]
        base_nan, base_inf = nonfinite_counts(base)
        if base_nan or base_inf:
            return {
                "metrics": {
                    "status": "nonfinite",
                    "skip_reason": f"base tensor has {base_nan} NaN and {base_inf} Inf values",
                }
            }
    if nan or inf:
        return {
            "metrics": {
                "status": "nonfinite",
                "skip_reason": f"{nan} NaN and {inf} Inf values",
                "nan_count": nan,
                "inf_count": inf,
            }
        }
    bits = None
    if job.base is not None:
        bits = min(SIGNIFICAND_BITS[job.info.dtype], SIGNIFICAND_BITS[job.base.dtype])
    shape = (int(weight.shape[0]), int(weight.shape[1]))
    stats = matrix_stats(
        weight, base, device=device, method=method, noise_bits=bits, base_rounded=sibling
    )
    own = stats
    if job.shared_rows is not None:  # the model's own spectrum is of the whole matrix
        own = matrix_stats(full_weight, device=device, method=method)
    full_shape = (int(full_weight.shape[0]), int(full_weight.shape[1]))
    metrics: dict[str, Any] = {"status": "ok", "reshape": reshape_note}
    metrics.update(spectrum_metrics(own.singular_values, full_shape, fit_alpha, device))
    entry: dict[str, Any] = {"singular_values": own.singular_values}
    if stats.update_singular_values is not None:
        metrics.update(
            update_metrics(
                stats.update_singular_values,
                shape,
                weight_frob2=stats.frobenius2,
                base_frob2=stats.base_frobenius2,
                inner=stats.inner,
                update_frob2=stats.update_frobenius2,
                noise_frob2=stats.noise_frobenius2,
                top_k=top_k,
            )
        )
        entry["update_singular_values"] = stats.update_singular_values
    entry["metrics"] = metrics
    return entry


def _row(info: TensorInfo) -> dict[str, Any]:
    shape = list(info.shape)
    rows = shape[0] if shape else 1
    cols = int(np.prod(shape[1:])) if len(shape) > 1 else 1
    return {
        "name": info.name,
        "kind": module_kind(info.name, len(shape)),
        "layer": layer_index(info.name),
        "shape": str(shape),
        "rows": rows,
        "cols": cols,
        "dtype": info.dtype,
        "file": info.path.name,
    }


def _checkpoint_doc(
    ckpt: Checkpoint, hashes: dict[Path, str], identities: dict[Path, str]
) -> CheckpointRecord:
    dtypes: dict[str, int] = {}
    for info in ckpt.tensors:
        dtypes[info.dtype] = dtypes.get(info.dtype, 0) + 1
    model_type = ckpt.config.get("model_type")
    architectures = ckpt.config.get("architectures")
    return CheckpointRecord(
        path=str(ckpt.root.resolve()),
        format=ckpt.format,
        model_type=str(model_type) if model_type is not None else None,
        architectures=tuple(str(a) for a in architectures)
        if isinstance(architectures, list)
        else None,
        quantization_config=ckpt.config.get("quantization_config") is not None,
        tensors=len(ckpt.tensors),
        dtypes=dtypes,
        files=tuple(FileRecord(p.name, p.stat().st_size, hashes.get(p)) for p in ckpt.files),
        identity=identities.get(ckpt.root),
    )


GPU_WORKERS = 4
CPU_WORKERS_MAX = 8
"""Default workers: ``GPU_WORKERS`` threads on a GPU (they overlap host work with the GPU's
eigensolver); on a CPU one per core, at most ``CPU_WORKERS_MAX``."""


def analyze_model(
    model_dir: str | os.PathLike[str],
    base_dir: str | os.PathLike[str] | None = None,
    *,
    device: str = "auto",
    exact_svd: bool = False,
    modules: str | None = None,
    top_k: int = 8,
    fit_alpha: bool = True,
    cache_dir: str | os.PathLike[str] | None = "default",
    allow_pickle: bool = False,
    hash_files: bool = True,
    progress: bool = False,
    workers: int | None = None,
    against_dir: str | os.PathLike[str] | None = None,
) -> SpectralResult:
    """Spectra of every 2-D weight of ``model_dir`` (and of its update vs ``base_dir``).

    ``against_dir``: a sibling checkpoint B fine-tuned from the same ancestor ``base_dir`` (A).
    The update is then W - W_B (= (W - W_A) - (W_B - W_A)), computed per tensor as a base
    update with B in the base's place, except that B's own rounding counts as noise too (B is
    not where the model started from): the result's ``base`` is B and its ``ancestor`` is A,
    whose architecture both must share (checked, recorded; its weights are not read).
    ``cache_dir``: "default" for ~/.cache/shadow-suite/spectral, None to disable, or a folder.
    ``modules``: a regular expression; only tensors whose name it matches (re.search) are read.
    ``workers``: tensors decomposed at once (default: the CPU count on CPU, up to 8; 4 on a GPU).
    """
    started = time.perf_counter()
    if top_k < 1:
        raise ShadowSuiteError(f"--top-k {top_k}: give a positive number")
    if workers is not None and workers < 1:
        raise ShadowSuiteError(f"--workers {workers}: give a positive number")
    device = resolve_device(device)
    method = "svd" if exact_svd else "gram"
    try:
        pattern = re.compile(modules) if modules else None
    except re.error as err:
        raise ShadowSuiteError(
            f"--modules {modules!r}: not a valid regular expression ({err})"
        ) from None
    cache_path = (
        cache_mod.default_cache_dir()
        if cache_dir == "default"
        else (Path(cache_dir) if cache_dir is not None else None)
    )
    model = open_checkpoint(model_dir, allow_pickle=allow_pickle)
    base = open_checkpoint(base_dir, allow_pickle=allow_pickle) if base_dir is not None else None
    ancestor, role = None, "base"
    if against_dir is not None:
        if base is None:
            raise ShadowSuiteError(
                "--against needs --base ANCESTOR: the checkpoint both models were fine-tuned from"
            )
        ancestor, role = base, "--against checkpoint"
        base = open_checkpoint(against_dir, allow_pickle=allow_pickle)
        # both must be of the ancestor's architecture (one line naming the odd one out)
        _plan(model, ancestor, pattern, role="ancestor (--base)")
        _plan(ancestor, base, pattern, role)
    jobs, skipped, match_report = _plan(model, base, pattern, role)
    if not jobs:
        raise ShadowSuiteError(_nothing_selected(model, modules, skipped))

    # identities (and file hashes) in the background, overlapping the first decompositions
    checkpoints = [c for c in (model, base, ancestor) if c is not None]
    hashing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spectral-identity")
    hashed = hashing.submit(_identities, checkpoints, hash_files)
    hashing.shutdown(wait=False)

    rows: list[dict[str, Any]] = []
    for item in skipped:
        rows.append({**_row(item["info"]), "status": "skipped", "skip_reason": item["reason"]})
    singular: dict[str, np.ndarray] = {}
    update_singular: dict[str, np.ndarray] = {}
    read_s = compute_s = 0.0
    hits = 0
    from tqdm.auto import tqdm

    def load(job: Job) -> Loaded:
        return _load(job, cache_path, method, top_k, fit_alpha, ancestor is not None)

    def process(loaded: Loaded) -> Done:
        tick = time.perf_counter()
        if loaded.cached is not None:
            entry = loaded.cached
        else:
            entry = _compute(loaded, device, method, top_k, fit_alpha, ancestor is not None)
            arrays = {k: v for k, v in entry.items() if k != "metrics"}
            cache_mod.store_entry(cache_path, loaded.key, entry["metrics"], **arrays)
        loaded.tensor = loaded.base_tensor = None
        return Done(loaded, entry, time.perf_counter() - tick)

    if workers is None:
        # On a GPU the float64 eigensolver takes ~0.1 s per matrix whatever its size and the
        # device idles between kernels; 4 threads overlap the host-side work (transfers,
        # metrics, the alpha fit) with it: 33.5 s -> 30.1 s for a 7B-shaped model on an H200
        # (benchmarks/spectral/results_gpu_h200_workers.json; 2 workers gave 32.5 s).
        workers = (
            GPU_WORKERS if device != "cpu" else max(1, min(CPU_WORKERS_MAX, os.cpu_count() or 1))
        )
    import torch

    threads = torch.get_num_threads()
    blas_limits = None
    if device != "cpu":
        # initialise CUDA and its solver in this thread: several workers doing it at once in a
        # fresh process is a race (seen on an H200: the child failed, the warm process did not)
        torch.linalg.eigvalsh(torch.eye(2, dtype=torch.float64, device=device))
    if device == "cpu":
        # one thread per op, tensors in parallel: exact eigensolvers scale poorly across
        # threads, and OpenMP barriers collapse when other processes share the cores
        torch.set_num_threads(1)
        blas_limits = _single_threaded_blas()
        if blas_limits is None:  # cannot pin numpy's BLAS: let it have the cores alone
            workers = 1
    trim_heap, since_trim = _trim_heap(), 0
    bar = tqdm(total=len(jobs), unit="tensor", disable=not progress, desc="spectra")
    try:
        for done in _pipeline(jobs, load, process, workers):
            loaded, entry = done.loaded, done.entry
            read_s += loaded.read_s
            compute_s += done.seconds
            hits += loaded.cached is not None
            info = loaded.job.info
            row = {**_row(info), **entry["metrics"], "cached": loaded.cached is not None}
            row["seconds"] = done.seconds
            row["cache_key"] = loaded.key or None
            if loaded.job.base is not None:
                row["base_shape"] = str(list(loaded.job.base.shape))
            if loaded.job.note is not None:
                row["base_note"] = loaded.job.note
            rows.append(row)
            if "singular_values" in entry:
                singular[info.name] = np.asarray(entry["singular_values"])
            if "update_singular_values" in entry:
                update_singular[info.name] = np.asarray(entry["update_singular_values"])
            since_trim += info.nbytes
            if since_trim > TRIM_EVERY_BYTES:
                trim_heap()
                since_trim = 0
            del done, loaded, entry
            bar.update(1)
    finally:
        bar.close()
        if blas_limits is not None:  # before torch: it also recorded OpenMP's (pinned) count
            blas_limits.restore_original_limits()
        torch.set_num_threads(threads)
    identities, hashes = hashed.result()  # an unreadable file: its one line, now

    table = _table(rows, base is not None)
    summary = summarize(table, update_singular)
    nonfinite = table[table["status"] == "nonfinite"]
    total_s = time.perf_counter() - started
    analysed = int((table["status"] == "ok").sum())
    document = SpectraDocument(
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        model=_checkpoint_doc(model, hashes, identities),
        base=_checkpoint_doc(base, hashes, identities) if base is not None else None,
        ancestor=_checkpoint_doc(ancestor, hashes, identities) if ancestor is not None else None,
        method=Method(
            singular_values="float64 Gram matrix of the short side + eigvalsh"
            if method == "gram"
            else "float64 SVD (svdvals)",
            name="gram" if method == "gram" else "svd",
            method_version=cache_mod.METHOD_VERSION,
            device=device,
            modules=modules,
            alpha="power-law MLE on eigenvalues s^2 of W^T W above 1e-10 lambda_max, "
            "xmin by minimum KS distance (WeightWatcher's estimator)"
            if fit_alpha
            else None,
            update_top_k=top_k,
            noise_dominated_below_relative_change=NOISE_DOMINATED_RELATIVE_CHANGE,
            nd_rule="tensors with more than 2 dims are reshaped to (shape[0], prod(rest))",
            cache_dir=str(cache_path) if cache_path is not None else None,
        ),
        environment=_package_versions(),
        timings=Timings(
            total_s=total_s,
            read_s=read_s,
            compute_s=compute_s,
            workers=workers,
            tensors_per_s=finite_or_none(len(jobs) / total_s) if total_s > 0 else None,
        ),
        counts=Counts(
            tensors=len(model.tensors),
            selected=len(jobs) + len(skipped),
            analyzed=analysed,
            skipped=len(skipped),
            nonfinite=len(nonfinite),
            cached=hits,
        ),
        summary=summary,
        skipped=tuple(ListedTensor(s["info"].name, s["reason"]) for s in skipped),
        nonfinite=tuple(
            ListedTensor(str(r.name), str(r.skip_reason)) for r in nonfinite.itertuples(index=False)
        ),
        unmatched=match_report,
    )
    return SpectralResult(table, document, singular, update_singular)


def _table(rows: list[dict[str, Any]], has_base: bool) -> pd.DataFrame:
    """Tidy table with a stable column order, whatever mix of rows was produced."""
    columns = [
        "name",
        "kind",
        "layer",
        "shape",
        "rows",
        "cols",
        "dtype",
        "file",
        "status",
        "skip_reason",
        "reshape",
        "nan_count",
        "inf_count",
        *SPECTRUM_METRICS,
    ]
    if has_base:
        columns += ["base_shape", "base_note", *UPDATE_METRICS, "update_noise_dominated"]
    columns += ["cached", "seconds", "cache_key"]
    table = pd.DataFrame(rows).reindex(columns=columns)
    table["layer"] = table["layer"].astype("Int64")
    for column in ("nan_count", "inf_count"):
        table[column] = table[column].astype("Int64")
    for column in ("skip_reason", "reshape", "cache_key", *(["base_note"] if has_base else [])):
        table[column] = table[column].astype("string")
    if has_base:
        table["update_noise_dominated"] = table["update_noise_dominated"].astype("boolean")
    table["cached"] = table["cached"].astype("boolean")
    for column in (*SPECTRUM_METRICS, *(UPDATE_METRICS if has_base else ())):
        table[column] = table[column].astype(float)
    return table
