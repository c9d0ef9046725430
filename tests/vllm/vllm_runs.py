"""What the vLLM tests run: lm-eval on the task pack, and the checks on a stopped server."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shadow_suite.vllm_support import EngineOptions, ServerInfo, ServerProcess

# Every benchmark, the original and all its variants: three items of each.
TASKS = "shadow_suite"
LIMIT = 3
# Short generations keep the longest gsm8k prompt (5-shot, ~1.8k tokens of the tiny
# tokenizer) plus the answer under the context length, so no backend truncates.
MAX_LEN = 4096
GEN_KWARGS = "max_gen_toks=32"
# lm-eval's vllm backend decodes generations with skip_special_tokens=False (its
# modify_gen_kwargs), while its hf backend decodes with skip_special_tokens=True and vLLM's
# server skips them by default: a special token the model generates (the random tiny model
# does generate <unk> and <pad>) is text "<unk>" in the engine's answer only. The engine run
# asks vLLM to skip them as the other two do; the oracle leaves this decoding option out of
# the requests it compares (vllm_agreement.DETOKENIZATION_OPTIONS), the texts are compared.
ENGINE_GEN_KWARGS = f"{GEN_KWARGS},skip_special_tokens=True"
# vLLM's CPU backend reserves this much host memory for its KV cache (GiB); its default,
# a fraction of all memory, does not fit beside the other test processes.
CPU_KV_CACHE_GIB = "1"


@dataclasses.dataclass(frozen=True)
class EvalRun:
    backend: str
    output_dir: Path
    model_args: str
    log: Path
    seconds: float


def eval_env(benchmark_data: Path) -> dict[str, str]:
    return {
        **os.environ,
        "SHADOW_SUITE_DATA": str(benchmark_data),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "VLLM_CPU_KVCACHE_SPACE": CPU_KV_CACHE_GIB,
        "TOKENIZERS_PARALLELISM": "false",
    }


def lm_eval_command() -> str:
    return str(Path(sys.executable).parent / "lm_eval")


def run_lm_eval(
    backend: str,
    model: str,
    model_args: str,
    out: Path,
    env: dict[str, str],
    *extra: str,
    gen_kwargs: str = GEN_KWARGS,
) -> EvalRun:
    """``lm_eval --model MODEL`` on the task pack; fails the test with the log's tail."""
    out.mkdir(parents=True, exist_ok=True)
    log = out / "lm_eval.log"
    command = [lm_eval_command(), "--model", model, "--model_args", model_args,
               "--tasks", TASKS, "--limit", str(LIMIT), "--gen_kwargs", gen_kwargs,
               "--output_path", str(out / "results"), "--log_samples", *extra]  # fmt: skip
    start = time.monotonic()
    with log.open("wb") as fh:
        code = subprocess.run(command, stdout=fh, stderr=subprocess.STDOUT, env=env).returncode
    seconds = time.monotonic() - start
    if code != 0:
        tail = log.read_text(errors="replace")[-3000:]
        pytest.fail(f"lm_eval --model {model} exited {code}; log {log}:\n{tail}")
    return EvalRun(backend, out / "results", model_args, log, seconds)


ENGINE_OPTIONS = EngineOptions(
    # Every argument a GPU user sets, at the value a CPU run can take, so that the test
    # proves lm-eval's vllm backend accepts and forwards each one.
    dtype="float32",
    tensor_parallel_size=1,
    data_parallel_size=1,
    gpu_memory_utilization=0.5,
    max_model_len=MAX_LEN,
    enable_prefix_caching=True,
    enforce_eager=True,
    seed=1234,
)


@dataclasses.dataclass(frozen=True)
class ServerRun:
    run: EvalRun
    server: ServerProcess
    info: ServerInfo
    alive_after_stop: list[int]
    """PIDs of the server's process group still running after it was stopped (want none)."""


def live_group_members(pgid: int) -> list[int]:
    """PIDs in process group ``pgid`` that are not zombies (read from /proc)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        # "pid (comm) state ppid pgrp ...": comm may hold spaces, so split after ")".
        fields = text[text.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(int(stat.parent.name))
    return alive
