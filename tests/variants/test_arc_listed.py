"""ARC's permuted and none_of_the_others are asked with options listed (cloze scoring
would make them identical to the original by construction)."""

from __future__ import annotations

from shadow_suite.taskpack.variants import apply_variant

DOC = {
    "id": "x",
    "question": "Which gas do plants take in?",
    "choices": {"text": ["oxygen", "carbon dioxide", "helium", "neon"], "label": list("ABCD")},
    "answerKey": "B",
}


def test_permuted_arc_lists_the_moved_options_and_scores_the_letter() -> None:
    doc = apply_variant("arc_challenge", "permuted", DOC, "arc_challenge/test/0", 1234)
    assert doc is not None
    assert doc["shadow_choices"] == ["A", "B", "C", "D"]
    gold = doc["shadow_gold"]
    assert gold != 1
    assert f"\n{'ABCD'[gold]}. carbon dioxide\n" in doc["shadow_prompt"]
    assert doc["shadow_prompt"].startswith("Question: Which gas")
    assert doc["shadow_prompt"].endswith("\nAnswer:")


def test_none_of_the_others_arc_lists_the_replacement_in_place() -> None:
    doc = apply_variant("arc_challenge", "none_of_the_others", DOC, "arc_challenge/test/0", 1)
    assert doc is not None
    assert doc["shadow_gold"] == 1
    assert "\nB. None of the other answers\n" in doc["shadow_prompt"]
