"""Write a random Llama-shaped bf16 checkpoint as sharded safetensors (for the benchmarks).

Tensors are generated one at a time (on the GPU when there is one) and written shard by shard,
so writing a 7B-shaped checkpoint needs about one shard of host memory.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Shape:
    layers: int = 32
    hidden: int = 4096
    intermediate: int = 11008
    vocab: int = 32000

    def scaled(self, factor: int) -> Shape:
        """Every dimension divided by ``factor`` (layers too, at least 2)."""
        return Shape(
            max(2, self.layers // factor),
            max(8, self.hidden // factor),
            max(8, self.intermediate // factor),
            max(8, self.vocab // factor),
        )

    def tensor_shapes(self) -> list[tuple[str, tuple[int, ...]]]:
        h, i = self.hidden, self.intermediate
        out: list[tuple[str, tuple[int, ...]]] = [("model.embed_tokens.weight", (self.vocab, h))]
        for n in range(self.layers):
            p = f"model.layers.{n}."
            out += [
                (p + "input_layernorm.weight", (h,)),
                (p + "self_attn.q_proj.weight", (h, h)),
                (p + "self_attn.k_proj.weight", (h, h)),
                (p + "self_attn.v_proj.weight", (h, h)),
                (p + "self_attn.o_proj.weight", (h, h)),
                (p + "post_attention_layernorm.weight", (h,)),
                (p + "mlp.gate_proj.weight", (i, h)),
                (p + "mlp.up_proj.weight", (i, h)),
                (p + "mlp.down_proj.weight", (h, i)),
            ]
        out += [("model.norm.weight", (h,)), ("lm_head.weight", (self.vocab, h))]
        return out

    def parameters(self) -> int:
        total = 0
        for _, shape in self.tensor_shapes():
            count = 1
            for d in shape:
                count *= d
            total += count
        return total


def write_checkpoint(folder: Path, shape: Shape, shard_bytes: int = 2 << 30, seed: int = 0) -> Path:
    """Random N(0, 0.02^2) bf16 weights (norm weights 1), sharded like the hub's checkpoints."""
    import torch
    from safetensors.torch import save_file

    device = "cuda" if torch.cuda.is_available() else "cpu"
    gen = torch.Generator(device=device).manual_seed(seed)
    folder.mkdir(parents=True, exist_ok=True)
    shapes = shape.tensor_shapes()
    groups: list[list[tuple[str, tuple[int, ...]]]] = [[]]
    size = 0
    for name, dims in shapes:
        nbytes = 2
        for d in dims:
            nbytes *= d
        if groups[-1] and size + nbytes > shard_bytes:
            groups.append([])
            size = 0
        groups[-1].append((name, dims))
        size += nbytes
    weight_map: dict[str, str] = {}
    for index, group in enumerate(groups):
        file = f"model-{index + 1:05d}-of-{len(groups):05d}.safetensors"
        tensors = {}
        for name, dims in group:
            if len(dims) == 1:
                tensors[name] = torch.ones(dims, dtype=torch.bfloat16)
            else:
                values = torch.randn(dims, generator=gen, device=device, dtype=torch.float32)
                tensors[name] = (values * 0.02).to(torch.bfloat16).cpu()
            weight_map[name] = file
        save_file(tensors, str(folder / file))
        del tensors
    index_doc = {"metadata": {"total_size": 2 * shape.parameters()}, "weight_map": weight_map}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index_doc))
    config = {
        "model_type": "llama",
        "architectures": ["LlamaForCausalLM"],
        "hidden_size": shape.hidden,
        "intermediate_size": shape.intermediate,
        "num_hidden_layers": shape.layers,
        "vocab_size": shape.vocab,
        "torch_dtype": "bfloat16",
        "synthetic": asdict(shape),
    }
    (folder / "config.json").write_text(json.dumps(config))
    return folder
