"""The engine's result and its files: write them atomically, read them back.

An output folder holds three files:

- ``spectra.parquet`` (``spectra.csv`` when pyarrow is missing): the tidy table, one row per
  tensor, skipped ones included with ``status`` and ``skip_reason``;
- ``spectra.json``: provenance, counts, summaries (the report card reads this);
- ``singular_values.npz``: every analysed matrix's singular values (``sv::NAME``) and, with a
  base, its update's (``update_sv::NAME``), as float32 (metrics were computed in float64).

spectra.json is a :class:`shadow_suite.spectral.document.SpectraDocument` (schema
``shadow-suite.spectra``, fields documented there), read back strictly by ``read_document``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shadow_suite import atomic
from shadow_suite.errors import ShadowSuiteError
from shadow_suite.spectral.document import (
    DOCUMENT_NAME,
    OutputFiles,
    SpectraDocument,
    Summary,
    document_path,
    document_text,
    read_document,
)

TABLE_PARQUET = "spectra.parquet"
TABLE_CSV = "spectra.csv"
SUMMARY_JSON = DOCUMENT_NAME
SINGULAR_VALUES = "singular_values.npz"
WEIGHT_KEY = "sv::"
"""npz key prefix of a matrix's own singular values (``sv::NAME``)."""
UPDATE_KEY = "update_sv::"
"""npz key prefix of its update's (``update_sv::NAME``)."""


@dataclass
class SpectralResult:
    table: pd.DataFrame  # one row per tensor
    document: SpectraDocument  # the content of spectra.json
    singular_values: dict[str, np.ndarray] = field(default_factory=dict)
    update_singular_values: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def summary(self) -> Summary:
        return self.document.summary


def write_result(result: SpectralResult, out_dir: str | os.PathLike[str]) -> Path:
    """Write the three files into ``out_dir``, replacing an earlier set as a whole (so two runs
    into one folder never leave the JSON of one beside the table of the other); returns the
    path of spectra.json. ``result.document`` gets the names of the files written."""
    final = Path(out_dir)
    with atomic.output_set(final) as out:
        _write_files(result, out)
    return final / SUMMARY_JSON


def _write_files(result: SpectralResult, out: Path) -> None:
    arrays = {f"{WEIGHT_KEY}{k}": v.astype(np.float32) for k, v in result.singular_values.items()}
    arrays.update(
        {f"{UPDATE_KEY}{k}": v.astype(np.float32) for k, v in result.update_singular_values.items()}
    )
    named: dict[str, Any] = arrays  # keyword arrays; typed Any for numpy's allow_pickle overload
    atomic.write_with(out / SINGULAR_VALUES, lambda h: np.savez_compressed(h, **named))
    try:
        import pyarrow  # noqa: F401

        table_name = TABLE_PARQUET
        atomic.write_with(out / table_name, lambda h: result.table.to_parquet(h, index=False))
    except ImportError:
        table_name = TABLE_CSV
        atomic.write_text(out / table_name, result.table.to_csv(index=False))
    result.document = replace(result.document, files=OutputFiles(table_name, SINGULAR_VALUES))
    atomic.write_text(out / SUMMARY_JSON, document_text(result.document))


def read_singular_values(
    path: str | os.PathLike[str], document: SpectraDocument
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The singular values beside spectra.json at ``path`` (a file or its folder): each
    matrix's own and its update's, by tensor name; empty when the npz file is absent."""
    folder = document_path(path).parent
    files = document.files
    npz = folder / (files.singular_values if files is not None else SINGULAR_VALUES)
    weights: dict[str, np.ndarray] = {}
    updates: dict[str, np.ndarray] = {}
    if not npz.is_file():
        return weights, updates
    try:
        with np.load(npz, allow_pickle=False) as data:
            for key in data.files:
                if key.startswith(WEIGHT_KEY):
                    weights[key.removeprefix(WEIGHT_KEY)] = data[key]
                elif key.startswith(UPDATE_KEY):
                    updates[key.removeprefix(UPDATE_KEY)] = data[key]
    except (OSError, ValueError) as err:
        raise ShadowSuiteError(f"{npz}: unreadable singular values ({err})") from None
    return weights, updates


def load_spectra(path: str | os.PathLike[str]) -> SpectralResult:
    """Read an output folder (or its spectra.json) written by ``write_result``."""
    document = read_document(path)
    folder = document_path(path).parent
    files = document.files
    table_path = folder / (files.table if files is not None else TABLE_PARQUET)
    if not table_path.is_file():
        raise ShadowSuiteError(f"{table_path}: per-tensor table missing")
    table = (
        pd.read_parquet(table_path) if table_path.suffix == ".parquet" else pd.read_csv(table_path)
    )
    singular, update = read_singular_values(path, document)
    return SpectralResult(table, document, singular, update)
