"""What ``shadow-suite run`` decides and says before and around lm-eval: task names checked
without lm-eval's index where it can, an unreachable hub named before any retry, a CPU batch
size that does not stall, lm-eval's per-task metadata notice once."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from shadow_suite import run as run_module
from shadow_suite.cli import main
from shadow_suite.run import (
    CPU_BATCH_SIZE,
    METADATA_WARNING,
    EvalSettings,
    _OnceFilter,
    batch_size_for,
    check_tasks,
    show_metadata_warning_once,
)


@pytest.fixture
def no_task_index(monkeypatch: pytest.MonkeyPatch) -> None:
    """lm-eval's task index must not be built."""

    def refuse(metadata: dict) -> None:
        raise AssertionError("lm-eval's task index was built")

    monkeypatch.setattr(run_module, "task_manager_for", refuse)


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("shadow_arc_chalenge", "shadow_arc_challenge"),  # a pack name misspelt
        ("shadow_mmlu_shuffled", "shadow_mmlu"),  # no such variant
        ("arc_chalenge", "arc_challenge"),  # in none of lm-eval's task files either
    ],
)
def test_unknown_tasks_are_refused_without_lm_evals_index(
    no_task_index: None, name: str, hint: str
) -> None:
    with pytest.raises(Exception, match=f"unknown task '{name}'; did you mean .*{hint}"):
        check_tasks([name])


def test_pack_names_need_no_lm_eval(no_task_index: None) -> None:
    check_tasks(["shadow_suite", "shadow_mmlu", "shadow_gsm8k_renumbered"])


def test_lm_evals_own_names_are_looked_up_in_its_index(monkeypatch: pytest.MonkeyPatch) -> None:
    class Index:
        all_tasks = ("arc_easy",)

    asked: list[dict] = []
    monkeypatch.setattr(run_module, "task_manager_for", lambda m: asked.append(m) or Index())
    check_tasks(["arc_easy"], {"shadow_seed": 1})
    assert asked == [{"shadow_seed": 1}]  # the evaluation's metadata: one index for both
    with pytest.raises(Exception, match="unknown task 'mmlu'"):
        check_tasks(["mmlu"])  # in lm-eval's files, but not in this (stand-in) index


def test_an_unreachable_hub_is_one_line_before_any_retry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """No data folder, not offline, the hub's endpoint refusing connections: one line within
    seconds (the datasets library would retry for half a minute), before a model loads."""
    from huggingface_hub import constants

    for name in ("SHADOW_SUITE_DATA", "HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")  # discard port: refused
    started = time.perf_counter()
    code = main(["run", "--model", "hf", "--model_args", f"pretrained={tmp_path}",
                 "--tasks", "shadow_arc_challenge", "--out", str(tmp_path / "out")])  # fmt: skip
    assert time.perf_counter() - started < 10
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "no data folder" in err and "http://127.0.0.1:9 cannot be reached" in err


def test_auto_batch_size_on_a_cpu_is_fixed() -> None:
    hf = EvalSettings("hf", "pretrained=m")
    assert batch_size_for(hf, "cpu") == str(CPU_BATCH_SIZE)
    assert batch_size_for(EvalSettings("hf", "pretrained=m", batch_size="auto:4"), "cpu") == "16"
    assert batch_size_for(hf, "cuda") == "auto"  # lm-eval's detection is what a GPU wants
    assert batch_size_for(EvalSettings("hf", "pretrained=m", batch_size="4"), "cpu") == "4"
    assert batch_size_for(EvalSettings("vllm", "pretrained=m"), "cpu") == "auto"


def test_lm_evals_metadata_notice_passes_once(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("lm_eval.api.task")
    once = _OnceFilter(METADATA_WARNING)
    logger.addFilter(once)
    try:
        with caplog.at_level(logging.WARNING, logger="lm_eval.api.task"):
            for task in ("shadow_mmlu_orig", "shadow_mmlu_noisy", "shadow_arc_challenge_orig"):
                logger.warning(f"{task}: {METADATA_WARNING} in console (as json string)")
            logger.warning("another warning")
        messages = [r.getMessage() for r in caplog.records]
        assert sum(METADATA_WARNING in m for m in messages) == 1
        assert "another warning" in messages
    finally:
        logger.removeFilter(once)
    show_metadata_warning_once()
    show_metadata_warning_once()  # installed once per process
    assert sum(isinstance(f, _OnceFilter) for f in logger.filters) == 1
