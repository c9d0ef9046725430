"""vllm_support without vLLM: model arguments, URLs, server checks, process-group stop."""

from __future__ import annotations

import http.server
import json
import subprocess
import threading
from collections.abc import Iterator

import pytest
from vllm_runs import live_group_members

from shadow_suite.errors import ShadowSuiteError
from shadow_suite.vllm_support import (
    EngineOptions,
    check_server,
    completions_url,
    engine_model_args,
    free_port,
    require_vllm,
    server_model_args,
    stop_process_group,
    vllm_installed,
)


def test_engine_model_args_pass_gpu_settings_in_order() -> None:
    options = EngineOptions(dtype="bfloat16", tensor_parallel_size=4, data_parallel_size=2,
                            gpu_memory_utilization=0.85, max_model_len=8192,
                            enable_prefix_caching=True, seed=7)  # fmt: skip
    assert engine_model_args("org/model", options) == (
        "pretrained=org/model,dtype=bfloat16,tensor_parallel_size=4,data_parallel_size=2,"
        "gpu_memory_utilization=0.85,max_model_len=8192,enable_prefix_caching=True,seed=7"
    )
    assert engine_model_args("m") == "pretrained=m"


def test_model_args_refuse_what_lm_eval_would_split() -> None:
    with pytest.raises(ShadowSuiteError, match="pretrained"):
        engine_model_args("/models/a,b")


def test_server_model_args() -> None:
    assert server_model_args("http://h:8000", "m", tokenizer="/tok", num_concurrent=4) == (
        "model=m,base_url=http://h:8000/v1/completions,num_concurrent=4,max_retries=3,"
        "timeout=300,tokenizer=/tok,tokenizer_backend=huggingface"
    )


@pytest.mark.parametrize(
    "given",
    ["http://h:1", "http://h:1/", "http://h:1/v1", "http://h:1/v1/", "http://h:1/v1/completions"],
)
def test_completions_url_normalises(given: str) -> None:
    assert completions_url(given) == "http://h:1/v1/completions"


@pytest.mark.parametrize("given", ["h:1", "ftp://h/v1", "http:///v1"])
def test_completions_url_rejects_non_http(given: str) -> None:
    with pytest.raises(ShadowSuiteError, match="expected http"):
        completions_url(given)


def test_check_server_on_a_closed_port_is_a_clear_error() -> None:
    port = free_port()
    with pytest.raises(ShadowSuiteError, match=rf"127.0.0.1:{port}/v1/models is unreachable"):
        check_server(f"http://127.0.0.1:{port}", timeout_s=2.0)


@pytest.fixture
def plain_http_server() -> Iterator[str]:
    """A real HTTP server that is not an OpenAI one (404 on every path)."""

    class NotFound(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_error(404)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_check_server_on_a_non_openai_server(plain_http_server: str) -> None:
    with pytest.raises(ShadowSuiteError, match="answered HTTP 404"):
        check_server(plain_http_server, timeout_s=2.0)


@pytest.fixture
def generation_only_server() -> Iterator[str]:
    """A minimal OpenAI-style server that, like many hosted APIs, lists its model and
    completes text but returns no log-probabilities for the prompt."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def _json(self, payload: object) -> None:
            body = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            self._json({"object": "list", "data": [{"id": "m", "object": "model"}]})

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self._json({"choices": [{"index": 0, "text": " hi", "logprobs": None}]})

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def test_check_server_tells_whether_prompt_logprobs_come_back(generation_only_server: str) -> None:
    info = check_server(generation_only_server, "m")
    assert info.models == ("m",)
    assert info.prompt_logprobs is False
    with pytest.raises(ShadowSuiteError, match="no prompt log-probabilities"):
        check_server(generation_only_server, "m", require_prompt_logprobs=True)
    with pytest.raises(ShadowSuiteError, match="does not serve model 'other'"):
        check_server(generation_only_server, "other")


@pytest.mark.skipif(vllm_installed(), reason="vLLM is installed")
def test_require_vllm_names_the_install_commands() -> None:
    with pytest.raises(ShadowSuiteError) as err:
        require_vllm()
    message = str(err.value)
    assert "\n" not in message
    assert "pip install 'shadow-suite[vllm]'" in message
    assert "scripts/setup_vllm_env.sh" in message


def test_stop_process_group_ends_children_too() -> None:
    # A leader with a child, like `vllm serve` and its engine process.
    process = subprocess.Popen(["bash", "-c", "sleep 300 & sleep 300; wait"],
                               start_new_session=True)  # fmt: skip
    try:
        assert process.pid in live_group_members(process.pid)
    finally:
        stop_process_group(process, grace_s=5.0)
    assert process.returncode is not None
    assert live_group_members(process.pid) == []
