"""The ``shadow-suite`` command: one subcommand per stage, each usable alone.

Each subcommand lives next to the code it drives and exposes
``register(subparsers) -> None``, which adds its parser and sets ``func`` (called with
the parsed arguments, returning an exit code). Add a module to ``SUBCOMMANDS`` to add a
subcommand. Modules are imported lazily so ``shadow-suite --help`` stays fast.

Before a subcommand runs, the arguments every command shares are checked here (``--out`` can
be a writable folder; ``--workers``, ``--limit``, ``--top-k``, ``--n-boot`` are positive), so
no model is loaded on bad input. What a user sees:

* bad input (``ShadowSuiteError``): one line, exit 2;
* Ctrl-C: one line, exit 130, finished stages kept;
* any other exception (a bug): one line naming it and the path of a log file holding the
  full traceback, exit 1. With ``SHADOW_SUITE_DEBUG=1``, or under pytest, it is re-raised
  so that a test never hides a bug.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import traceback
from datetime import UTC, datetime
from pathlib import Path

from shadow_suite import __version__
from shadow_suite.errors import ShadowSuiteError

# module path of each subcommand, in the order shown by --help
SUBCOMMANDS: list[str] = [
    "shadow_suite.demo.cli",
    "shadow_suite.run",
    "shadow_suite.report.cli",
    "shadow_suite.spectral.cli",
    "shadow_suite.taskpack.variants.cli",
    "shadow_suite.taskpack.data",
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


DEBUG_ENV = "SHADOW_SUITE_DEBUG"

# argument (dest) -> the smallest value it accepts, for every subcommand that has it
_MINIMUM: dict[str, int] = {"workers": 1, "limit": 1, "top_k": 1, "n_boot": 1, "num_fewshot": 0}
# arguments naming an output folder
_OUTPUT_FOLDERS = ("out",)


def check_common_arguments(args: argparse.Namespace) -> None:
    """One line for a bad shared argument, before the subcommand does any work."""
    from shadow_suite.atomic import check_writable_dir

    for dest, minimum in _MINIMUM.items():
        value = getattr(args, dest, None)
        if isinstance(value, int) and value < minimum:
            flag = "--" + dest.replace("_", "-" if dest in ("top_k", "n_boot") else "_")
            need = "a positive number" if minimum == 1 else f"at least {minimum}"
            raise ShadowSuiteError(f"{flag} {value}: give {need}")
    for dest in _OUTPUT_FOLDERS:
        value = getattr(args, dest, None)
        if isinstance(value, str) and value:
            check_writable_dir(value, "--" + dest)


def _debugging() -> bool:
    return os.environ.get(DEBUG_ENV) == "1" or "PYTEST_CURRENT_TEST" in os.environ


def log_crash(command: str, error: BaseException) -> Path:
    """Write the full traceback of an unexpected error to a log file; its path."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    text = f"shadow-suite {__version__} {command}, {stamp}\nargv: {sys.argv!r}\n\n" + "".join(
        traceback.format_exception(error)
    )
    folder = Path(tempfile.gettempdir())
    with tempfile.NamedTemporaryFile(
        "w", dir=folder, prefix=f"shadow-suite-{command}-{stamp}-", suffix=".log", delete=False
    ) as handle:
        handle.write(text)
    return Path(handle.name)


def disk_full(error: BaseException) -> OSError | None:
    """The full-disk error behind ``error`` (raised by lm-eval, pandas, sqlite ...), if any."""
    import errno
    import sqlite3

    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return seen
        if isinstance(seen, sqlite3.OperationalError) and "disk is full" in str(seen):
            return OSError(errno.ENOSPC, str(seen))
        seen = seen.__cause__ or seen.__context__
    return None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        check_common_arguments(args)
        return int(args.func(args) or 0)
    except ShadowSuiteError as err:
        message = " ".join(str(err).split())  # one line, whatever the message held
        print(f"shadow-suite {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"shadow-suite {args.command}: interrupted; finished work is kept", file=sys.stderr)
        return 130
    except Exception as err:  # last resort: a bug, not bad input
        full = disk_full(err)
        if full is not None:
            from shadow_suite.atomic import DiskFull

            where = full.filename or getattr(args, "out", None) or "the output"
            print(f"shadow-suite {args.command}: error: {DiskFull(where)}", file=sys.stderr)
            return 2
        if _debugging():
            raise
        try:
            where = f"full traceback in {log_crash(args.command, err)}"
        except OSError:
            where = f"set {DEBUG_ENV}=1 to see the traceback"
        first = str(err).splitlines()[0] if str(err) else ""
        print(
            f"shadow-suite {args.command}: internal error {type(err).__name__}: {first} "
            f"({where}; please report it)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
