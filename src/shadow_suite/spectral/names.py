"""What a tensor is, from its name alone: module kind and transformer layer index.

Covers the naming schemes of Llama/Mistral/Qwen/Gemma (``model.layers.3.self_attn.q_proj.weight``),
GPT-2 (``transformer.h.3.attn.c_attn.weight``), GPT-NeoX/Pythia, Falcon, Phi and OPT. Names that
match nothing fall back to ``norm`` for 1-D tensors and ``other`` for the rest, so an unknown
architecture is still analysed, only less finely grouped.
"""

from __future__ import annotations

import re

# Module kinds, in the order summaries list them.
KINDS: tuple[str, ...] = (
    "attn_q",
    "attn_k",
    "attn_v",
    "attn_o",
    "attn_qkv",  # fused q/k/v (GPT-2 c_attn, NeoX query_key_value, Phi-3 qkv_proj)
    "mlp_gate",
    "mlp_up",
    "mlp_gate_up",  # fused gate/up (Phi-3 gate_up_proj)
    "mlp_down",
    "embedding",
    "lm_head",
    "norm",
    "other",
)

_LAYER = re.compile(r"(?:^|\.)(?:layers|h|blocks|block|layer|decoder\.layers)\.(\d+)\.")

# First match wins: order matters (e.g. "o_proj" before a generic "proj").
_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern))
    for kind, pattern in (
        ("norm", r"(?:norm|ln_\d|ln_f|layernorm|rmsnorm)[^.]*\.(?:weight|bias)$"),
        ("attn_qkv", r"\.(?:c_attn|query_key_value|qkv_proj|Wqkv|qkv)\.weight$"),
        ("attn_q", r"\.(?:q_proj|query|q)\.weight$"),
        ("attn_k", r"\.(?:k_proj|key|k)\.weight$"),
        ("attn_v", r"\.(?:v_proj|value|v)\.weight$"),
        (
            "attn_o",
            r"(?:attn|attention)[^.]*\.(?:o_proj|c_proj|dense|out_proj|o)\.weight$"
            r"|\.(?:o_proj|out_proj)\.weight$",
        ),
        ("mlp_gate_up", r"\.gate_up_proj\.weight$"),
        ("mlp_gate", r"\.(?:gate_proj|w1|wi_0)\.weight$"),
        ("mlp_up", r"\.(?:up_proj|c_fc|dense_h_to_4h|fc1|w3|wi_1|wi|fc_in)\.weight$"),
        (
            "mlp_down",
            r"\.(?:down_proj|dense_4h_to_h|fc2|w2|wo|fc_out)\.weight$|mlp\.c_proj\.weight$",
        ),
        ("embedding", r"(?:embed_tokens|wte|word_embeddings|embed_in|tok_embeddings)\.weight$"),
        ("lm_head", r"(?:^|\.)(?:lm_head|embed_out|output)\.weight$"),
    )
)


def layer_index(name: str) -> int | None:
    """The transformer block a tensor belongs to, or None for embeddings, final norm, head."""
    match = _LAYER.search(name)
    return int(match.group(1)) if match else None


def module_kind(name: str, ndim: int = 2) -> str:
    """One of ``KINDS``. 1-D tensors that match no rule count as ``norm`` (norm weights, biases)."""
    for kind, pattern in _RULES:
        if pattern.search(name):
            return kind
    if name.endswith(".bias") or ndim == 1:
        return "norm"
    return "other"
