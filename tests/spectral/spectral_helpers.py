"""Builders for the spectral tests: matrices with known spectra, small safetensors checkpoints,
a complete spectra.json of a made-up model."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import save_file


def orthonormal(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((n, k)))
    return q * np.sign(np.diag(r))


def with_spectrum(rng: np.random.Generator, m: int, n: int, s: np.ndarray) -> np.ndarray:
    """U diag(s) V^T with random orthonormal U (m x k), V (n x k), k = len(s)."""
    k = len(s)
    return orthonormal(rng, m, k) @ np.diag(s) @ orthonormal(rng, n, k).T


def llama_tensors(
    seed: int = 0, hidden: int = 32, inter: int = 64, layers: int = 2, vocab: int = 64
) -> dict[str, torch.Tensor]:
    """Random bf16 tensors named as a Llama checkpoint names them."""
    gen = torch.Generator().manual_seed(seed)

    def rand(*shape: int) -> torch.Tensor:
        return (torch.randn(*shape, generator=gen) * 0.05).to(torch.bfloat16)

    tensors = {"model.embed_tokens.weight": rand(vocab, hidden)}
    for i in range(layers):
        p = f"model.layers.{i}."
        tensors[p + "input_layernorm.weight"] = torch.ones(hidden, dtype=torch.bfloat16)
        for name in ("q_proj", "k_proj", "v_proj", "o_proj"):
            tensors[p + f"self_attn.{name}.weight"] = rand(hidden, hidden)
        tensors[p + "mlp.gate_proj.weight"] = rand(inter, hidden)
        tensors[p + "mlp.up_proj.weight"] = rand(inter, hidden)
        tensors[p + "mlp.down_proj.weight"] = rand(hidden, inter)
    tensors["model.norm.weight"] = torch.ones(hidden, dtype=torch.bfloat16)
    tensors["lm_head.weight"] = rand(vocab, hidden)
    return tensors


def save_model(
    folder: Path,
    tensors: dict[str, torch.Tensor],
    shards: int = 1,
    model_type: str = "llama",
) -> Path:
    """Write ``tensors`` as model.safetensors, or as ``shards`` shards plus the index."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps({"model_type": model_type}))
    if shards == 1:
        save_file(tensors, str(folder / "model.safetensors"))
        return folder
    names = list(tensors)
    weight_map = {}
    for i in range(shards):
        part = names[i::shards]
        file = f"model-{i + 1:05d}-of-{shards:05d}.safetensors"
        save_file({n: tensors[n] for n in part}, str(folder / file))
        weight_map.update(dict.fromkeys(part, file))
    index = {"metadata": {}, "weight_map": weight_map}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    return folder


def _checkpoint(path: str) -> dict[str, Any]:
    return {
        "path": path,
        "format": "safetensors",
        "model_type": "llama",
        "architectures": ["LlamaForCausalLM"],
        "quantization_config": False,
        "tensors": 20,
        "dtypes": {"BF16": 20},
        "files": [{"name": "model.safetensors", "bytes": 1000, "sha256": None}],
        "identity": "sha256:" + hashlib.sha256(path.encode()).hexdigest(),
    }


def spectra_json(
    layers: int = 4, kinds: tuple[str, ...] = ("attn_q", "attn_k", "mlp_down"), base: bool = True
) -> dict[str, Any]:
    """A complete spectra.json (schema version 1) of a made-up model, numbers chosen to draw
    well: effective rank rising with depth, an update growing with depth (with ``base``)."""
    update = {
        "matrices_compared": layers * len(kinds),
        "relative_change": 0.02,
        "relative_change_median": 0.015,
        "noise_dominated_matrices": 0,
        "unchanged_matrices": 0,
        "by_layer": [
            {
                "layer": layer,
                "matrices": len(kinds),
                "relative_change": 0.01 * layer,
                "update_effective_rank_entropy": 4.0 + layer,
                "update_effective_rank_energy": 3.0 + layer,
                "update_rank_above_noise": 4.0,
                "noise_dominated": 0,
            }
            for layer in range(layers)
        ],
        "top_changed": [
            {
                "name": f"model.layers.{layers - 1}.mlp.down_proj.weight{i}",
                "kind": "mlp_down",
                "layer": layers - 1,
                "shape": [64, 128],
                "relative_change": 0.05 - 0.01 * i,
                "cosine_to_base": 0.999,
                "update_effective_rank_entropy": 4.5,
                "update_stable_rank": 1.5,
                "update_rank_above_noise": 4.0,
                "noise_floor_sv": 1e-4,
                "noise_dominated": False,
                "update_singular_values": [10.0 / (1 + j) ** 2 for j in range(40)],
            }
            for i in range(3)
        ],
    }
    mean = {"effective_rank_entropy": 50.0, "stable_rank": 9.0, "alpha": 3.1}
    if base:
        mean["update_effective_rank_entropy"] = 5.5
    return {
        "schema": "shadow-suite.spectra",
        "schema_version": 1,
        "created": "2026-01-01T00:00:00+00:00",
        "model": _checkpoint("/models/<tuned>"),
        "base": _checkpoint("/models/base") if base else None,
        "ancestor": None,
        "method": {
            "singular_values": "float64 Gram matrix of the short side + eigvalsh",
            "name": "gram",
            "method_version": "spectral-1",
            "device": "cpu",
            "modules": None,
            "alpha": None,
            "update_top_k": 8,
            "noise_dominated_below_relative_change": 0.01,
            "nd_rule": "tensors with more than 2 dims are reshaped to (shape[0], prod(rest))",
            "cache_dir": None,
        },
        "environment": {"python": "3.11.7", "shadow-suite": "0.1.0"},
        "timings": {
            "total_s": 1.0,
            "read_s": 0.1,
            "compute_s": 0.5,
            "workers": 1,
            "tensors_per_s": 12.0,
        },
        "counts": {
            "tensors": 20,
            "selected": 20,
            "analyzed": layers * len(kinds),
            "skipped": 0,
            "nonfinite": 0,
            "cached": 0,
        },
        "summary": {
            "model": {
                "matrices": layers * len(kinds),
                "parameters": 8192 * layers * len(kinds),
                "mean": mean,
                "median": dict(mean),
            },
            "by_kind": [
                {"kind": kind, "matrices": layers, "effective_rank_entropy": 45.0 + i}
                for i, kind in enumerate(kinds)
            ],
            "by_kind_layer": [
                {
                    "kind": kind,
                    "layer": layer,
                    "matrices": 1,
                    "effective_rank_entropy": 40.0 + 3 * layer + i,
                }
                for i, kind in enumerate(kinds)
                for layer in range(layers)
            ],
            "update": update if base else None,
        },
        "skipped": [],
        "nonfinite": [],
        "unmatched": {"only_in_model": [], "only_in_base": [], "shape_mismatch": []}
        if base
        else None,
        "files": {"table": "spectra.parquet", "singular_values": "singular_values.npz"},
    }
