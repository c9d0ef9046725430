"""The variant tasks' YAML on disk is what ``python -m shadow_suite.taskpack.generate`` writes
from the variant registry, and lm-eval reads what each variant declares."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lm_eval.tasks._yaml_loader import load_yaml

from shadow_suite.contract import ORIG, task_name
from shadow_suite.taskpack import generate
from shadow_suite.taskpack.variants import VARIANTS


def test_files_on_disk_are_the_generated_ones() -> None:
    differing = generate.differing()
    assert not differing, f"run `{generate.COMMAND}`; differ: {[str(p) for p in differing]}"


def test_every_variant_and_group_has_a_generated_file() -> None:
    expected = generate.expected_files()
    for benchmark, variants in VARIANTS.items():
        folder = generate.TASKS_DIR / benchmark
        assert folder / f"_shadow_{benchmark}.yaml" in expected
        assert (folder / f"{task_name(benchmark, ORIG)}.yaml") not in expected  # hand-written
        for name in variants:
            assert folder / f"{task_name(benchmark, name)}.yaml" in expected
    assert generate.TASKS_DIR / "shadow_suite.yaml" in expected
    assert all(text.startswith(generate.HEADER + "\n") for text in expected.values())


def test_check_lists_changed_and_stale_files_and_write_fixes_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tasks = tmp_path / "shadow_suite"
    shutil.copytree(generate.TASKS_DIR, tasks)
    assert generate.main(["--check", "--tasks-dir", str(tasks)]) == 0
    edited = tasks / "mmlu" / "shadow_mmlu_noisy.yaml"
    edited.write_text(edited.read_text() + "num_fewshot: 3\n")
    stale = tasks / "mmlu" / "shadow_mmlu_gone.yaml"
    stale.write_text(generate.HEADER + "\ntask: shadow_mmlu_gone\n")
    hand_written = tasks / "mmlu" / "notes.yaml"
    hand_written.write_text("task: not_ours\n")
    capsys.readouterr()
    assert generate.main(["--check", "--tasks-dir", str(tasks)]) == 1
    listed = capsys.readouterr().out
    assert str(edited) in listed and str(stale) in listed and str(hand_written) not in listed
    assert edited.read_text().endswith("num_fewshot: 3\n")  # --check wrote nothing
    assert generate.main(["--tasks-dir", str(tasks)]) == 0
    assert generate.main(["--check", "--tasks-dir", str(tasks)]) == 0
    assert not stale.exists() and hand_written.exists()


def _resolved(benchmark: str, variant: str) -> dict:
    path = generate.TASKS_DIR / benchmark / f"{task_name(benchmark, variant)}.yaml"
    return dict(load_yaml(str(path), resolve_func=True, recursive=True))


@pytest.mark.parametrize(
    ("benchmark", "variant"), [(b, v) for b, variants in VARIANTS.items() for v in variants]
)
def test_lm_eval_reads_what_the_variant_declares(benchmark: str, variant: str) -> None:
    spec = VARIANTS[benchmark][variant]
    config, orig = _resolved(benchmark, variant), _resolved(benchmark, ORIG)
    assert config["task"] == task_name(benchmark, variant)
    assert config["dataset_kwargs"] == {"benchmark": benchmark, "variant": variant}
    assert (config["doc_to_text"] == "shadow_prompt") == spec.renders
    sampler = config["fewshot_config"]["sampler"]
    if spec.paired_fewshot:
        assert sampler.__name__ == "PairedSampler" and config["class"].__name__ == "ShadowTask"
    else:
        assert sampler == orig["fewshot_config"]["sampler"]
    if spec.metric is not None:
        assert spec.metric.split(",")[0] in {m["metric"] for m in config["metric_list"]}
    for key, value in spec.task_config.items():
        assert config[key] == value
