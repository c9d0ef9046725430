"""The demo's sizes: one preset for the default run and one for ``--quick`` (the test's).

Measured on the 2-core development machine: the default costs about 4 minutes of CPU time
(6 to 14 minutes of wall time while other jobs shared the cores), quick about a minute. Sizes
were chosen for time only; nothing here was tuned to make the outcome come out one way or
another.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from shadow_suite.contract import DEFAULT_VARIANT_SEED, benchmark_group

MODEL_NAMES = ("base", "benchmark-aligned", "coverage-expanding")


@dataclass(frozen=True)
class DemoConfig:
    mode: str
    n_items: int
    """Evaluated items per task (lm-eval's --limit): the first n of each test split."""
    benchmarks: tuple[str, ...] = ("mmlu", "arc_challenge")
    vocab_size: int = 2048
    hidden_size: int = 128
    """Four attention heads of 32 (vLLM's CPU kernels need a head size of at least 32)."""
    intermediate_size: int = 512
    num_layers: int = 4
    num_heads: int = 4
    seq_len: int = 256
    pretrain_batch_size: int = 8
    pretrain_tokens: int = 786_432
    pretrain_lr: float = 3e-3
    pretrain_prose_per_epoch: int = 200
    """GSM8K solutions per pretraining pass, beside every practice item in two forms."""
    finetune_batch_size: int = 4
    """Sequences per step; both fine-tunes take the same steps on the same number of tokens."""
    finetune_tokens: int = 131_072
    finetune_lr: float = 3e-3
    train_threads: int = 1
    """Torch threads while training, fixed whatever the machine: CPU kernels split their
    reductions by thread count, so another count gives other rounding and other models. One
    thread: the same on every machine, and no slowdown when other jobs share the cores."""
    seed: int = 0
    """Model initialisation, data order and templates."""
    variant_seed: int = DEFAULT_VARIANT_SEED
    """The task pack's variant seed (its default)."""
    eval_batch_size: str = "32"

    def record(self, *fields: str) -> dict[str, Any]:
        """The settings that decide an artefact (compared on rerun to reuse it)."""
        full = asdict(self)
        return {k: full[k] for k in fields} if fields else full

    @property
    def tasks(self) -> tuple[str, ...]:
        return tuple(benchmark_group(b) for b in self.benchmarks)


DEFAULT = DemoConfig(mode="default", n_items=25)
QUICK = replace(
    DEFAULT,
    mode="quick",
    n_items=12,
    num_layers=2,
    pretrain_tokens=196_608,
    finetune_tokens=16_384,
)

# fields that decide each artefact: a rerun reuses it when these are unchanged
BASE_FIELDS = (
    "vocab_size",
    "hidden_size",
    "intermediate_size",
    "num_layers",
    "num_heads",
    "seq_len",
    "pretrain_batch_size",
    "pretrain_tokens",
    "pretrain_lr",
    "pretrain_prose_per_epoch",
    "train_threads",
    "seed",
)
FINETUNE_FIELDS = (
    *BASE_FIELDS,
    "benchmarks",
    "n_items",
    "finetune_batch_size",
    "finetune_tokens",
    "finetune_lr",
)
