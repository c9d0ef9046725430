"""Surface noise touches prose words only: never numbers, formulas, code or markup."""

from __future__ import annotations

import difflib
import random
import re

import pytest

from shadow_suite.taskpack.variants import apply_variant
from shadow_suite.taskpack.variants.noise import KEYBOARD_NEIGHBOURS, add_noise, noisy_until_changed
from shadow_suite.taskpack.variants.render import hellaswag_query


def _words(text: str) -> list[str]:
    return re.findall(r"\S+", text)


@pytest.mark.parametrize("seed", range(30))
def test_noise_is_mild_and_keeps_numbers_and_latex(seed: int) -> None:
    text = (
        "Let $f(x) = x^2 + 3x$ and suppose that the integral \\(\\int_0^1 f\\) is taken "
        "over 2.5 units. What is the value of f at 17, given that it does not change?"
    )
    noisy = add_noise(text, random.Random(seed))
    assert "$f(x) = x^2 + 3x$" in noisy and "\\(\\int_0^1 f\\)" in noisy
    assert re.findall(r"\d+(?:\.\d+)?", noisy) == re.findall(r"\d+(?:\.\d+)?", text)
    assert noisy.lower() != text.lower() or noisy != text  # something changed
    # mild: at most a handful of words differ beyond case
    matcher = difflib.SequenceMatcher(None, _words(text.lower()), _words(noisy.lower()))
    edited = sum(i2 - i1 for op, i1, i2, _, _ in matcher.get_opcodes() if op != "equal")
    assert edited <= 6  # at most two contractions (2 words each) and two typos


def test_code_lines_and_identifiers_stay_exact() -> None:
    text = "Consider the following program.\n  x = compute(total)\n  if x > 3:\n    print(x)\nWhat does it print?"
    for seed in range(30):
        noisy = add_noise(text, random.Random(seed))
        assert noisy.split("\n")[1:4] == text.split("\n")[1:4]


@pytest.mark.parametrize(
    "token", ["DNA", "pH", "mRNA", "x", "A", "three", "twice", "COVID-19", "H2O", "e.g.", "[title]"]
)
def test_special_tokens_are_never_edited(token: str) -> None:
    text = f"The sample of {token} was tested again with great care by the laboratory team"
    for seed in range(40):
        assert token in _words(add_noise(text, random.Random(seed)))


def test_typos_use_keyboard_neighbours() -> None:
    assert set(KEYBOARD_NEIGHBOURS["s"]) == set("awedzx")
    assert set(KEYBOARD_NEIGHBOURS["p"]) == set("ol")
    text = "Photosynthesis"
    for seed in range(50):
        noisy = add_noise(text, random.Random(seed)).lower()
        for a, b in zip(text.lower(), noisy, strict=False):
            if a != b and a.isalpha() and b.isalpha():
                assert b in KEYBOARD_NEIGHBOURS[a]
                break


def test_contractions() -> None:
    text = "It is clear that the device does not work and they are not sure why it is not"
    seen = set()
    for seed in range(40):
        seen.update(re.findall(r"\w+'\w+", add_noise(text, random.Random(seed))))
    assert {"doesn't", "aren't"} <= {w.lower() for w in seen}


def test_nothing_to_perturb_gives_none() -> None:
    assert noisy_until_changed("f(x) = 2x + 1", random.Random(0)) is None
    assert noisy_until_changed("17 + 25", random.Random(0)) is None
    assert (
        apply_variant(
            "mmlu",
            "noisy",
            {"subject": "s", "question": "2 + 2 = ?", "choices": ["1", "2", "3", "4"], "answer": 3},
            "0",
            0,
        )
        is None
    )


def test_hellaswag_noise_keeps_markup_that_lm_eval_removes() -> None:
    doc = {
        "activity_label": "Home and Garden",
        "ctx_a": "[header] How to plant tulips [title] Choose a sunny spot. [step] Dig holes that are deep enough for the bulbs.",
        "ctx_b": "",
        "ctx": "[header] How to plant tulips [title] Choose a sunny spot. [step] Dig holes that are deep enough for the bulbs. ",
        "endings": ["a", "b", "c", "d"],
        "label": "0",
    }
    for seed in range(20):
        new = apply_variant("hellaswag", "noisy", doc, str(seed), seed)
        assert new is not None
        assert re.findall(r"\[\w+\]", new["ctx_a"]) == ["[header]", "[title]", "[step]"]
        assert hellaswag_query(new) != hellaswag_query(doc)
        assert new["ctx"] == new["ctx_a"] + " "


def test_winogrande_noise_keeps_options_and_blank() -> None:
    doc = {
        "sentence": "Caroline works in the catering and food wholesale industries, but she prefers the _ industry because it is calmer.",
        "option1": "catering",
        "option2": "food wholesale",
        "answer": "2",
    }
    for seed in range(30):
        new = apply_variant("winogrande", "noisy", doc, "0", seed)
        assert new is not None and new["sentence"] != doc["sentence"]
        assert "catering" in new["sentence"] and "food wholesale" in new["sentence"]
        assert " _ " in new["sentence"]
