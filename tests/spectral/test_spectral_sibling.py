"""``spectra MODEL --base A --against B``: the update of MODEL relative to a sibling B, both
fine-tuned from the ancestor A. Tiny safetensors models with a planted difference between
MODEL and B on top of an update they share; the sibling update must be that difference alone."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from spectral_helpers import llama_tensors, orthonormal, save_model

from shadow_suite.cli import main
from shadow_suite.errors import ShadowSuiteError
from shadow_suite.spectral import analyze_model

V1 = "model.layers.1.self_attn.v_proj.weight"
SHARED = (0.05, 4)  # relative size, rank of the update B and MODEL share (B - A)
PLANTED = (0.03, 3)  # MODEL - B in every matrix ...
PLANTED_V1 = (0.25, 2)  # ... except layer 1's v_proj, changed much more


def _updates(
    tensors: dict[str, torch.Tensor], sizes: dict[str, tuple[float, int]], seed: int
) -> dict[str, torch.Tensor]:
    """Per matrix, a float32 rank-r update with equal singular values and ||D|| = rel ||W||."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, (relative, rank) in sizes.items():
        w = tensors[name].float()
        m, n = w.shape
        d = orthonormal(rng, m, rank) @ orthonormal(rng, n, rank).T
        d *= relative * float(w.norm()) / np.linalg.norm(d)
        out[name] = torch.from_numpy(d).float()
    return out


def _stored(
    tensors: dict[str, torch.Tensor], *updates: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """``tensors`` plus the updates in float32, then stored in bf16 (rounded once, as a
    fine-tune with float32 master weights saves its checkpoint)."""
    out = {}
    for name, w in tensors.items():
        total = w.float() + sum(u[name] for u in updates if name in u)
        out[name] = total.to(torch.bfloat16) if w.dim() == 2 else w.clone()
    return out


@pytest.fixture(scope="module")
def family(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("siblings")
    a = llama_tensors(seed=0)
    matrices = [n for n, w in a.items() if w.dim() == 2]
    shared = _updates(a, dict.fromkeys(matrices, SHARED), seed=1)
    planted = _updates(a, {n: PLANTED_V1 if n == V1 else PLANTED for n in matrices}, seed=2)
    other = _updates(a, dict.fromkeys(matrices, SHARED), seed=3)
    return {
        "A": save_model(root / "A", a),
        "B": save_model(root / "B", _stored(a, shared)),
        "C": save_model(root / "C", _stored(a, other)),  # another sibling
        "M": save_model(root / "M", _stored(a, shared, planted)),
        "wide": save_model(root / "wide", llama_tensors(seed=0, hidden=48)),
        "gpt2": save_model(root / "gpt2", a, model_type="gpt2"),
    }


def _analyze(model: Path, base: Path | None, against: Path | None = None, **kw):
    kw.setdefault("cache_dir", None)
    return analyze_model(
        model,
        base,
        against_dir=against,
        device="cpu",
        fit_alpha=False,
        hash_files=False,
        workers=1,
        **kw,
    )


def _bf16(path: Path) -> dict[str, np.ndarray]:
    from safetensors.torch import load_file

    return {k: v.double().numpy() for k, v in load_file(path / "model.safetensors").items()}


def test_sibling_update_is_the_planted_difference(family: dict[str, Path]) -> None:
    result = _analyze(family["M"], family["A"], family["B"])
    document = result.document
    assert document.base is not None and document.base.path == str(family["B"].resolve())
    assert document.ancestor is not None and document.ancestor.path == str(family["A"].resolve())
    ok = result.table[result.table["status"] == "ok"].set_index("name")
    assert len(ok) == 16
    # exactly ||W_M - W_B|| / ||W_B|| of the stored weights
    m, b = _bf16(family["M"]), _bf16(family["B"])
    for name, row in ok.iterrows():
        direct = np.linalg.norm(m[name] - b[name]) / np.linalg.norm(b[name])
        assert row["update_relative_change"] == pytest.approx(direct, rel=1e-9)
    # the planted difference, and nothing of the update both share with A: the planted rank
    # stands far above the rounding-noise floor, the next singular value is at it
    for name, row in ok.iterrows():
        rank = PLANTED_V1[1] if name == V1 else PLANTED[1]
        u = result.update_singular_values[name] / row["noise_floor_sv"]
        assert u[rank - 1] > 15 and u[rank] < 1.5, name
    # relative to ||W_B|| = ||W_A|| sqrt(1 + 0.05^2); bf16 rounding moves it by < 3e-3
    assert ok.loc[V1, "update_relative_change"] == pytest.approx(0.25, abs=4e-3)
    np.testing.assert_allclose(ok.drop(index=V1)["update_relative_change"], 0.03, atol=3e-3)
    assert result.summary.update is not None
    assert result.summary.update.top_changed[0].name == V1
    # measured from the ancestor instead, the shared update is in every matrix too
    from_a = _analyze(family["M"], family["A"])
    assert from_a.document.ancestor is None
    floors = from_a.table.set_index("name")["noise_floor_sv"]
    for name in ok.index:
        rank = SHARED[1] + (PLANTED_V1[1] if name == V1 else PLANTED[1])
        u = from_a.update_singular_values[name] / floors[name]
        assert u[rank - 1] > 15 and u[rank] < 1.5, name


def test_cache_is_keyed_by_the_sibling(family: dict[str, Path], tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    vs_a = _analyze(family["M"], family["A"], cache_dir=cache)
    first = _analyze(family["M"], family["A"], family["B"], cache_dir=cache)
    assert first.document.counts.cached == 0  # the ancestor's entries are not taken
    again = _analyze(family["M"], family["A"], family["B"], cache_dir=cache)
    assert again.document.counts.cached == 16  # nothing recomputed
    # --base B has another noise floor (B's rounding is no noise there): its own entries
    as_base = _analyze(family["M"], family["B"], cache_dir=cache)
    assert as_base.document.counts.cached == 0
    other = _analyze(family["M"], family["A"], family["C"], cache_dir=cache)
    assert other.document.counts.cached == 0  # another sibling: its own entries
    columns = ["update_relative_change", "update_rank_above_noise", "cosine_to_base"]
    np.testing.assert_allclose(again.table[columns], first.table[columns], rtol=1e-12)
    for frame in (vs_a.table, other.table):
        assert not np.allclose(
            frame["update_relative_change"], first.table["update_relative_change"]
        )
    # the same update as --base B; only the rounding-noise floor counts both roundings
    np.testing.assert_allclose(
        as_base.table["update_relative_change"], first.table["update_relative_change"], rtol=1e-12
    )
    ratio = first.table["noise_floor_frobenius"] / as_base.table["noise_floor_frobenius"]
    np.testing.assert_allclose(ratio.dropna(), np.sqrt(2), rtol=0.05)


@pytest.mark.parametrize(
    ("base", "against", "words"),
    [
        ("A", "wide", "--against checkpoint looks like a different architecture"),
        ("A", "gpt2", "--against checkpoint is a different architecture"),
        ("wide", "B", "ancestor (--base) looks like a different architecture"),
        (None, "B", "--against needs --base ANCESTOR"),
    ],
)
def test_other_architecture_is_refused_in_one_line(
    family: dict[str, Path], base: str | None, against: str, words: str
) -> None:
    with pytest.raises(ShadowSuiteError, match=re.escape(words)) as err:
        _analyze(family["M"], family[base] if base else None, family[against])
    assert "\n" not in str(err.value)


def test_cli_records_ancestor_and_sibling(
    family: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    args = ["spectra", str(family["M"]), "--base", str(family["A"]), "--against"]
    common = ["--cache-dir", str(tmp_path / "c"), "--device", "cpu", "--quiet", "--no-alpha"]
    assert main([*args, str(family["B"]), "--out", str(out), *common]) == 0
    printed = capsys.readouterr().out
    assert f"update vs sibling {family['B']} (both from the ancestor {family['A']})" in printed
    document = json.loads((out / "spectra.json").read_text(encoding="utf-8"))
    assert document["base"]["path"] == str(family["B"].resolve())
    assert document["ancestor"]["path"] == str(family["A"].resolve())
    assert all(len(f["sha256"]) == 64 for f in document["ancestor"]["files"])
    assert main([*args, str(family["wide"]), "--out", str(tmp_path / "x"), *common]) == 2
    error = capsys.readouterr().err.strip()
    assert "different architecture" in error and "\n" not in error
