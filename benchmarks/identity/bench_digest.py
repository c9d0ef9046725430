"""What a model's identity costs: ``shadow_suite.identity.model_identity`` of a 7B-shaped
checkpoint, against reading the same bytes once, in one run.

The checkpoint is Llama-2-7B-shaped (6.7B parameters, bf16, 13.5 GB in 2 GB shards, the index,
config and tokenizer files beside it) and *sparse*: real safetensors headers, the tensor data a
hole in each file, so it takes no disk space (a few KB) and reads back at memory speed, as a
warm page cache would (SHA-256's cost does not depend on the bytes). The headers are valid: the
spectral reader's checks (``open_checkpoint``, which ``run`` also applies before loading) are
timed on them.

Timed, in this order, each after the previous:

* ``read``: every byte of every file read once, files in as many threads as the digest uses,
  nothing else (the baseline: a digest cannot cost less than reading what it digests);
* ``digest, cold``: ``model_identity`` with an empty cache (hashes every byte, files in
  parallel threads);
* ``digest, warm``: again (a rerun: one ``stat`` and one small cache entry per large file);
* ``digest, one shard rewritten``: one shard's mtime moved, as a copy over it would;
* ``headers``: ``open_checkpoint`` (parse and check every safetensors header and the index).

    python benchmarks/identity/bench_digest.py --json benchmarks/identity/results_cpu.json
    python benchmarks/identity/bench_digest.py --scale 4     # every dimension / 4: a quick look
    python benchmarks/identity/bench_digest.py --layers 8    # 7B shapes, 8 of 32 layers

Figures worth quoting are the ratios to ``read`` (absolute seconds move with the machine's
load, printed too). From a cold disk, both ``read`` and a cold digest add what the disk costs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "benchmarks" / "spectral")]

from synthetic import Shape  # noqa: E402

SHARD_BYTES = 2 << 30


def write_sparse_checkpoint(folder: Path, shape: Shape) -> int:
    """A valid sharded bf16 checkpoint whose tensor data are holes; its total bytes."""
    groups: list[list[tuple[str, tuple[int, ...], int]]] = [[]]
    size = 0
    for name, dims in shape.tensor_shapes():
        nbytes = 2
        for d in dims:
            nbytes *= d
        if groups[-1] and size + nbytes > SHARD_BYTES:
            groups.append([])
            size = 0
        groups[-1].append((name, dims, nbytes))
        size += nbytes
    folder.mkdir(parents=True)
    weight_map: dict[str, str] = {}
    total = 0
    for index, group in enumerate(groups):
        file = f"model-{index + 1:05d}-of-{len(groups):05d}.safetensors"
        header: dict[str, object] = {"__metadata__": {"format": "pt"}}
        offset = 0
        for name, dims, nbytes in group:
            header[name] = {"dtype": "BF16", "shape": list(dims),
                            "data_offsets": [offset, offset + nbytes]}  # fmt: skip
            offset += nbytes
            weight_map[name] = file
        raw = json.dumps(header).encode()
        with (folder / file).open("wb") as handle:
            handle.write(len(raw).to_bytes(8, "little") + raw)
            handle.truncate(8 + len(raw) + offset)  # the data: a hole, no disk blocks
        total += 8 + len(raw) + offset
    (folder / "model.safetensors.index.json").write_text(
        json.dumps({"metadata": {"total_size": total}, "weight_map": weight_map})
    )
    (folder / "config.json").write_text(json.dumps({"model_type": "llama", "synthetic": True}))
    (folder / "tokenizer.json").write_text(json.dumps({"model": {"vocab": {}}}))
    (folder / "tokenizer_config.json").write_text("{}")
    return total


def drop_cache(folder: Path) -> None:
    """Evict the files' pages, so each timed pass reads them afresh (holes included: the
    kernel fills zero pages into the cache) and none leaves gigabytes of cache behind."""
    for path in folder.iterdir():
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def _read(path: Path) -> int:
    view = memoryview(bytearray(1 << 18))  # hashlib.file_digest's own buffer size
    seen = 0
    with path.open("rb") as handle:
        while got := handle.readinto(view):
            seen += got
    return seen


def read_everything(folder: Path, workers: int) -> int:
    """Every byte read once, files in ``workers`` threads as the digest reads them."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(_read, sorted(folder.iterdir())))


def timed(what: str, call: object, results: dict[str, float]) -> object:
    start = time.perf_counter()
    value = call()  # type: ignore[operator]
    results[what] = time.perf_counter() - start
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=1, help="divide every dimension by this")
    parser.add_argument(
        "--layers",
        type=int,
        help="keep the 7B shapes but this many layers (a machine with less free memory "
        "than the checkpoint's size); the figures are also extrapolated to 32 layers",
    )
    parser.add_argument("--dir", help="where to write the sparse checkpoint (default: a temp dir)")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-identity-", dir=args.dir))
    os.environ["XDG_CACHE_HOME"] = str(workdir / "cache")  # an empty identity cache
    from shadow_suite import identity
    from shadow_suite.spectral.reader import open_checkpoint

    shape = Shape() if args.scale == 1 else Shape().scaled(args.scale)
    if args.layers is not None:
        shape = replace(shape, layers=args.layers)
    full = Shape() if args.scale == 1 else Shape().scaled(args.scale)
    model = workdir / "model"
    try:
        total = write_sparse_checkpoint(model, shape)
        seconds: dict[str, float] = {}
        workers = max(1, min(identity._HASH_WORKERS, os.cpu_count() or 1))
        drop_cache(model)
        assert timed("read", lambda: read_everything(model, workers), seconds) == sum(
            p.stat().st_size for p in model.iterdir()
        )
        drop_cache(model)
        cold = timed("digest, cold", lambda: identity.model_identity(model).digest, seconds)
        warm = timed("digest, warm", lambda: identity.model_identity(model).digest, seconds)
        assert cold == warm
        shard = sorted(model.glob("model-*.safetensors"))[0]
        os.utime(shard, ns=(time.time_ns(), time.time_ns()))
        drop_cache(model)
        timed("digest, one shard rewritten", lambda: identity.model_identity(model), seconds)
        drop_cache(model)
        checkpoint = timed("headers", lambda: open_checkpoint(model), seconds)
        tensors = len(checkpoint.tensors)  # type: ignore[attr-defined]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    base = seconds["read"]
    print(
        f"{shape.parameters() / 1e9:.2f}B parameters, {total / 1e9:.2f} GB, {tensors} tensors; "
        f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    )
    # every step but the warm digest reads each byte once: linear in the bytes
    factor = (2 * full.parameters()) / (2 * shape.parameters())
    extrapolated = {k: v * (factor if k != "digest, warm" else 1) for k, v in seconds.items()}
    print(f"{'step':30} {'seconds':>9} {'vs read':>9} {'at ' + str(full.layers) + ' layers':>14}")
    for step, value in seconds.items():
        print(f"{step:30} {value:9.3f} {value / base:9.3f} {extrapolated[step]:14.3f}")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "shape": asdict(shape),
                    "parameters": shape.parameters(),
                    "bytes": total,
                    "tensors": tensors,
                    "seconds": seconds,
                    "ratio_to_read": {k: v / base for k, v in seconds.items()},
                    "extrapolated_to_full_depth_s": extrapolated,
                    "full_depth_parameters": full.parameters(),
                    "machine": {
                        "cpus": os.cpu_count(),
                        "load_1min": os.getloadavg()[0],
                        "python": platform.python_version(),
                        "platform": platform.platform(),
                    },
                    "date": time.strftime("%Y-%m-%d"),
                },
                indent=1,
            )
            + "\n"
        )


if __name__ == "__main__":
    main()
