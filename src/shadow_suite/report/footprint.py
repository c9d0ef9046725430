"""Parameter footprints of a family of checkpoints: per-layer profiles against one ancestor.

Input: the spectra folders of several models, each written by
``shadow-suite spectra MODEL --base ANCESTOR`` against the *same* ancestor (checked by the
base files' SHA-256, else by path), optionally with the ancestor's own spectra. Output, per
module kind (attention q/k/v/o, MLP gate/up/down; selectable) and transformer layer, one line
per model:

- ``relative_change``: ||W - W0||_F / ||W0||_F, pooled over the kind's matrices in the layer
  (sqrt of summed squares, as the engine's per-layer total);
- ``cosine_to_base``: <W, W0> / (||W|| ||W0||), the uncentred weight correlation with the base
  (weights are near zero-mean, so it is within rounding of Pearson's r on the entries);
- ``update_effective_rank``: entropy effective rank (Roy & Vetterli) of W - W0;
- ``effective_rank``: entropy effective rank of W itself;
- ``effective_rank_change``: effective rank of model B's W minus model A's, for each chosen
  pair (A, B) of the models (the ancestor counts as a model when its spectra are given).

Pure computation (``footprint_table``) is separate from rendering (``footprint_section``,
``render_footprint_html``) and files (``write_footprint``: footprint.html, footprint.csv and
footprint.parquet when pyarrow is installed).
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from shadow_suite import atomic
from shadow_suite.errors import ShadowSuiteError
from shadow_suite.identity import same_checkpoint
from shadow_suite.numbers import finite_or_none
from shadow_suite.report import svg
from shadow_suite.report.html import CSS
from shadow_suite.spectral.document import (
    EFFECTIVE_RANK,
    UPDATE_EFFECTIVE_RANK,
    CheckpointRecord,
    SpectraDocument,
)
from shadow_suite.spectral.result import SpectralResult, load_spectra

DEFAULT_KINDS: tuple[str, ...] = (
    "attn_q",
    "attn_k",
    "attn_v",
    "attn_o",
    "mlp_gate",
    "mlp_up",
    "mlp_down",
)
# kinds a user may select: the per-layer matrices (fused projections included)
LAYER_KINDS: tuple[str, ...] = (*DEFAULT_KINDS, "attn_qkv", "mlp_gate_up")
MODEL_METRICS: tuple[str, ...] = (
    "relative_change",
    "cosine_to_base",
    "update_effective_rank",
    "effective_rank",
)
PAIR_METRIC = "effective_rank_change"
METRICS: tuple[str, ...] = (*MODEL_METRICS, PAIR_METRIC)
# figures drawn (effective_rank itself is in the table; its change is drawn)
DRAWN: tuple[str, ...] = (
    "relative_change",
    "cosine_to_base",
    "update_effective_rank",
    PAIR_METRIC,
)
TITLES: dict[str, str] = {
    "relative_change": "relative change ||W \u2212 W0|| / ||W0||",
    "cosine_to_base": "correlation with the base (cosine of W and W0)",
    "update_effective_rank": "effective rank of the update W \u2212 W0",
    "effective_rank": "effective rank of W",
    PAIR_METRIC: "change of effective rank of W (B \u2212 A)",
}
AXES: dict[str, str] = {
    "relative_change": "||W \u2212 W0|| / ||W0||",
    "cosine_to_base": "cosine of W and W0",
    "update_effective_rank": "effective rank of W \u2212 W0",
    "effective_rank": "effective rank of W",
    PAIR_METRIC: "effective rank, B \u2212 A",
}
"""The y axis of each metric's chart (the metric's name is a column name, not a label)."""
TABLE_COLUMNS: tuple[str, ...] = (
    "model",
    "against",
    "base",
    "kind",
    "layer",
    "metric",
    "value",
    "matrices",
)


@dataclass(frozen=True)
class Member:
    """One model of the family: its label and its spectra (``has_base`` False for the
    ancestor's own spectra, which only take part in effective-rank pairs)."""

    label: str
    source: str
    document: SpectraDocument
    table: pd.DataFrame
    has_base: bool

    @property
    def base(self) -> CheckpointRecord:
        """The checkpoint this member was measured against (members with a base only)."""
        if self.document.base is None:
            raise ShadowSuiteError(f"{self.source}: spectra without a base")
        return self.document.base


def _load(item: Any) -> tuple[str, SpectraDocument, pd.DataFrame]:
    if isinstance(item, SpectralResult):
        return item.document.model.path or "spectra", item.document, item.table
    result = load_spectra(item)
    return str(item), result.document, result.table


def _model_name(document: SpectraDocument, source: str) -> str:
    path = document.model.path
    return Path(path).name if path else Path(source).name


def _unique(labels: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} #{seen[label]}")
    return out


def _same(a: CheckpointRecord | None, b: CheckpointRecord | None) -> bool:
    """Whether two records are one checkpoint: by model identity (``shadow_suite.identity``),
    for older documents by their files' SHA-256 when all were hashed, else by path."""
    if a is None or b is None:
        return a is b
    return same_checkpoint(a, b)


def _describe(doc: CheckpointRecord | None) -> str:
    return (doc.path if doc is not None else None) or "?"


def _layered(table: pd.DataFrame, kinds: Sequence[str]) -> pd.DataFrame:
    ok = table[(table["status"] == "ok") & table["layer"].notna() & table["kind"].isin(kinds)]
    return ok


def family(
    spectra: Sequence[Any],
    labels: Sequence[str] | None = None,
    base_spectra: Any | None = None,
    base_label: str = "base",
) -> list[Member]:
    """Load and check a family: every model measured against the same ancestor, every model
    of the ancestor's architecture (same per-layer matrices by name and shape). Embedding and
    head rows may differ (grown vocabularies: the engine compared the shared rows)."""
    if not spectra:
        raise ShadowSuiteError("footprint needs the spectra of at least one model")
    if labels is not None and len(labels) != len(spectra):
        raise ShadowSuiteError(f"{len(labels)} labels given for {len(spectra)} spectra")
    loaded = [_load(item) for item in spectra]
    names = list(labels) if labels is not None else [_model_name(d, s) for s, d, _ in loaded]
    members = []
    for (source, document, table), label in zip(loaded, _unique(names), strict=True):
        if document.base is None:
            raise ShadowSuiteError(
                f"{source}: spectra without a base; run `shadow-suite spectra MODEL "
                "--base ANCESTOR` for every model of the family"
            )
        if document.ancestor is not None:
            raise ShadowSuiteError(
                f"{source}: an update against the sibling {_describe(document.base)} "
                "(`spectra --against`), not against the ancestor; a footprint profiles each "
                "model against the ancestor: run `shadow-suite spectra MODEL --base ANCESTOR`"
            )
        members.append(Member(label, source, document, table, True))
    first = members[0]
    ancestor = first.base
    for member in members[1:]:
        if not _same(member.base, ancestor):
            raise ShadowSuiteError(
                f"{member.source}: measured against {_describe(member.base)}, "
                f"not the ancestor {_describe(ancestor)} of {first.source}"
            )
    if base_spectra is not None:
        source, document, table = _load(base_spectra)
        if not _same(document.model, ancestor):
            raise ShadowSuiteError(
                f"{source}: spectra of {_describe(document.model)}, not of the "
                f"ancestor {_describe(ancestor)}"
            )
        taken = {m.label for m in members}
        label = base_label if base_label not in taken else f"{base_label} (ancestor)"
        members.insert(0, Member(label, source, document, table, False))
    _check_architecture(members, ancestor)
    return members


def _check_architecture(members: list[Member], ancestor: CheckpointRecord) -> None:
    base_type = ancestor.model_type
    reference: tuple[Member, dict[str, str]] | None = None
    for member in members:
        model_type = member.document.model.model_type
        if base_type and model_type and model_type != base_type:
            raise ShadowSuiteError(
                f"{member.source}: model_type {model_type!r} is not the ancestor's "
                f"{base_type!r}: not the same architecture"
            )
        layered = _layered(member.table, LAYER_KINDS)
        if member.has_base and "update_relative_change" in layered:
            unmatched = layered[layered["update_relative_change"].isna()]
            if len(unmatched):
                raise ShadowSuiteError(
                    f"{member.source}: {len(unmatched)} per-layer matrices (e.g. "
                    f"{unmatched['name'].iloc[0]}) have no counterpart in the ancestor: "
                    "not the ancestor's architecture"
                )
        shapes = dict(zip(layered["name"], layered["shape"].astype(str), strict=True))
        if not shapes:
            raise ShadowSuiteError(
                f"{member.source}: no analysed per-layer matrices (attention or MLP) to profile"
            )
        if reference is None:
            reference = (member, shapes)
            continue
        ref_member, ref_shapes = reference
        for name in sorted(set(ref_shapes) | set(shapes)):
            if ref_shapes.get(name) != shapes.get(name):
                raise ShadowSuiteError(
                    f"{member.source}: not the architecture of {ref_member.source}: "
                    f"{name} is {shapes.get(name, 'missing')} there "
                    f"{ref_shapes.get(name, 'missing')}"
                )


def _per_layer(table: pd.DataFrame, kind: str, with_update: bool) -> dict[int, dict[str, Any]]:
    rows = table[(table["status"] == "ok") & (table["kind"] == kind) & table["layer"].notna()]
    out: dict[int, dict[str, Any]] = {}
    for layer, group in rows.groupby("layer"):
        values: dict[str, Any] = {
            "matrices": len(group),
            "effective_rank": finite_or_none(group[EFFECTIVE_RANK].astype(float).mean()),
        }
        if with_update and "update_frobenius_norm" in group:
            delta2 = float((group["update_frobenius_norm"].astype(float) ** 2).sum())
            base2 = float((group["base_frobenius_norm"].astype(float) ** 2).sum())
            values["relative_change"] = (
                finite_or_none(math.sqrt(delta2 / base2)) if base2 > 0 else None
            )
            values["cosine_to_base"] = finite_or_none(group["cosine_to_base"].astype(float).mean())
            values["update_effective_rank"] = finite_or_none(
                group[UPDATE_EFFECTIVE_RANK].astype(float).mean()
            )
        out[int(layer)] = values
    return out


def _pairs(members: list[Member], pairs: Sequence[tuple[str, str]] | None) -> list[tuple[int, int]]:
    index = {m.label: i for i, m in enumerate(members)}
    if pairs is None:
        return list(itertools.combinations(range(len(members)), 2))
    out = []
    for a, b in pairs:
        for name in (a, b):
            if name not in index:
                raise ShadowSuiteError(
                    f"pair {a}:{b}: no model labelled {name!r} (labels: {', '.join(index)})"
                )
        if a == b:
            raise ShadowSuiteError(f"pair {a}:{b}: a model against itself")
        out.append((index[a], index[b]))
    return out


def _check_kinds(kinds: Sequence[str]) -> None:
    unknown = [k for k in kinds if k not in LAYER_KINDS]
    if unknown or not kinds:
        raise ShadowSuiteError(
            f"--kinds {','.join(kinds)}: expected some of {', '.join(LAYER_KINDS)}"
        )


def footprint_table(
    members: Sequence[Member],
    kinds: Sequence[str] = DEFAULT_KINDS,
    pairs: Sequence[tuple[str, str]] | None = None,
) -> pd.DataFrame:
    """The tidy table: one row per (model or pair, kind, layer, metric). ``against`` is the
    pair's model A (the row's model is B) for ``effective_rank_change``, else empty; kinds
    a family does not have give no rows. ``pairs`` are (label A, label B); default: all."""
    _check_kinds(kinds)
    members = list(members)
    base = _describe(next((m.base for m in members if m.has_base), None))
    rows: list[dict[str, Any]] = []
    profiles = {
        (i, kind): _per_layer(m.table, kind, m.has_base)
        for i, m in enumerate(members)
        for kind in kinds
    }
    for i, member in enumerate(members):
        for kind in kinds:
            for layer, values in sorted(profiles[i, kind].items()):
                for metric in MODEL_METRICS:
                    if metric in values:
                        rows.append(
                            {
                                "model": member.label,
                                "against": None,
                                "base": base,
                                "kind": kind,
                                "layer": layer,
                                "metric": metric,
                                "value": values[metric],
                                "matrices": values["matrices"],
                            }
                        )
    for a, b in _pairs(members, pairs):
        for kind in kinds:
            prof_a, prof_b = profiles[a, kind], profiles[b, kind]
            for layer in sorted(set(prof_a) & set(prof_b)):
                ra, rb = prof_a[layer]["effective_rank"], prof_b[layer]["effective_rank"]
                rows.append(
                    {
                        "model": members[b].label,
                        "against": members[a].label,
                        "base": base,
                        "kind": kind,
                        "layer": layer,
                        "metric": PAIR_METRIC,
                        "value": None if ra is None or rb is None else rb - ra,
                        "matrices": prof_b[layer]["matrices"],
                    }
                )
    frame = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    frame["layer"] = frame["layer"].astype("int64")
    frame["matrices"] = frame["matrices"].astype("int64")
    frame["value"] = frame["value"].astype(float)
    for column in ("model", "against", "base", "kind", "metric"):
        frame[column] = frame[column].astype("string")
    return frame


def _drawn(value: float) -> float | None:
    """A value rounded to 9 significant digits for drawing: ``svg.lines`` loops on a y range
    of a few ulps (cosines of unchanged matrices are 1 within 1e-16); rounding makes such a
    range exactly 0 (which it handles) or at least ~1e-9 relative."""
    x = finite_or_none(float(value))
    return None if x is None else float(f"{x:.9g}")


def _series(frame: pd.DataFrame, metric: str, kind: str) -> list[svg.Series]:
    rows = frame[(frame["metric"] == metric) & (frame["kind"] == kind)]
    out = []
    keys = rows[["model", "against"]].drop_duplicates().itertuples(index=False)
    for model, against in keys:
        if pd.isna(against):
            line = rows[(rows["model"] == model) & rows["against"].isna()]
            label = str(model)
        else:
            line = rows[(rows["model"] == model) & (rows["against"] == against)]
            # the legend shows svg.LEGEND_CHARS characters: the model gets what the other leaves
            other = svg.clip_start(str(against), 14)
            label = (
                f"{svg.clip_start(str(model), svg.LEGEND_CHARS - 3 - len(other))} \u2212 {other}"
            )
        line = line.sort_values("layer")
        out.append(
            svg.Series(
                svg.clip_start(label, svg.LEGEND_CHARS),
                [float(v) for v in line["layer"]],
                [_drawn(v) for v in line["value"]],
            )
        )
    return out


def footprint_figures(frame: pd.DataFrame, kinds: Sequence[str] = DEFAULT_KINDS) -> str:
    """The charts for a footprint table: one figure per (metric, kind), one line per model."""
    parts: list[str] = []
    present = [k for k in kinds if (frame["kind"] == k).any()]
    for metric in DRAWN:
        figures = []
        for kind in present:
            series = _series(frame, metric, kind)
            if not series:
                continue
            chart = svg.lines(series, f"{kind}: {TITLES[metric]}", "layer", AXES[metric])
            figures.append(
                f'<figure style="margin:6px 0">{chart}<figcaption>{escape(kind)}: '
                f"{escape(TITLES[metric])} by layer</figcaption></figure>"
            )
        if figures:
            parts.append(f"<h3>{escape(TITLES[metric])}</h3>{''.join(figures)}")
    return "".join(parts)


CAPTION = (
    "Per-layer profiles of each model's weights against the shared ancestor {base}, one line "
    "per model. Relative change pools the kind's matrices of a layer; correlation is the "
    "cosine of W and W0; effective ranks are entropy effective ranks (Roy & Vetterli). What "
    "this does not show: which data caused a change, or whether a change is benchmark-specific "
    "(the gap analysis answers that); below about 1% relative change the update's rank is "
    "mostly 16-bit rounding noise."
)


def footprint_section(
    spectra: Sequence[Any],
    labels: Sequence[str] | None = None,
    *,
    base_spectra: Any | None = None,
    kinds: Sequence[str] = DEFAULT_KINDS,
    pairs: Sequence[tuple[str, str]] | None = None,
    heading: str = "Parameter footprints",
) -> str:
    """An HTML fragment (``<section>`` with an ``<h2>``, inline SVG, no script) drawing the
    footprints of ``spectra`` (spectra folders, spectra.json paths or ``SpectralResult``s,
    each measured against the same ancestor) for a page such as compare.html. Raises
    ``ShadowSuiteError`` (one line) for models of another ancestor or architecture."""
    members = family(spectra, labels, base_spectra=base_spectra)
    frame = footprint_table(members, kinds, pairs)
    return _section(members, frame, kinds, heading)


def _section(
    members: Sequence[Member], frame: pd.DataFrame, kinds: Sequence[str], heading: str
) -> str:
    base = _describe(next(m.base for m in members if m.has_base))
    listing = "".join(
        f"<li><b>{escape(m.label)}</b>: <code>{escape(m.source)}</code>"
        + ("" if m.has_base else " (the ancestor's own spectra)")
        + "</li>"
        for m in members
    )
    return (
        f'<section class="footprint"><h2>{escape(heading)}</h2>'
        f"<p>{escape(CAPTION.format(base=base))}</p><ul>{listing}</ul>"
        f"{footprint_figures(frame, kinds)}</section>"
    )


def render_footprint_html(
    members: Sequence[Member], frame: pd.DataFrame, kinds: Sequence[str]
) -> str:
    created = datetime.now(UTC).isoformat(timespec="seconds")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<link rel="icon" href="data:,">'
        f"<title>shadow-suite footprints of {len(members)} models</title>"
        f"<style>{CSS}</style></head><body><main><h1>shadow-suite footprints</h1>"
        f'<p class="sub">{len(members)} models; created {escape(created)}; the numbers are '
        "in footprint.csv (tidy: model, against, base, kind, layer, metric, value, "
        "matrices)</p>"
        f"{_section(members, frame, kinds, 'Per-layer profiles')}</main></body></html>\n"
    )


@dataclass(frozen=True)
class FootprintPaths:
    html: Path
    csv: Path
    parquet: Path | None


def write_footprint(
    spectra: Sequence[Any],
    out_dir: str | os.PathLike[str],
    labels: Sequence[str] | None = None,
    *,
    base_spectra: Any | None = None,
    kinds: Sequence[str] = DEFAULT_KINDS,
    pairs: Sequence[tuple[str, str]] | None = None,
) -> FootprintPaths:
    """footprint.html, footprint.csv and (with pyarrow) footprint.parquet in ``out_dir``."""
    members = family(spectra, labels, base_spectra=base_spectra)
    frame = footprint_table(members, kinds, pairs)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    html_path = out / "footprint.html"
    atomic.write_text(html_path, render_footprint_html(members, frame, kinds))
    csv_path = out / "footprint.csv"
    atomic.write_text(csv_path, frame.to_csv(index=False))
    parquet = write_parquet_atomic(frame, out / "footprint.parquet")
    return FootprintPaths(html_path, csv_path, parquet)


def write_parquet_atomic(frame: pd.DataFrame, path: Path) -> Path | None:
    """``frame`` as Parquet, written atomically; None without pyarrow."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return None
    return atomic.write_with(path, lambda handle: frame.to_parquet(handle, index=False))


def parse_pairs(values: Sequence[str] | None) -> list[tuple[str, str]] | None:
    """``A:B`` strings (``--pair``) into (A, B) tuples; None when none were given."""
    if not values:
        return None
    out = []
    for value in values:
        a, sep, b = value.rpartition(":")
        if not sep or not a or not b:
            raise ShadowSuiteError(f"--pair {value!r}: expected LABEL_A:LABEL_B")
        out.append((a, b))
    return out
