"""Real lm-eval runs of the task pack through Hugging Face, the vLLM engine and `vllm serve`.

The runs are session fixtures: each starts once (vLLM's start-up alone takes ~20 s per
process on CI's two cores) and the tests compare their samples files. They need the
separate vLLM environment (scripts/setup_vllm_env.sh); without vLLM they skip, unless
SHADOW_SUITE_REQUIRE_VLLM=1 (set by .ci/run), where a missing vLLM is a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from vllm_runs import (
    ENGINE_GEN_KWARGS,
    ENGINE_OPTIONS,
    MAX_LEN,
    EvalRun,
    ServerRun,
    eval_env,
    live_group_members,
    run_lm_eval,
)

from shadow_suite.vllm_support import (
    check_server,
    engine_model_args,
    running_vllm_server,
    server_model_args,
    vllm_installed,
)


@pytest.fixture(scope="session")
def need_vllm() -> None:
    if vllm_installed():
        return
    message = "vLLM is not installed here: bash scripts/setup_vllm_env.sh (see README)"
    if os.environ.get("SHADOW_SUITE_REQUIRE_VLLM") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def vllm_model(tmp_path_factory: pytest.TempPathFactory, benchmark_data: Path) -> Path:
    """The tiny random Llama (hidden 128, 4 heads of 32, 2 layers), with room for 4k tokens."""
    from shadow_suite.tiny_model import TinyModelConfig, benchmark_texts, build_tiny_model

    return build_tiny_model(
        tmp_path_factory.mktemp("vllm_model"),
        benchmark_texts(benchmark_data),
        TinyModelConfig(max_position_embeddings=MAX_LEN),
    )


@pytest.fixture(scope="session")
def hf_run(
    vllm_model: Path, benchmark_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> EvalRun:
    args = f"pretrained={vllm_model},dtype=float32,max_length={MAX_LEN}"
    out = tmp_path_factory.mktemp("run_hf")
    return run_lm_eval("hf", "hf", args, out, eval_env(benchmark_data), "--batch_size", "8")


@pytest.fixture(scope="session")
def engine_run(
    need_vllm: None,
    vllm_model: Path,
    benchmark_data: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> EvalRun:
    args = engine_model_args(str(vllm_model), ENGINE_OPTIONS)
    out = tmp_path_factory.mktemp("run_vllm_engine")
    return run_lm_eval(
        "vllm", "vllm", args, out, eval_env(benchmark_data), gen_kwargs=ENGINE_GEN_KWARGS
    )


@pytest.fixture(scope="session")
def server_run(
    need_vllm: None,
    vllm_model: Path,
    benchmark_data: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> ServerRun:
    """A real ``vllm serve`` on 127.0.0.1 and a free port, evaluated by lm-eval's
    local-completions, then stopped by its PID (process group) whatever happened."""
    out = tmp_path_factory.mktemp("run_vllm_server")
    serve_args = ["--dtype", "float32", "--max-model-len", str(MAX_LEN), "--enforce-eager",
                  "--seed", "1234", "--enable-tokenizer-info-endpoint"]  # fmt: skip
    env = eval_env(benchmark_data)
    with (
        (out / "serve.log").open("wb") as log,
        running_vllm_server(vllm_model, extra_args=serve_args, log=log, env=env) as server,
    ):
        # The probe is the server's first completion: on two loaded cores it has taken more
        # than check_server's default 10 s (the probe timed out, read as "no prompt logprobs").
        info = check_server(
            server.base_url, server.model, timeout_s=120.0, require_prompt_logprobs=True
        )
        # No tokenizer on the client side: lm-eval tokenizes through the server's
        # /tokenize endpoint, as a client on another host with no model files would.
        args = server_model_args(server.base_url, server.model, num_concurrent=2)
        args += f",max_length={MAX_LEN}"
        run = run_lm_eval("local-completions", "local-completions", args, out, env)
    return ServerRun(run, server, info, live_group_members(server.pid))
