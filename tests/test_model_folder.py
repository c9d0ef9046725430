"""Model folders checked before loading: what transformers would load wrongly is refused, what
it loads correctly (tied embeddings, a separate tokenizer) is not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from safetensors.torch import load_file, save_file

from shadow_suite.errors import ShadowSuiteError
from shadow_suite.model_folder import check_model_folder


def _llama(folder: Path, tied: bool) -> Path:
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2,
                         tie_word_embeddings=tied)  # fmt: skip
    LlamaForCausalLM(config).save_pretrained(folder)
    (folder / "tokenizer.json").write_text(json.dumps({"model": {"vocab": {}}}))
    return folder


def test_tied_embeddings_are_not_missing_weights(tmp_path: Path) -> None:
    folder = _llama(tmp_path / "tied", tied=True)
    assert "lm_head.weight" not in load_file(str(folder / "model.safetensors"))
    check_model_folder("--base", folder, backend="hf")


def test_a_weight_the_config_needs_and_the_files_lack_is_refused(tmp_path: Path) -> None:
    folder = _llama(tmp_path / "untied", tied=False)
    check_model_folder("--base", folder, backend="hf")
    tensors = load_file(str(folder / "model.safetensors"))
    del tensors["lm_head.weight"]
    save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})
    with pytest.raises(ShadowSuiteError, match=r"do not hold \(lm_head\.weight, 1 in all\)"):
        check_model_folder("--base", folder, backend="hf")
    check_model_folder("--base", folder, backend="vllm")  # vLLM's loader is its own


def test_a_tokenizer_named_elsewhere_is_enough(tmp_path: Path) -> None:
    folder = _llama(tmp_path / "m", tied=True)
    (folder / "tokenizer.json").unlink()
    with pytest.raises(ShadowSuiteError, match="no tokenizer"):
        check_model_folder("--model_args pretrained=", folder, backend="hf")
    check_model_folder("--model_args pretrained=", folder, backend="hf",
                       model_args={"tokenizer": "org/tokenizer"})  # fmt: skip
