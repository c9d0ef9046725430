"""``lm_eval`` (the CLI) runs the whole pack on a tiny model and logs pairable samples."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from shadow_suite.contract import FAMILIARITY_TEXTS, benchmark_of_task
from shadow_suite.taskpack.data import resolve_data_dir
from shadow_suite.taskpack.suite import get_benchmark
from shadow_suite.taskpack.variants import VARIANTS

LIMIT = 2
ALL_TASKS = {
    f"shadow_{benchmark}_{variant}"
    for benchmark, variants in VARIANTS.items()
    for variant in ["orig", *variants]
}
FAMILIARITY_TASKS = {f"shadow_{b}_{text}" for b in VARIANTS for text in FAMILIARITY_TEXTS}
PAIRING_KEYS = ("shadow_id", "shadow_benchmark", "shadow_variant", "shadow_seed")


def lm_eval(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    executable = Path(sys.executable).with_name("lm_eval")
    return subprocess.run(
        [str(executable), *args], cwd=cwd, capture_output=True, text=True, timeout=1200
    )


@pytest.mark.slow
def test_lm_eval_cli_runs_the_whole_suite(tiny_model: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    result = lm_eval(
        "--model", "hf", "--model_args", f"pretrained={tiny_model},dtype=float32",
        "--tasks", "shadow_suite", "--limit", str(LIMIT),
        "--gen_kwargs", "max_gen_toks=16",  # a random model never stops by itself
        "--metadata", json.dumps({"shadow_seed": 7}),
        "--output_path", str(out_dir), "--log_samples",
        cwd=tmp_path,  # any working directory: nothing is read relative to it
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]

    (results_file,) = out_dir.glob("*/results_*.json")
    results = json.loads(results_file.read_text())
    assert set(results["results"]) >= ALL_TASKS | FAMILIARITY_TASKS
    assert {"shadow_suite", "shadow_mmlu", "shadow_gsm8k"} <= set(results["group_subtasks"])
    for task in ALL_TASKS:
        assert results["n-samples"][task]["effective"] == LIMIT, task
    folder = resolve_data_dir()
    assert folder is not None
    for task in FAMILIARITY_TASKS:  # a test item and a twin; the first test item without twins
        benchmark = str(benchmark_of_task(task))
        twins = folder / benchmark / f"{get_benchmark(benchmark).twin_split}.jsonl"
        assert results["n-samples"][task]["effective"] == (LIMIT if twins.is_file() else 1)
        assert results["n-shot"][task] == 0, task

    for task in ALL_TASKS | FAMILIARITY_TASKS:
        (samples_file,) = results_file.parent.glob(f"samples_{task}_*.jsonl")
        lines = [json.loads(line) for line in samples_file.read_text().splitlines()]
        assert lines, task
        for line in lines:
            doc = line["doc"]
            assert all(key in doc for key in PAIRING_KEYS), task
            assert task == f"shadow_{doc['shadow_benchmark']}_{doc['shadow_variant']}"
            assert doc["shadow_seed"] == 7
            assert doc["shadow_id"].startswith(f"{doc['shadow_benchmark']}/")
            assert len(doc["shadow_data_sha256"]) == 64
            assert 0 < doc["shadow_n_applied"] <= doc["shadow_n_source"]
