"""Options that refer to others, and what permuted/relabeled/format_swap/none_of_the_others
do with them (hand-written items covering the cases found in MMLU and ARC)."""

from __future__ import annotations

from pathlib import Path

import pytest
from variants_helpers import load_docs

from shadow_suite.taskpack.variants import apply_variant
from shadow_suite.taskpack.variants.multiple_choice import (
    FEWSHOT_FLAG,
    NONE_OF_THE_OTHERS,
    SYMBOL_SETS,
    relabel_symbols,
)
from shadow_suite.taskpack.variants.options import is_aggregate, named_letters, pinned_positions


def mmlu(choices: list[str], answer: int, question: str = "Which one is right?") -> dict:
    return {"subject": "misc", "question": question, "choices": choices, "answer": answer}


@pytest.mark.parametrize(
    "option",
    [
        "All of the above",
        "none of the above.",
        "None of these",
        "Neither of these",
        "Both of these.",
        "all the above",
        "none of above.",
        "All of the options given are correct",
        "Any 2 of the above values",
        "Both",
        "Moons contribute to all of the above.",
        NONE_OF_THE_OTHERS,
    ],
)
def test_aggregate_options_are_recognized(option: str) -> None:
    assert is_aggregate(option)


@pytest.mark.parametrize(
    "option",
    [
        "Vitamin A",
        "above all else, honesty",
        "Neither logically equivalent nor contradictory",
        "B. F. Skinner",
    ],
)
def test_ordinary_options_are_not_aggregate(option: str) -> None:
    assert not is_aggregate(option)


@pytest.mark.parametrize(
    ("option", "named"),
    [
        ("both A and B", {0, 1}),
        ("Neither (a) nor (b).", {0, 1}),
        ("A, B, and C", {0, 1, 2}),
        ("Both A & C", {0, 2}),
        ("B and C only", {1, 2}),
        ("Options A and D", {0, 3}),
        ("Vitamin C", set()),
        ("the anterior and posterior", set()),
    ],
)
def test_letters_named_by_an_option(option: str, named: set[int]) -> None:
    assert named_letters(option, 4) == named


def test_pinned_positions_include_the_options_named() -> None:
    assert pinned_positions(["x", "y", "z", "All of the above"]) == {3}
    assert pinned_positions(["x", "y", "Both A and B", "w"]) == {0, 1, 2}
    assert pinned_positions(["x", "y", "z", "w"]) == set()


@pytest.mark.parametrize("seed", range(40))
def test_permuted_moves_the_gold_and_keeps_pinned_options(seed: int) -> None:
    doc = mmlu(["red", "green", "blue", "All of the above"], 1)
    new = apply_variant("mmlu", "permuted", doc, "7", seed)
    assert new is not None
    assert new["choices"][3] == "All of the above"
    assert new["answer"] in (0, 2) and new["choices"][new["answer"]] == "green"
    assert sorted(new["choices"][:3]) == ["blue", "green", "red"]


def test_permuted_skips_when_the_gold_refers_to_others_or_nothing_can_move() -> None:
    assert (
        apply_variant("mmlu", "permuted", mmlu(["a1", "b1", "c1", "None of the above"], 3), "1", 0)
        is None
    )
    # "Both A and B" pins A, B and itself: only D could move
    assert (
        apply_variant("mmlu", "permuted", mmlu(["x", "y", "Both A and B", "w"], 3), "1", 0) is None
    )
    # identical texts: no permutation changes what the model sees
    assert (
        apply_variant("mmlu", "permuted", mmlu(["same", "same", "same", "same"], 0), "1", 0) is None
    )


def test_permuted_arc_updates_answer_key_and_keeps_labels() -> None:
    doc = {
        "id": "q",
        "question": "Pick one.",
        "choices": {"text": ["one", "two", "three"], "label": ["1", "2", "3"]},
        "answerKey": "2",
    }
    new = apply_variant("arc_challenge", "permuted", doc, "q", 3)
    assert new is not None
    assert new["choices"]["label"] == ["1", "2", "3"]
    assert new["answerKey"] != "2"
    assert new["choices"]["text"][int(new["answerKey"]) - 1] == "two"


def test_none_of_the_others_replaces_the_gold_in_place() -> None:
    new = apply_variant("mmlu", "none_of_the_others", mmlu(["2", "3", "5", "7"], 2), "0", 0)
    assert new is not None
    assert new["choices"] == ["2", "3", NONE_OF_THE_OTHERS, "7"] and new["answer"] == 2


@pytest.mark.parametrize(
    "choices",
    [
        ["x", "y", "z", "None of these"],
        ["x", "y", "Both A and B", "w"],
        ["Paris", "paris.", "Rome", "Oslo"],  # the gold's text repeated: "none" would be wrong
    ],
)
def test_none_of_the_others_skips(choices: list[str]) -> None:
    assert apply_variant("mmlu", "none_of_the_others", mmlu(choices, 0), "0", 0) is None


def _seed_with(symbols_name: str) -> int:
    for seed in range(200):
        new = apply_variant("mmlu", "relabeled", mmlu(["x", "y", "z", "w"], 0), "0", seed)
        assert new is not None
        chosen = next(s for s in SYMBOL_SETS if list(s.symbols[:4]) == new["shadow_choices"])
        if chosen.name == symbols_name:
            return seed
    raise AssertionError(symbols_name)


def test_relabeled_renders_the_run_symbol_set() -> None:
    seed = _seed_with("numbers")
    new = apply_variant(
        "mmlu", "relabeled", mmlu(["red", "green", "blue", "grey"], 2, " Sky? "), "0", seed
    )
    assert new is not None
    assert new["shadow_prompt"] == "Sky?\n1. red\n2. green\n3. blue\n4. grey\nAnswer:"
    assert new["shadow_choices"] == ["1", "2", "3", "4"] and new["shadow_gold"] == 2
    # the same run (seed) gives every item the same symbols, whatever the item
    other = apply_variant("mmlu", "relabeled", mmlu(["a1", "b1", "c1", "d1"], 0), "99", seed)
    assert other is not None and other["shadow_choices"] == new["shadow_choices"]
    # an option whose text is a symbol would make "Answer: 2" ambiguous
    assert apply_variant("mmlu", "relabeled", mmlu(["0", "2", "4", "6"], 1), "0", seed) is None
    paren = _seed_with("parenthesized letters")
    new = apply_variant("mmlu", "relabeled", mmlu(["0", "2", "4", "6"], 1), "0", paren)
    assert new is not None and new["shadow_prompt"].endswith("(a) 0\n(b) 2\n(c) 4\n(d) 6\nAnswer:")


def test_relabel_symbols_names_the_run_choice() -> None:
    for seed in range(10):
        new = apply_variant("mmlu", "relabeled", mmlu(["x", "y", "z", "w"], 0), "0", seed)
        assert new is not None
        assert list(relabel_symbols("mmlu", seed).symbols[:4]) == new["shadow_choices"]


def test_relabeled_skips_options_that_name_letters() -> None:
    doc = mmlu(["x", "y", "Both A and B", "w"], 2)
    assert all(apply_variant("mmlu", "relabeled", doc, "0", s) is None for s in range(10))


def test_format_swap_mmlu_is_cloze_and_arc_is_lettered() -> None:
    new = apply_variant(
        "mmlu", "format_swap", mmlu(["red", "green", "blue", "grey"], 3, "Sky? "), "0", 0
    )
    assert new is not None
    assert new["shadow_prompt"] == "Question: Sky?\nAnswer:"
    assert new["shadow_choices"] == ["red", "green", "blue", "grey"] and new["shadow_gold"] == 3
    assert (
        apply_variant("mmlu", "format_swap", mmlu(["x", "y", "z", "All of these"], 0), "0", 0)
        is None
    )
    arc = {
        "id": "q",
        "question": "Pick one.",
        "choices": {"text": ["one", "two", "three"], "label": ["1", "2", "3"]},
        "answerKey": "3",
    }
    new = apply_variant("arc_challenge", "format_swap", arc, "q", 0)
    assert new is not None
    assert new["shadow_prompt"] == "Question: Pick one.\nA. one\nB. two\nC. three\nAnswer:"
    assert new["shadow_choices"] == ["A", "B", "C"] and new["shadow_gold"] == 2


def test_noisy_changes_only_the_question() -> None:
    doc = mmlu(
        ["It is not 5", "It is not 6", "x", "y"],
        0,
        "What is the value that it is not possible to reach with 12 coins of $0.25 each?",
    )
    for seed in range(20):
        new = apply_variant("mmlu", "noisy", doc, "0", seed)
        assert new is not None and new["question"] != doc["question"]
        assert new["choices"] == doc["choices"] and new["answer"] == 0
        assert "12" in new["question"] and "$0.25" in new["question"]


@pytest.mark.parametrize("variant", ["relabeled", "format_swap"])
def test_fewshot_examples_are_never_skipped(benchmark_data: Path, variant: str) -> None:
    docs = load_docs(str(benchmark_data), "mmlu", "dev")
    for seed in range(8):
        skipped = [
            d for d in docs if apply_variant("mmlu", variant, d, d["shadow_id"], seed) is None
        ]
        assert skipped  # as scored questions some are ambiguous...
        for doc in skipped:  # ...but as examples they still show the format
            example = {**doc, FEWSHOT_FLAG: True}
            new = apply_variant("mmlu", variant, example, doc["shadow_id"], seed)
            assert new is not None and new["shadow_gold"] == doc["answer"]
