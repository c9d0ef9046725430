"""Peak memory: a small and a ~4x larger synthetic checkpoint, each analysed in its own process.

The engine holds one tensor (plus the prefetched next one and a float64 block) at a time, so
peak RSS must track the largest tensor, not the model size. Both checkpoints share the same
largest tensor (the embedding); the larger one has enough layers to be 4x the size.

    python benchmarks/spectral/bench_memory.py --workdir /work/cache/bench-memory
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import Shape, write_checkpoint

SRC = Path(__file__).resolve().parents[2] / "src"

# runs in a fresh interpreter: RSS after imports, then peak RSS after the analysis
CHILD = """
import json, resource, sys, time
sys.path.insert(0, {src!r})
import torch
from shadow_suite.spectral import analyze_model
torch.set_num_threads(1)
def rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
baseline = rss_mib()
start = time.perf_counter()
result = analyze_model({model!r}, device="cpu", cache_dir=None, hash_files=True, workers={workers})
print(json.dumps({{
    "baseline_rss_mib": baseline,
    "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "seconds": time.perf_counter() - start,
    "matrices": int(result.document["counts"]["analyzed"]),
}}))
"""


def measure(model: Path, workers: int) -> dict[str, float]:
    code = CHILD.format(src=str(SRC), model=str(model), workers=workers)
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, required=True, help="where checkpoints are written")
    parser.add_argument("--hidden", type=int, default=1024)
    parser.add_argument("--intermediate", type=int, default=2816)
    parser.add_argument("--vocab", type=int, default=16384)
    parser.add_argument("--layers", type=int, default=3, help="layers of the small model")
    parser.add_argument("--workers", type=int, default=2, help="tensors decomposed at once")
    args = parser.parse_args()

    report: dict[str, object] = {"workers": args.workers}
    small = Shape(args.layers, args.hidden, args.intermediate, args.vocab)
    per_layer = (
        Shape(1, args.hidden, args.intermediate, args.vocab).parameters()
        - Shape(0, args.hidden, args.intermediate, args.vocab).parameters()
    )
    # as many layers as make the large checkpoint 4x the small one (same embedding)
    large_layers = args.layers + round(3 * small.parameters() / per_layer)
    for label, layers in (("small", args.layers), ("large", large_layers)):
        shape = Shape(layers, args.hidden, args.intermediate, args.vocab)
        folder = args.workdir / f"{label}-{layers}L"
        if not (folder / "model.safetensors.index.json").is_file():
            write_checkpoint(folder, shape, shard_bytes=256 << 20)
        largest = max((d[0] * d[1] if len(d) == 2 else d[0]) for _, d in shape.tensor_shapes())
        report[label] = {
            "layers": layers,
            "checkpoint_mib": 2 * shape.parameters() / 2**20,
            "largest_tensor_bf16_mib": 2 * largest / 2**20,
            **measure(folder, args.workers),
        }
        report[label]["working_mib"] = (
            report[label]["peak_rss_mib"] - report[label]["baseline_rss_mib"]
        )
    report["checkpoint_ratio"] = (
        report["large"]["checkpoint_mib"] / report["small"]["checkpoint_mib"]
    )
    report["peak_rss_ratio"] = report["large"]["peak_rss_mib"] / report["small"]["peak_rss_mib"]
    report["working_ratio"] = report["large"]["working_mib"] / report["small"]["working_mib"]
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
