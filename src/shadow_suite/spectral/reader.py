"""Find a model's weight files and read its tensors one at a time.

Safetensors is parsed here rather than through ``safe_open`` so that every defect is named
precisely before any compute starts: a header that is not JSON, offsets that run past the end of
a truncated shard, an index naming a shard that is not there. Each tensor is then bulk-read with
one ``readinto`` into its own buffer (no whole-file map kept alive, so peak memory is the largest
tensor, not the model). Pickle checkpoints (``pytorch_model.bin``) are refused unless the caller
opts in, and then loaded with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import json
import math
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from shadow_suite.errors import ShadowSuiteError

# safetensors dtype -> (bytes per element, kind). Only "float" tensors get a spectrum.
DTYPES: dict[str, tuple[float, str]] = {
    "F64": (8, "float"),
    "F32": (4, "float"),
    "F16": (2, "float"),
    "BF16": (2, "float"),
    "F8_E4M3": (1, "float8"),
    "F8_E5M2": (1, "float8"),
    "I64": (8, "int"),
    "I32": (4, "int"),
    "I16": (2, "int"),
    "I8": (1, "int"),
    "U64": (8, "int"),
    "U32": (4, "int"),
    "U16": (2, "int"),
    "U8": (1, "int"),
    "BOOL": (1, "int"),
    "F4": (0.5, "float4"),
    "F6_E2M3": (0.75, "float4"),
    "F6_E3M2": (0.75, "float4"),
    "F8_E8M0": (1, "float8"),
}

# Storage precision of the float dtypes: significand bits including the implicit one. The
# rounding noise floor of an update follows from it (see metrics.rounding_noise).
SIGNIFICAND_BITS: dict[str, int] = {"F64": 53, "F32": 24, "F16": 11, "BF16": 8}

MAX_HEADER_BYTES = 100_000_000  # the safetensors library's own limit
SAFETENSORS_SINGLE = "model.safetensors"
SAFETENSORS_INDEX = "model.safetensors.index.json"

# Suffixes of quantization side tensors (GPTQ/AWQ/bitsandbytes/fp8): never real weights.
_QUANT_SUFFIXES = (
    ".qweight",
    ".qzeros",
    ".scales",
    ".g_idx",
    ".absmax",
    ".quant_map",
    ".quant_state",
    ".SCB",
    ".weight_format",
    ".weight_scale",
    ".weight_scale_inv",
    ".input_scale",
)


@dataclass(frozen=True)
class TensorInfo:
    """Where one tensor lives and what it is; reading it is ``read_tensor(info)``."""

    name: str
    dtype: str  # safetensors dtype string, e.g. "BF16"
    shape: tuple[int, ...]
    path: Path
    offset: int  # absolute byte offset of the data in the file
    nbytes: int
    loader: Callable[[], Any] | None = field(default=None, compare=False, repr=False)

    @property
    def numel(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    def skip_reason(self) -> str | None:
        """Why this tensor gets no spectrum, or None when it does (a documented rule)."""
        if self.name.endswith(_QUANT_SUFFIXES) or "quant" in self.name.rsplit(".", 1)[-1]:
            return f"quantization side tensor ({self.dtype})"
        kind = DTYPES.get(self.dtype, (0, "unknown"))[1]
        if kind == "int":
            return f"integer dtype {self.dtype}: quantized or packed weights"
        if kind in ("float8", "float4"):
            return f"{self.dtype}: quantized weights whose scales are stored apart"
        if kind != "float":
            return f"unsupported dtype {self.dtype}"
        if len(self.shape) < 2:
            return f"{len(self.shape)}-D tensor (norm weight or bias): no spectrum"
        if min(self.shape) < 2:
            return f"shape {list(self.shape)}: fewer than 2 rows or columns"
        return None


@dataclass(frozen=True)
class Checkpoint:
    """All tensors of one model folder, in file order, plus what was found about it."""

    root: Path
    files: tuple[Path, ...]
    tensors: tuple[TensorInfo, ...]
    format: str  # "safetensors" or "pytorch-pickle"
    config: dict[str, Any]


def _constant(value: Any) -> Callable[[], Any]:
    """A loader that returns an already loaded tensor."""
    return lambda: value


def _unique_names(path: Path) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    """A JSON object hook that refuses a name given twice (``json`` would keep the last one,
    so one tensor's bytes could be read under another's name)."""

    def build(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in pairs:
            if name in out:
                raise ShadowSuiteError(f"{path}: corrupt safetensors header (name {name!r} twice)")
            out[name] = value
        return out

    return build


def _whole_numbers(value: Any, length: int | None = None) -> list[int] | None:
    """``value`` as a list of non-negative integers (of ``length``), else None."""
    if not isinstance(value, list) or (length is not None and len(value) != length):
        return None
    if not all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in value):
        return None
    return list(value)


def _parse_header(path: Path) -> list[TensorInfo]:
    """Validate a safetensors file as the safetensors library does and list its tensors.

    Every rule of the format: an 8-byte little-endian header length within the library's
    limit and the file; a UTF-8 JSON object; ``__metadata__`` mapping strings to strings;
    per tensor a known dtype, a shape of whole numbers and two ``data_offsets`` whose span is
    exactly the shape's bytes; the spans, in order, tile the data buffer from its first byte
    to its last with no gap and no overlap. One rule more than the library: a name given
    twice is refused (the library keeps one of the two entries)."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            raise ShadowSuiteError(f"{path}: truncated safetensors file ({size} bytes, no header)")
        (header_len,) = struct.unpack("<Q", head)
        if header_len > MAX_HEADER_BYTES or 8 + header_len > size:
            raise ShadowSuiteError(
                f"{path}: corrupt or truncated safetensors file "
                f"(header claims {header_len} bytes, file has {size})"
            )
        raw = handle.read(header_len)
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_unique_names(path))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ShadowSuiteError(f"{path}: corrupt safetensors header ({err})") from None
    if not isinstance(header, dict):
        raise ShadowSuiteError(f"{path}: corrupt safetensors header (not a JSON object)")
    metadata = header.pop("__metadata__", None)
    if metadata is not None and not (
        isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())
    ):
        raise ShadowSuiteError(
            f"{path}: corrupt safetensors header (__metadata__ must map strings to strings)"
        )
    data_start = 8 + header_len
    infos: list[TensorInfo] = []
    for name, entry in header.items():
        fields = entry if isinstance(entry, dict) else {}
        dtype, shape = fields.get("dtype"), _whole_numbers(fields.get("shape"))
        offsets = _whole_numbers(fields.get("data_offsets"), 2)
        if not isinstance(dtype, str) or shape is None or offsets is None:
            raise ShadowSuiteError(
                f"{path}: tensor {name!r} has a malformed header entry (needs a dtype, a shape "
                "of whole numbers and two data_offsets)"
            )
        if dtype not in DTYPES:
            raise ShadowSuiteError(f"{path}: tensor {name!r} has unknown dtype {dtype!r}")
        begin, end = offsets
        bits = math.prod(shape) * round(DTYPES[dtype][0] * 8)
        if end < begin or bits % 8 or end - begin != bits // 8:
            raise ShadowSuiteError(
                f"{path}: tensor {name!r} spans bytes {begin}-{end} but {dtype}{shape} "
                f"needs {bits / 8:g}"
            )
        infos.append(TensorInfo(name, dtype, tuple(shape), path, data_start + begin, end - begin))
    infos.sort(key=lambda info: (info.offset, info.nbytes))  # read sequentially through the file
    covered, previous = data_start, None
    for info in infos:
        if info.offset != covered:
            what = "overlaps" if info.offset < covered else "leaves a gap after"
            after = f"tensor {previous!r}" if previous else "the header"
            raise ShadowSuiteError(
                f"{path}: corrupt safetensors header (tensor {info.name!r} {what} {after})"
            )
        covered, previous = info.offset + info.nbytes, info.name
    if covered > size:
        raise ShadowSuiteError(
            f"{path}: truncated: tensor {previous!r} ends at byte {covered}, file has {size}"
        )
    if covered < size:
        raise ShadowSuiteError(
            f"{path}: corrupt safetensors file ({size - covered} bytes after the last tensor "
            "that no header entry covers)"
        )
    return infos


def _load_config(root: Path) -> dict[str, Any]:
    config_path = root / "config.json"
    if not config_path.is_file():
        return {}
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ShadowSuiteError(f"{config_path}: not valid JSON ({err})") from None
    except OSError as err:
        raise ShadowSuiteError(f"{config_path}: cannot read ({err.strerror or err})") from None
    if not isinstance(config, dict):
        raise ShadowSuiteError(f"{config_path}: not a JSON object")
    return config


def _read_index(index_path: Path) -> dict[str, str]:
    """The index's ``weight_map`` (tensor name -> shard file name), checked for shape."""
    try:
        index = json.loads(index_path.read_text(encoding="utf-8"))
        weight_map = index["weight_map"]
        if not isinstance(weight_map, dict):
            raise TypeError("weight_map")
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
        raise ShadowSuiteError(f"{index_path}: not a valid index (needs a 'weight_map')") from None
    for name, shard in weight_map.items():
        if not isinstance(shard, str) or not shard or Path(shard).name != shard:
            raise ShadowSuiteError(
                f"{index_path}: tensor {name!r} is mapped to {shard!r}, not a shard file name"
            )
    return weight_map


def _index_files(index_path: Path) -> list[Path]:
    files = [index_path.parent / name for name in sorted(set(_read_index(index_path).values()))]
    for file in files:
        if not file.is_file():
            raise ShadowSuiteError(f"{index_path}: names shard {file.name}, which is missing")
    return files


def _check_index(index_path: Path, infos: list[TensorInfo]) -> None:
    """The index and its shards must agree tensor for tensor: a loader that follows the index
    would otherwise read another tensor, or miss one, without a word."""
    weight_map = _read_index(index_path)
    where = {info.name: info.path.name for info in infos}
    for name, shard in sorted(weight_map.items()):
        if name not in where:
            raise ShadowSuiteError(
                f"{index_path}: lists tensor {name!r} in {shard}, which does not hold it"
            )
        if where[name] != shard:
            raise ShadowSuiteError(
                f"{index_path}: lists tensor {name!r} in {shard}, but {where[name]} holds it"
            )
    unlisted = sorted(set(where) - set(weight_map))
    if unlisted:
        raise ShadowSuiteError(
            f"{index_path}: does not list tensor {unlisted[0]!r} of {where[unlisted[0]]} "
            f"({len(unlisted)} unlisted)"
        )


def weight_files(root: Path) -> tuple[list[Path], Path | None]:
    """The safetensors files a loader reads from ``root`` and the index naming them (or None).

    A folder holding both a single ``model.safetensors`` and an index of other shards is
    refused: transformers loads the single file, vLLM the indexed shards, so the two backends
    would evaluate different weights, and neither is known to be the model."""
    index = root / SAFETENSORS_INDEX
    if not index.is_file():
        return sorted(root.glob("*.safetensors")), None
    files = _index_files(index)
    single = root / SAFETENSORS_SINGLE
    if single.is_file() and files != [single]:
        raise ShadowSuiteError(
            f"{root}: holds both {SAFETENSORS_SINGLE} and {SAFETENSORS_INDEX} naming other "
            f"shards; transformers loads the first, vLLM the second: remove the one that is "
            "not the model"
        )
    return files, index


def _resolve(model: str | os.PathLike[str]) -> Path:
    """A local folder, or (when online) a hub repo id downloaded as safetensors + config only."""
    root = Path(model)
    if root.is_dir():
        return root
    if root.is_file():
        raise ShadowSuiteError(f"{root}: expected a model folder, got a file")
    text = str(model)
    if text.count("/") == 1 and not text.startswith((".", "/", "~")):
        try:
            from huggingface_hub import snapshot_download

            return Path(
                snapshot_download(text, allow_patterns=["*.safetensors", "*.json"])  # nosec
            )
        except Exception as err:
            raise ShadowSuiteError(
                f"{text}: no such folder, and downloading it from the hub failed "
                f"({type(err).__name__})"
            ) from None
    raise ShadowSuiteError(f"{root}: no such model folder")


def open_checkpoint(model: str | os.PathLike[str], allow_pickle: bool = False) -> Checkpoint:
    """List every tensor of a model folder (safetensors, sharded or not) without reading data."""
    root = _resolve(model)
    config = _load_config(root)
    files, index = weight_files(root)
    if files:
        infos = [info for file in files for info in _parse_header(file)]
        seen: set[str] = set()
        for info in infos:
            if info.name in seen:
                raise ShadowSuiteError(f"{info.path}: tensor {info.name!r} appears in two shards")
            seen.add(info.name)
        if index is not None:
            _check_index(index, infos)
        return Checkpoint(root, tuple(files), tuple(infos), "safetensors", config)
    pickles = sorted(root.glob("pytorch_model*.bin"))
    if not pickles:
        raise ShadowSuiteError(f"{root}: no *.safetensors or pytorch_model.bin files")
    if not allow_pickle:
        raise ShadowSuiteError(
            f"{root}: only pickle weights ({pickles[0].name}); unpickling can run code, so they "
            "are refused: convert to safetensors, or pass --allow-pickle to load them with "
            "torch.load(weights_only=True)"
        )
    return Checkpoint(root, tuple(pickles), tuple(_pickle_infos(pickles)), "pytorch-pickle", config)


_TORCH_TO_ST = {"float32": "F32", "float16": "F16", "bfloat16": "BF16", "float64": "F64"}


def _pickle_infos(files: list[Path]) -> list[TensorInfo]:
    import torch

    infos: list[TensorInfo] = []
    for file in files:
        try:
            state = torch.load(file, map_location="cpu", weights_only=True, mmap=True)
        except Exception as err:
            raise ShadowSuiteError(f"{file}: cannot load with weights_only=True ({err})") from None
        for name, tensor in state.items():
            dtype = _TORCH_TO_ST.get(str(tensor.dtype).removeprefix("torch."), "U8")
            infos.append(
                TensorInfo(
                    name,
                    dtype,
                    tuple(tensor.shape),
                    file,
                    0,
                    tensor.numel() * tensor.element_size(),
                    loader=_constant(tensor),
                )
            )
    return infos


def read_tensor(info: TensorInfo) -> tuple[Any, bytearray | None]:
    """The tensor on the CPU in its stored dtype, and its raw bytes (None for pickle tensors).

    One ``readinto`` per tensor: the bytes are owned by this tensor alone and freed with it.
    """
    import torch

    if info.loader is not None:
        tensor = info.loader().contiguous()
        return tensor, None
    buffer = bytearray(info.nbytes)
    with info.path.open("rb") as handle:
        handle.seek(info.offset)
        got = handle.readinto(buffer)
    if got != info.nbytes:
        raise ShadowSuiteError(f"{info.path}: truncated while reading tensor {info.name!r}")
    torch_dtype = {
        "F64": torch.float64,
        "F32": torch.float32,
        "F16": torch.float16,
        "BF16": torch.bfloat16,
    }[info.dtype]
    if info.nbytes == 0:
        return torch.empty(info.shape, dtype=torch_dtype), buffer
    tensor = torch.frombuffer(buffer, dtype=torch_dtype).reshape(info.shape)
    return tensor, buffer
