"""``shadow-suite run`` end to end, offline, on tiny models the test builds; then
``shadow-suite compare`` over the two cards."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import torch
from safetensors.torch import load_file, save_file

from shadow_suite.cli import main
from shadow_suite.run import METADATA_WARNING

TASKS = "shadow_arc_challenge,shadow_winogrande"


def fine_tune_of(base: Path, out: Path, rank: int = 4) -> Path:
    """A copy of ``base`` whose attention and MLP weights got a planted low-rank update."""
    shutil.copytree(base, out)
    weights = load_file(out / "model.safetensors")
    generator = torch.Generator().manual_seed(0)
    for name, tensor in weights.items():
        if tensor.ndim == 2 and ("proj" in name):
            left = torch.randn(tensor.shape[0], rank, generator=generator)
            right = torch.randn(rank, tensor.shape[1], generator=generator)
            weights[name] = tensor + 0.05 * tensor.norm() * (left @ right) / (left @ right).norm()
    save_file(weights, out / "model.safetensors", metadata={"format": "pt"})
    return out


def run(
    model: Path,
    out: Path,
    base: Path | None,
    capsys: pytest.CaptureFixture,
    extra: list[str] | None = None,
) -> str:
    args = ["run", "--model", "hf", "--model_args", f"pretrained={model},dtype=float32",
            "--tasks", TASKS, "--limit", "8", "--batch_size", "8", "--out", str(out)]  # fmt: skip
    if base is not None:
        args += ["--base", str(base)]
    args += extra or []
    assert main(args) == 0
    captured = capsys.readouterr()
    # lm-eval's per-task notice about --metadata: at most once (it came once per task)
    assert captured.err.count(METADATA_WARNING) <= 1
    return captured.out


def headers(out: str) -> list[str]:
    """The stage headers ``run`` printed, without their elapsed time."""
    return [
        line.split("] ", 1)[1] for line in out.splitlines() if re.match(r"\[ *[\d.]+s\] \[", line)
    ]


@pytest.mark.slow
def test_run_writes_cards_reruns_cheaply_and_compares(
    tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    tuned = fine_tune_of(tiny_model, tmp_path / "tuned")
    first = run(tuned, tmp_path / "run_tuned", tiny_model, capsys)
    # each stage's header once, in order, with the time since the start
    assert [h for h in headers(first) if h.startswith("[")] == [
        "[1/4] evaluating tuned",
        f"[2/4] evaluating the base {tiny_model.name} on the same items",
        f"[3/4] weight spectra of tuned against {tiny_model.name}",
        "[4/4] report card",
    ]
    run(tiny_model, tmp_path / "run_base", None, capsys)

    for folder in ("run_tuned", "run_base"):
        card_dir = tmp_path / folder / "card"
        card = json.loads((card_dir / "card.json").read_text())
        assert card["schema_version"]
        assert card["spectral"] is not None
        assert "<html" in (card_dir / "card.html").read_text().lower()
        assert (card_dir / "card.md").read_text().startswith("#")
        benchmarks = {b["benchmark"] for b in card["gap"]["benchmarks"]}
        assert benchmarks == {"arc_challenge", "winogrande"}

    tuned_card = json.loads((tmp_path / "run_tuned" / "card" / "card.json").read_text())
    assert tuned_card["base_model"]["name"] == str(tiny_model)
    # --base evaluated the base on the same items, and the verdict is relative to it
    base_card = json.loads((tmp_path / "run_tuned" / "base" / "card" / "card.json").read_text())
    assert base_card["model"]["name"] == tiny_model.name  # a folder's name, not its path
    reference = tuned_card["gap"]["reference"]
    head = tuned_card["gap"]["headline"]
    if head["verdict_class"] == "no_verdict":  # tiny random models may fail every gate
        assert head["excluded"]
    else:
        assert reference["references"] == [tiny_model.name]
        assert head["references"] == [tiny_model.name]
    items = pd.read_parquet(tmp_path / "run_tuned" / "card" / "items.parquet")
    base_items = pd.read_parquet(tmp_path / "run_tuned" / "base" / "card" / "items.parquet")
    pairs = set(zip(items.task, items.shadow_id, strict=True))
    assert pairs == set(zip(base_items.task, base_items.shadow_id, strict=True))

    # a rerun reuses the finished stages; the card stage is redone, here with a reader's
    # name for the model and a printed copy (card.pdf) when Chromium is there
    extra = ["--name", "Vendor tuned 1.0"]
    if shutil.which("chromium") or shutil.which("chromium-browser"):
        extra += ["--pdf", "--paper", "letter"]
    again = run(tuned, tmp_path / "run_tuned", tiny_model, capsys, extra)
    reused = [h for h in headers(again) if h.startswith("[")]
    assert len(reused) == 4 and all("already done" in h for h in reused[:3])
    renamed = json.loads((tmp_path / "run_tuned" / "card" / "card.json").read_text())
    assert renamed["model"]["name"] == "Vendor tuned 1.0"
    if "--pdf" in extra:
        pdf = tmp_path / "run_tuned" / "card" / "card.pdf"
        assert pdf.read_bytes().startswith(b"%PDF") and str(pdf) in again

    compare_dir = tmp_path / "compare"
    assert main(["compare", str(tmp_path / "run_tuned" / "card"),
                 str(tmp_path / "run_base" / "card"), "--out", str(compare_dir)]) == 0  # fmt: skip
    page = next(compare_dir.glob("*.html")).read_text()
    assert "tuned" in page and "tiny_model" in page


def test_run_refuses_a_folder_of_another_run(tmp_path: Path) -> None:
    stage = tmp_path / "eval"
    stage.mkdir()
    (stage / "stage.json").write_text(json.dumps({"settings": {"model": "other"}}))
    assert main(["run", "--model", "hf", "--model_args", "pretrained=x",
                 "--out", str(tmp_path)]) == 2  # fmt: skip
