"""The ``shadow-suite`` command: one subcommand per stage, each usable alone.

Each subcommand lives next to the code it drives and exposes
``register(subparsers) -> None``, which adds its parser and sets ``func`` (called with
the parsed arguments, returning an exit code). Add a module to ``SUBCOMMANDS`` to add a
subcommand. Modules are imported lazily so ``shadow-suite --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from shadow_suite import __version__
from shadow_suite.errors import ShadowSuiteError

# module path of each subcommand, in the order shown by --help
SUBCOMMANDS: list[str] = [
    "shadow_suite.demo.cli",
    "shadow_suite.run",
    "shadow_suite.report.cli",
    "shadow_suite.spectral.cli",
    "shadow_suite.variants.cli",
    "shadow_suite.data",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shadow-suite",
        description="Benchmark vs reformatted-OOD scores and weight spectra: is a model's "
        "benchmark score real or a benchmark shadow?",
    )
    parser.add_argument("--version", action="version", version=f"shadow-suite {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in SUBCOMMANDS:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ShadowSuiteError as err:
        print(f"shadow-suite {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"shadow-suite {args.command}: interrupted; finished work is kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
