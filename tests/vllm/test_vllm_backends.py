"""The task pack through real vLLM (engine and `vllm serve`) agrees with Hugging Face.

Needs the vLLM environment (scripts/setup_vllm_env.sh); run with ``pytest -m vllm tests/vllm``.
"""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
from pathlib import Path

import pytest
from packaging.version import Version
from vllm_agreement import compare, read_samples
from vllm_runs import (
    ENGINE_OPTIONS,
    LIMIT,
    MAX_LEN,
    EvalRun,
    ServerRun,
    eval_env,
    lm_eval_command,
)

from shadow_suite.errors import ShadowSuiteError
from shadow_suite.taskpack.suite import BENCHMARKS
from shadow_suite.vllm_support import check_server, free_port, require_vllm, server_model_args

pytestmark = pytest.mark.vllm

# Per-choice log-likelihood tolerance in nats between backends (float32 on both sides;
# measured here: at most ~2e-5 over the whole suite).
LL_TOL = 1e-3


def assert_agree(reference: EvalRun, other: EvalRun) -> None:
    result = compare(read_samples(reference.output_dir), read_samples(other.output_dir), LL_TOL)
    assert result.multiple_choice > 0 and result.generation > 0 and result.texts > 0, result
    assert result.ok, "\n".join(result.problems[:20])


def test_require_vllm_passes_in_the_vllm_environment(need_vllm: None) -> None:
    require_vllm()
    # lm-eval's vllm backend gates features on this distribution version.
    assert Version(importlib.metadata.version("vllm")) >= Version("0.9.0")


def test_every_benchmark_and_variant_ran_through_the_engine(engine_run: EvalRun) -> None:
    tasks = {task for task, _, _ in read_samples(engine_run.output_dir)}
    for name in BENCHMARKS:
        ours = {t for t in tasks if t.startswith(f"shadow_{name}_")}
        assert f"shadow_{name}_orig" in ours, name
        assert len(ours) >= 2, f"{name}: no variant ran ({ours})"
    per_task = {}
    for task, doc_id, _ in read_samples(engine_run.output_dir):
        per_task.setdefault(task, set()).add(doc_id)
    assert all(0 < len(ids) <= LIMIT for ids in per_task.values()), per_task


def test_engine_agrees_with_hf(hf_run: EvalRun, engine_run: EvalRun) -> None:
    assert_agree(hf_run, engine_run)


def test_server_agrees_with_hf(hf_run: EvalRun, server_run: ServerRun) -> None:
    assert_agree(hf_run, server_run.run)


def test_server_agrees_with_engine(engine_run: EvalRun, server_run: ServerRun) -> None:
    assert_agree(engine_run, server_run.run)


def test_engine_arguments_reach_vllm(engine_run: EvalRun) -> None:
    results = json.loads(next(engine_run.output_dir.rglob("results_*.json")).read_text())
    recorded = str(results["config"]["model_args"])
    for name in ("dtype", "tensor_parallel_size", "data_parallel_size",
                 "gpu_memory_utilization", "max_model_len", "enable_prefix_caching", "seed"):  # fmt: skip
        assert name in recorded, name
    # vLLM logs the engine arguments that differ from its defaults: ours must be there.
    log = engine_run.log.read_text(errors="replace")
    assert "'enable_prefix_caching': True" in log
    assert "'gpu_memory_utilization': 0.5" in log
    assert f"'max_model_len': {MAX_LEN}" in log
    assert f"'seed': {ENGINE_OPTIONS.seed}" in log


def test_engine_generations_skip_special_tokens_as_hf_does(engine_run: EvalRun) -> None:
    """The engine run's generation requests carry skip_special_tokens=True (see
    vllm_runs.ENGINE_GEN_KWARGS); without it lm-eval's vllm backend writes them as text."""
    gen_kwargs = [
        args["arg_1"]
        for path in engine_run.output_dir.rglob("samples_*.jsonl")
        for line in path.read_text(encoding="utf-8").splitlines()
        for args in json.loads(line)["arguments"].values()
        if isinstance(args.get("arg_1"), dict)  # generate_until: (context, gen_kwargs)
    ]
    assert gen_kwargs and all(kw.get("skip_special_tokens") is True for kw in gen_kwargs)


def test_server_reports_prompt_logprobs(server_run: ServerRun) -> None:
    assert server_run.info.models == (server_run.server.model,)
    assert server_run.info.prompt_logprobs is True


def test_server_process_group_is_gone_after_stop(server_run: ServerRun) -> None:
    assert server_run.alive_after_stop == []
    with pytest.raises(ShadowSuiteError, match="unreachable"):
        check_server(server_run.server.base_url, timeout_s=2.0)


def test_unreachable_server_fails_with_no_results(
    need_vllm: None, vllm_model: Path, benchmark_data: Path, tmp_path: Path
) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(ShadowSuiteError, match="unreachable"):
        check_server(url, timeout_s=2.0)
    # And lm-eval itself, if started anyway, stops with an error and writes no results.
    args = server_model_args(url, str(vllm_model), tokenizer=str(vllm_model), max_retries=1)
    command = [lm_eval_command(), "--model", "local-completions", "--model_args", args,
               "--tasks", "shadow_arc_challenge_orig", "--limit", "1",
               "--output_path", str(tmp_path / "out")]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, env=eval_env(benchmark_data))
    assert done.returncode != 0
    assert not list(tmp_path.rglob("results_*.json"))
