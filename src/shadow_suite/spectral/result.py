"""The engine's result and its files: write them atomically, read them back.

An output folder holds three files:

- ``spectra.parquet`` (``spectra.csv`` when pyarrow is missing): the tidy table, one row per
  tensor, skipped ones included with ``status`` and ``skip_reason``;
- ``spectra.json``: provenance, counts, summaries (the report card reads this);
- ``singular_values.npz``: every analysed matrix's singular values (``sv::NAME``) and, with a
  base, its update's (``update_sv::NAME``), as float32 (metrics were computed in float64).

spectra.json (schema ``shadow-suite.spectra``, ``schema_version`` 1; NaN is written as null)::

    created, files {table, singular_values}
    model / base (null without --base): path, format, model_type, architectures,
        quantization_config (bool), tensors, dtypes {BF16: n}, files [{name, bytes, sha256}]
    ancestor (null unless --against): the same fields for the shared ancestor A of
        ``spectra MODEL --base A --against B``; ``base`` is then the sibling B, and every
        update number is of W - W_B (A's weights are not read: W - W_B does not depend on them)
    method: name (gram|svd), singular_values (words), method_version, device, modules,
        alpha (words), update_top_k, noise_dominated_below_relative_change, nd_rule, cache_dir
    environment: {python, shadow-suite, torch, numpy, ...}
    timings: total_s, read_s, compute_s, workers, tensors_per_s
    counts: tensors, selected, analyzed, skipped, nonfinite, cached
    skipped: [{name, reason}]     nonfinite: [{name, reason}]
    unmatched (null without base): only_in_model [name], only_in_base [name],
        shape_mismatch [{name, shape, base_shape, note}]
    summary:
      model: matrices, parameters, mean {METRIC: x}, median {METRIC: x}
      by_kind: [{kind, matrices, METRIC...}]            (kinds in names.KINDS order)
      by_kind_layer: [{kind, layer, matrices, METRIC...}]  (the depth profiles)
      update (null without base): matrices_compared, relative_change (pooled
        sqrt(sum ||W-W0||^2 / sum ||W0||^2)), relative_change_median, noise_dominated_matrices,
        unchanged_matrices,
        by_layer: [{layer, matrices, relative_change, update_effective_rank_entropy,
                    update_effective_rank_energy, update_rank_above_noise, noise_dominated}],
        top_changed: [{name, kind, layer, shape, relative_change, cosine_to_base,
                       update_effective_rank_entropy, update_stable_rank,
                       update_rank_above_noise, noise_floor_sv, noise_dominated,
                       update_singular_values (first 64, descending)}]

METRIC in summaries: effective_rank_entropy, effective_rank_energy, stable_rank,
participation_ratio, spectral_norm, alpha, and with a base update_relative_change,
update_effective_rank_entropy, update_effective_rank_energy, update_stable_rank,
update_rank_above_noise, cosine_to_base (means over the matrices of the group).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from shadow_suite import atomic
from shadow_suite.errors import ShadowSuiteError

SCHEMA = "shadow-suite.spectra"
SCHEMA_VERSION = 1
TABLE_PARQUET = "spectra.parquet"
TABLE_CSV = "spectra.csv"
SUMMARY_JSON = "spectra.json"
SINGULAR_VALUES = "singular_values.npz"


@dataclass
class SpectralResult:
    table: pd.DataFrame  # one row per tensor
    document: dict[str, Any]  # the content of spectra.json
    singular_values: dict[str, np.ndarray] = field(default_factory=dict)
    update_singular_values: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def summary(self) -> dict[str, Any]:
        return self.document["summary"]


def _atomic(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    atomic.write_with(path, write)


def write_result(result: SpectralResult, out_dir: str | os.PathLike[str]) -> Path:
    """Write the three files into ``out_dir``, replacing an earlier set as a whole (so two runs
    into one folder never leave the JSON of one beside the table of the other); returns the
    path of spectra.json."""
    final = Path(out_dir)
    with atomic.output_set(final) as out:
        _write_files(result, out)
    return final / SUMMARY_JSON


def _write_files(result: SpectralResult, out: Path) -> None:
    arrays = {f"sv::{k}": v.astype(np.float32) for k, v in result.singular_values.items()}
    arrays.update(
        {f"update_sv::{k}": v.astype(np.float32) for k, v in result.update_singular_values.items()}
    )
    named: dict[str, Any] = arrays  # keyword arrays; typed Any for numpy's allow_pickle overload
    _atomic(out / SINGULAR_VALUES, lambda h: np.savez_compressed(h, **named))
    try:
        import pyarrow  # noqa: F401

        table_name = TABLE_PARQUET
        _atomic(out / table_name, lambda h: result.table.to_parquet(h, index=False))
    except ImportError:
        table_name = TABLE_CSV
        _atomic(out / table_name, lambda h: h.write(result.table.to_csv(index=False).encode()))
    result.document["files"] = {"table": table_name, "singular_values": SINGULAR_VALUES}
    text = json.dumps(result.document, indent=1, allow_nan=False)
    _atomic(out / SUMMARY_JSON, lambda h: h.write(text.encode("utf-8")))


def load_spectra(path: str | os.PathLike[str]) -> SpectralResult:
    """Read an output folder (or its spectra.json) written by ``write_result``."""
    path = Path(path)
    json_path = path / SUMMARY_JSON if path.is_dir() else path
    if not json_path.is_file():
        raise ShadowSuiteError(f"{json_path}: no spectra.json here")
    try:
        document = json.loads(json_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ShadowSuiteError(f"{json_path}: not valid JSON ({err})") from None
    if document.get("schema") != SCHEMA:
        raise ShadowSuiteError(f"{json_path}: not a {SCHEMA} document")
    folder = json_path.parent
    files = document.get("files", {})
    table_path = folder / files.get("table", TABLE_PARQUET)
    if not table_path.is_file():
        raise ShadowSuiteError(f"{table_path}: per-tensor table missing")
    table = (
        pd.read_parquet(table_path) if table_path.suffix == ".parquet" else pd.read_csv(table_path)
    )
    singular: dict[str, np.ndarray] = {}
    update: dict[str, np.ndarray] = {}
    sv_path = folder / files.get("singular_values", SINGULAR_VALUES)
    if sv_path.is_file():
        with np.load(sv_path, allow_pickle=False) as data:
            for key in data.files:
                kind, _, name = key.partition("::")
                (singular if kind == "sv" else update)[name] = data[key]
    return SpectralResult(table, document, singular, update)
