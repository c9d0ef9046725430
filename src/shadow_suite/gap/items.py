"""The per-item record: one row per scored item and task, the data every card number comes from.

``items.parquet`` sits beside ``card.json``. It is the export users ask for (per-item results
keyed by a stable id) and what a reference model contributes to another model's card: the
analysis in :mod:`shadow_suite.gap.analysis` reads nothing else, so a test can recompute a
card from this file alone. Columns (also in ``report/SCHEMA.md``):

=============  ==========  ================================================================
column         type        meaning
=============  ==========  ================================================================
shadow_id      str         ``<benchmark>/<split>/<row>``, stable across runs and variants
benchmark      str         ``mmlu``, ``arc_challenge``, ...
variant        str         ``orig`` or the variant's name
task           str         lm-eval task, ``shadow_<benchmark>_<variant>``
family         str         ``orig``, ``content``, ``format`` or ``hard``
metric         str         per-item metric that decided ``correct`` (``acc_norm,none`` ...)
correct        int8        1 right, 0 wrong
chosen         int64       option the model chose (0-based); -1 generation or unknown
gold           int64       correct option (0-based); -1 for generation
n_options      int64       answer options; 0 for generation
loglikelihoods list[float] per option (multiple choice), else null
extracted      str         generation: the filtered answer, else null
target         str         generation: the target, else null
seed           int64       shadow_seed the variants were made with
data_sha256    str         SHA-256 of the data file the item came from
n_source       int64       items in the task's source split, or in its seeded sample
                           (run --limit / shadow_items)
n_applied      int64       items the variant applied to (the rest skipped)
n_fewshot      int64       few-shot examples per item (-1 unknown)
=============  ==========  ================================================================
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from shadow_suite.atomic import write_with
from shadow_suite.contract import ORIG
from shadow_suite.errors import ShadowSuiteError
from shadow_suite.gap.lm_eval_output import EvalResults

ITEMS_FILE = "items.parquet"

COLUMNS: dict[str, str] = {
    "shadow_id": "object",
    "benchmark": "object",
    "variant": "object",
    "task": "object",
    "family": "object",
    "metric": "object",
    "correct": "int8",
    "chosen": "int64",
    "gold": "int64",
    "n_options": "int64",
    "loglikelihoods": "object",
    "extracted": "object",
    "target": "object",
    "seed": "int64",
    "data_sha256": "object",
    "n_source": "int64",
    "n_applied": "int64",
    "n_fewshot": "int64",
}
"""Column -> pandas dtype; the file holds exactly these columns."""


def family_of(benchmark: str, variant: str) -> str:
    """``orig`` or the variant's declared family (``content``, ``format``, ``hard``)."""
    if variant == ORIG:
        return ORIG
    from shadow_suite.taskpack.variants import VARIANTS

    spec = VARIANTS.get(benchmark, {}).get(variant)
    if spec is None:
        raise ShadowSuiteError(f"unknown variant {variant!r} of {benchmark}; no family for it")
    return str(spec.family)


def items_from_results(results: EvalResults) -> pd.DataFrame:
    """The per-item table of one model's lm-eval output (tasks in name order, items by id)."""
    rows: list[dict[str, object]] = []
    for name in sorted(results.tasks):
        task = results.tasks[name]
        family = family_of(task.benchmark, task.variant)
        for item_id in sorted(task.scores):
            detail = task.details.get(item_id)
            rows.append(
                {
                    "shadow_id": item_id,
                    "benchmark": task.benchmark,
                    "variant": task.variant,
                    "task": task.task,
                    "family": family,
                    "metric": task.metric,
                    "correct": int(task.scores[item_id]),
                    "chosen": detail.chosen if detail else -1,
                    "gold": detail.gold if detail else -1,
                    "n_options": task.n_choices.get(item_id, 0),
                    "loglikelihoods": (
                        list(detail.loglikelihoods) if detail and detail.loglikelihoods else None
                    ),
                    "extracted": detail.extracted if detail else None,
                    "target": detail.target if detail else None,
                    "seed": task.seed,
                    "data_sha256": task.data_sha256,
                    "n_source": task.n_source,
                    "n_applied": task.n_applied,
                    "n_fewshot": -1 if task.n_fewshot is None else task.n_fewshot,
                }
            )
    return _typed(pd.DataFrame(rows, columns=list(COLUMNS)))


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype(COLUMNS).reset_index(drop=True)


IDENTITY_KEY = b"shadow_suite.model_identity"
"""Parquet file metadata: the identity of the model whose answers the file holds."""


def write_items(
    items: pd.DataFrame, path: str | os.PathLike[str], model_identity: str | None = None
) -> Path:
    """Write the table to ``path`` atomically (``atomic.write_with``); ``model_identity``
    (``shadow_suite.identity``) goes into the file's metadata, so that items copied beside
    another model's card are recognised as not that model's."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(_typed(items), preserve_index=False)
    if model_identity is not None:
        metadata = {**(table.schema.metadata or {}), IDENTITY_KEY: model_identity.encode()}
        table = table.replace_schema_metadata(metadata)
    return write_with(path, lambda handle: pq.write_table(table, handle))


def items_identity(path: str | os.PathLike[str]) -> str | None:
    """The model identity an ``items.parquet`` records (None: not recorded, an older file)."""
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_schema(path).metadata or {}
    except Exception as err:  # pyarrow raises several kinds for a damaged file
        raise ShadowSuiteError(f"{path}: not a readable Parquet file ({err})") from None
    value = metadata.get(IDENTITY_KEY)
    return None if value is None else value.decode("utf-8", "replace")


def read_items(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read and check an ``items.parquet`` (or the card folder holding one)."""
    path = Path(path)
    if path.is_dir():
        path = path / ITEMS_FILE
    if not path.is_file():
        raise ShadowSuiteError(
            f"{path}: no per-item record; regenerate the card with `shadow-suite report`"
        )
    try:
        frame = pd.read_parquet(path)
    except Exception as err:  # pyarrow raises several kinds for a damaged file
        raise ShadowSuiteError(f"{path}: not a readable Parquet file ({err})") from None
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ShadowSuiteError(f"{path}: missing column(s) {', '.join(missing)}")
    frame = frame[list(COLUMNS)]
    if frame.duplicated(["task", "shadow_id"]).any():
        dup = frame[frame.duplicated(["task", "shadow_id"])].iloc[0]
        raise ShadowSuiteError(f"{path}: {dup['task']} lists {dup['shadow_id']} twice")
    if not frame["correct"].isin([0, 1]).all():
        raise ShadowSuiteError(f"{path}: column 'correct' holds values other than 0 and 1")
    frame["loglikelihoods"] = [
        None if v is None else [float(x) for x in np.asarray(v)] for v in frame["loglikelihoods"]
    ]
    try:
        frame = _typed(frame)
    except (TypeError, ValueError) as err:
        raise ShadowSuiteError(f"{path}: a column has the wrong type ({err})") from None
    check_item_numbers(frame, str(path))
    return frame


def check_item_numbers(frame: pd.DataFrame, source: str) -> None:
    """Numbers no model can have produced, refused in one line naming the file, task, item
    and column: a gold or chosen option outside the item's options, a log-likelihood that is
    NaN or infinite or one per option no more, and ``correct`` that contradicts the chosen and
    gold options (a hand-edited or damaged file would otherwise be scored as it says)."""
    for row in frame.itertuples(index=False):
        where = f"{source}: {row.task}, item {row.shadow_id}"
        n_options = int(row.n_options)
        if n_options < 0:
            raise ShadowSuiteError(f"{where}: n_options is {n_options}")
        if n_options == 0:
            continue  # generation: no options, no log-likelihoods
        for column in ("gold", "chosen"):
            value = int(getattr(row, column))
            if not (value == -1 or 0 <= value < n_options):
                raise ShadowSuiteError(
                    f"{where}: {column} is {value}, outside the item's {n_options} options"
                )
        lls = row.loglikelihoods
        if lls is not None:
            if len(lls) != n_options:
                raise ShadowSuiteError(
                    f"{where}: {len(lls)} log-likelihoods for {n_options} options"
                )
            bad = next((x for x in lls if not np.isfinite(x)), None)
            if bad is not None:
                raise ShadowSuiteError(f"{where}: a log-likelihood is {bad}")
        if row.gold >= 0 and row.chosen >= 0 and int(row.correct) != int(row.chosen == row.gold):
            raise ShadowSuiteError(
                f"{where}: correct is {int(row.correct)} but the chosen option {int(row.chosen)} "
                f"{'is' if row.chosen == row.gold else 'is not'} the gold {int(row.gold)}"
            )
