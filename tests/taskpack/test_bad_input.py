"""Bad input to the pack gives one line that names what is wrong."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from shadow_suite.errors import ShadowSuiteError
from shadow_suite.taskpack import data
from shadow_suite.taskpack.loader import build_docs


def test_unknown_benchmark_is_named(benchmark_data: Path) -> None:
    with pytest.raises(ShadowSuiteError, match="'mmmlu'"):
        build_docs("mmmlu")


def test_unknown_variant_is_named(benchmark_data: Path) -> None:
    with pytest.raises(ShadowSuiteError, match="'shuffled'"):
        build_docs("mmlu", "shuffled")


@pytest.mark.parametrize("seed", ["abc", -3, 1.5, "7x"])
def test_malformed_seed_is_named(benchmark_data: Path, seed: object) -> None:
    with pytest.raises(ShadowSuiteError, match=str(seed)):
        build_docs("arc_challenge", "permuted", seed=seed)


def test_missing_data_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "gsm8k").mkdir()
    (tmp_path / "gsm8k" / "test.jsonl").write_text('{"question": "1+1?", "answer": "#### 2"}\n')
    with pytest.raises(ShadowSuiteError, match=r"gsm8k/train\.jsonl"):
        build_docs("gsm8k", data_dir=str(tmp_path))


def test_corrupt_data_line_is_named(tmp_path: Path) -> None:
    (tmp_path / "winogrande").mkdir()
    (tmp_path / "winogrande" / "validation.jsonl").write_text('{"sentence": "a _ b"\n')
    with pytest.raises(ShadowSuiteError, match=r"validation\.jsonl, line 1"):
        build_docs("winogrande", data_dir=str(tmp_path))


def test_missing_data_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(ShadowSuiteError, match="nowhere"):
        build_docs("winogrande", data_dir=str(tmp_path / "nowhere"))


def test_malformed_train_row_is_named(benchmark_data: Path, tmp_path: Path) -> None:
    """A training split is checked row by row like the evaluated one (not skipped because
    few-shot examples are optional)."""
    (tmp_path / "winogrande").mkdir()
    (tmp_path / "winogrande" / "validation.jsonl").symlink_to(
        benchmark_data / "winogrande" / "validation.jsonl"
    )
    row = {"sentence": "A _ b.", "option1": "x", "option2": "y", "answer": "3"}
    (tmp_path / "winogrande" / "train.jsonl").write_text(json.dumps(row) + "\n")
    with pytest.raises(ShadowSuiteError, match=r"train\.jsonl, line 1: field 'answer'"):
        build_docs("winogrande", data_dir=str(tmp_path))


def test_without_a_train_split_zero_shot_docs_still_load(
    benchmark_data: Path, tmp_path: Path
) -> None:
    (tmp_path / "hellaswag").mkdir()
    (tmp_path / "hellaswag" / "validation.jsonl").symlink_to(
        benchmark_data / "hellaswag" / "validation.jsonl"
    )
    docs = build_docs("hellaswag", "lettered", data_dir=str(tmp_path), items=5)
    assert len(docs["validation"]) == 5 and docs["train"] == []


def test_download_writes_the_train_and_twin_splits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = {
        "test": [{"question": "Q?", "choices": {"text": ["a", "b"], "label": ["A", "B"]},
                  "answerKey": "A"}],
        "train": [{"question": "T?", "choices": {"text": ["c", "d"], "label": ["A", "B"]},
                   "answerKey": "B"}],
        "validation": [{"question": "V?", "choices": {"text": ["e", "f"], "label": ["A", "B"]},
                        "answerKey": "A"}],
    }  # fmt: skip

    def hub(benchmark: str, split: str) -> tuple[list[dict], None]:
        return rows[split], None

    monkeypatch.setattr(data, "_read_hub", hub)
    written = data.download(tmp_path, ["arc_challenge"])
    assert sorted(s.split for s in written) == ["test", "train", "validation"]
    assert json.loads((tmp_path / "arc_challenge" / "train.jsonl").read_text()) == rows["train"][0]


@pytest.mark.slow
def test_lm_eval_cli_ends_with_our_one_line_for_a_bad_seed(
    tiny_model: Path, tmp_path: Path
) -> None:
    """Inside lm-eval the error is lm-eval's to report (the pack changes nothing in its
    process); the report's last line is our one-line message."""
    executable = Path(sys.executable).with_name("lm_eval")
    result = subprocess.run(
        [str(executable), "--model", "hf", "--model_args", f"pretrained={tiny_model}",
         "--tasks", "shadow_winogrande_noisy", "--limit", "1",
         "--metadata", json.dumps({"shadow_seed": "seven"})],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("shadow_suite.errors.ShadowSuiteError: ") and "'seven'" in last, last
