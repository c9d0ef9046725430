"""A model's identity is its files: what changes it, what does not, and what the cache saves."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "spectral"))
from spectral_helpers import llama_tensors, save_model

from shadow_suite import identity
from shadow_suite.errors import ShadowSuiteError
from shadow_suite.identity import model_identity


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(identity, "_CACHE_FROM_BYTES", 1024)  # cache the test's small files


def _model(folder: Path, seed: int = 0) -> Path:
    save_model(folder, llama_tensors(seed=seed))
    (folder / "tokenizer.json").write_text('{"model": {"vocab": {}}}')
    return folder


def test_same_files_same_identity_wherever_they_are(tmp_path: Path) -> None:
    a = _model(tmp_path / "a")
    b = Path(shutil.copytree(a, tmp_path / "elsewhere" / "b"))
    (tmp_path / "link").symlink_to(a)
    assert model_identity(a).digest == model_identity(b).digest
    assert model_identity(tmp_path / "link").digest == model_identity(a).digest
    assert model_identity(tmp_path / "link").folder == a.resolve()
    assert model_identity(a).digest.startswith("sha256:") and len(model_identity(a).short) == 12


@pytest.mark.parametrize(
    "change",
    ["weights", "config", "tokenizer", "new chat template", "custom code"],
)
def test_anything_that_changes_behaviour_changes_the_identity(tmp_path: Path, change: str) -> None:
    folder = _model(tmp_path / "m")
    before = model_identity(folder).digest
    if change == "weights":
        save_model(folder, llama_tensors(seed=1))  # same names and shapes, other values
    elif change == "config":
        (folder / "config.json").write_text(json.dumps({"model_type": "llama", "rope_theta": 1}))
    elif change == "tokenizer":
        (folder / "tokenizer.json").write_text('{"model": {"vocab": {"a": 0}}}')
    elif change == "new chat template":
        (folder / "chat_template.jinja").write_text("{{ messages }}")
    else:
        (folder / "modeling_custom.py").write_text("x = 1\n")
    assert model_identity(folder).digest != before


def test_documentation_hidden_files_and_subfolders_do_not(tmp_path: Path) -> None:
    folder = _model(tmp_path / "m")
    before = model_identity(folder)
    (folder / "README.md").write_text("# a model card")
    (folder / "LICENSE").write_text("MIT")
    (folder / ".gitattributes").write_text("*.safetensors filter=lfs")
    (folder / "runs").mkdir()
    (folder / "runs" / "notes.json").write_text("{}")
    after = model_identity(folder)
    assert after.digest == before.digest
    assert after.files == ("config.json", "model.safetensors", "tokenizer.json")


def test_a_file_is_hashed_once_until_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _model(tmp_path / "m")
    hashed: list[str] = []
    real = identity._sha256
    monkeypatch.setattr(identity, "_sha256", lambda p: hashed.append(p.name) or real(p))
    first = model_identity(folder).digest
    assert "model.safetensors" in hashed
    hashed.clear()
    assert model_identity(folder).digest == first
    assert "model.safetensors" not in hashed  # from the cache
    # new bytes written in place, the old mtime put back (as `cp -p` does): ctime still moves
    weights = folder / "model.safetensors"
    stat = weights.stat()
    save_model(folder, llama_tensors(seed=2))
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert model_identity(folder).digest != first
    assert "model.safetensors" in hashed


def test_a_damaged_cache_entry_is_hashed_again(tmp_path: Path) -> None:
    folder = _model(tmp_path / "m")
    first = model_identity(folder).digest
    for entry in identity.cache_dir().rglob("*.json"):
        entry.write_text('{"path": "')
    assert model_identity(folder).digest == first


def test_what_is_not_a_model_folder_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ShadowSuiteError, match="no such folder"):
        model_identity(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ShadowSuiteError, match="an empty model folder"):
        model_identity(tmp_path / "empty")
    assert identity.identity_of(None) is None
    assert identity.identity_of("org/not-downloaded-here") is None  # hub id, not cached


def test_checkpoint_records_compare_by_identity_then_hashes_then_path() -> None:
    from shadow_suite.spectral.document import CheckpointRecord, FileRecord

    def record(path: str, ident: str | None, sha: str | None) -> CheckpointRecord:
        files = (FileRecord("model.safetensors", 10, sha),)
        return CheckpointRecord(path, "safetensors", "llama", None, False, 1, {}, files, ident)

    assert identity.same_checkpoint(record("/a", "sha256:1", "x"), record("/b", "sha256:1", "y"))
    assert not identity.same_checkpoint(
        record("/a", "sha256:1", "x"), record("/a", "sha256:2", "x")
    )
    # older documents (no identity): their files' hashes, else their paths
    assert identity.same_checkpoint(record("/a", None, "x"), record("/b", "sha256:1", "x"))
    assert not identity.same_checkpoint(record("/a", None, None), record("/b", None, None))
    assert identity.same_checkpoint(record("/a", None, None), record("/a", None, None))


def test_spectra_record_the_identity_of_what_they_read(tmp_path: Path) -> None:
    from shadow_suite.spectral import analyze_model

    model, base = _model(tmp_path / "m"), _model(tmp_path / "b", seed=1)
    result = analyze_model(model, base, cache_dir=None, hash_files=False, device="cpu")
    assert result.document.model.identity == model_identity(model).digest
    assert result.document.base is not None
    assert result.document.base.identity == model_identity(base).digest
