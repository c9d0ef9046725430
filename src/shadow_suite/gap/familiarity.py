"""The per-item familiarity record: how likely a model finds each test item and each twin.

Read from the samples of the pack's familiarity tasks (``shadow_<benchmark>_familiarity_item``
and ``..._familiarity_prompt``, lm-eval's ``loglikelihood_rolling``; see
``shadow_suite.taskpack.familiarity``), one row per item, keyed by its stable ``shadow_id``, so
that a target and its references pair item by item. ``familiarity.parquet`` sits beside
``card.json`` (as ``items.parquet`` does) and is what a reference contributes to another
model's memorization test. Columns (also in ``report/SCHEMA.md``):

=====================  =======  ==========================================================
column                 type     meaning
=====================  =======  ==========================================================
shadow_id              str      ``<benchmark>/<split>/<row>``: a test item or a twin
benchmark              str      ``mmlu``, ``arc_challenge``, ...
set                    str      ``test`` or ``twin``
seed                   int64    shadow_seed of the run (it draws the sample of both sets)
data_sha256            str      SHA-256 of the data file the row came from
twins_dropped          int64    twin rows left out for repeating a test question
item_loglikelihood     float64  log-likelihood (nats) of the item with its gold answer
item_bytes             int64    its length in UTF-8 bytes
prompt_loglikelihood   float64  log-likelihood of the prompt alone (NaN: not evaluated)
prompt_bytes           int64    its length in bytes (-1: not evaluated)
=====================  =======  ==========================================================

Log-likelihoods and byte counts are lm-eval's own per-sample ``bits_per_byte`` pair (the
total log-likelihood of the text and its UTF-8 length), as its perplexity tasks log them.

As ``items.parquet``, the file records the identity of the model it measured in its metadata
(``gap.items.IDENTITY_KEY``), so that a record copied beside another model's card is refused,
and numbers no model can have produced (a NaN or infinite log-likelihood, a text of no bytes)
are refused on the way in, from the samples and from the file, in one line naming the file,
the task, the item and the field.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shadow_suite.atomic import write_with
from shadow_suite.contract import (
    FAMILIARITY_ITEM,
    FAMILIARITY_PROMPT,
    FAMILIARITY_SET_FIELD,
    FAMILIARITY_TEXTS,
    TWINS_DROPPED_FIELD,
    FamiliaritySet,
    ShadowMeta,
    task_name,
)
from shadow_suite.errors import ShadowSuiteError

FAMILIARITY_FILE = "familiarity.parquet"
PER_SAMPLE_METRIC = "bits_per_byte"
"""The per-sample metric whose [log-likelihood, bytes] pair the reader takes."""
SETS: tuple[FamiliaritySet, ...] = ("test", "twin")

COLUMNS: dict[str, str] = {
    "shadow_id": "object",
    "benchmark": "object",
    "set": "object",
    "seed": "int64",
    "data_sha256": "object",
    "twins_dropped": "int64",
    "item_loglikelihood": "float64",
    "item_bytes": "int64",
    "prompt_loglikelihood": "float64",
    "prompt_bytes": "int64",
}
"""Column -> pandas dtype; the file holds exactly these columns."""


@dataclass
class FamiliaritySamples:
    """One familiarity task's samples: per item, the log-likelihood of its text."""

    task: str
    benchmark: str
    text: str
    """``familiarity_item`` or ``familiarity_prompt``."""
    seed: int
    loglikelihood: dict[str, float]
    n_bytes: dict[str, int]
    sets: dict[str, FamiliaritySet]
    data_sha256: dict[str, str]
    twins_dropped: int
    samples_file: str
    results_file: str


def _pair(line: dict[str, Any], where: str) -> tuple[float, int]:
    value = line.get(PER_SAMPLE_METRIC)
    if (
        not isinstance(value, list)
        or len(value) != 2
        or isinstance(value[0], bool)
        or not isinstance(value[0], int | float)
        or not isinstance(value[1], int)
        or isinstance(value[1], bool)
        or value[1] < 1
    ):
        raise ShadowSuiteError(
            f"{where}: no [log-likelihood, bytes] pair in {PER_SAMPLE_METRIC!r}; not a "
            "familiarity task's samples"
        )
    loglikelihood = float(value[0])
    if not np.isfinite(loglikelihood):
        raise ShadowSuiteError(
            f"{where}: log-likelihood {value[0]!r} ({PER_SAMPLE_METRIC}) is not a finite "
            "number; a model with NaN or infinite outputs has no familiarity to measure: check "
            "its weights"
        )
    return loglikelihood, int(value[1])


def read_familiarity_samples(path: Path, results_path: Path, task: str) -> FamiliaritySamples:
    """One ``samples_<familiarity task>_<date>.jsonl``; every problem one line naming the file
    and line."""
    from shadow_suite.gap.lm_eval_output import _lines

    meta: ShadowMeta | None = None
    out = FamiliaritySamples(task, "", "", 0, {}, {}, {}, {}, 0, str(path), str(results_path))
    for number, text in _lines(path):
        if not text.strip():
            continue
        where = f"{path}:{number}"
        try:
            line = json.loads(text)
        except json.JSONDecodeError as err:
            raise ShadowSuiteError(f"{where}: corrupt JSON ({err.msg})") from None
        doc = line.get("doc") if isinstance(line, dict) else None
        if not isinstance(doc, dict):
            raise ShadowSuiteError(f"{where}: no 'doc' object; not an lm-eval samples file")
        doc_meta = ShadowMeta.from_doc(doc, where)
        kind = doc.get(FAMILIARITY_SET_FIELD)
        if kind not in SETS or doc_meta.variant not in FAMILIARITY_TEXTS:
            raise ShadowSuiteError(
                f"{where}: {FAMILIARITY_SET_FIELD} is {kind!r} in a document of "
                f"{doc_meta.variant!r}; not a familiarity task's samples"
            )
        if meta is None:
            meta = doc_meta
        elif (doc_meta.benchmark, doc_meta.variant, doc_meta.seed) != (
            meta.benchmark,
            meta.variant,
            meta.seed,
        ):
            raise ShadowSuiteError(
                f"{where}: benchmark, task or seed differ from the file's first line "
                f"({doc_meta.benchmark}/{doc_meta.variant}/{doc_meta.seed} vs "
                f"{meta.benchmark}/{meta.variant}/{meta.seed})"
            )
        item = doc_meta.shadow_id
        if item in out.loglikelihood:
            raise ShadowSuiteError(f"{where}: shadow_id {item!r} appears twice")
        out.loglikelihood[item], out.n_bytes[item] = _pair(line, f"{where}: {task}, item {item}")
        out.sets[item] = kind
        out.data_sha256[item] = doc_meta.data_sha256
        out.twins_dropped = int(doc.get(TWINS_DROPPED_FIELD) or 0)
    if meta is None:
        raise ShadowSuiteError(f"{path}: no samples in file")
    out.benchmark, out.text, out.seed = meta.benchmark, meta.variant, meta.seed
    return out


def familiarity_from_samples(samples: dict[str, FamiliaritySamples]) -> pd.DataFrame:
    """The per-item table of one model's familiarity tasks (task name -> its samples): one
    row per item of the ``familiarity_item`` task, with the prompt's numbers where the
    ``familiarity_prompt`` task scored the same item."""
    by_text: dict[tuple[str, str], FamiliaritySamples] = {
        (s.benchmark, s.text): s for s in samples.values()
    }
    rows: list[dict[str, object]] = []
    for benchmark in sorted({s.benchmark for s in samples.values()}):
        item = by_text.get((benchmark, FAMILIARITY_ITEM))
        prompt = by_text.get((benchmark, FAMILIARITY_PROMPT))
        if item is None:
            continue  # the features all need the item's text; the prompt alone is not read
        for shadow_id in sorted(item.loglikelihood):
            scored = prompt is not None and shadow_id in prompt.loglikelihood
            rows.append(
                {
                    "shadow_id": shadow_id,
                    "benchmark": benchmark,
                    "set": item.sets[shadow_id],
                    "seed": item.seed,
                    "data_sha256": item.data_sha256[shadow_id],
                    "twins_dropped": item.twins_dropped,
                    "item_loglikelihood": item.loglikelihood[shadow_id],
                    "item_bytes": item.n_bytes[shadow_id],
                    "prompt_loglikelihood": (
                        prompt.loglikelihood[shadow_id] if scored and prompt else np.nan
                    ),
                    "prompt_bytes": prompt.n_bytes[shadow_id] if scored and prompt else -1,
                }
            )
    return _typed(pd.DataFrame(rows, columns=list(COLUMNS)))


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype(COLUMNS).reset_index(drop=True)


def write_familiarity(
    table: pd.DataFrame, path: str | os.PathLike[str], model_identity: str | None = None
) -> Path:
    """Write the table to ``path`` atomically; ``model_identity`` (``shadow_suite.identity``)
    goes into the file's metadata, as in ``items.parquet``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from shadow_suite.gap.items import IDENTITY_KEY  # gap.items imports this module

    arrow = pa.Table.from_pandas(_typed(table), preserve_index=False)
    if model_identity is not None:
        metadata = {**(arrow.schema.metadata or {}), IDENTITY_KEY: model_identity.encode()}
        arrow = arrow.replace_schema_metadata(metadata)
    return write_with(path, lambda handle: pq.write_table(arrow, handle))


def read_familiarity(path: str | os.PathLike[str]) -> pd.DataFrame | None:
    """A ``familiarity.parquet`` (or the card folder holding one), checked; None when there is
    none (a card made without the familiarity tasks, or before them)."""
    path = Path(path)
    if path.is_dir():
        path = path / FAMILIARITY_FILE
    if not path.is_file():
        return None
    try:
        frame = pd.read_parquet(path)
    except Exception as err:  # pyarrow raises several kinds for a damaged file
        raise ShadowSuiteError(f"{path}: not a readable Parquet file ({err})") from None
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ShadowSuiteError(f"{path}: missing column(s) {', '.join(missing)}")
    frame = frame[list(COLUMNS)]
    if frame.duplicated(["shadow_id"]).any():
        raise ShadowSuiteError(f"{path}: {frame[frame.duplicated(['shadow_id'])].iloc[0, 0]} twice")
    if not frame["set"].isin(SETS).all():
        raise ShadowSuiteError(f"{path}: column 'set' holds values other than test and twin")
    try:
        frame = _typed(frame)
    except (TypeError, ValueError) as err:
        raise ShadowSuiteError(f"{path}: a column has the wrong type ({err})") from None
    check_familiarity_numbers(frame, str(path))
    return frame


def check_familiarity_numbers(frame: pd.DataFrame, source: str) -> None:
    """Numbers no model can have produced, refused in one line naming the file, task, item and
    column: a log-likelihood that is NaN or infinite, a text of no bytes, a prompt scored
    without its length (or a length without its score), a negative count of dropped twins. A
    hand-edited or damaged record would otherwise drop out of the test as "not evaluated"."""
    for row in frame.itertuples(index=False):
        item = f"{source}: {task_name(row.benchmark, FAMILIARITY_ITEM)}, item {row.shadow_id}"
        if not np.isfinite(row.item_loglikelihood):
            raise ShadowSuiteError(f"{item}: item_loglikelihood is {row.item_loglikelihood}")
        if row.item_bytes < 1:
            raise ShadowSuiteError(f"{item}: item_bytes is {row.item_bytes}, not a text's length")
        if row.twins_dropped < 0:
            raise ShadowSuiteError(f"{item}: twins_dropped is {row.twins_dropped}")
        prompt = f"{source}: {task_name(row.benchmark, FAMILIARITY_PROMPT)}, item {row.shadow_id}"
        if row.prompt_bytes == -1:  # the prompt task did not score the item
            if not np.isnan(row.prompt_loglikelihood):
                raise ShadowSuiteError(
                    f"{prompt}: prompt_loglikelihood is {row.prompt_loglikelihood} but "
                    "prompt_bytes is -1 (not evaluated)"
                )
            continue
        if row.prompt_bytes < 1:
            raise ShadowSuiteError(f"{prompt}: prompt_bytes is {row.prompt_bytes}")
        if not np.isfinite(row.prompt_loglikelihood):
            raise ShadowSuiteError(f"{prompt}: prompt_loglikelihood is {row.prompt_loglikelihood}")
