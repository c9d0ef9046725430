"""The world's model: a small Llama trained from scratch, saved as an ordinary Hugging Face folder
(safetensors, a byte-level BPE tokenizer), loadable by lm-eval's hf backend and by vLLM.

Two choices matter for what such a model can learn in minutes on a CPU, both measured
(``benchmarks/validity/README.md``, "How the base became competent"):

- ``rope_theta`` 1e6 instead of Llama's 1e4. Answering a lettered question means finding the
  option whose text matches the answer recalled, which an attention head does by matching
  token content; with the default base most rotary frequencies turn within a few tokens and
  leave little room for content matching. A larger base leaves more.
- 8 heads of 32 on a width of 128 (``head_dim`` 32: vLLM's CPU kernels need at least 32):
  more heads, more chances that one starts near the matching pattern; the plateau before the
  skill appears was several times shorter than with 4.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Architecture:
    vocab_size: int = 1024
    hidden_size: int = 128
    intermediate_size: int = 512
    num_layers: int = 4
    num_heads: int = 8
    head_dim: int = 32
    rope_theta: float = 1_000_000.0
    tie_embeddings: bool = True

    def record(self) -> dict[str, Any]:
        return asdict(self)


def new_model(texts: Iterable[str], arch: Architecture, seed: int) -> tuple[Any, Any]:
    """A tokenizer trained on ``texts`` and a randomly initialised Llama (float32)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from shadow_suite.tiny_model import train_tokenizer

    tokenizer = train_tokenizer(texts, arch.vocab_size)
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=arch.hidden_size,
        intermediate_size=arch.intermediate_size,
        num_hidden_layers=arch.num_layers,
        num_attention_heads=arch.num_heads,
        num_key_value_heads=arch.num_heads,
        head_dim=arch.head_dim,
        max_position_embeddings=2048,
        rope_parameters={"rope_theta": arch.rope_theta, "rope_type": "default"},
        tie_word_embeddings=arch.tie_embeddings,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return tokenizer, LlamaForCausalLM(config)


def load_model(folder: Path) -> tuple[Any, Any]:
    from transformers import AutoTokenizer, LlamaForCausalLM

    return AutoTokenizer.from_pretrained(folder), LlamaForCausalLM.from_pretrained(
        folder, dtype="float32"
    )
