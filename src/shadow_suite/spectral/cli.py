"""``shadow-suite spectra MODEL_DIR [--base DIR [--against DIR]] [--out DIR] ...``: the spectral
engine's command."""

from __future__ import annotations

import argparse
from pathlib import Path

from shadow_suite.spectral.engine import CPU_WORKERS_MAX, GPU_WORKERS
from shadow_suite.spectral.linalg import gram_accuracy


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "spectra",
        help="weight-spectrum diagnostics of a model (and its update vs a base model)",
        description="Stream every weight matrix of a safetensors model, compute its singular "
        "values exactly (float64) and derive spectral metrics; with --base, also measure the "
        "update W - W0; with --base A --against B, the update relative to a sibling B of the "
        "same ancestor A. Writes spectra.parquet, spectra.json and singular_values.npz.",
    )
    parser.add_argument("model", metavar="MODEL_DIR", help="model folder (or hub id when online)")
    parser.add_argument("--base", metavar="DIR", help="the model it was fine-tuned from")
    parser.add_argument(
        "--against",
        metavar="DIR",
        help="a sibling checkpoint fine-tuned from the same --base: measure the update "
        "W - W_sibling instead (the output records both; cached like a base update)",
    )
    parser.add_argument(
        "--out", metavar="DIR", default=None, help="output folder (default: spectra-<model name>)"
    )
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda[:N] (default auto)")
    parser.add_argument(
        "--modules", metavar="REGEX", help="analyse only tensors whose name matches (re.search)"
    )
    parser.add_argument(
        "--exact-svd",
        action="store_true",
        help=f"true float64 SVD instead of the faster Gram method (which is {gram_accuracy()})",
    )
    parser.add_argument(
        "--top-k", type=int, default=8, help="k of the update's top-k energy share (default 8)"
    )
    parser.add_argument("--no-alpha", action="store_true", help="skip the power-law alpha fit")
    parser.add_argument(
        "--cache-dir",
        metavar="DIR",
        default="default",
        help="per-tensor result cache (default ~/.cache/shadow-suite/spectral)",
    )
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    parser.add_argument(
        "--no-file-hash", action="store_true", help="skip SHA-256 of the weight files (provenance)"
    )
    parser.add_argument(
        "--allow-pickle",
        action="store_true",
        help="accept pytorch_model.bin, loaded with torch.load(weights_only=True)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help=f"tensors decomposed in parallel (default: on a CPU one per core, at most "
        f"{CPU_WORKERS_MAX}; on a GPU {GPU_WORKERS})",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from shadow_suite.atomic import check_writable_dir
    from shadow_suite.outputs import check_out_apart
    from shadow_suite.spectral.engine import analyze_model
    from shadow_suite.spectral.result import write_result

    out = Path(args.out) if args.out else Path(f"spectra-{Path(args.model).name}")
    check_writable_dir(out)  # before any compute: an unwritable --out would lose it all
    check_out_apart(
        out, [("MODEL_DIR", args.model), ("--base", args.base), ("--against", args.against)]
    )
    if not args.no_cache and args.cache_dir != "default":
        check_writable_dir(args.cache_dir, "--cache-dir")
    result = analyze_model(
        args.model,
        args.base,
        device=args.device,
        exact_svd=args.exact_svd,
        modules=args.modules,
        top_k=args.top_k,
        fit_alpha=not args.no_alpha,
        cache_dir=None if args.no_cache else args.cache_dir,
        allow_pickle=args.allow_pickle,
        hash_files=not args.no_file_hash,
        progress=not args.quiet,
        workers=args.workers,
        against_dir=args.against,
    )
    path = write_result(result, out)
    counts = result.document.counts
    line = (
        f"{counts.analyzed} matrices analysed, {counts.skipped} skipped, "
        f"{counts.nonfinite} with NaN/Inf, {counts.cached} from cache "
        f"in {result.document.timings.total_s:.1f} s -> {path}"
    )
    update = result.summary.update
    if update is not None:
        versus = "base"
        if result.document.ancestor is not None:
            versus = f"sibling {args.against} (both from the ancestor {args.base})"
        change = "n/a" if update.relative_change is None else f"{update.relative_change:.3g}"
        line += (
            f"\nupdate vs {versus}: relative change {change}, "
            f"{update.noise_dominated_matrices} of {update.matrices_compared} matrices "
            "changed so little that their update rank is mostly bf16 rounding noise"
        )
    print(line)
    return 0
