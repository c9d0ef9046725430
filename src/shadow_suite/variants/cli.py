"""``shadow-suite variants``: on how many items each variant applies, per benchmark."""

from __future__ import annotations

import argparse
import os

from shadow_suite.benchmarks import BENCHMARKS, get_benchmark
from shadow_suite.data import DATA_ENV, load_split
from shadow_suite.errors import ShadowSuiteError
from shadow_suite.variants import VARIANTS, applicability, validate_seed
from shadow_suite.variants.gsm8k import REPHRASED_FIELD
from shadow_suite.variants.multiple_choice import relabel_symbols

DEFAULT_SEED = 1234
"""The task pack's default seed (``shadow_suite.taskpack.DEFAULT_SEED``)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "variants",
        help="count the items each OOD variant applies to",
        description="For each benchmark and variant: items in the evaluated split, items the "
        "variant applies to, items skipped and why.",
    )
    parser.add_argument(
        "--data",
        metavar="DIR",
        help=f"benchmark data folder (layout <benchmark>/<split>.jsonl); default ${DATA_ENV}, "
        "else the hub",
    )
    parser.add_argument(
        "--seed",
        default=os.environ.get("SHADOW_SUITE_SEED", str(DEFAULT_SEED)),
        help=f"variant seed (default $SHADOW_SUITE_SEED, else {DEFAULT_SEED})",
    )
    parser.add_argument(
        "--benchmark",
        action="append",
        metavar="B",
        help=f"only this benchmark (repeatable); one of {', '.join(BENCHMARKS)}",
    )
    parser.set_defaults(func=run)


def count_rows(benchmark: str, seed: int, data_dir: str | None) -> list[tuple[str, int, int, str]]:
    """(variant, n source, n applied, skip reason) for every variant of ``benchmark``."""
    bench = get_benchmark(benchmark)
    rows, _ = load_split(benchmark, bench.eval_split, data_dir)
    docs = [
        {**row, "shadow_id": f"{benchmark}/{bench.eval_split}/{i}"} for i, row in enumerate(rows)
    ]
    counts = []
    for name, variant in VARIANTS[benchmark].items():
        source = docs
        if benchmark == "gsm8k" and name == "rephrased":
            rephrased, _ = load_split("gsm8k", "test_rephrased", data_dir)
            by_row = {int(r["idx"]): r["question"] for r in rephrased}
            source = [{**d, REPHRASED_FIELD: by_row.get(i)} for i, d in enumerate(docs)]
        n_source, n_applied = applicability(benchmark, name, source, seed)
        counts.append((name, n_source, n_applied, variant.skip_reason))
    return counts


def run(args: argparse.Namespace) -> int:
    seed = validate_seed(args.seed)
    benchmarks = args.benchmark or list(BENCHMARKS)
    for benchmark in benchmarks:
        get_benchmark(benchmark)
        if benchmark not in VARIANTS:
            raise ShadowSuiteError(f"benchmark {benchmark!r} has no variants")
    header = f"{'benchmark':<14} {'variant':<19} {'source':>7} {'applied':>8} {'skipped':>8}  skip reason"
    print(f"seed {seed}")
    print(header)
    for benchmark in benchmarks:
        for name, n_source, n_applied, reason in count_rows(benchmark, seed, args.data):
            skipped = n_source - n_applied
            print(
                f"{benchmark:<14} {name:<19} {n_source:>7} {n_applied:>8} {skipped:>8}  "
                f"{reason if skipped else '-'}",
                flush=True,
            )
    for benchmark in benchmarks:
        if "relabeled" in VARIANTS[benchmark]:
            symbols = relabel_symbols(benchmark, seed)
            print(f"{benchmark} relabeled uses {symbols.name}: {'/'.join(symbols.symbols[:4])}")
    return 0
