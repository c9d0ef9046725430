"""Where a command may write: never into a folder it reads from.

``report --reference R --out R`` once replaced the reference's own card and items with the
target's: the one input the user could not get back. So every command checks, before any
work, that its ``--out`` is neither one of its input folders nor inside one, with symbolic
links resolved (a link to an input is that input). An input given as a file (a
``card.json``, a ``spectra.json``, a ``results_*.json``) has its other files beside it
(``items.parquet``, ``spectra.parquet``, the samples): ``--out`` may not be that folder; a
new folder inside it overwrites nothing. A symbolic link given as ``--out`` is written
through (``atomic.followed``), never replaced.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from shadow_suite.errors import ShadowSuiteError

Input = tuple[str, "str | os.PathLike[str] | None"]
"""An input as (the argument that named it, its path); None or a name that is no path on
this machine (a hub id) is skipped."""


def check_out_apart(
    out: str | os.PathLike[str], inputs: Iterable[Input], what: str = "--out"
) -> None:
    """One line when ``out`` is, or lies inside, a folder the command reads from."""
    target = Path(os.path.realpath(Path(out).expanduser()))
    for argument, given in inputs:
        if given is None or str(given) == "":
            continue
        path = Path(given).expanduser()
        if not path.exists():
            continue
        folder = Path(os.path.realpath(path if path.is_dir() else path.parent))
        if target == folder or (path.is_dir() and folder in target.parents):
            where = "is" if target == folder else "lies inside"
            raise ShadowSuiteError(
                f"{what} {out} {where} {folder}, which {argument} {given} reads from: a command "
                "never writes into its own inputs; give another --out"
            )
