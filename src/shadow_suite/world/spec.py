"""What a synthetic world is made of: a seeded spec, checked before anything is built."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from shadow_suite.errors import ShadowSuiteError
from shadow_suite.world.catalogue import RELATIONS

WORLD_BENCHMARKS = ("mmlu", "arc_challenge")
"""The benchmarks a world is rendered as (both four-option multiple choice)."""
OPTIONS = 4
"""Options per item: MMLU's schema has exactly four, and ARC-Challenge's items mostly do."""


@dataclass(frozen=True)
class WorldSpec:
    seed: int = 0
    entities: int = 300
    relations: tuple[str, ...] = ("home_city", "favourite_colour", "pet", "instrument")
    values_per_relation: int = 12
    """The first n values of each relation's catalogue (at least ``OPTIONS``)."""
    test_items: int = 150
    """Evaluated items per benchmark (its test split)."""
    twin_items: int = 150
    """Items per benchmark of the same-distribution sibling split (``validation``) that no
    model of the world trains on: the memorization test's twins."""
    dev_per_subject: int = 5
    """MMLU's few-shot examples per subject (its ``dev`` split)."""
    known_share: float = 0.5
    """Share of test and twin items whose fact the prose states: a clean model can know those
    and only guess the rest, so training on the test items has room to raise the score."""
    min_practice_items: int = 200
    """At least this many items must be left for practice (non-test training items)."""

    def record(self) -> dict[str, Any]:
        out = asdict(self)
        out["relations"] = list(self.relations)
        return out

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> WorldSpec:
        return cls(**{**record, "relations": tuple(record["relations"])})

    @property
    def facts(self) -> int:
        return self.entities * len(self.relations)

    @property
    def held_out_items(self) -> int:
        """Items no model trains on as questions: every benchmark's test and twin splits and
        MMLU's dev examples."""
        per_benchmark = self.test_items + self.twin_items
        return len(WORLD_BENCHMARKS) * per_benchmark + self.dev_per_subject * len(self.relations)

    def check(self) -> None:
        """One line naming the field when the spec cannot be built."""
        known = {r.name for r in RELATIONS}
        unknown = [r for r in self.relations if r not in known]
        if unknown:
            raise ShadowSuiteError(
                f"world spec: relations: unknown {unknown[0]!r}; known: {', '.join(sorted(known))}"
            )
        if not self.relations or len(set(self.relations)) != len(self.relations):
            raise ShadowSuiteError("world spec: relations: give at least one, each once")
        longest = min(len(r.values) for r in RELATIONS if r.name in self.relations)
        if not OPTIONS <= self.values_per_relation <= longest:
            raise ShadowSuiteError(
                f"world spec: values_per_relation: {self.values_per_relation}; an item shows "
                f"{OPTIONS} different options, so it needs {OPTIONS} to {longest} values"
            )
        for name in ("test_items", "twin_items"):
            if getattr(self, name) < 1:
                raise ShadowSuiteError(f"world spec: {name}: {getattr(self, name)}; need >= 1")
        if self.dev_per_subject < 0 or self.min_practice_items < 1:
            raise ShadowSuiteError(
                "world spec: dev_per_subject must be >= 0 and min_practice_items >= 1"
            )
        if not 0.0 <= self.known_share <= 1.0:
            raise ShadowSuiteError(f"world spec: known_share: {self.known_share}; need 0 to 1")
        names = _max_names()
        if not 1 <= self.entities <= names:
            raise ShadowSuiteError(
                f"world spec: entities: {self.entities}; the name generator makes 1 to {names}"
            )
        needed = self.held_out_items + self.min_practice_items
        if needed > self.facts:
            raise ShadowSuiteError(
                f"world spec: {self.entities} entities x {len(self.relations)} relations = "
                f"{self.facts} facts, but the splits need {needed} "
                f"({self.held_out_items} held out + {self.min_practice_items} practice)"
            )


def _max_names() -> int:
    from shadow_suite.world.catalogue import SYLLABLES_END, SYLLABLES_START

    start, end = len(SYLLABLES_START), len(SYLLABLES_END)
    return start * end + start * start * end
