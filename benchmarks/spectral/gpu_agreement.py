"""Do the GPU and CPU routes give the same spectra? One checkpoint, both devices, every matrix.

Writes a small Llama-shaped bf16 checkpoint (``--scale``, as ``bench_gpu.py``), analyses it
once on the CPU (numpy float64 Gram + ``eigvalsh``) and once on the GPU (torch float64 Gram
+ ``eigvalsh``), with a base model so that the update route is compared too, and reports the
largest relative difference of every singular value and every metric. Both routes are
float64 throughout, so the expected difference is round-off (~1e-12), not float32's ~1e-4.

    python benchmarks/spectral/gpu_agreement.py --workdir /tmp/agree --json agreement.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

from synthetic import Shape, write_checkpoint

METRICS = (
    "spectral_norm",
    "frobenius_norm",
    "stable_rank",
    "effective_rank_entropy",
    "participation_ratio",
    "alpha",
)


def max_relative(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = np.maximum(np.abs(a), np.abs(b))
    keep = scale > 0
    return float(np.max(np.abs(a - b)[keep] / scale[keep])) if keep.any() else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--scale", type=int, default=8, help="divide all dimensions by this")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from shadow_suite.spectral import analyze_model

    shape = Shape().scaled(args.scale)
    model, base = args.workdir / "model", args.workdir / "base"
    for folder, seed in ((base, 0), (model, 1)):
        if not (folder / "model.safetensors.index.json").is_file():
            write_checkpoint(folder, shape, seed=seed)
    runs = {
        device: analyze_model(str(model), str(base), device=device, cache_dir=None)
        for device in ("cpu", args.device)
    }
    cpu, gpu = runs["cpu"], runs[args.device]
    report: dict[str, object] = {
        "shape": shape.__dict__,
        "devices": [cpu.document["method"]["device"], gpu.document["method"]["device"]],
    }
    names = sorted(set(cpu.singular_values) & set(gpu.singular_values))
    report["matrices"] = len(names)
    report["singular_values_max_rel"] = max(
        max_relative(cpu.singular_values[n], gpu.singular_values[n]) for n in names
    )
    update_names = sorted(set(cpu.update_singular_values) & set(gpu.update_singular_values))
    report["update_matrices"] = len(update_names)
    if update_names:
        report["update_singular_values_max_rel"] = max(
            max_relative(cpu.update_singular_values[n], gpu.update_singular_values[n])
            for n in update_names
        )
    ok_cpu = cpu.table[cpu.table["status"] == "ok"].set_index("name")
    ok_gpu = gpu.table[gpu.table["status"] == "ok"].set_index("name").loc[ok_cpu.index]
    report["metrics_max_rel"] = {
        m: max_relative(ok_cpu[m].to_numpy(), ok_gpu[m].to_numpy()) for m in METRICS
    }
    text = json.dumps(report, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text)


if __name__ == "__main__":
    main()
