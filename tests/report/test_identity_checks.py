"""One model per card: references by identity, folder and answers; a card's items its own."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_helpers import make_run

from shadow_suite.errors import ShadowSuiteError
from shadow_suite.gap.items import items_identity, write_items
from shadow_suite.gap.records import ReferenceItems
from shadow_suite.report.card import build_card, load_reference, write_card
from shadow_suite.report.identity_checks import distinct_references, same_answers

A, B = "sha256:" + "a" * 64, "sha256:" + "b" * 64


def _items(tmp_path: Path, name: str, seed: int):
    run = make_run(tmp_path / name, f"org/{name}", drop=0.2, seed=seed)
    return build_card([run], n_boot=100).items


def test_references_are_counted_once_by_identity_and_by_answers(tmp_path: Path) -> None:
    target, one, two = (_items(tmp_path, n, s) for n, s in (("t", 1), ("r1", 2), ("r2", 3)))
    assert same_answers(one, one) == len(one[one.loglikelihoods.notna()])
    assert same_answers(one, two) == 0
    refs = [
        ReferenceItems("r1", one, str(tmp_path / "r1"), model_identity=A),
        ReferenceItems("r1 again", two, str(tmp_path / "r1 copy"), model_identity=A),
        ReferenceItems("r1 unrecorded", one, str(tmp_path / "r1 run"), model_identity=None),
        ReferenceItems("r2", two, str(tmp_path / "r2"), model_identity=B),
    ]
    kept, warnings = distinct_references(refs, target, target_identity=None)
    assert [r.name for r in kept] == ["r1", "r2"]
    assert "model identity aaaaaaaaaaaa" in warnings[0]
    assert "identical log-likelihoods" in warnings[1]
    with pytest.raises(ShadowSuiteError, match="is the evaluated model itself"):
        distinct_references(refs, target, target_identity=B)


def test_a_card_refuses_items_of_another_model_beside_it(tmp_path: Path) -> None:
    card = build_card([make_run(tmp_path / "r", "org/r")], n_boot=100)
    card.model.identity = A
    paths = write_card(card, tmp_path / "card")
    assert items_identity(paths.items) == A
    assert load_reference(tmp_path / "card").model_identity == A
    assert card.items is not None
    write_items(card.items, paths.items, B)  # another model's answers copied in
    with pytest.raises(ShadowSuiteError, match=r"items\.parquet holds the answers of model bbbb"):
        load_reference(tmp_path / "card")
