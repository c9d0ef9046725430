"""The typed spectra document: round trips, and the strict loader's one-line errors."""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from spectral_helpers import spectra_json

from shadow_suite.errors import ShadowSuiteError
from shadow_suite.report.spectral import spectral_section
from shadow_suite.spectral.document import (
    SCHEMA_VERSION,
    SpectraDocument,
    document_text,
    read_document,
)


def _write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    data = spectra_json()
    document = read_document(_write(tmp_path / "spectra.json", data))
    assert document.to_json() == data
    assert list(document.to_json()) == list(data)  # the engine's key order
    assert SpectraDocument.from_json(json.loads(document_text(document))) == document
    assert document.summary.update is not None
    assert document.summary.update.top_changed[0].shape == (64, 128)
    assert document.summary.by_kind_layer[1].metrics == {"effective_rank_entropy": 43.0}
    assert read_document(tmp_path) == document  # the folder names its spectra.json


def test_without_base_and_from_before_ancestor(tmp_path: Path) -> None:
    data = spectra_json(base=False)
    del data["ancestor"]  # written before `spectra --against` existed
    del data["model"]["identity"]  # and before model identities
    document = read_document(_write(tmp_path / "spectra.json", data))
    assert document.base is None and document.ancestor is None
    assert document.model.identity is None
    assert document.summary.update is None and document.unmatched is None


def _delete(*keys: str | int) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        node: Any = data
        for key in keys[:-1]:
            node = node[key]
        del node[keys[-1]]

    return edit


def _set(value: Any, *keys: str | int) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        node: Any = data
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value

    return edit


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_delete("summary", "model", "matrices"), "summary.model.matrices: missing"),
        (_delete("created"), "created: missing"),
        (_delete("summary", "update", "top_changed", 0, "name"), "top_changed[0].name: missing"),
        (_set(SCHEMA_VERSION + 1, "schema_version"), "schema_version: 2 is newer than"),
        (_set(0, "schema_version"), "schema_version: 0 is not a version this shadow-suite"),
        (_set("1", "schema_version"), "schema_version: missing or not an integer"),
        (_delete("schema_version"), "schema_version: missing or not an integer"),
        (_set("shadow-suite.card", "schema"), "not a shadow-suite.spectra document"),
        (_set("2", "counts", "analyzed"), "counts.analyzed: expected an integer"),
        (_set(True, "counts", "analyzed"), "counts.analyzed: expected an integer"),
        (_set(1.5, "summary", "by_kind_layer", 1, "layer"), "by_kind_layer[1].layer: expected an"),
        (_set("x", "summary", "model", "mean", "stable_rank"), "mean.stable_rank: expected a num"),
        (_set(1.0, "summary", "by_kind", 0, "rank"), "by_kind[0].rank: not a metric"),
        (_set("no", "summary", "update", "top_changed", 2, "noise_dominated"), "true or false"),
        (_set("lanczos", "method", "name"), "method.name: 'lanczos' is not one of 'gram', 'svd'"),
        (_set(None, "model"), "model: expected an object"),
        (_set({}, "summary", "update", "by_layer"), "update.by_layer: expected a list"),
        (_set([], "summary"), "summary: expected an object"),
    ],
)
def test_bad_document_is_one_line_naming_file_and_field(
    tmp_path: Path, edit: Callable[[dict[str, Any]], None], message: str
) -> None:
    data = copy.deepcopy(spectra_json())
    edit(data)
    path = _write(tmp_path / "spectra.json", data)
    with pytest.raises(ShadowSuiteError) as err:
        read_document(path)
    text = str(err.value)
    assert text.startswith(f"{path}: ") and message in text and "\n" not in text


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "no such spectra file"), ("{", "not valid JSON"), ("[]", "not a shadow-suite")],
)
def test_unreadable_file_is_one_line(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "spectra.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ShadowSuiteError, match=message) as err:
        read_document(path)
    assert str(err.value).startswith(str(path)) and "\n" not in str(err.value)


def test_card_section_reads_through_the_document() -> None:
    section = spectral_section(spectra_json())
    assert section.summary == {"effective_rank_entropy": 50.0, "stable_rank": 9.0, "alpha": 3.1}
    assert section.update_summary is not None and section.update_summary["relative_change"] == 0.02
    change = section.update_relative_change_by_layer
    assert change is not None and change.layers == [0, 1, 2, 3]
    assert [s.kind for s in section.effective_rank_by_layer] == ["attn_q", "attn_k", "mlp_down"]
    without = spectral_section(spectra_json(base=False))
    assert without.update_summary is None and without.top_changed == []
    assert any("no base model" in note for note in without.notes)
    # a parsed spectra.json is checked by the same loader
    with pytest.raises(ShadowSuiteError, match=r"^spectra\.json: created: missing$"):
        spectral_section({k: v for k, v in spectra_json().items() if k != "created"})


def test_the_card_carries_the_update_rank_the_demo_reports() -> None:
    """The update's mean effective rank is on the card (the demo's table reads it there)."""
    tuned = spectral_section(spectra_json())
    assert tuned.update_summary is not None
    assert tuned.update_summary["effective_rank_entropy"] == 5.5
    assert spectral_section(spectra_json(base=False)).update_summary is None
