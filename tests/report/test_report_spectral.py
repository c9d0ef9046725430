"""The spectral section: mapped from the real engine's output, and tolerant of gaps."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "spectral"))
from spectral_helpers import spectra_json

from shadow_suite.errors import ShadowSuiteError
from shadow_suite.report.card import build_card
from shadow_suite.report.html import render_html
from shadow_suite.report.markdown import render_markdown
from shadow_suite.report.spectral import load_spectral_section, spectral_section


@pytest.fixture(scope="module")
def spectra_dirs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Spectra of a tiny model fine-tuned (a rank-4 change in layer 1) from a base: with
    base (update metrics) and of the base alone."""
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file, save_file

    from shadow_suite.spectral import analyze_model, write_result
    from shadow_suite.tiny_model import TinyModelConfig, build_tiny_model

    root = tmp_path_factory.mktemp("spectra")
    texts = [f"the quick brown fox {i} jumps over the lazy dog" for i in range(100)]
    config = TinyModelConfig(vocab_size=300, hidden_size=64, intermediate_size=128)
    base = build_tiny_model(root / "base", texts, config)
    tuned = root / "tuned"
    shutil.copytree(base, tuned)
    weights = load_file(tuned / "model.safetensors")
    gen = torch.Generator().manual_seed(0)
    for name, w in weights.items():
        if ".layers.1." in name and w.ndim == 2:
            low_rank = torch.randn(w.shape[0], 4, generator=gen) @ torch.randn(
                4, w.shape[1], generator=gen
            )
            weights[name] = w + 0.01 * low_rank
    save_file(weights, tuned / "model.safetensors", metadata={"format": "pt"})
    with_base = write_result(
        analyze_model(tuned, base, cache_dir=None, device="cpu", hash_files=False), root / "s1"
    )
    base_only = write_result(
        analyze_model(base, cache_dir=None, device="cpu", hash_files=False), root / "s0"
    )
    return with_base, base_only


def test_section_from_real_engine_output(spectra_dirs: tuple[Path, Path]) -> None:
    with_base, base_only = spectra_dirs
    sec = load_spectral_section(with_base, base_only)
    assert sec.spectra_schema_version == 1
    kinds = {s.kind for s in sec.effective_rank_by_layer}
    assert {"attn_q", "mlp_down"} <= kinds
    assert all(s.layers == [0, 1] for s in sec.effective_rank_by_layer)
    assert {s.kind for s in sec.base_effective_rank_by_layer} == kinds
    change = sec.update_relative_change_by_layer
    assert change is not None and change.layers == [0, 1]
    assert change.values[0] == 0.0 and change.values[1] > 0  # only layer 1 was changed
    assert sec.top_changed and sec.top_changed[0].layer == 1
    assert sec.top_changed[0].what == "update"
    # a rank-4 update: 4 singular values carry it, the rest is float32 rounding
    values = sec.top_changed[0].singular_values
    assert values[3] > 100 * values[4]
    assert sec.summary["effective_rank_entropy"] > 0
    assert sec.update_summary and sec.update_summary["relative_change"] > 0


def test_section_without_base_uses_weight_spectra(spectra_dirs: tuple[Path, Path]) -> None:
    _, base_only = spectra_dirs
    sec = load_spectral_section(base_only)
    assert sec.update_relative_change_by_layer is None
    assert sec.top_changed and all(m.what == "weight" for m in sec.top_changed)
    assert any("no base model" in n for n in sec.notes)


def test_card_with_spectra_renders_the_plots(
    run_dir: Path, spectra_dirs: tuple[Path, Path]
) -> None:
    with_base, base_only = spectra_dirs
    card = build_card([run_dir], spectra=with_base, base_spectra=base_only, n_boot=200)
    assert card.base_model is not None and card.base_model.source == "spectra"
    page = render_html(card)
    for title in (
        "Effective rank by layer",
        "Update relative change by layer",
        "Update effective rank by layer",
        "Singular value spectra",
    ):
        assert f"<title>{title}</title>" in page
    markdown = render_markdown(card)
    assert "## Weight spectra" in markdown
    # both renderings say what a footprint cannot tell
    assert "not evidence of contamination on its own" in markdown
    assert "not evidence of contamination on its own" in page


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({}, "spectra.json: not a shadow-suite.spectra document"),
        ({"summary": None}, "spectra.json: not a shadow-suite.spectra document"),
        ({**spectra_json(), "summary": None}, "spectra.json: summary: expected an object"),
        (
            {**spectra_json(), "summary": {"model": {"mean": {"stable_rank": "x"}}}},
            "spectra.json: summary.model.matrices: missing",
        ),
    ],
)
def test_adapter_refuses_missing_or_odd_fields_in_one_line(document: dict, message: str) -> None:
    with pytest.raises(ShadowSuiteError, match=re.escape(message)) as err:
        spectral_section(document)
    assert "\n" not in str(err.value)


def test_adapter_without_base_or_layers_gives_empty_series_and_a_note() -> None:
    document = spectra_json(base=False)
    document["summary"]["by_kind_layer"] = []
    sec = spectral_section(document)
    assert sec.effective_rank_by_layer == [] and sec.update_relative_change_by_layer is None
    assert any("no base model" in n for n in sec.notes)


def test_sibling_spectra_name_the_ancestor_as_the_base(run_dir: Path, tmp_path: Path) -> None:
    """``spectra --base A --against B``: the updates are against the sibling B, and the
    model's base, on the card, is the ancestor A (not B)."""
    document = spectra_json()
    document["ancestor"] = {**document["base"], "path": "/models/ancestor"}
    document["base"] = {**document["base"], "path": "/models/sibling"}
    section = spectral_section(document)
    assert (section.base_path, section.ancestor_path) == ("/models/sibling", "/models/ancestor")
    assert spectral_section(spectra_json()).ancestor_path is None
    path = tmp_path / "spectra.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    card = build_card([run_dir], spectra=path, n_boot=200)
    assert card.base_model is not None and card.base_model.name == "/models/ancestor"
    assert "updates against the sibling <code>/models/sibling</code>" in render_html(card)
