"""Training is reproducible: the same settings give bit-identical weights, whatever thread
count the caller has set (the loop fixes its own), and the caller's count is restored."""

from __future__ import annotations

import pytest

from shadow_suite.demo.train import TokenStream, TrainSettings, train


def _train_once(caller_threads: int) -> dict:
    torch = pytest.importorskip("torch")
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.set_num_threads(caller_threads)
    torch.manual_seed(0)
    model = LlamaForCausalLM(
        LlamaConfig(
            vocab_size=64,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=1,
            num_key_value_heads=1,
            max_position_embeddings=64,
        )
    )
    ids = [(7 * i + 3) % 64 for i in range(4 * 16 * 4)]
    settings = TrainSettings(tokens=len(ids), seq_len=16, batch_size=4, lr=1e-2, warmup_steps=1)
    stats = train(model, TokenStream(ids, 1, 1), settings, lambda _m: None, "t")
    assert stats["threads"] == 1 and stats["steps"] == 4
    assert torch.get_num_threads() == caller_threads
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_same_weights_whatever_the_callers_thread_count() -> None:
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    try:
        a, b = _train_once(1), _train_once(2)
    finally:
        torch.set_num_threads(before)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
