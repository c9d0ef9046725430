"""The world generator: a spec that cannot be built is one line; a world is deterministic, its
splits have the sizes asked, twins and test items are exchangeable by construction, and the
data folder is what the task pack reads."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from shadow_suite.errors import ShadowSuiteError
from shadow_suite.world.build import build_world
from shadow_suite.world.folder import (
    WORLD_FILE,
    ensure_world,
    load_world,
    world_digest,
    write_world,
)
from shadow_suite.world.spec import WorldSpec

SMALL = WorldSpec(
    entities=60, test_items=20, twin_items=20, dev_per_subject=2, min_practice_items=20
)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"values_per_relation": 3}, "values_per_relation"),
        ({"test_items": 0}, "test_items"),
        ({"twin_items": 0}, "twin_items"),
        ({"entities": 10}, "facts"),
        ({"relations": ("home_city", "weather")}, "relations"),
        ({"known_share": 1.5}, "known_share"),
        ({"entities": 0}, "entities"),
    ],
)
def test_unsatisfiable_spec_is_one_line(change: dict, field: str) -> None:
    with pytest.raises(ShadowSuiteError) as err:
        build_world(replace(SMALL, **change))
    message = str(err.value)
    assert "\n" not in message and message.startswith("world spec:") and field in message


def test_world_is_deterministic_and_split_as_asked() -> None:
    world = build_world(SMALL)
    assert world_digest(world) == world_digest(build_world(SMALL))
    assert world_digest(world) != world_digest(build_world(replace(SMALL, seed=1)))
    for benchmark in ("mmlu", "arc_challenge"):
        test, twins = world.split(benchmark, "test"), world.split(benchmark, "validation")
        assert len(test) == SMALL.test_items and len(twins) == SMALL.twin_items
        # the same share of facts stated in prose in both: exchangeable for a clean model
        assert sum(i.known for i in test) == sum(i.known for i in twins) == 10
        assert [i.row for i in test] == list(range(SMALL.test_items))
    assert len(world.split("mmlu", "dev")) == SMALL.dev_per_subject * len(SMALL.relations)
    facts = [i.fact for i in world.items]
    assert len(set(facts)) == len(facts), "a fact is asked by one item at most"
    assert all(i.known for i in world.practice), "practice facts are always stated"
    for item in world.items:
        assert len(set(item.options)) == 4 and item.options[item.gold] == item.fact.value
    outsiders = {f.entity for f in world.outsiders}
    assert outsiders and not outsiders & set(world.entities)


def test_folder_round_trip_and_refusals(tmp_path: Path) -> None:
    world = build_world(SMALL)
    write_world(world, tmp_path / "w")
    assert world_digest(load_world(tmp_path / "w")) == world_digest(world)
    rows = (tmp_path / "w" / "mmlu" / "test.jsonl").read_text().splitlines()
    first = json.loads(rows[0])
    assert set(first) == {"subject", "question", "choices", "answer"}
    arc = json.loads((tmp_path / "w" / "arc_challenge" / "test.jsonl").read_text().splitlines()[0])
    assert arc["choices"]["label"] == ["A", "B", "C", "D"] and arc["answerKey"] in "ABCD"
    assert ensure_world(SMALL, tmp_path / "w").spec == SMALL
    with pytest.raises(ShadowSuiteError, match="another spec"):
        ensure_world(replace(SMALL, seed=3), tmp_path / "w")

    record = json.loads((tmp_path / "w" / WORLD_FILE).read_text())
    (tmp_path / "w" / WORLD_FILE).write_text(json.dumps({**record, "version": 99}))
    with pytest.raises(ShadowSuiteError, match="version: 99") as err:
        load_world(tmp_path / "w")
    assert "\n" not in str(err.value)
    (tmp_path / "w" / WORLD_FILE).write_text(json.dumps({**record, "digest": "0" * 64}))
    with pytest.raises(ShadowSuiteError, match="digest"):
        load_world(tmp_path / "w")
    with pytest.raises(ShadowSuiteError, match="not a world folder"):
        load_world(tmp_path / "nowhere")


def test_pack_reads_the_world(tmp_path: Path) -> None:
    from shadow_suite.taskpack.loader import build_docs

    write_world(build_world(SMALL), tmp_path)
    for benchmark in ("mmlu", "arc_challenge"):
        docs = build_docs(benchmark, "orig", data_dir=str(tmp_path), fewshot=False)
        assert len(docs["test"]) == SMALL.test_items
