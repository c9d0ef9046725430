"""Bad input to the pack gives one line that names what is wrong."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from shadow_suite.errors import ShadowSuiteError
from shadow_suite.taskpack import build_docs


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


@pytest.mark.slow
def test_lm_eval_cli_prints_one_line_for_a_bad_seed(tiny_model: Path, tmp_path: Path) -> None:
    executable = Path(sys.executable).with_name("lm_eval")
    result = subprocess.run(
        [str(executable), "--model", "hf", "--model_args", f"pretrained={tiny_model}",
         "--tasks", "shadow_winogrande_noisy", "--limit", "1",
         "--metadata", json.dumps({"shadow_seed": "seven"})],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "seven" in result.stderr.strip().splitlines()[-1]
