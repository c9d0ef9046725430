"""What a variant is, and the seeding that makes every variant document reproducible.

A variant is a pure function ``(doc, rng) -> doc | None``. Its randomness comes only
from the ``rng`` it is given, which is derived from (benchmark, doc id, variant, seed)
by SHA-256, so a document's variant does not depend on the process, the platform, the
order items are processed in, or which other items are in the run.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from shadow_suite.errors import ShadowSuiteError

Doc = dict[str, Any]
Family = Literal["content", "format", "hard"]
FAMILIES: dict[Family, str] = {
    "content": "the question is the same; only its surface moves (option order, typos, "
    "wording, numbers)",
    "format": "the same item asked in another format (cloze vs lettered, label symbols, "
    "answer format): clean models move here too (format sensitivity)",
    "hard": "the task itself gets harder for every model ('none of the other answers', a "
    "distractor sentence): not a contamination probe on its own",
}
"""The variant families, with what each one tests (shown on the card)."""
Transform = Callable[[Doc, random.Random], Doc | None]

RENDER_FIELDS: tuple[str, ...] = ("shadow_prompt", "shadow_choices", "shadow_gold")
"""Fields a format variant sets so that one generic YAML template renders it."""


@dataclass(frozen=True)
class Variant:
    name: str
    """e.g. ``"permuted"``; the task is ``shadow_<benchmark>_<name>``."""
    benchmark: str
    """Key of ``shadow_suite.taskpack.suite.BENCHMARKS``."""
    transform: Transform
    """``(doc, rng) -> new doc | None``; None: the variant does not apply to this item."""
    label: Literal["preserved", "recomputed"]
    """Whether the correct answer is the original one (possibly moved) or recomputed."""
    fewshot: bool
    """True: applied to the few-shot examples too (format variants, so examples and
    question share one format). False: content variants; few-shot examples stay as they are."""
    description: str
    """One sentence for the report card."""
    skip_reason: str
    """Why ``transform`` returns None, as one phrase for the report."""
    family: Family = "content"
    """What the variant moves (see ``FAMILIES``): the verdict reports each family apart."""
    same_format_as: str | None = None
    """For a content variant asked in another format than ``orig`` (ARC's ``permuted`` is
    lettered, ``orig`` cloze): the variant that asks the unchanged item in that format, so
    the card can show the content effect alone (the variant against this one)."""
    metric: str | None = None
    """Per-item metric (``metric,filter``) when it differs from the benchmark's primary one
    (MMLU in cloze form is scored by ``acc_norm``, as lm-eval scores cloze tasks). The
    variant's task reports it on top of ``orig``'s metrics."""

    # What the variant's task changes in orig's lm-eval config: read by
    # ``shadow_suite.taskpack.generate``, which writes the task's YAML from these fields.
    renders: bool = False
    """True: its documents carry ``RENDER_FIELDS`` and its task reads the prompt, the scored
    choices and the gold from them (format variants; ARC's listed content variants)."""
    paired_fewshot: bool = False
    """True: few-shot examples by ``PairedSampler``, the ones ``orig`` gives the same item
    (in this variant's format). False: ``orig``'s sampler as it is (MMLU's first n of the
    subject are the same examples for every item already)."""
    task_config: Mapping[str, Any] = field(default_factory=dict, hash=False)
    """Further lm-eval task keys set over ``orig``'s, as the YAML writes them (MMLU cloze's
    ``description``, GSM8K answer_format's ``metric_list`` and ``filter_list``)."""
    task_config_note: str = ""
    """Why ``task_config`` is set: a comment above it in the generated YAML."""


@dataclass(frozen=True)
class _OnACopy:
    """A transform made safe to hand any document: it works on a deep copy, so the
    caller's document (and the few-shot split it belongs to) is never modified. A class
    rather than a closure so that variants pickle (lm-eval may ship tasks to workers)."""

    function: Callable[[Doc, random.Random], Doc | None]

    def __call__(self, doc: Doc, rng: random.Random) -> Doc | None:
        return self.function(copy.deepcopy(doc), rng)


def on_a_copy(function: Callable[[Doc, random.Random], Doc | None]) -> Transform:
    """``function`` (which may edit the document it is given) as a :data:`Transform`."""
    return _OnACopy(function)


def for_benchmark(
    function: Callable[[str, Doc, random.Random], Doc | None], benchmark: str
) -> Transform:
    """A transform shared by several benchmarks, bound to one, as a :data:`Transform`."""
    return _OnACopy(functools.partial(function, benchmark))


class ItemRandom(random.Random):
    """The per-item generator handed to a transform, which can also reach the run's.

    Variants such as ``relabeled`` make one choice per run (the symbol set) that every
    item and few-shot example must share; ``run`` gives a fresh generator seeded from
    (benchmark, variant, seed) only, so its first draws agree across all items.
    """

    def __init__(self, benchmark: str, doc_id: str, variant: str, seed: int) -> None:
        super().__init__(_digest_int("item", benchmark, doc_id, variant, str(seed)))
        self._run_key = (benchmark, variant, seed)

    @property
    def run(self) -> random.Random:
        return run_rng(*self._run_key)


def _digest_int(*parts: str) -> int:
    # Unit separator between parts so ("ab", "c") and ("a", "bc") differ.
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return int.from_bytes(digest, "big")


def item_rng(benchmark: str, doc_id: str, variant: str, seed: int) -> random.Random:
    """The generator for one item of one variant; the same on every process and platform."""
    return ItemRandom(benchmark, str(doc_id), variant, validate_seed(seed))


def run_rng(benchmark: str, variant: str, seed: int) -> random.Random:
    """The generator for choices shared by a whole run (all items and few-shot examples)."""
    return random.Random(_digest_int("run", benchmark, variant, str(validate_seed(seed))))


def validate_seed(seed: object) -> int:
    """A seed as an int >= 0; numeric strings are accepted (they come from the CLI/YAML)."""
    if isinstance(seed, bool):
        raise ShadowSuiteError(f"invalid seed {seed!r}: expected a non-negative integer")
    if isinstance(seed, int):
        value = seed
    elif isinstance(seed, str) and seed.strip().isdecimal() and seed.strip().isascii():
        value = int(seed.strip())
    else:
        raise ShadowSuiteError(f"invalid seed {seed!r}: expected a non-negative integer")
    if value < 0:
        raise ShadowSuiteError(f"invalid seed {seed!r}: expected a non-negative integer")
    if value >= 2**63:  # every record stores it as a signed 64-bit integer (items.parquet)
        raise ShadowSuiteError(f"invalid seed {seed!r}: expected an integer below 2**63")
    return value


# Spelled-out numbers, in order of value: noise must not touch them, renumbering must know
# what they stand for.
SMALL_NUMBER_WORDS: tuple[str, ...] = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
    "eighteen", "nineteen", "twenty",
)  # fmt: skip
TENS_WORDS: tuple[str, ...] = (
    "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
)  # fmt: skip
"""30, 40, ... 90."""
