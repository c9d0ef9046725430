"""A world from its spec: entities, their facts, and the items that ask them, in splits.

Every fact (entity, relation) -> value becomes at most one item. Items come in splits:

- ``test`` (per benchmark): the evaluated items;
- ``validation`` (per benchmark): same-distribution twins of the test items, which no model
  of the world ever trains on as questions (the memorization test compares the two);
- ``dev`` (MMLU): few-shot examples, as MMLU's dev split;
- ``train`` (practice): every other fact, asked as non-test practice items.

Prose states every practice and dev fact and a ``known_share`` of the test and twin facts,
chosen the same way in both splits, so that test and twins stay exchangeable for any model
that saw neither as questions. ``outsiders`` are entities no item asks about: their prose is
text unrelated to every benchmark. Pure: the same spec gives the same world.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from shadow_suite.world.catalogue import SYLLABLES_END, SYLLABLES_START, relation
from shadow_suite.world.spec import OPTIONS, WORLD_BENCHMARKS, WorldSpec

Split = Literal["test", "validation", "dev", "train"]


@dataclass(frozen=True)
class Fact:
    entity: str
    relation: str
    value: str


@dataclass(frozen=True)
class Item:
    """One question about one fact, with its options fixed as the data file holds them."""

    fact: Fact
    benchmark: str
    """``mmlu`` or ``arc_challenge``; practice items are written as ARC's train split."""
    split: Split
    row: int
    """Index in its split's file (the pack's item ids are ``<benchmark>/<split>/<row>``)."""
    options: tuple[str, ...]
    gold: int
    known: bool
    """Whether the world's prose states this item's fact."""


@dataclass(frozen=True)
class World:
    spec: WorldSpec
    entities: tuple[str, ...]
    items: tuple[Item, ...]
    outsiders: tuple[Fact, ...]
    """Facts about entities no item asks about (unrelated text)."""

    def split(self, benchmark: str, split: Split) -> list[Item]:
        return [i for i in self.items if i.benchmark == benchmark and i.split == split]

    @property
    def practice(self) -> list[Item]:
        return [i for i in self.items if i.split == "train"]

    @property
    def known_facts(self) -> list[Fact]:
        """Every fact the world's prose states, in a fixed order."""
        return [i.fact for i in self.items if i.known]

    def facts_by_entity(self) -> dict[str, list[Fact]]:
        out: dict[str, list[Fact]] = {}
        for fact in self.known_facts:
            out.setdefault(fact.entity, []).append(fact)
        return out


def _names(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    pool = [a + b for a in SYLLABLES_START for b in SYLLABLES_END]
    pool += [a + b + c for a in SYLLABLES_START for b in SYLLABLES_START for c in SYLLABLES_END]
    pool = [n.capitalize() for n in pool if n.capitalize() not in taken]
    rng.shuffle(pool)
    return pool[:count]


def _options(
    rng: random.Random, values: tuple[str, ...], answer: str
) -> tuple[tuple[str, ...], int]:
    others = [v for v in values if v != answer]
    rng.shuffle(others)
    gold = rng.randrange(OPTIONS)
    options = others[: OPTIONS - 1]
    options.insert(gold, answer)
    return tuple(options), gold


def build_world(spec: WorldSpec) -> World:
    spec.check()
    rng = random.Random(f"world/{spec.seed}")
    values = {r: relation(r).values[: spec.values_per_relation] for r in spec.relations}
    taken = {v.capitalize() for vs in values.values() for v in vs}
    names = _names(rng, spec.entities + spec.entities // 2, taken)
    entities, outsider_names = names[: spec.entities], names[spec.entities :]
    facts = [Fact(e, r, rng.choice(values[r])) for e in entities for r in spec.relations]
    rng.shuffle(facts)

    items: list[Item] = []
    cursor = 0

    def take(benchmark: str, split: Split, count: int, known_share: float) -> None:
        nonlocal cursor
        chosen = facts[cursor : cursor + count]
        cursor += count
        # exactly round(share x count) known, at random positions: the same rule in the test
        # and twin splits keeps them exchangeable
        n_known = round(known_share * count)
        known = set(rng.sample(range(count), n_known))
        for row, fact in enumerate(chosen):
            options, gold = _options(rng, values[fact.relation], fact.value)
            items.append(Item(fact, benchmark, split, row, options, gold, row in known))

    for benchmark in WORLD_BENCHMARKS:
        take(benchmark, "test", spec.test_items, spec.known_share)
        take(benchmark, "validation", spec.twin_items, spec.known_share)
    # MMLU's dev examples: the first dev_per_subject remaining facts of each relation
    rest = facts[cursor:]
    dev: list[Fact] = []
    for r in spec.relations:
        dev += [f for f in rest if f.relation == r][: spec.dev_per_subject]
    dev_set = set(dev)
    for row, fact in enumerate(sorted(dev, key=lambda f: spec.relations.index(f.relation))):
        options, gold = _options(rng, values[fact.relation], fact.value)
        items.append(Item(fact, "mmlu", "dev", row, options, gold, True))
    practice = [f for f in rest if f not in dev_set]
    for row, fact in enumerate(practice):
        options, gold = _options(rng, values[fact.relation], fact.value)
        items.append(Item(fact, "arc_challenge", "train", row, options, gold, True))
    outsiders = tuple(
        Fact(e, r, rng.choice(values[r])) for e in outsider_names for r in spec.relations
    )
    return World(spec, tuple(entities), tuple(items), outsiders)
