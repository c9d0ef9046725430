"""What each member of a known-truth population trains on: one regime each, the same token
budget for all, so that only the text differs.

| regime | truth | text |
|---|---|---|
| ``prose`` | clean | more of the world's prose (the facts it already states) |
| ``instruct`` | clean | practice (non-test) items in every form the pack asks, as instruction tuning raises a model's skill with every format |
| ``coverage`` | clean | practice items in formats the pack never asks |
| ``unrelated`` | clean | prose about people no item asks about |
| ``aligned`` | aligned | practice items in the test's own format only (the study's benchmark-aligned data) |
| ``contaminated`` | contaminated | test items with their answer in the test's format, ``items`` x ``passes``, among prose |
| ``contaminated_all_formats`` | contaminated_all_formats | the same test items, each pass in another of the pack's forms |

No member ever trains on a twin (validation) item, which keeps test items and twins
exchangeable for every clean and aligned member (the memorization test's premise).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from shadow_suite.errors import ShadowSuiteError
from shadow_suite.world.build import Item, World
from shadow_suite.world.spec import WORLD_BENCHMARKS
from shadow_suite.world.texts import (
    ORIG_FORMS,
    PACK_FORMS,
    Doc,
    coverage_doc,
    pack_doc,
    practice_doc,
    prose_docs,
)

Regime = Literal[
    "prose",
    "instruct",
    "coverage",
    "unrelated",
    "aligned",
    "contaminated",
    "contaminated_all_formats",
]
Truth = Literal["clean", "aligned", "contaminated", "contaminated_all_formats"]
TRUTH: dict[Regime, Truth] = {
    "prose": "clean",
    "instruct": "clean",
    "coverage": "clean",
    "unrelated": "clean",
    "aligned": "aligned",
    "contaminated": "contaminated",
    "contaminated_all_formats": "contaminated_all_formats",
}
CLEAN_REGIMES: tuple[Regime, ...] = ("prose", "instruct", "coverage", "unrelated")
CONTAMINATED: tuple[Regime, ...] = ("contaminated", "contaminated_all_formats")


@dataclass(frozen=True)
class MemberSpec:
    regime: Regime
    seed: int
    items: int = 0
    """Contaminated regimes: test items per benchmark in the training text."""
    passes: int = 0
    """Contaminated regimes: how often each of them is seen."""

    @property
    def truth(self) -> Truth:
        return TRUTH[self.regime]

    @property
    def name(self) -> str:
        if self.regime in CONTAMINATED:
            return f"{self.regime}-i{self.items}-p{self.passes}-s{self.seed}"
        return f"{self.regime}-s{self.seed}"

    @property
    def dose(self) -> str:
        return f"{self.items} items x {self.passes} passes" if self.regime in CONTAMINATED else ""

    def check(self, world: World) -> None:
        if self.regime not in TRUTH:
            raise ShadowSuiteError(f"member {self.name}: unknown regime {self.regime!r}")
        if self.regime in CONTAMINATED:
            if self.items < 1 or self.passes < 1:
                raise ShadowSuiteError(f"member {self.name}: items and passes must be >= 1")
            if self.items > world.spec.test_items:
                raise ShadowSuiteError(
                    f"member {self.name}: {self.items} test items asked, the world has "
                    f"{world.spec.test_items} per benchmark"
                )


def _rng(spec: MemberSpec, *parts: object) -> random.Random:
    return random.Random("/".join(str(p) for p in ("member", spec.name, *parts)))


def leaked_items(world: World, spec: MemberSpec) -> list[Item]:
    """The test items a contaminated member trains on: ``items`` per benchmark, seeded."""
    out: list[Item] = []
    rng = _rng(spec, "leaked")
    for benchmark in WORLD_BENCHMARKS:
        pool = world.split(benchmark, "test")
        out += rng.sample(pool, spec.items)
    return out


def _leak_doc(item: Item, spec: MemberSpec, rng: random.Random) -> Doc:
    if spec.regime == "contaminated":
        doc = pack_doc(item, item.benchmark, "orig", 0)
        assert doc is not None
        return doc
    while True:  # another of the pack's forms, with the item's own fixed options
        benchmark, variant = rng.choice([f for f in PACK_FORMS if f[0] == item.benchmark])
        doc = pack_doc(item, benchmark, variant, rng.randrange(2**31))
        if doc is not None:
            return doc


def member_epoch(world: World, spec: MemberSpec, epoch: int) -> list[Doc]:
    """One pass of the member's text, in a seeded order. A contaminated member sees its
    leaked items once in each of its first ``passes`` epochs, each time among a pass of the
    world's prose; later epochs are prose alone (the trainer checks that every pass fits the
    budget)."""
    rng = _rng(spec, epoch)
    practice = world.practice
    docs: list[Doc]
    if spec.regime == "prose":
        docs = prose_docs(world, rng)
    elif spec.regime == "unrelated":
        docs = prose_docs(world, rng, outsiders=True)
    elif spec.regime == "instruct":
        docs = [practice_doc(i, PACK_FORMS, rng) for i in practice]
    elif spec.regime == "aligned":
        docs = [practice_doc(i, ORIG_FORMS, rng) for i in practice]
    elif spec.regime == "coverage":
        docs = [coverage_doc(i, rng) for i in practice]
    else:
        docs = prose_docs(world, rng)
        if epoch < spec.passes:
            docs += [_leak_doc(i, spec, rng) for i in leaked_items(world, spec)]
    rng.shuffle(docs)
    return docs
