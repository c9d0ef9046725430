"""Agreement with WeightWatcher 0.7.x on the same small model.

Where definitions differ (and why the values still agree here):
- WW's eigenvalues are s^2 of W (0.7.x no longer divides by N); ours too. Older WW (<0.6.5)
  normalised by N: alpha and stable rank are scale-free, log_spectral_norm would shift by log10 N.
- WW's ``log_spectral_norm`` is log10(lambda_max) = 2 log10(s_max); our ``spectral_norm`` is s_max.
- WW fits alpha on eigenvalues above an absolute 1e-5; we drop those below 1e-10 lambda_max
  (a scale-free numerical-zero cut). The KS-chosen xmin lies far above both cuts, so the fits
  coincide unless a layer's whole spectrum sits near 1e-5.
- WW switches to a bias-corrected small-N estimator below 20 eigenvalues; we do not (and
  report no alpha below 8 eigenvalues).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import pytest

from shadow_suite.spectral import analyze_model


@pytest.fixture(scope="module")
def llama_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        hidden_size=128,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=4,
        vocab_size=512,
        tie_word_embeddings=False,
    )
    folder = tmp_path_factory.mktemp("llama")
    LlamaForCausalLM(config).to(torch.bfloat16).save_pretrained(folder, safe_serialization=True)
    return folder


@pytest.mark.filterwarnings("ignore:Passing a dict to DataFrame.from_records")
def test_agrees_with_weightwatcher(llama_dir: Path) -> None:
    ww = pytest.importorskip(
        "weightwatcher", reason="weightwatcher not installed (pip install weightwatcher)"
    )
    import torch
    from transformers import LlamaForCausalLM

    logging.getLogger("weightwatcher").setLevel(logging.ERROR)
    model = LlamaForCausalLM.from_pretrained(llama_dir, dtype=torch.float32)  # bf16 -> f32 exact
    details = ww.WeightWatcher(model=model).analyze()
    ours = analyze_model(llama_dir, cache_dir=None, hash_files=False).table.set_index("name")
    compared = 0
    for row in details.itertuples(index=False):
        name = f"{row.longname}.weight"
        assert name in ours.index, name
        mine = ours.loc[name]
        assert mine["stable_rank"] == pytest.approx(row.stable_rank, rel=1e-9)
        assert 2 * math.log10(mine["spectral_norm"]) == pytest.approx(
            row.log_spectral_norm, abs=1e-9
        )
        assert mine["alpha"] == pytest.approx(row.alpha, rel=1e-6)
        assert mine["alpha_xmin"] == pytest.approx(row.xmin, rel=1e-6)
        assert mine["alpha_ks_distance"] == pytest.approx(row.D, rel=1e-6)
        compared += 1
    assert compared == 16  # 7 per layer x 2, embedding, lm_head
