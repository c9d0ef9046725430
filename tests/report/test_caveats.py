"""Each caveat appears exactly when its condition holds on the card, in both renderings, and
the next steps of an undecided card are computed from it."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from fake_lm_eval import simulate, write_run
from report_helpers import make_run

from shadow_suite.error_rates import shipped_error_rates
from shadow_suite.gap.power import items_to_decide
from shadow_suite.report.card import build_card
from shadow_suite.report.caveats import WEAKER_BY, caveats
from shadow_suite.report.html import render_html
from shadow_suite.report.markdown import render_markdown
from shadow_suite.report.next_steps import next_steps
from shadow_suite.report.schema import Card


@pytest.fixture(scope="module")
def reference_card(tmp_path_factory: pytest.TempPathFactory) -> Card:
    """Model a (loses 30% of right answers when reformatted) against b (loses none): a
    benchmark_specific verdict with every caveat's inputs present."""
    root = tmp_path_factory.mktemp("caveats")
    make_run(root / "a", "org/model-a", drop=0.3, seed=1)
    make_run(root / "b", "org/model-b", drop=0.0, seed=2)
    return build_card([root / "a"], n_boot=200, seed=1, references=[root / "b"])


def _codes(card: Card) -> list[str]:
    codes = [c.code for c in caveats(card)]
    html, markdown = render_html(card), render_markdown(card)
    for c in caveats(card):  # shown where a reader looks: the first screen of both renderings
        assert f'data-caveat="{c.code}"' in html
        assert c.text.split(":")[0].replace("<", "&lt;") in markdown
    return codes


def _seed(card: Card, seed: int) -> Card:
    provenance = replace(card.provenance, seeds={**card.provenance.seeds, "shadow_seed": seed})
    return replace(card, provenance=provenance)


def _limit(card: Card, limit: float | None) -> Card:
    runs = [replace(r, limit=limit) for r in card.provenance.runs]
    return replace(card, provenance=replace(card.provenance, runs=runs))


def _sampled(card: Card, sizes: list[int]) -> Card:
    return replace(card, provenance=replace(card.provenance, sampled_items=sizes))


def _verdict(card: Card, cls: str) -> Card:
    out = copy.deepcopy(card)
    out.gap.headline.verdict_class = cls  # type: ignore[assignment]
    return out


def _reference_gates(card: Card, gate: str) -> Card:
    out = copy.deepcopy(card)
    assert out.gap.reference is not None
    first = next(c for c in out.gap.reference.cells if c.family in ("content", "format"))
    first.reference_gates = [gate]
    return out


def _weaker(card: Card, by: float, p_holm: float) -> Card:
    out = copy.deepcopy(card)
    bench = out.gap.headline.benchmarks[0]
    out.reference_originals = [
        replace(p, acc_b=p.acc_a - by, p_holm=p_holm) if p.benchmark == bench else p
        for p in out.reference_originals
    ]
    return out


Edit = Callable[[Card], Card]
CASES: list[tuple[str, Edit, Edit]] = [
    # (caveat, an edit that makes its condition hold, one that makes it fail)
    ("public_seed", lambda c: _seed(c, 1234), lambda c: _seed(c, 987654)),
    ("first_n", lambda c: _limit(c, 25), lambda c: _limit(c, None)),
    ("sample", lambda c: _sampled(c, [30]), lambda c: _sampled(c, [])),
    ("error_rates", lambda c: _verdict(c, "inconclusive"), lambda c: _verdict(c, "no_verdict")),
    ("reference_fails_gate", lambda c: _reference_gates(c, "degenerate"),
     lambda c: _reference_gates(c, "ok")),
    ("weaker_reference", lambda c: _weaker(c, WEAKER_BY + 0.05, 0.001),
     lambda c: _weaker(c, WEAKER_BY - 0.05, 0.001)),
]  # fmt: skip


@pytest.mark.parametrize(("code", "holds", "fails"), CASES, ids=[c[0] for c in CASES])
def test_each_caveat_appears_exactly_when_its_condition_holds(
    reference_card: Card, code: str, holds: Edit, fails: Edit
) -> None:
    assert code in _codes(holds(reference_card))
    assert code not in _codes(fails(reference_card))


def test_a_weaker_reference_needs_a_significant_difference(reference_card: Card) -> None:
    assert "weaker_reference" not in _codes(_weaker(reference_card, WEAKER_BY + 0.05, 0.2))


def test_no_reference_caveat_and_error_rates_follow_the_card(
    reference_card: Card, run_dir: Path
) -> None:
    single = build_card([run_dir], n_boot=200, seed=1)
    assert "no_reference" in _codes(single) and "error_rates" not in _codes(single)
    assert "no_reference" not in _codes(reference_card)
    # the rates cited are the ones the card recorded, from the package's one loader
    shipped = shipped_error_rates()
    assert reference_card.error_rates == shipped
    (text,) = [c.text for c in caveats(reference_card) if c.code == "error_rates"]
    for figure in (shipped.false_positive, shipped.detection):
        assert f"{figure.k} of {figure.n}" in text
    assert shipped.world in text and shipped.limits in text and shipped.source in text


def test_a_real_weaker_reference_is_found_from_the_items(tmp_path: Path) -> None:
    """A reference that answers far fewer originals right, on the same items: the card's
    reference_originals holds the McNemar test, and the caveat follows from it."""
    make_run(tmp_path / "a", "org/strong", drop=0.3, seed=1)
    rng = np.random.default_rng(5)
    weak = simulate({"mmlu": 0.2, "arc_challenge": 0.2}, {"permuted": 0.0, "relabeled": 0.0},
                    300, rng, skip_every=10)  # fmt: skip
    weak.update(simulate({"gsm8k": 0.1}, {"rephrased": 0.0}, 300, rng, skip_every=10))
    weak.update(simulate({"winogrande": 0.5}, {"lettered": 0.0}, 300, rng, skip_every=10))
    write_run(tmp_path / "b", weak, model_name="org/weak")
    card = build_card([tmp_path / "a"], n_boot=200, seed=1, references=[tmp_path / "b"])
    pairs = {p.benchmark: p for p in card.reference_originals}
    assert pairs["mmlu"].model_a == "org/strong" and pairs["mmlu"].model_b == "org/weak"
    assert pairs["mmlu"].acc_a - pairs["mmlu"].acc_b > WEAKER_BY
    weaker = card.gap.headline.benchmarks and any(
        pairs[b].acc_a - pairs[b].acc_b >= WEAKER_BY and (pairs[b].p_holm or 1) < 0.05
        for b in card.gap.headline.benchmarks
    )
    assert ("weaker_reference" in _codes(card)) == bool(weaker)
    assert weaker


def test_inconclusive_next_steps_give_the_items_that_would_decide(reference_card: Card) -> None:
    card = _sampled(_verdict(reference_card, "inconclusive"), [40])
    h = card.gap.headline
    h.delta, h.margin, h.mde = 0.10, 0.02, 0.30
    assert card.gap.reference is not None
    n = card.gap.reference.n_items
    steps = next_steps(card)
    needed = items_to_decide(n, h.mde, h.margin, h.delta)
    assert needed == math.ceil(n * ((0.30 - 0.02) / (0.10 - 0.02)) ** 2)
    assert f"about {needed:,} items" in steps[0]
    assert f"run --limit {math.ceil(40 * needed / n):,} instead of 40" in steps[0]
    assert "Next steps." in render_html(card)
    assert next_steps(_verdict(reference_card, "benchmark_specific")) == []


def test_no_verdict_next_steps_name_the_gated_rows_and_the_flags(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    write_run(tmp_path / "eval", simulate({"mmlu": 0.25}, {"permuted": 0.0}, 60, rng), "org/chance")
    card = build_card([tmp_path / "eval"], n_boot=200, seed=1)
    assert card.gap.headline.verdict_class == "no_verdict"
    text = " ".join(next_steps(card))
    gated = [f"{b.benchmark}/{v.variant}" for b in card.gap.benchmarks for v in b.variants]
    assert gated and all(key in text for key in gated)
    assert "--base" in text  # no reference: a verdict needs one
    degenerate = copy.deepcopy(card)
    degenerate.gap.benchmarks[0].variants[0].gate = "degenerate"
    assert "--apply_chat_template" in " ".join(next_steps(degenerate))
    degenerate.model.chat_template_applied = True
    assert "--apply_chat_template" not in " ".join(next_steps(degenerate))
    assert "run --limit N instead" in " ".join(next_steps(_limit(card, 60)))
