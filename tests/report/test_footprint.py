"""Footprints of a family: a base and three fine-tunes with planted per-layer changes, real
safetensors files through the real spectral engine; the profiles must give back the plants."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

sys.path.insert(0, str(Path(__file__).parents[1] / "spectral"))
from spectral_helpers import llama_tensors, orthonormal, save_model

from shadow_suite.cli import main
from shadow_suite.errors import ShadowSuiteError
from shadow_suite.report.footprint import (
    family,
    footprint_section,
    footprint_table,
    write_footprint,
)
from shadow_suite.spectral import analyze_model, write_result

LAYERS = 4
HIDDEN, INTER = 32, 64
MODULE = {"attn_v": "self_attn.v_proj", "mlp_up": "mlp.up_proj", "attn_q": "self_attn.q_proj"}
# planted relative change ||D|| / ||W0|| per model, kind and layer
V_HEAVY = [0.05, 0.10, 0.20, 0.40]  # model "v-heavy": v_proj changed most, growing with depth
LIGHT = 0.03  # everything the plan does not name, in every fine-tune
UP_RANK = {"lowrank-up": 1, "fullrank-up": 16}  # rank of the mlp_up update (0.15 relative)


def _update(rng: np.random.Generator, w0: torch.Tensor, relative: float, rank: int) -> torch.Tensor:
    """A rank-``rank`` update with equal singular values and ||D||_F = relative * ||W0||_F."""
    m, n = w0.shape
    d = orthonormal(rng, m, rank) @ orthonormal(rng, n, rank).T
    d *= relative * float(w0.float().norm()) / np.linalg.norm(d)
    return torch.from_numpy(d).float()


def _fine_tune(base: dict[str, torch.Tensor], name: str, seed: int) -> dict[str, torch.Tensor]:
    rng = np.random.default_rng(seed)
    out = dict(base)
    for layer in range(LAYERS):
        for kind, module in MODULE.items():
            key = f"model.layers.{layer}.{module}.weight"
            w0 = base[key].float()
            relative, rank = LIGHT, 4
            if kind == "attn_v" and name == "v-heavy":
                relative = V_HEAVY[layer]
            if kind == "mlp_up" and name in UP_RANK:
                relative, rank = 0.15, UP_RANK[name]
            out[key] = (w0 + _update(rng, w0, relative, rank)).to(torch.bfloat16)
    return out


def _entropy_rank(w: torch.Tensor) -> float:
    s = np.linalg.svd(w.float().numpy().astype(np.float64), compute_uv=False)
    p = s / s.sum()
    p = p[p > 0]
    return float(np.exp(-(p * np.log(p)).sum()))


@pytest.fixture(scope="module")
def family_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("family")
    base = llama_tensors(seed=0, hidden=HIDDEN, inter=INTER, layers=LAYERS)
    save_model(root / "models" / "base", base)
    tensors = {"base": base}
    for seed, name in enumerate(("v-heavy", "lowrank-up", "fullrank-up"), start=1):
        tensors[name] = _fine_tune(base, name, seed)
        save_model(root / "models" / name, tensors[name])
    for name in tensors:
        result = analyze_model(
            root / "models" / name,
            None if name == "base" else root / "models" / "base",
            device="cpu",
            cache_dir=root / "cache",
            fit_alpha=False,
            workers=1,
        )
        write_result(result, root / "spectra" / name)
    torch.save(tensors, root / "tensors.pt")
    return root


def _spectra(root: Path) -> list[Path]:
    return [root / "spectra" / n for n in ("v-heavy", "lowrank-up", "fullrank-up")]


def _profile(frame: pd.DataFrame, model: str, kind: str, metric: str) -> np.ndarray:
    rows = frame[(frame.model == model) & (frame.kind == kind) & (frame.metric == metric)]
    return rows.sort_values("layer")["value"].to_numpy(float)


def test_profiles_recover_the_planted_changes(family_dir: Path) -> None:
    members = family(_spectra(family_dir), base_spectra=family_dir / "spectra" / "base")
    assert [m.label for m in members] == ["base", "v-heavy", "lowrank-up", "fullrank-up"]
    frame = footprint_table(members, kinds=("attn_q", "attn_v", "mlp_up"))
    # relative change: v-heavy's v_proj profile is the plant (bf16 rounding: < 0.005)
    v = _profile(frame, "v-heavy", "attn_v", "relative_change")
    np.testing.assert_allclose(v, V_HEAVY, atol=5e-3)
    for model in ("lowrank-up", "fullrank-up"):
        np.testing.assert_allclose(
            _profile(frame, model, "attn_v", "relative_change"), LIGHT, atol=5e-3
        )
        np.testing.assert_allclose(
            _profile(frame, model, "mlp_up", "relative_change"), 0.15, atol=5e-3
        )
    np.testing.assert_allclose(
        _profile(frame, "v-heavy", "attn_q", "relative_change"), LIGHT, atol=5e-3
    )
    # the one module kind changed more in one model stands out in every layer
    others = np.maximum(
        _profile(frame, "lowrank-up", "attn_v", "relative_change"),
        _profile(frame, "fullrank-up", "attn_v", "relative_change"),
    )
    assert (v > others).all()
    # correlation with the base: W0 + D with D nearly orthogonal to W0, so cos = 1/sqrt(1+r^2)
    cos = _profile(frame, "v-heavy", "attn_v", "cosine_to_base")
    np.testing.assert_allclose(cos, 1 / np.sqrt(1 + np.square(V_HEAVY)), atol=0.02)
    assert np.all(np.diff(cos) < 0)  # falls with depth as the change grows
    # update effective rank: the rank-1 update is ~1, the rank-16 one (equal values) ~16
    low = _profile(frame, "lowrank-up", "mlp_up", "update_effective_rank")
    full = _profile(frame, "fullrank-up", "mlp_up", "update_effective_rank")
    assert (low < 1.6).all() and (full > 13).all()
    # the base (no update) takes part only in effective-rank pairs
    assert not ((frame.model == "base") & (frame.metric == "relative_change")).any()


def test_effective_rank_change_between_two_models_matches_numpy(family_dir: Path) -> None:
    tensors = torch.load(family_dir / "tensors.pt")
    members = family(_spectra(family_dir), base_spectra=family_dir / "spectra" / "base")
    frame = footprint_table(members, kinds=("mlp_up",), pairs=[("lowrank-up", "fullrank-up")])
    pair = frame[frame.metric == "effective_rank_change"].sort_values("layer")
    assert set(pair["against"]) == {"lowrank-up"} and set(pair["model"]) == {"fullrank-up"}
    expected = [
        _entropy_rank(tensors["fullrank-up"][f"model.layers.{i}.mlp.up_proj.weight"])
        - _entropy_rank(tensors["lowrank-up"][f"model.layers.{i}.mlp.up_proj.weight"])
        for i in range(LAYERS)
    ]
    np.testing.assert_allclose(pair["value"].to_numpy(float), expected, rtol=1e-6, atol=1e-6)
    assert max(abs(e) for e in expected) > 0.05  # a real difference, not rounding
    # default pairs: every two of the four members
    every = footprint_table(members, kinds=("mlp_up",))
    n_pairs = every[every.metric == "effective_rank_change"][["model", "against"]].drop_duplicates()
    assert len(n_pairs) == 6


def test_files_and_page(family_dir: Path, tmp_path: Path) -> None:
    paths = write_footprint(
        _spectra(family_dir), tmp_path / "fp", kinds=("attn_v", "mlp_up", "mlp_down")
    )
    frame = pd.read_csv(paths.csv)
    assert list(frame.columns) == [
        "model", "against", "base", "kind", "layer", "metric", "value", "matrices"
    ]  # fmt: skip
    assert set(frame.kind) == {"attn_v", "mlp_up", "mlp_down"}
    if paths.parquet is not None:
        pd.testing.assert_frame_equal(
            pd.read_parquet(paths.parquet).astype(object).where(lambda f: f.notna(), None),
            frame.astype(object).where(lambda f: f.notna(), None),
            check_dtype=False,
        )
    page = paths.html.read_text()
    assert "<script" not in page
    for chunk in page.split("<svg")[1:]:  # every chart is well-formed XML
        ET.fromstring("<svg" + chunk.split("</svg>")[0] + "</svg>")
    # one figure per (drawn metric, kind); three lines per model-metric chart
    assert page.count("<svg") == 4 * 3
    section = footprint_section(_spectra(family_dir), ["a", "b", "c"], kinds=("attn_v",))
    assert section.startswith('<section class="footprint">') and section.count("<svg") == 4


def test_footprint_cli(
    family_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["footprint", *map(str, _spectra(family_dir)), "--out", str(tmp_path / "o")]
    assert main([*args, "--kinds", "attn_v", "--pair", "v-heavy:lowrank-up"]) == 0
    out = capsys.readouterr().out
    assert "footprint.html" in out
    frame = pd.read_csv(tmp_path / "o" / "footprint.csv")
    assert set(frame.kind) == {"attn_v"}
    assert set(frame[frame.metric == "effective_rank_change"].against) == {"v-heavy"}


def _other_architecture(root: Path) -> Path:
    wide = llama_tensors(seed=5, hidden=HIDDEN, inter=INTER + 8, layers=LAYERS)
    base = llama_tensors(seed=0, hidden=HIDDEN, inter=INTER, layers=LAYERS)
    save_model(root / "wide-base", base)
    mixed = {k: (wide[k] if "mlp" in k and "layers.0." in k else v) for k, v in base.items()}
    save_model(root / "wide", mixed)
    result = analyze_model(root / "wide", root / "wide-base", device="cpu", cache_dir=None,
                           fit_alpha=False, workers=1)  # fmt: skip
    write_result(result, root / "wide-spectra")
    return root / "wide-spectra"


def test_refusals_are_one_line(
    family_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ShadowSuiteError, match="spectra without a base"):
        family([family_dir / "spectra" / "base"])
    with pytest.raises(ShadowSuiteError, match="not of the ancestor"):
        family(_spectra(family_dir), base_spectra=family_dir / "spectra" / "v-heavy")
    # another ancestor: a fine-tune measured against a different base
    result = analyze_model(family_dir / "models" / "v-heavy", family_dir / "models" / "lowrank-up",
                           device="cpu", cache_dir=None, fit_alpha=False, workers=1)  # fmt: skip
    write_result(result, tmp_path / "other-base")
    with pytest.raises(ShadowSuiteError, match=r"measured against .*not the ancestor"):
        family([*_spectra(family_dir), tmp_path / "other-base"])
    # an update against a sibling (spectra --against) is not a profile from the ancestor
    sibling = analyze_model(family_dir / "models" / "v-heavy", family_dir / "models" / "base",
                            against_dir=family_dir / "models" / "lowrank-up", device="cpu",
                            cache_dir=None, fit_alpha=False, workers=1)  # fmt: skip
    with pytest.raises(ShadowSuiteError, match=r"against the sibling .*lowrank-up") as err:
        family([_spectra(family_dir)[0], sibling])
    assert "\n" not in str(err.value)
    with pytest.raises(ShadowSuiteError, match="--kinds"):
        footprint_table(family(_spectra(family_dir)), kinds=("embedding",))
    code = main(["footprint", str(_spectra(family_dir)[0]), str(_other_architecture(tmp_path)),
                 "--out", str(tmp_path / "o")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "architecture" in err


def test_grown_vocabulary_keeps_the_shared_rows(family_dir: Path, tmp_path: Path) -> None:
    tensors = torch.load(family_dir / "tensors.pt")
    grown = dict(tensors["v-heavy"])
    for key in ("model.embed_tokens.weight", "lm_head.weight"):
        extra = torch.zeros(8, HIDDEN, dtype=torch.bfloat16)
        grown[key] = torch.cat([grown[key], extra])
    save_model(tmp_path / "grown", grown)
    result = analyze_model(tmp_path / "grown", family_dir / "models" / "base", device="cpu",
                           cache_dir=None, fit_alpha=False, workers=1)  # fmt: skip
    write_result(result, tmp_path / "grown-spectra")
    frame = footprint_table(family([_spectra(family_dir)[0], tmp_path / "grown-spectra"]))
    a = _profile(frame, "v-heavy", "attn_v", "relative_change")
    b = _profile(frame, "grown", "attn_v", "relative_change")
    np.testing.assert_allclose(a, b)


def test_compare_draws_the_footprints_of_its_models(family_dir: Path, tmp_path: Path) -> None:
    """`compare --spectra` (one per card): the comparison page itself carries the profiles,
    and footprint.csv beside it recovers the planted v_proj change."""
    sys.path.insert(0, str(Path(__file__).parent))
    from report_helpers import make_run

    names = ("v-heavy", "lowrank-up", "fullrank-up")
    cards = []
    for i, name in enumerate(names):
        make_run(tmp_path / name, name, drop=0.1 * i, seed=i)
        assert main(["report", str(tmp_path / name), "--out", str(tmp_path / f"card_{name}"),
                     "--n-boot", "100"]) == 0  # fmt: skip
        cards.append(str(tmp_path / f"card_{name}"))
    spectra = [a for s in _spectra(family_dir) for a in ("--spectra", str(s))]
    out = tmp_path / "cmp"
    assert main(["compare", *cards, *spectra, "--ancestor-spectra",
                 str(family_dir / "spectra" / "base"), "--out", str(out)]) == 0  # fmt: skip
    page = (out / "compare.html").read_text()
    assert "<h2>Parameter footprints</h2>" in page and 'href="footprint.html"' in page
    frame = pd.read_csv(out / "footprint.csv")
    heavy = _profile(frame, "v-heavy", "attn_v", "relative_change")
    assert heavy[-1] > heavy[0] and np.argmax(heavy) == LAYERS - 1
    # one spectra folder per card, or one line
    assert main(["compare", *cards, "--spectra", spectra[1], "--out", str(out)]) == 2
