"""Shared test setup: the local benchmark data folder and one tiny model per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "benchmarks"


def data_dir() -> Path | None:
    """$SHADOW_SUITE_DATA, else ../shared/benchmarks beside the checkout, else None."""
    chosen = os.environ.get("SHADOW_SUITE_DATA") or DEFAULT_DATA
    path = Path(chosen)
    return path if (path / "mmlu" / "test.jsonl").is_file() else None


@pytest.fixture(scope="session")
def benchmark_data() -> Path:
    path = data_dir()
    if path is None:
        pytest.skip("no benchmark data folder: set SHADOW_SUITE_DATA (see README, 'Data')")
    return path


@pytest.fixture(autouse=True)
def _offline_with_local_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs offline against the local data folder, as CI does."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    path = data_dir()
    if path is not None:
        monkeypatch.setenv("SHADOW_SUITE_DATA", str(path))


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory, benchmark_data: Path) -> Path:
    """A random-init Llama (hidden 128, 4 heads, 2 layers) with a tokenizer trained offline."""
    from shadow_suite.tiny_model import benchmark_texts, build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny_model"), benchmark_texts(benchmark_data))
