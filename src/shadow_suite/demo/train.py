"""Token streams of an exact length and a plain PyTorch training loop for the demo's models.

Both fine-tunes train on streams of exactly the same number of tokens, packed into the same
number of sequences, with the same optimiser and schedule: the same compute. A model folder
is a stage (``shadow_suite.stage``): trained into a temporary folder that is renamed into
place with its ``stage.json`` (the settings it was trained with), so an interrupted run
trains again and a folder trained with other settings is refused.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shadow_suite import atomic
from shadow_suite.errors import ShadowSuiteError
from shadow_suite.stage import run_stage, stage_is_done

if TYPE_CHECKING:
    from shadow_suite.run import EvalSettings

TRAINING_FILE = "training.json"
"""Beside the weights: what the training run measured (loss, tokens per second...)."""
Log = Callable[[str], None]


@dataclass(frozen=True)
class TokenStream:
    ids: list[int]
    documents: int
    """Documents started (the last one may be cut at the budget)."""
    epochs: int
    """Passes over the corpus started."""


def fill_tokens(
    render_epoch: Callable[[int], list[str]],
    encode: Callable[[str], list[int]],
    eos_id: int,
    n_tokens: int,
    max_epochs: int = 10_000,
) -> TokenStream:
    """Documents of epoch 0, 1, ... each followed by EOS, until exactly ``n_tokens`` tokens."""
    ids: list[int] = []
    documents = 0
    epoch = 0
    while len(ids) < n_tokens:
        if epoch >= max_epochs:
            raise ShadowSuiteError(f"corpus too small for {n_tokens} tokens")
        texts = render_epoch(epoch)
        if not texts:
            raise ShadowSuiteError("empty training corpus")
        for text in texts:
            ids.extend(encode(text))
            ids.append(eos_id)
            documents += 1
            if len(ids) >= n_tokens:
                break
        epoch += 1
    return TokenStream(ids[:n_tokens], documents, epoch)


@dataclass(frozen=True)
class TrainSettings:
    tokens: int
    seq_len: int
    batch_size: int
    lr: float
    warmup_steps: int
    weight_decay: float = 0.01
    seed: int = 0
    threads: int = 1
    """Torch intra-op threads while training (fixed: see :func:`train`)."""

    @property
    def steps(self) -> int:
        return self.tokens // (self.seq_len * self.batch_size)


def lr_at(step: int, settings: TrainSettings) -> float:
    """Linear warm-up, then cosine decay to a tenth of the peak."""
    if step < settings.warmup_steps:
        return settings.lr * (step + 1) / settings.warmup_steps
    progress = (step - settings.warmup_steps) / max(1, settings.steps - settings.warmup_steps)
    return settings.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def train(model: Any, stream: TokenStream, settings: TrainSettings, log: Log, label: str) -> dict:
    """Train ``model`` in place on ``stream`` (next-token loss on every token); returns stats.

    Reproducible: seeded initial state and data order, deterministic kernels, and a fixed
    thread count whatever the machine has (CPU kernels split reductions by thread count, and
    another split rounds otherwise; over hundreds of steps that gives another model). The
    caller's thread count and determinism setting are restored afterwards."""
    import torch

    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(settings.threads)
    torch.use_deterministic_algorithms(True)
    try:
        return _train(model, stream, settings, log, label)
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)


def _train(model: Any, stream: TokenStream, settings: TrainSettings, log: Log, label: str) -> dict:
    import torch

    per_step = settings.seq_len * settings.batch_size
    if len(stream.ids) != settings.tokens or settings.tokens % per_step:
        raise ShadowSuiteError(
            f"{label}: {len(stream.ids)} tokens given, {settings.tokens} expected, "
            f"a multiple of {per_step}"
        )
    torch.manual_seed(settings.seed)
    data = torch.tensor(stream.ids, dtype=torch.long).view(-1, settings.seq_len)
    order = torch.randperm(data.shape[0], generator=torch.Generator().manual_seed(settings.seed))
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    optimiser = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": settings.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=settings.lr,
        betas=(0.9, 0.95),
    )
    model.train()
    started = time.perf_counter()
    losses: list[float] = []
    every = max(1, settings.steps // 10)
    for step in range(settings.steps):
        batch = data[order[step * settings.batch_size : (step + 1) * settings.batch_size]]
        for group in optimiser.param_groups:
            group["lr"] = lr_at(step, settings)
        loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        optimiser.zero_grad(set_to_none=True)
        losses.append(loss.item())
        if (step + 1) % every == 0 or step + 1 == settings.steps:
            elapsed = time.perf_counter() - started
            rate = (step + 1) * per_step / elapsed
            left = (settings.steps - step - 1) * per_step / rate
            log(
                f"  {label}: step {step + 1}/{settings.steps}  loss {loss.item():.3f}  "
                f"{rate:,.0f} tokens/s  ~{left:.0f} s left"
            )
    model.eval()
    return {
        "threads": settings.threads,
        "torch": torch.__version__,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "steps": settings.steps,
        "tokens": settings.tokens,
        "seconds": round(time.perf_counter() - started, 2),
        "first_loss": round(losses[0], 4),
        "final_loss": round(sum(losses[-every:]) / len(losses[-every:]), 4),
    }


def model_done(folder: Path, record: dict[str, Any]) -> bool:
    """True when ``folder`` holds a model trained with exactly ``record``'s settings; one
    line refusing a model trained with other settings."""
    return stage_is_done(folder, record, label="demo model")


def save_model(model: Any, tokenizer: Any, folder: Path, record: dict, stats: dict) -> None:
    """Weights (safetensors), tokenizer and the training's figures, as one stage: ``folder``
    is either absent or complete."""
    with run_stage(folder, record) as work:
        model.save_pretrained(work, safe_serialization=True)
        tokenizer.save_pretrained(work)
        atomic.write_text(work / TRAINING_FILE, json.dumps(stats, indent=1) + "\n")


def eval_settings(
    model_dir: Path,
    tasks: tuple[str, ...],
    n_items: int,
    seed: int,
    data_dir: Path | None,
    batch_size: str,
) -> EvalSettings:
    """How every demo and population model is evaluated: lm-eval's hf backend on the CPU, in
    float32 (as it was trained), on the first ``n_items`` of each task (``--limit``), the
    items the fine-tunes were trained on."""
    from shadow_suite.run import EvalSettings

    return EvalSettings(
        model="hf",
        model_args=f"pretrained={model_dir.resolve()},dtype=float32",
        tasks=tasks,
        limit=n_items,
        seed=seed,
        data_dir=str(data_dir) if data_dir else None,
        batch_size=batch_size,
        device="cpu",
    )
