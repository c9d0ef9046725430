"""What each member of a known-truth population trains on, and one member end to end: a base
trained from scratch, a contaminated fine-tune of it, evaluated through lm-eval and the pack
on the world's own data folder and measured against the base."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shadow_suite.errors import ShadowSuiteError
from shadow_suite.spectral import read_document
from shadow_suite.world.base import BaseRecipe, Phase, train_base
from shadow_suite.world.build import Item, World, build_world
from shadow_suite.world.catalogue import relation
from shadow_suite.world.competence import competence
from shadow_suite.world.folder import write_world
from shadow_suite.world.models import Architecture
from shadow_suite.world.population import EvalPlan, MemberJob, MemberTraining, run_member
from shadow_suite.world.regimes import CLEAN_REGIMES, MemberSpec, leaked_items, member_epoch
from shadow_suite.world.spec import WORLD_BENCHMARKS, WorldSpec
from shadow_suite.world.texts import PACK_FORMS

SMALL = WorldSpec(
    entities=60, test_items=12, twin_items=12, dev_per_subject=2, min_practice_items=20
)


def _asked(world: World, items: list[Item], texts: list[str]) -> list[Item]:
    """The items whose question appears in any of ``texts``."""
    questions = {i: relation(i.fact.relation).question.format(e=i.fact.entity) for i in items}
    return [i for i, q in questions.items() if any(q in t for t in texts)]


def _held_out(world: World, split: str) -> list[Item]:
    return [i for b in WORLD_BENCHMARKS for i in world.split(b, split)]  # type: ignore[arg-type]


@pytest.mark.parametrize("regime", [*CLEAN_REGIMES, "aligned"])
def test_clean_and_aligned_members_never_see_a_test_or_twin_question(regime: str) -> None:
    world = build_world(SMALL)
    spec = MemberSpec(regime, seed=0)  # type: ignore[arg-type]
    texts = [d.text for e in range(3) for d in member_epoch(world, spec, e)]
    assert texts
    assert _asked(world, _held_out(world, "test"), texts) == []
    assert _asked(world, _held_out(world, "validation"), texts) == []


def test_contaminated_member_sees_its_dose_of_test_items_and_no_twin() -> None:
    world = build_world(SMALL)
    spec = MemberSpec("contaminated", seed=1, items=5, passes=2)
    leaked = leaked_items(world, spec)
    assert len(leaked) == 5 * len(WORLD_BENCHMARKS)
    assert all(i.split == "test" for i in leaked)
    for epoch in range(4):
        texts = [d.text for d in member_epoch(world, spec, epoch)]
        asked = set(_asked(world, _held_out(world, "test"), texts))
        # seen in each of the first `passes` epochs, never after
        assert asked == (set(leaked) if epoch < spec.passes else set())
        assert _asked(world, _held_out(world, "validation"), texts) == []
        # in the test's own format, with the gold as the answer
        if epoch == 0:
            docs = [d for d in member_epoch(world, spec, epoch) if d.gold is not None]
            assert len(docs) == len(leaked)


def test_a_dose_the_world_cannot_hold_is_one_line() -> None:
    world = build_world(SMALL)
    with pytest.raises(ShadowSuiteError, match="contaminated-i99-p1-s0: 99 test items"):
        MemberSpec("contaminated", seed=0, items=99, passes=1).check(world)
    with pytest.raises(ShadowSuiteError, match="items and passes must be >= 1"):
        MemberSpec("contaminated_all_formats", seed=0, items=3, passes=0).check(world)


@pytest.mark.slow
def test_a_member_end_to_end(tmp_path: Path) -> None:
    """Base from scratch, a contaminated fine-tune, lm-eval through the pack on the world's
    folder, spectra against the base; every stage reused on rerun."""
    from transformers import AutoModelForCausalLM

    world = build_world(SMALL)
    world_dir = write_world(world, tmp_path / "world")
    tiny = Architecture(
        num_layers=2, hidden_size=32, intermediate_size=64, num_heads=2, head_dim=16
    )
    recipe = BaseRecipe(
        tiny,
        (
            Phase("skill", 20_000, (("prose", 1.0), ("find", 0.5), ("closed", 0.5)), 1.0),
            Phase("plain", 10_000, (("prose", 1.0), ("closed", 1.0))),
        ),
        batch_size=16,
    )
    base_dir = tmp_path / "base"
    assert train_base(world, recipe, base_dir, lambda _m: None)
    assert not train_base(world, recipe, base_dir, lambda _m: None)
    AutoModelForCausalLM.from_pretrained(base_dir)  # an ordinary Hugging Face folder

    spec = MemberSpec("contaminated", seed=0, items=4, passes=2)
    job = MemberJob(
        world_dir,
        spec,
        base_dir,
        tmp_path / "members" / spec.name,
        MemberTraining(tokens=8_000, batch_size=16),
        EvalPlan(batch_size="32"),
    )
    times = run_member(job)
    assert set(times) == {"train", "eval", "spectra"}
    member = json.loads((job.folder / "member.json").read_text())
    assert member["truth"] == "contaminated"
    samples = list((job.folder / "eval").rglob("samples_shadow_mmlu_orig_*.jsonl"))
    assert samples, "lm-eval wrote no samples for the world's MMLU"
    rows = [json.loads(line) for line in samples[0].read_text().splitlines()]
    assert len(rows) == SMALL.test_items
    spectra = read_document(job.folder / "spectra")
    assert spectra.base is not None  # the update against the base, not the member alone
    assert spectra.counts.analyzed > 0
    assert run_member(job) == {}  # every step reused
    forms = competence(job.folder / "eval").forms
    assert {(f.benchmark, f.variant) for f in forms} == set(PACK_FORMS)
    assert all(0 < f.n <= SMALL.test_items for f in forms)


def test_competence_needs_accuracy_above_chance_and_no_dominant_position() -> None:
    from shadow_suite.world.competence import Competence, form_competence

    n = 80
    answering = form_competence(
        "mmlu", "orig", [1.0] * 60 + [0.0] * 20, [k % 4 for k in range(n)], [4] * n
    )
    assert answering.competent and answering.chance == 0.25
    always_a = form_competence("mmlu", "orig", [1.0] * 30 + [0.0] * 50, [0] * n, [4] * n)
    assert always_a.above_chance and not always_a.positions_ok
    assert "one position 100% of answers" in always_a.line()
    guessing = form_competence(
        "mmlu", "permuted", [1.0] * 22 + [0.0] * 58, [k % 4 for k in range(n)], [4] * n
    )
    assert not guessing.above_chance
    # the pack's "none of the others" puts its answer at one position by construction
    nota = form_competence("arc_challenge", "none_of_the_others", [1.0] * n, [3] * n, [4] * n)
    assert nota.competent
    assert not Competence((answering, always_a)).competent
    assert Competence((answering, nota)).competent
    assert not Competence(()).competent
