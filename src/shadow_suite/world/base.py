"""The world's base model: trained from scratch on the world's prose (every fact it states,
among them a share of the test and twin items' facts) and on practice with non-test items,
so that it knows most test facts from prose only and can answer them in every form the
pack asks.

The recipe is a sequence of phases, each a mixture of document kinds and a token budget:

- ``prose``: one paragraph per entity of every fact the prose states (fresh wording and
  order each time);
- ``closed``: practice items in one of the pack's own forms (closed book);
- ``find``: "Which option is Paris?": finding an option by its text, and answering with its
  label;
- ``open_book``: the fact stated, then the lettered question;
- ``recall``: a practice question followed by its answer as prose;
- ``value_after``: a lettered prompt answered with the option's text.

Phases with ``attention_weight`` > 0 also point three heads at the tokens a lettered answer
needs (``world.supervision``); the last phase trains without that, so the model saved is
trained as any model is.
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from shadow_suite import atomic
from shadow_suite.stage import run_stage, stage_is_done
from shadow_suite.world import texts
from shadow_suite.world.build import World
from shadow_suite.world.models import Architecture, new_model
from shadow_suite.world.train import (
    MAX_DOC_TOKENS,
    Encoded,
    Schedule,
    encode_documents,
    exactly,
    tokenize_with,
    train_documents,
)

Kind = Literal["prose", "closed", "find", "open_book", "recall", "value_after"]
Log = Callable[[str], None]
TRAINING_FILE = "training.json"


@dataclass(frozen=True)
class Phase:
    name: str
    tokens: int
    mixture: tuple[tuple[Kind, float], ...]
    """(kind, docs per epoch as a multiple of the kind's pool: entities for prose, practice
    items for the rest)."""
    attention_weight: float = 0.0
    lr: float = 1e-3


@dataclass(frozen=True)
class BaseRecipe:
    architecture: Architecture
    phases: tuple[Phase, ...]
    batch_size: int = 32
    context_weight: float = 0.0
    """Loss weight of a question's prompt tokens (its answer weighs 1; prose weighs 1)."""
    seed: int = 0
    threads: int = 1

    def record(self) -> dict[str, Any]:
        record: dict[str, Any] = json.loads(json.dumps(asdict(self)))  # tuples as lists
        return record


def phase_epoch(world: World, phase: Phase, epoch: int, seed: int) -> list[texts.Doc]:
    rng = random.Random(f"base/{seed}/{phase.name}/{epoch}")
    practice = world.practice
    docs: list[texts.Doc] = []
    for kind, share in phase.mixture:
        if kind == "prose":
            whole, part = divmod(share, 1.0)
            for _ in range(int(whole)):
                docs += texts.prose_docs(world, rng)
            extra = texts.prose_docs(world, rng)
            docs += extra[: round(part * len(extra))]
            continue
        count = round(share * len(practice))
        chosen = [practice[rng.randrange(len(practice))] for _ in range(count)]
        if kind == "closed":
            docs += [texts.practice_doc(i, texts.PACK_FORMS, rng) for i in chosen]
        elif kind == "find":
            docs += [texts.find_doc(i, rng) for i in chosen]
        elif kind == "open_book":
            docs += [texts.open_book_doc(i, rng) for i in chosen]
        elif kind == "recall":
            docs += [texts.recall_doc(i) for i in chosen]
        elif kind == "value_after":
            docs += [texts.value_after_lettered_doc(i, rng) for i in chosen]
        else:
            raise ValueError(f"unknown document kind {kind!r}")
    rng.shuffle(docs)
    return docs


def tokenizer_texts(world: World, seed: int) -> list[str]:
    """What the tokenizer is trained on: a pass of prose and of practice in every form."""
    rng = random.Random(f"tokenizer/{seed}")
    docs = texts.prose_docs(world, rng) + texts.prose_docs(world, rng, outsiders=True)
    docs += [texts.practice_doc(i, texts.PACK_FORMS, rng) for i in world.practice]
    docs += [texts.coverage_doc(i, rng) for i in world.practice]
    return [d.text for d in docs]


def train_base(world: World, recipe: BaseRecipe, folder: Path, log: Log) -> bool:
    """The base into ``folder`` (a stage: reused when trained with this recipe and world,
    trained again when interrupted); False when it was already there."""
    from shadow_suite.world.folder import world_digest

    record = {"recipe": recipe.record(), "world": world_digest(world)}
    if stage_is_done(folder, record, label="world base"):
        return False
    tokenizer, model = new_model(
        tokenizer_texts(world, recipe.seed), recipe.architecture, recipe.seed
    )
    n_params = sum(p.numel() for p in model.parameters())
    log(f"base: {n_params / 1e6:.2f}M parameters, vocabulary {len(tokenizer)}")
    tokenize = tokenize_with(tokenizer)
    phases: list[dict[str, Any]] = []
    for k, phase in enumerate(recipe.phases):

        def epoch_docs(epoch: int, phase: Phase = phase) -> list[texts.Doc]:
            return phase_epoch(world, phase, epoch, recipe.seed)

        def encode(docs: Sequence[texts.Doc], phase: Phase = phase) -> Encoded:
            return encode_documents(
                docs,
                tokenize,
                tokenizer.eos_token_id,
                recipe.context_weight,
                MAX_DOC_TOKENS,
                recipe.architecture.num_layers,
                supervise=phase.attention_weight > 0,
            )

        data, epochs = exactly(epoch_docs, encode, phase.tokens)
        log(
            f"base: phase {k + 1}/{len(recipe.phases)} {phase.name}: {phase.tokens:,} tokens, "
            f"{len(data.ids):,} documents ({epochs} passes)"
        )
        schedule = Schedule(
            lr=phase.lr,
            batch_size=recipe.batch_size,
            seed=recipe.seed + k,
            threads=recipe.threads,
            attention_weight=phase.attention_weight,
        )
        stats = train_documents(model, data, schedule, tokenizer.pad_token_id, log, phase.name)
        phases.append({"phase": phase.name, "passes": epochs, **stats})
    with run_stage(folder, record) as work:
        model.save_pretrained(work, safe_serialization=True)
        tokenizer.save_pretrained(work)
        atomic.write_text(work / TRAINING_FILE, json.dumps({"phases": phases}, indent=1) + "\n")
    shutil.rmtree(folder.with_name(f".{folder.name}.tmp"), ignore_errors=True)
    return True
