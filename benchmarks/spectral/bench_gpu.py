"""GPU benchmark: a Llama-2-7B-shaped random bf16 checkpoint, end to end, vs WeightWatcher's route.

The script writes the checkpoint itself (32 layers, hidden 4096, MLP 11008, vocab 32000, ~13.5 GB
of bf16 in ~2 GB shards), then analyses it in a fresh process and reports end-to-end time (read +
all metrics, alpha included) and peak host RSS. For comparison it times, on one tensor of each
distinct shape, WeightWatcher's per-matrix route (its ``svd_vals`` 'fast' path: float32
``torch.linalg.svdvals`` on the GPU, then its power-law fit loop) and a naive float32
``svdvals``, and scales by the number of tensors of each shape (model loading not included, which
favours WeightWatcher).

    python benchmarks/spectral/bench_gpu.py --workdir /tmp/llama2-7b-shaped            # on the GPU box
    python benchmarks/spectral/bench_gpu.py --workdir /tmp/tiny --scale 32 --device cpu  # logic check

``--scale N`` divides every dimension (and the layer count, at least 2) by N.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import Shape, write_checkpoint

SRC = Path(__file__).resolve().parents[2] / "src"

CHILD = """
import json, resource, sys, time
sys.path.insert(0, {src!r})
start = time.perf_counter()
from shadow_suite.spectral import analyze_model
result = analyze_model({model!r}, device={device!r}, cache_dir=None, hash_files={hash_files},
                       workers={workers})
total = time.perf_counter() - start
table = result.table[result.table["status"] == "ok"]
print(json.dumps({{
    "end_to_end_s": total,
    "engine_timings": result.document["timings"],
    "peak_host_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "matrices": len(table),
    "device": result.document["method"]["device"],
    "per_shape_s": table.groupby("shape")["seconds"].median().to_dict(),
}}))
"""


def time_routes(shape: Shape, device: str, repeats: int) -> dict[str, dict[str, float]]:
    """Seconds per matrix, by shape, for WeightWatcher's route and a naive fp32 svdvals."""
    import numpy as np
    import torch

    out: dict[str, dict[str, float]] = {}
    shapes = Counter(d for _, d in shape.tensor_shapes() if len(d) == 2)
    try:
        from weightwatcher.RMT_Util import svd_vals
        from weightwatcher.WW_powerlaw import WWFit
    except ImportError:
        svd_vals = WWFit = None
    for dims, count in shapes.items():
        w = (torch.randn(dims, device=device) * 0.02).to(torch.bfloat16)
        timings: dict[str, float] = {"count": count}
        naive = []
        for _ in range(repeats):
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            start = time.perf_counter()
            torch.linalg.svdvals(w.float()).cpu()
            naive.append(time.perf_counter() - start)
        timings["naive_fp32_svdvals_s"] = min(naive)
        if svd_vals is not None:
            ww = []
            for _ in range(repeats):
                start = time.perf_counter()
                # WW's layer path: weights to numpy float, 'fast' SVD (torch on CUDA when
                # available, else SciPy), eigenvalues s^2, then its KS/MLE loop
                matrix = w.float().cpu().numpy().astype(float)
                s = svd_vals(matrix, method="fast")
                evals = np.sort(s * s)
                WWFit(evals[evals > 1e-5])
                ww.append(time.perf_counter() - start)
            timings["weightwatcher_route_s"] = min(ww)
        out[str(list(dims))] = timings
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--scale", type=int, default=1, help="divide all dimensions by this")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--hash-files", action="store_true", help="include SHA-256 of shards")
    parser.add_argument("--repeats", type=int, default=2, help="timing repeats per shape")
    parser.add_argument("--skip-routes", action="store_true", help="only our engine")
    parser.add_argument("--workers", type=int, default=None, help="engine threads (default)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    import torch

    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    shape = Shape().scaled(args.scale) if args.scale > 1 else Shape()
    folder = args.workdir
    report: dict[str, object] = {"shape": shape.__dict__, "parameters": shape.parameters()}
    if not (folder / "model.safetensors.index.json").is_file():
        start = time.perf_counter()
        write_checkpoint(folder, shape)
        report["write_s"] = time.perf_counter() - start
    code = CHILD.format(
        src=str(SRC),
        model=str(folder),
        device=device,
        hash_files=args.hash_files,
        workers=args.workers,
    )
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if child.returncode != 0:
        sys.exit(f"the analysis process failed:\n{child.stderr[-4000:]}")
    ours = json.loads(child.stdout.strip().splitlines()[-1])
    report["ours"] = ours
    if torch.cuda.is_available():
        report["gpu"] = torch.cuda.get_device_name()
    if not args.skip_routes:
        routes = time_routes(shape, device, args.repeats)
        report["routes_per_matrix"] = routes
        for key in ("naive_fp32_svdvals_s", "weightwatcher_route_s"):
            if all(key in r for r in routes.values()):
                total = sum(r[key] * r["count"] for r in routes.values())
                report[f"{key.removesuffix('_s')}_total_s"] = total
                report[f"ratio_{key.removesuffix('_s')}_over_ours"] = total / ours["end_to_end_s"]
    text = json.dumps(report, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text)


if __name__ == "__main__":
    main()
