"""Training on documents, one document per row: the world's models learn from short questions
and paragraphs, each seen alone (padded to its batch's longest, padding ignored).

Why not packed sequences (``shadow_suite.demo.train``)? Packing puts several questions in one
window, and a model that must find "the option whose text is the answer" then also finds the
options of the question before; measured on the world, the lettered skill did not appear in
packed training within the budget and did in this one (``benchmarks/validity/README.md``).

A member's budget is counted in real (non-padding) tokens: every member of a population
trains on exactly the same number, cut at the last document. Deterministic: seeded order,
deterministic kernels, a fixed thread count (as ``demo.train.train``).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from shadow_suite.errors import ShadowSuiteError
from shadow_suite.world.supervision import AttentionTarget, lettered_targets
from shadow_suite.world.texts import Doc

Log = Callable[[str], None]


MAX_DOC_TOKENS = 256
"""Longest document trained on (tokens; longer ones are cut): every world document fits."""


@dataclass(frozen=True)
class Encoded:
    """Documents as token ids with a per-token loss weight (the weight of predicting that
    token), each ending in EOS."""

    ids: list[list[int]]
    weights: list[list[float]]
    attention: list[list[AttentionTarget]]
    """Per document, the attention targets of its question (``world.supervision``)."""

    @property
    def tokens(self) -> int:
        return sum(len(x) for x in self.ids)


Tokenize = Callable[[list[str]], list[tuple[list[int], list[tuple[int, int]]]]]
"""Texts -> for each, token ids and each token's character span."""


def tokenize_with(tokenizer: Any) -> Tokenize:
    """A batch tokenizer on the fast tokenizer's Rust core (no special tokens): the Python
    wrapper costs milliseconds a call, and a base model trains on hundreds of thousands."""
    backend = tokenizer.backend_tokenizer

    def tokenize(texts: list[str]) -> list[tuple[list[int], list[tuple[int, int]]]]:
        encodings = backend.encode_batch(texts, add_special_tokens=False)
        return [(list(e.ids), [tuple(o) for o in e.offsets]) for e in encodings]

    return tokenize


def encode_documents(
    docs: Sequence[Doc],
    tokenize: Tokenize,
    eos_id: int,
    context_weight: float,
    max_len: int,
    num_layers: int,
    supervise: bool,
) -> Encoded:
    """Each document's context tokens weigh ``context_weight``, its target's and EOS weigh 1;
    documents longer than ``max_len`` tokens are refused (their end would be lost). With
    ``supervise``, lettered questions carry their attention targets."""
    ids: list[list[int]] = []
    weights: list[list[float]] = []
    attention: list[list[AttentionTarget]] = []
    heads = tokenize([d.context for d in docs])
    tails = tokenize([d.target for d in docs])
    for doc, (head, offsets), (tail, _) in zip(docs, heads, tails, strict=True):
        row = [*head, *tail, eos_id]
        if len(row) > max_len:
            raise ShadowSuiteError(f"a training document has {len(row)} tokens, over {max_len}")
        ids.append(row)
        weights.append([context_weight] * len(head) + [1.0] * (len(tail) + 1))
        targets: list[AttentionTarget] = []
        if supervise and doc.gold is not None and head:
            targets = lettered_targets(
                doc.context, offsets, doc.gold, num_layers, len(tail), doc.sought_char
            )
        attention.append(targets)
    return Encoded(ids, weights, attention)


def exactly(
    render_epoch: Callable[[int], Sequence[Doc]],
    encode: Callable[[Sequence[Doc]], Encoded],
    n_tokens: int,
    max_epochs: int = 100_000,
) -> tuple[Encoded, int]:
    """Documents of epochs 0, 1, ... until exactly ``n_tokens`` tokens (the last document cut
    short, keeping at least 2 tokens); returns them and the number of epochs started."""
    ids: list[list[int]] = []
    weights: list[list[float]] = []
    attention: list[list[AttentionTarget]] = []
    total = 0
    epoch = 0
    while n_tokens - total >= 2:
        if epoch >= max_epochs:
            raise ShadowSuiteError(f"corpus too small for {n_tokens} tokens")
        batch = encode(render_epoch(epoch))
        if not batch.ids:
            raise ShadowSuiteError("empty training corpus")
        for row, w, targets in zip(batch.ids, batch.weights, batch.attention, strict=True):
            room = n_tokens - total
            if room < 2:
                break
            ids.append(row[:room])
            weights.append(w[:room])
            attention.append([t for t in targets if t.query < room and t.key < room])
            total += len(ids[-1])
        epoch += 1
    if total != n_tokens:  # one token of room was left: the last row takes one more
        ids[-1] = ids[-1] + ids[-1][-1:]
        weights[-1] = weights[-1] + [0.0]
    return Encoded(ids, weights, attention), epoch


@dataclass(frozen=True)
class Schedule:
    lr: float
    batch_size: int
    """Documents per step."""
    warmup_share: float = 0.05
    weight_decay: float = 0.01
    seed: int = 0
    threads: int = 1
    attention_weight: float = 0.0
    """Weight of the attention targets' loss (0: plain next-token training)."""


def lr_at(step: int, steps: int, schedule: Schedule) -> float:
    """Linear warm-up, then cosine decay to a tenth of the peak."""
    warmup = max(1, round(schedule.warmup_share * steps))
    if step < warmup:
        return schedule.lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return schedule.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def train_documents(
    model: Any, data: Encoded, schedule: Schedule, pad_id: int, log: Log, label: str
) -> dict[str, Any]:
    """Train ``model`` in place on ``data`` (seeded order, one document per row); returns the
    run's figures. The caller's torch thread count and determinism setting are restored."""
    import torch

    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(schedule.threads)
    torch.use_deterministic_algorithms(True)
    try:
        return _train(model, data, schedule, pad_id, log, label)
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)


def _batches(data: Encoded, schedule: Schedule) -> list[list[int]]:
    order = list(range(len(data.ids)))
    random.Random(f"order/{schedule.seed}").shuffle(order)
    size = schedule.batch_size
    return [order[i : i + size] for i in range(0, len(order), size)]


def _train(
    model: Any, data: Encoded, schedule: Schedule, pad_id: int, log: Log, label: str
) -> dict[str, Any]:
    import torch

    torch.manual_seed(schedule.seed)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimiser = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": schedule.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=schedule.lr,
        betas=(0.9, 0.95),
    )
    attn_implementation = model.config._attn_implementation
    if schedule.attention_weight > 0:
        model.set_attn_implementation("eager")  # the attention weights are read
    batches = _batches(data, schedule)
    steps = len(batches)
    every = max(1, steps // 10)
    model.train()
    started = time.perf_counter()
    losses: list[float] = []
    for step, rows in enumerate(batches):
        width = max(len(data.ids[r]) for r in rows)
        ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
        weight = torch.zeros((len(rows), width), dtype=torch.float32)
        for i, r in enumerate(rows):
            ids[i, : len(data.ids[r])] = torch.tensor(data.ids[r])
            weight[i, : len(data.weights[r])] = torch.tensor(data.weights[r])
        for group in optimiser.param_groups:
            group["lr"] = lr_at(step, steps, schedule)
        targets = [(i, t) for i, r in enumerate(rows) for t in data.attention[r]]
        supervised = schedule.attention_weight > 0 and bool(targets)
        # right padding under a causal mask: no real token ever attends to a pad
        out = model(input_ids=ids, output_attentions=supervised)
        logits = out.logits
        losses_t = torch.nn.functional.cross_entropy(
            logits[:, :-1].reshape(-1, logits.size(-1)), ids[:, 1:].reshape(-1), reduction="none"
        )
        w = weight[:, 1:].reshape(-1)
        loss = (losses_t * w).sum() / w.sum().clamp_min(1e-9)
        if supervised:
            picked = torch.stack(
                [out.attentions[t.layer][i, t.head, t.query, t.key] for i, t in targets]
            )
            loss = loss - schedule.attention_weight * torch.log(picked + 1e-6).mean()
        loss.backward()  # type: ignore[no-untyped-call]  # torch's own signature is untyped
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        optimiser.zero_grad(set_to_none=True)
        losses.append(loss.item())
        if (step + 1) % every == 0 or step + 1 == steps:
            elapsed = time.perf_counter() - started
            left = elapsed / (step + 1) * (steps - step - 1)
            log(f"  {label}: step {step + 1}/{steps}  loss {loss.item():.3f}  ~{left:.0f} s left")
    model.eval()
    model.set_attn_implementation(attn_implementation)
    return {
        "threads": schedule.threads,
        "torch": torch.__version__,
        "steps": steps,
        "tokens": data.tokens,
        "documents": len(data.ids),
        "seconds": round(time.perf_counter() - started, 2),
        "first_loss": round(losses[0], 4),
        "final_loss": round(sum(losses[-every:]) / len(losses[-every:]), 4),
    }
