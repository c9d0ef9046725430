"""Stage markers: a finished stage is reused only with the same settings and the same model; an
interrupted one is resumed only on the same model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shadow_suite.stage import (
    StageMismatch,
    recorded_settings,
    run_stage,
    stage_is_done,
    started_marker,
)

OLD = {"limit": 5, "model_identity": "sha256:" + "a" * 64}
NEW_WEIGHTS = {**OLD, "model_identity": "sha256:" + "b" * 64}


def _finish(folder: Path, settings: dict) -> None:
    with run_stage(folder, settings) as work:
        (work / "out.txt").write_text("done")


def _interrupt(folder: Path, settings: dict) -> None:
    with pytest.raises(KeyboardInterrupt), run_stage(folder, settings):
        raise KeyboardInterrupt


def test_a_finished_stage_on_other_weights_is_refused_naming_the_identity(tmp_path: Path) -> None:
    stage = tmp_path / "eval"
    _finish(stage, OLD)
    assert stage_is_done(stage, OLD)
    assert not started_marker(stage).exists()
    with pytest.raises(StageMismatch) as err:
        stage_is_done(stage, {**NEW_WEIGHTS, "limit": 7}, redo_hint="pass --force")
    message = str(err.value)
    # the identity is named first, short, whatever else changed too
    assert "(model_identity: aaaaaaaaaaaa then, bbbbbbbbbbbb now: other weights)" in message
    assert "pass --force" in message
    assert stage_is_done(stage, NEW_WEIGHTS, redo=True) is False  # --force: run it again
    _finish(stage, NEW_WEIGHTS)
    assert recorded_settings(stage) == NEW_WEIGHTS


def test_a_marker_without_identity_is_not_taken_for_this_model(tmp_path: Path) -> None:
    stage = tmp_path / "eval"
    _finish(stage, {"limit": 5})  # written before identities
    with pytest.raises(StageMismatch, match="not recorded \\(an older shadow-suite\\)"):
        stage_is_done(stage, OLD)


def test_an_interrupted_stage_resumes_only_on_the_same_model(tmp_path: Path) -> None:
    stage = tmp_path / "eval"
    _interrupt(stage, OLD)
    assert json.loads(started_marker(stage).read_text())["settings"] == OLD
    with pytest.raises(StageMismatch, match="an interrupted eval stage ran on another model"):
        stage_is_done(stage, NEW_WEIGHTS)
    assert stage_is_done(stage, NEW_WEIGHTS, redo=True) is False
    assert stage_is_done(stage, OLD) is False  # the same model: resume
    assert stage_is_done(stage, {**OLD, "limit": 9}) is False  # other settings: start over
    _finish(stage, OLD)
    assert not started_marker(stage).exists()


def test_a_stage_that_failed_leaves_nothing_to_resume(tmp_path: Path) -> None:
    """An error (not an interrupt): the user fixes the model folder, whose identity then
    changes; that is not another model's interrupted run."""
    stage = tmp_path / "eval"
    with pytest.raises(ValueError), run_stage(stage, OLD):
        raise ValueError("no tokenizer")
    assert not started_marker(stage).exists()
    assert stage_is_done(stage, NEW_WEIGHTS) is False


def test_a_symlinked_stage_folder_is_written_through(tmp_path: Path) -> None:
    real = tmp_path / "elsewhere" / "eval"
    real.mkdir(parents=True)
    (tmp_path / "run").mkdir()
    link = tmp_path / "run" / "eval"
    link.symlink_to(real)
    _interrupt(link, OLD)
    with pytest.raises(StageMismatch, match="interrupted"):
        stage_is_done(link, NEW_WEIGHTS)
    _finish(link, OLD)
    assert link.is_symlink() and (real / "out.txt").read_text() == "done"
    assert stage_is_done(link, OLD)
