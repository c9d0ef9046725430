"""Bad input: each a one-line error naming the file or tensor, or a listed skip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from spectral_helpers import llama_tensors, save_model

from shadow_suite.cli import main
from shadow_suite.errors import ShadowSuiteError
from shadow_suite.spectral import analyze_model
from shadow_suite.spectral.reader import open_checkpoint, read_tensor


def _analyze(folder: Path, **kwargs: object):
    return analyze_model(folder, cache_dir=None, hash_files=False, **kwargs)


def test_reads_sharded_checkpoint_in_all_dtypes(tmp_path: Path) -> None:
    tensors = {
        "a.weight": torch.randn(6, 4, dtype=torch.float32),
        "b.weight": torch.randn(5, 3).to(torch.float16),
        "c.weight": torch.randn(4, 7).to(torch.bfloat16),
    }
    folder = save_model(tmp_path / "m", tensors, shards=2)
    ckpt = open_checkpoint(folder)
    assert len(ckpt.files) == 2
    assert {t.name for t in ckpt.tensors} == set(tensors)
    for info in ckpt.tensors:
        got, raw = read_tensor(info)
        assert raw is not None and len(raw) == info.nbytes
        assert torch.equal(got, tensors[info.name])


def _one_line(err: pytest.ExceptionInfo[ShadowSuiteError]) -> str:
    message = str(err.value)
    assert "\n" not in message
    return message


def test_truncated_shard_names_file_and_tensor(tmp_path: Path) -> None:
    folder = save_model(tmp_path / "m", llama_tensors())
    path = folder / "model.safetensors"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ShadowSuiteError) as err:
        _analyze(folder)
    message = _one_line(err)
    assert "model.safetensors" in message and "truncated" in message and "tensor" in message


@pytest.mark.parametrize(
    "content", [b"", b"\x05\x00", b"\xff" * 8 + b"{}", b"\x04\x00\x00\x00\x00\x00\x00\x00nope"]
)
def test_corrupt_header(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "model.safetensors").write_bytes(content)
    with pytest.raises(ShadowSuiteError) as err:
        _analyze(tmp_path)
    message = _one_line(err)
    assert "model.safetensors" in message
    assert "corrupt" in message or "truncated" in message


def test_index_naming_missing_shard(tmp_path: Path) -> None:
    folder = save_model(tmp_path / "m", llama_tensors(), shards=2)
    (folder / "model-00002-of-00002.safetensors").unlink()
    with pytest.raises(ShadowSuiteError) as err:
        _analyze(folder)
    message = _one_line(err)
    assert "model.safetensors.index.json" in message and "model-00002-of-00002" in message


def test_no_weights_at_all(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ShadowSuiteError, match=r"no \*\.safetensors"):
        _analyze(tmp_path)
    with pytest.raises(ShadowSuiteError, match="no such model folder"):
        _analyze(tmp_path / "missing")


def test_pickle_refused_unless_opted_in(tmp_path: Path) -> None:
    torch.save(
        {"x.weight": torch.randn(8, 6), "y.bias": torch.randn(6)}, tmp_path / "pytorch_model.bin"
    )
    with pytest.raises(ShadowSuiteError) as err:
        _analyze(tmp_path)
    assert "pytorch_model.bin" in _one_line(err) and "--allow-pickle" in str(err.value)
    result = _analyze(tmp_path, allow_pickle=True)
    table = result.table.set_index("name")
    assert table.loc["x.weight", "status"] == "ok"
    assert table.loc["y.bias", "status"] == "skipped"
    assert result.document.model.format == "pytorch-pickle"


def test_pickle_with_code_is_refused_even_when_opted_in(tmp_path: Path) -> None:
    class Evil:
        def __reduce__(self) -> tuple:  # the classic pickle payload: runs code on load
            return (print, ("pwned",))

    torch.save({"x.weight": Evil()}, tmp_path / "pytorch_model.bin")
    with pytest.raises(ShadowSuiteError, match="weights_only=True"):
        _analyze(tmp_path, allow_pickle=True)


def test_quantized_1d_nd_and_nonfinite_tensors_are_listed(tmp_path: Path) -> None:
    bad = torch.randn(16, 12)
    bad[0, 0] = float("nan")
    bad[3, 4] = float("inf")
    tensors = {
        "model.layers.0.self_attn.q_proj.weight": torch.randn(12, 12).to(torch.bfloat16),
        "model.layers.0.self_attn.k_proj.qweight": torch.randint(0, 9, (3, 12), dtype=torch.int32),
        "model.layers.0.self_attn.k_proj.scales": torch.randn(1, 12).to(torch.float16),
        "model.layers.0.mlp.down_proj.weight": torch.randint(0, 255, (12, 6), dtype=torch.uint8),
        "model.layers.0.self_attn.v_proj.weight": bad,
        "model.layers.0.input_layernorm.weight": torch.ones(12),
        "model.layers.0.mlp.experts.weight": torch.randn(4, 6, 5),
    }
    folder = save_model(tmp_path / "m", tensors)
    result = _analyze(folder)
    table = result.table.set_index("name")
    reasons = {r.name: r.reason for r in result.document.skipped}
    assert "quantization side tensor" in reasons["model.layers.0.self_attn.k_proj.qweight"]
    assert "quantization side tensor" in reasons["model.layers.0.self_attn.k_proj.scales"]
    assert "quantized or packed" in reasons["model.layers.0.mlp.down_proj.weight"]
    assert "1-D" in reasons["model.layers.0.input_layernorm.weight"]
    v = table.loc["model.layers.0.self_attn.v_proj.weight"]
    assert v["status"] == "nonfinite" and v["nan_count"] == 1 and v["inf_count"] == 1
    assert result.document.nonfinite[0].reason == "1 NaN and 1 Inf values"
    experts = table.loc["model.layers.0.mlp.experts.weight"]
    assert experts["status"] == "ok" and (experts["rows"], experts["cols"]) == (4, 30)
    assert experts["reshape"] == "reshaped [4, 6, 5] to 2-D"
    assert table.loc["model.layers.0.self_attn.q_proj.weight", "status"] == "ok"
    assert result.document.counts.analyzed == 2


def test_base_with_different_architecture(tmp_path: Path) -> None:
    model = save_model(tmp_path / "m", llama_tensors())
    other_type = save_model(tmp_path / "g", llama_tensors(seed=1), model_type="gpt2")
    with pytest.raises(ShadowSuiteError, match="different architecture") as err:
        _analyze(model, base_dir=other_type)
    _one_line(err)
    wider = save_model(tmp_path / "w", llama_tensors(hidden=48, inter=96))
    with pytest.raises(ShadowSuiteError, match=r"only \d+ of \d+ matrices match"):
        _analyze(model, base_dir=wider)


def test_grown_embedding_compares_shared_rows_and_lists_unmatched(tmp_path: Path) -> None:
    base_tensors = llama_tensors(vocab=64)
    model_tensors = {k: v.clone() for k, v in base_tensors.items()}
    extra = torch.randn(8, 32).to(torch.bfloat16)
    model_tensors["model.embed_tokens.weight"] = torch.cat(
        [base_tensors["model.embed_tokens.weight"], extra]
    )
    model_tensors["model.layers.0.self_attn.q_proj.bias"] = torch.zeros(32)
    del model_tensors["lm_head.weight"]  # e.g. tied in the fine-tune
    base = save_model(tmp_path / "b", base_tensors)
    model = save_model(tmp_path / "m", model_tensors)
    result = _analyze(model, base_dir=base)
    unmatched = result.document.unmatched
    assert unmatched is not None
    assert unmatched.only_in_base == ("lm_head.weight",)
    assert unmatched.only_in_model == ()  # the 1-D bias is skipped before matching
    (mismatch,) = unmatched.shape_mismatch
    assert mismatch.name == "model.embed_tokens.weight"
    assert mismatch.shape == (72, 32) and mismatch.base_shape == (64, 32)
    assert "64 shared rows" in mismatch.note and "grown by 8" in mismatch.note
    row = result.table.set_index("name").loc["model.embed_tokens.weight"]
    assert row["update_relative_change"] == 0.0  # shared rows are untouched
    grown = model_tensors["model.embed_tokens.weight"].double()
    assert row["frobenius_norm"] == pytest.approx(float(grown.norm()), rel=1e-12)  # all rows
    assert "64 shared rows" in row["base_note"]


def test_cli_prints_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = save_model(tmp_path / "m", llama_tensors(), shards=2)
    (folder / "model-00001-of-00002.safetensors").unlink()
    code = main(["spectra", str(folder), "--no-cache", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("shadow-suite spectra: error:")
    assert "model-00001-of-00002.safetensors" in err


def test_index_json_that_is_not_an_index(tmp_path: Path) -> None:
    folder = save_model(tmp_path / "m", llama_tensors())
    (folder / "model.safetensors.index.json").write_text(json.dumps({"nope": 1}))
    with pytest.raises(ShadowSuiteError, match="weight_map"):
        _analyze(folder)


def test_duplicate_tensor_across_shards(tmp_path: Path) -> None:
    tensors = {"a.weight": torch.randn(4, 4)}
    save_file(tensors, str(tmp_path / "one.safetensors"))
    save_file(tensors, str(tmp_path / "two.safetensors"))
    with pytest.raises(ShadowSuiteError, match="appears in two shards"):
        _analyze(tmp_path)


# -- the safetensors format's rules, as the safetensors library applies them -----------------

_TWO = {
    "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
    "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]},
}


def _entry(dtype: str = "F32", shape: list = [2], offsets: list = [0, 8]) -> dict:  # noqa: B006
    return {"dtype": dtype, "shape": shape, "data_offsets": offsets}


HEADERS: dict[str, tuple[bytes, int]] = {
    # name: (header bytes, data bytes after it)
    "valid": (json.dumps(_TWO).encode(), 12),
    "valid, entries out of order": (json.dumps(dict(reversed(_TWO.items()))).encode(), 12),
    "valid, padded with spaces": (json.dumps(_TWO).encode() + b"   ", 12),
    "valid, empty tensor": (json.dumps({"z": _entry(shape=[0], offsets=[0, 0]), "a": _entry()}).encode(), 8),
    "valid, string metadata": (json.dumps({"__metadata__": {"format": "pt"}, **_TWO}).encode(), 12),
    "gap between tensors": (json.dumps({"a": _entry(), "b": _entry(shape=[1], offsets=[12, 16])}).encode(), 16),
    "overlapping tensors": (json.dumps({"a": _entry(), "b": _entry(shape=[1], offsets=[4, 8])}).encode(), 8),
    "data not starting at 0": (json.dumps({"a": _entry(offsets=[4, 12])}).encode(), 12),
    "bytes after the last tensor": (json.dumps(_TWO).encode(), 16),
    "span not the shape's bytes": (json.dumps({"a": _entry(shape=[3])}).encode(), 8),
    "offsets backwards": (json.dumps({"a": _entry(offsets=[8, 0])}).encode(), 8),
    "three offsets": (json.dumps({"a": _entry(offsets=[0, 8, 8])}).encode(), 8),
    "float offset": (json.dumps({"a": _entry(offsets=[0, 8.0])}).encode(), 8),
    "negative dimension": (json.dumps({"a": _entry(shape=[-2])}).encode(), 8),
    "unknown dtype": (json.dumps({"a": _entry(dtype="F31")}).encode(), 8),
    "missing data_offsets": (json.dumps({"a": {"dtype": "F32", "shape": [2]}}).encode(), 8),
    "metadata not strings": (json.dumps({"__metadata__": {"x": 1}, **_TWO}).encode(), 12),
    "NUL padding": (json.dumps(_TWO).encode() + b"\0\0", 12),
    "header not UTF-8": (b'{"\xff": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}', 8),
    "name given twice": (
        b'{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, '
        b'"a": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}',
        12,
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(HEADERS))
def test_headers_are_judged_as_the_safetensors_library_judges_them(
    tmp_path: Path, case: str
) -> None:
    """Each header through the real library and through our reader: both accept or both
    refuse (ours in one line naming the file). One rule more than the library: a name given
    twice is always refused (the library keeps one entry, which here breaks the offsets)."""
    from safetensors import safe_open

    header, data = HEADERS[case]
    path = tmp_path / "model.safetensors"
    path.write_bytes(len(header).to_bytes(8, "little") + header + b"\0" * data)
    try:
        with safe_open(str(path), "pt") as handle:
            for key in handle.keys():  # noqa: SIM118 (safe_open is no mapping)
                handle.get_tensor(key)
        library_accepts = True
    except Exception:
        library_accepts = False
    try:
        open_checkpoint(tmp_path)
        ours_accepts = True
    except ShadowSuiteError as err:
        ours_accepts = False
        assert "\n" not in str(err) and str(path) in str(err)
    assert ours_accepts == library_accepts == case.startswith("valid")


def test_index_must_agree_with_its_shards(tmp_path: Path) -> None:
    folder = save_model(tmp_path / "m", llama_tensors(), shards=2)
    index_path = folder / "model.safetensors.index.json"
    index = json.loads(index_path.read_text())
    weight_map = index["weight_map"]
    name = next(iter(weight_map))
    other = next(f for f in set(weight_map.values()) if f != weight_map[name])

    moved = {**weight_map, name: other}  # names the wrong shard for one tensor
    index_path.write_text(json.dumps({**index, "weight_map": moved}))
    with pytest.raises(ShadowSuiteError, match=f"lists tensor '{name}' in {other}, but"):
        open_checkpoint(folder)
    unlisted = {k: v for k, v in weight_map.items() if k != name}
    index_path.write_text(json.dumps({**index, "weight_map": unlisted}))
    with pytest.raises(ShadowSuiteError, match=f"does not list tensor '{name}'"):
        open_checkpoint(folder)
    extra = {**weight_map, "ghost.weight": other}
    index_path.write_text(json.dumps({**index, "weight_map": extra}))
    with pytest.raises(ShadowSuiteError, match=r"lists tensor 'ghost\.weight'.*does not hold it"):
        open_checkpoint(folder)


def test_a_single_file_beside_an_index_of_other_shards_is_refused(tmp_path: Path) -> None:
    """transformers loads model.safetensors, vLLM the indexed shards: two models in one
    folder. An index that names the single file itself is one model, and fine."""
    folder = save_model(tmp_path / "m", llama_tensors(), shards=2)
    save_file(llama_tensors(seed=1), str(folder / "model.safetensors"))
    with pytest.raises(ShadowSuiteError, match="transformers loads the first, vLLM the second"):
        open_checkpoint(folder)
    single = save_model(tmp_path / "s", llama_tensors())
    names = {info.name for info in open_checkpoint(single).tensors}
    weight_map = dict.fromkeys(names, "model.safetensors")
    (single / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    assert len(open_checkpoint(single).tensors) == len(names)
