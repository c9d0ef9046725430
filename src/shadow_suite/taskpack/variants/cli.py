"""``shadow-suite variants``: on how many items each variant applies, per benchmark."""

from __future__ import annotations

import argparse
import os

from shadow_suite.contract import DATA_ENV, DEFAULT_VARIANT_SEED, SEED_ENV
from shadow_suite.errors import ShadowSuiteError
from shadow_suite.taskpack.data import load_split
from shadow_suite.taskpack.loader import NoItemApplies, build_docs
from shadow_suite.taskpack.suite import BENCHMARKS, get_benchmark
from shadow_suite.taskpack.variants import VARIANTS, validate_seed
from shadow_suite.taskpack.variants.multiple_choice import relabel_symbols


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
        default=os.environ.get(SEED_ENV, str(DEFAULT_VARIANT_SEED)),
        help=f"variant seed (default ${SEED_ENV}, else {DEFAULT_VARIANT_SEED})",
    )
    parser.add_argument(
        "--benchmark",
        action="append",
        metavar="B",
        help=f"only this benchmark (repeatable); one of {', '.join(BENCHMARKS)}",
    )
    parser.set_defaults(func=run)


def count_rows(benchmark: str, seed: int, data_dir: str | None) -> list[tuple[str, int, int, str]]:
    """(variant, n source, n applied, skip reason) for every variant of ``benchmark``: the
    evaluated documents lm-eval would get (the task pack's own loader), counted."""
    split = get_benchmark(benchmark).eval_split
    n_source = len(load_split(benchmark, split, data_dir)[0])
    counts = []
    for name, variant in VARIANTS[benchmark].items():
        try:
            docs = build_docs(benchmark, name, seed, data_dir, items=None, fewshot=False)[split]
        except NoItemApplies:
            docs = []
        counts.append((name, n_source, len(docs), variant.skip_reason))
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
