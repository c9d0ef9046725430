"""``shadow-suite demo``: run the miniature benchmark-shadow experiment and print its table."""

from __future__ import annotations

import argparse
from dataclasses import replace


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="the benchmark-shadow experiment in miniature: three tiny models, offline, on a CPU",
        description="Pretrain a tiny model on non-test text, fine-tune two copies with the same "
        "compute on the same evaluated items (in the benchmarks' test format vs in other "
        "formats), then evaluate all three with the task pack, analyse their weight updates "
        "and write report cards and a comparison page (the README says how long it took "
        "there). A rerun into the same folder reuses every finished step.",
    )
    parser.add_argument(
        "--out",
        help="output folder (default ./shadow-demo, or ./shadow-demo-quick with --quick)",
    )
    parser.add_argument("--quick", action="store_true", help="smaller models and item counts")
    parser.add_argument("--data", help="local benchmark data folder (default $SHADOW_SUITE_DATA)")
    parser.add_argument("--seed", type=int, default=0, help="training seed (default 0)")
    parser.set_defaults(func=_cmd_demo)


def _cmd_demo(args: argparse.Namespace) -> int:
    from shadow_suite.demo.config import DEFAULT, QUICK
    from shadow_suite.demo.experiment import run_demo
    from shadow_suite.demo.summary import format_table
    from shadow_suite.taskpack.data import resolve_data_dir

    config = replace(QUICK if args.quick else DEFAULT, seed=args.seed)
    out = args.out or ("shadow-demo-quick" if args.quick else "shadow-demo")
    outcome = run_demo(config, out, resolve_data_dir(args.data))
    print()
    print(format_table(outcome.rows))
    print()
    if outcome.reused:
        print(f"reused from an earlier run: {', '.join(outcome.reused)}")
    print(f"done in {outcome.seconds:.0f} s; every artefact is in {outcome.out.resolve()}")
    print(f"comparison page: {outcome.compare_html.resolve()}")
    return 0
