"""CPU benchmark: our spectral engine vs WeightWatcher ``analyze`` vs a naive svdvals loop.

All three run on the same model in the same process, one after the other; the figures worth
quoting are the ratios (absolute times on a shared 2-core box move with its load, which is
printed too). Our engine decomposes ``--workers`` tensors at once with one thread each; the
others use ``--threads`` torch threads and numpy's BLAS threads. For a per-core comparison run
everything single-threaded:

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
        python benchmarks/spectral/bench_cpu.py MODEL --threads 1 --workers 1

    python benchmarks/spectral/bench_cpu.py /work/cache/smollm2-135m --json /tmp/bench_cpu.json

- ours: ``analyze_model`` (read + float64 Gram/eigvalsh + all metrics incl. alpha), no cache,
  no file hashing.
- WeightWatcher 0.7.x: ``WeightWatcher(model).analyze()`` (float64 SciPy SVD on CPU + its alpha
  fit), timed without and with loading the model through transformers.
- naive: load every tensor, ``torch.linalg.svdvals`` in float32 per 2-D tensor (singular values
  only, no metrics), with its error against our float64 values.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))


def run_ours(model: Path, workers: int | None) -> tuple[float, object]:
    from shadow_suite.spectral import analyze_model

    start = time.perf_counter()
    result = analyze_model(model, device="cpu", cache_dir=None, hash_files=False, workers=workers)
    return time.perf_counter() - start, result


def run_naive(model: Path) -> tuple[float, dict[str, np.ndarray]]:
    import torch
    from safetensors import safe_open

    start = time.perf_counter()
    values: dict[str, np.ndarray] = {}
    for file in sorted(model.glob("*.safetensors")):
        with safe_open(file, framework="pt") as handle:
            for name in handle.keys():  # noqa: SIM118 - safe_open has no __iter__
                tensor = handle.get_tensor(name)
                if tensor.dim() == 2:
                    values[name] = torch.linalg.svdvals(tensor.float()).numpy()
    return time.perf_counter() - start, values


def run_weightwatcher(model: Path) -> dict[str, object]:
    import torch
    import weightwatcher as ww
    from transformers import AutoModelForCausalLM

    logging.getLogger("weightwatcher").setLevel(logging.ERROR)
    start = time.perf_counter()
    loaded = AutoModelForCausalLM.from_pretrained(model, dtype=torch.float32)
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    details = ww.WeightWatcher(model=loaded).analyze()
    analyze_s = time.perf_counter() - start
    return {"load_s": load_s, "analyze_s": analyze_s, "details": details}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--workers", type=int, default=None, help="our engine's parallel tensors (default: cores)"
    )
    parser.add_argument("--skip-ww", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    report: dict[str, object] = {
        "model": str(args.model),
        "threads": args.threads,
        "load_before": os.getloadavg()[0],
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
    }
    ours_s, ours = run_ours(args.model, args.workers)
    report["ours_workers"] = ours.document["timings"]["workers"]
    table = ours.table[ours.table["status"] == "ok"].set_index("name")
    report["ours_s"] = ours_s
    report["ours_matrices"] = len(table)

    naive_s, naive = run_naive(args.model)
    report["naive_s"] = naive_s
    report["naive_matrices"] = len(naive)
    errors = []
    for name, values in naive.items():
        exact = ours.singular_values[name]
        kept = exact >= 1e-4 * exact[0]
        errors.append(float(np.max(np.abs(values[kept] - exact[kept]) / exact[kept])))
    report["naive_fp32_max_rel_error"] = max(errors)
    report["naive_fp32_median_rel_error"] = float(np.median(errors))

    if not args.skip_ww:
        ww_run = run_weightwatcher(args.model)
        details = ww_run["details"]
        report["ww_load_s"] = ww_run["load_s"]
        report["ww_analyze_s"] = ww_run["analyze_s"]
        report["ww_matrices"] = len(details)
        d_alpha, d_stable, d_lognorm = [], [], []
        for row in details.itertuples(index=False):
            name = f"{row.longname}.weight"
            if name not in table.index:
                continue  # e.g. lm_head tied to the embedding: not a stored tensor
            mine = table.loc[name]
            d_alpha.append(abs(mine["alpha"] - row.alpha))
            d_stable.append(abs(mine["stable_rank"] / row.stable_rank - 1))
            d_lognorm.append(abs(2 * math.log10(mine["spectral_norm"]) - row.log_spectral_norm))
        report["agreement"] = {
            "matrices_compared": len(d_alpha),
            "max_abs_diff_alpha": max(d_alpha),
            "max_rel_diff_stable_rank": max(d_stable),
            "max_abs_diff_log_spectral_norm": max(d_lognorm),
        }
        report["ratio_ww_analyze_over_ours"] = ww_run["analyze_s"] / ours_s
        report["ratio_ww_load_and_analyze_over_ours"] = (
            ww_run["analyze_s"] + ww_run["load_s"]
        ) / ours_s
    report["ratio_naive_over_ours"] = naive_s / ours_s
    report["load_after"] = os.getloadavg()[0]
    text = json.dumps(report, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text)


if __name__ == "__main__":
    main()
