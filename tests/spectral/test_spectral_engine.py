"""End to end: a base/fine-tune pair with a planted update, outputs, cache and resume, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from spectral_helpers import llama_tensors, save_model

import shadow_suite.spectral.engine as engine
from shadow_suite.cli import main
from shadow_suite.spectral import analyze_model, load_spectra, write_result
from shadow_suite.spectral.names import layer_index, module_kind

Q0 = "model.layers.0.self_attn.q_proj.weight"
UP1 = "model.layers.1.mlp.up_proj.weight"


def _fine_tune(base: dict[str, torch.Tensor], rank: int, scale: float, seed: int = 5):
    """Add a random rank-``rank`` update of relative size ``scale`` to every matrix, in float32,
    then store in bf16, as a fine-tune with fp32 master weights saved in bf16 does."""
    gen = torch.Generator().manual_seed(seed)
    out = {}
    for name, w in base.items():
        if w.dim() != 2:
            out[name] = w.clone()
            continue
        a = torch.randn(w.shape[0], rank, generator=gen)
        b = torch.randn(rank, w.shape[1], generator=gen)
        delta = a @ b
        delta *= scale * w.float().norm() / delta.norm()
        out[name] = (w.float() + delta).to(torch.bfloat16)
    return out


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("pair")
    base = llama_tensors(hidden=96, inter=192, vocab=160)
    return {
        "base": save_model(root / "base", base),
        "rank8": save_model(root / "rank8", _fine_tune(base, rank=8, scale=0.05), shards=3),
        "tiny": save_model(root / "tiny", _fine_tune(base, rank=8, scale=1e-3)),
    }


def test_planted_rank8_update_is_recovered_above_noise_floor(pair: dict[str, Path]) -> None:
    result = analyze_model(pair["rank8"], pair["base"], cache_dir=None, hash_files=False)
    ok = result.table[result.table["status"] == "ok"].set_index("name")
    assert len(ok) == 16
    # bf16 rounding moves the relative change off 0.05 by ~2e-3 at most
    np.testing.assert_allclose(ok["update_relative_change"], 0.05, atol=3e-3)
    assert (ok["update_rank_above_noise"] == 8).all()
    assert not ok["update_noise_dominated"].any()
    for name, row in ok.iterrows():
        u = result.update_singular_values[name]
        assert u[7] > 3 * row["noise_floor_sv"] > 3 * u[8]  # a clear gap at the planted rank
        assert row["update_energy_top_k"] > 0.99  # top-8 carries the update
        # relative noise floor ~2e-3 of ||W||_F, as the bf16 rounding model predicts
        assert 1e-3 < row["noise_floor_frobenius"] / row["frobenius_norm"] < 2.5e-3
        assert row["cosine_to_base"] == pytest.approx(1 / np.sqrt(1 + 0.05**2), abs=2e-3)
    summary = result.summary.update
    assert summary is not None
    assert summary.matrices_compared == 16 and summary.noise_dominated_matrices == 0
    assert summary.relative_change == pytest.approx(0.05, abs=3e-3)
    assert len(summary.top_changed) == 10
    assert len(summary.top_changed[0].update_singular_values) == 64
    assert {entry.layer for entry in summary.by_layer} == {0, 1}


def test_tiny_update_is_flagged_as_rounding_noise(pair: dict[str, Path]) -> None:
    result = analyze_model(pair["tiny"], pair["base"], cache_dir=None, hash_files=False)
    ok = result.table[result.table["status"] == "ok"]
    assert ok["update_noise_dominated"].all()
    # rounding noise is full rank: the effective rank of the stored update is far above 8
    assert (ok["update_effective_rank_entropy"] > 20).all()
    assert result.summary.update is not None
    assert result.summary.update.noise_dominated_matrices == 16


def test_outputs_round_trip_and_summaries(pair: dict[str, Path], tmp_path: Path) -> None:
    result = analyze_model(pair["rank8"], pair["base"], cache_dir=None)
    json_path = write_result(result, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "singular_values.npz",
        "spectra.json",
        "spectra.parquet",
    ]
    document = json.loads(json_path.read_text())
    assert document["schema"] == "shadow-suite.spectra"
    assert [f["name"] for f in document["model"]["files"]] == [
        f"model-0000{i}-of-00003.safetensors" for i in (1, 2, 3)
    ]
    assert all(len(f["sha256"]) == 64 for f in document["model"]["files"])
    assert document["model"]["dtypes"] == {"BF16": 19}
    assert document["method"]["device"] == "cpu"
    assert {"torch", "numpy", "safetensors"} <= set(document["environment"])
    kinds = [entry["kind"] for entry in document["summary"]["by_kind"]]
    assert kinds == [
        "attn_q",
        "attn_k",
        "attn_v",
        "attn_o",
        "mlp_gate",
        "mlp_up",
        "mlp_down",
        "embedding",
        "lm_head",
    ]
    profile = document["summary"]["by_kind_layer"]
    assert len(profile) == 14 and {"effective_rank_entropy", "update_relative_change"} <= set(
        profile[0]
    )
    back = load_spectra(tmp_path / "out")
    assert back.table.shape == result.table.shape
    assert back.document.to_json() == document
    np.testing.assert_allclose(
        back.singular_values[Q0], result.singular_values[Q0].astype(np.float32)
    )
    assert set(back.update_singular_values) == set(result.update_singular_values)


def test_interrupted_run_resumes_from_cache(
    pair: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    calls = {"n": 0}
    real = engine._compute

    def interrupted(*args, **kwargs):
        if calls["n"] == 5:
            raise KeyboardInterrupt
        calls["n"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "_compute", interrupted)
    with pytest.raises(KeyboardInterrupt):
        analyze_model(pair["rank8"], pair["base"], cache_dir=cache, hash_files=False)
    finished = len(list(cache.rglob("*.npz")))  # workers in flight may finish one more each
    assert 5 <= finished < 16
    assert not list(cache.rglob(".tmp-*"))  # no half-written entry
    monkeypatch.setattr(engine, "_compute", real)
    resumed = analyze_model(pair["rank8"], pair["base"], cache_dir=cache, hash_files=False)
    assert resumed.document.counts.cached == finished
    again = analyze_model(pair["rank8"], pair["base"], cache_dir=cache, hash_files=False)
    assert again.document.counts.cached == 16
    fresh = analyze_model(pair["rank8"], pair["base"], cache_dir=None, hash_files=False)
    columns = ["stable_rank", "alpha", "update_relative_change", "update_rank_above_noise"]
    for frame in (resumed.table, again.table):  # BLAS may differ in the last bit run to run
        np.testing.assert_allclose(frame[columns], fresh.table[columns], rtol=1e-12)


def test_modules_regex_and_exact_svd(pair: dict[str, Path]) -> None:
    gram = analyze_model(pair["rank8"], modules=r"mlp\.", cache_dir=None, hash_files=False)
    exact = analyze_model(
        pair["rank8"], modules=r"mlp\.", exact_svd=True, cache_dir=None, hash_files=False
    )
    assert set(gram.table["kind"]) == {"mlp_gate", "mlp_up", "mlp_down"}
    np.testing.assert_allclose(gram.singular_values[UP1], exact.singular_values[UP1], rtol=1e-10)
    for column in ("stable_rank", "effective_rank_entropy", "alpha"):
        np.testing.assert_allclose(gram.table[column], exact.table[column], rtol=1e-9)
    assert exact.document.method.name == "svd"


def test_cli_writes_outputs(pair: dict[str, Path], tmp_path: Path, capsys) -> None:
    out = tmp_path / "cli-out"
    code = main(
        [
            "spectra",
            str(pair["tiny"]),
            "--base",
            str(pair["base"]),
            "--out",
            str(out),
            "--cache-dir",
            str(tmp_path / "c"),
            "--device",
            "cpu",
            "--quiet",
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert "16 matrices analysed, 3 skipped" in printed
    assert "16 of 16 matrices changed so little" in printed
    assert (out / "spectra.json").is_file()


@pytest.mark.parametrize(
    ("name", "kind", "layer"),
    [
        ("model.layers.3.self_attn.q_proj.weight", "attn_q", 3),
        ("model.layers.12.self_attn.o_proj.weight", "attn_o", 12),
        ("model.layers.0.mlp.gate_proj.weight", "mlp_gate", 0),
        ("model.layers.0.mlp.down_proj.weight", "mlp_down", 0),
        ("model.layers.7.post_feedforward_layernorm.weight", "norm", 7),  # Gemma-2
        ("model.layers.2.self_attn.q_norm.weight", "norm", 2),  # Qwen3
        ("model.layers.2.self_attn.k_proj.bias", "norm", 2),  # Qwen2 qkv bias: 1-D
        ("model.embed_tokens.weight", "embedding", None),
        ("lm_head.weight", "lm_head", None),
        ("transformer.h.5.attn.c_attn.weight", "attn_qkv", 5),  # GPT-2
        ("transformer.h.5.attn.c_proj.weight", "attn_o", 5),
        ("transformer.h.5.mlp.c_fc.weight", "mlp_up", 5),
        ("transformer.h.5.mlp.c_proj.weight", "mlp_down", 5),
        ("transformer.h.5.ln_1.weight", "norm", 5),
        ("transformer.wte.weight", "embedding", None),
        ("transformer.wpe.weight", "other", None),
        ("model.layers.1.self_attn.qkv_proj.weight", "attn_qkv", 1),  # Phi-3
        ("model.layers.1.mlp.gate_up_proj.weight", "mlp_gate_up", 1),
        ("gpt_neox.layers.4.attention.dense.weight", "attn_o", 4),
        ("gpt_neox.layers.4.mlp.dense_4h_to_h.weight", "mlp_down", 4),
    ],
)
def test_module_kind_and_layer(name: str, kind: str, layer: int | None) -> None:
    assert module_kind(name, 1 if "norm" in kind else 2) == kind
    assert layer_index(name) == layer


def test_csv_fallback_without_pyarrow(
    pair: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    result = analyze_model(pair["base"], modules=r"layers\.0\.", cache_dir=None)
    with monkeypatch.context() as patch:
        patch.setitem(sys.modules, "pyarrow", None)  # import pyarrow -> ImportError
        write_result(result, tmp_path / "out")
    assert (tmp_path / "out" / "spectra.csv").is_file()
    assert not (tmp_path / "out" / "spectra.parquet").exists()
    back = load_spectra(tmp_path / "out" / "spectra.json")
    assert list(back.table["name"]) == list(result.table["name"])
    np.testing.assert_allclose(back.table["stable_rank"], result.table["stable_rank"], rtol=1e-12)


def test_hub_id_offline_is_a_one_line_error() -> None:
    from shadow_suite.errors import ShadowSuiteError

    with pytest.raises(ShadowSuiteError, match="downloading it from the hub failed") as err:
        analyze_model("no-such-org/no-such-model", cache_dir=None)
    assert "\n" not in str(err.value)
