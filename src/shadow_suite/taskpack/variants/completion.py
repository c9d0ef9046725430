"""Variants of the sentence-completion benchmarks, HellaSwag and WinoGrande.

lm-eval scores both in cloze form (HellaSwag: each ending after the context;
WinoGrande: the rest of the sentence after each option is put in the blank). The
``lettered`` variants ask the same item as a lettered multiple-choice question instead;
``noisy`` types the context/sentence carelessly and leaves the options alone.
"""

from __future__ import annotations

import random

from shadow_suite.taskpack.variants.core import Doc, Variant, on_a_copy
from shadow_suite.taskpack.variants.noise import noisy_until_changed
from shadow_suite.taskpack.variants.render import (
    hellaswag_preprocess,
    hellaswag_query,
    lettered,
    render_original,
    winogrande_gold,
)


def hellaswag_lettered(doc: Doc, rng: random.Random) -> Doc | None:
    # same cleaning as lm-eval's hellaswag (bracket artifacts, double spaces)
    endings = [hellaswag_preprocess(e).strip() for e in doc["endings"]]
    head = (
        f"Context: {hellaswag_query(doc)}\nQuestion: Which ending is the most likely continuation?"
    )
    return lettered(doc, head, endings, int(doc["label"]))


def hellaswag_noisy(doc: Doc, rng: random.Random) -> Doc | None:
    before = hellaswag_query(doc)

    def changes_query(ctx_a: str) -> bool:
        return hellaswag_query({**doc, "ctx_a": ctx_a}) != before

    ctx_a = noisy_until_changed(doc["ctx_a"], rng, changes_query)
    if ctx_a is None:
        return None
    if doc["ctx"].startswith(doc["ctx_a"]):  # keep the joined field consistent
        doc["ctx"] = ctx_a + doc["ctx"][len(doc["ctx_a"]) :]
    doc["ctx_a"] = ctx_a
    return doc


def winogrande_lettered(doc: Doc, rng: random.Random) -> Doc | None:
    head = f"Sentence: {doc['sentence']}\nQuestion: Which option fills the blank (_)?"
    return lettered(doc, head, [doc["option1"], doc["option2"]], winogrande_gold(doc))


def winogrande_noisy(doc: Doc, rng: random.Random) -> Doc | None:
    before = render_original("winogrande", doc)
    # the options' words stay exact where the sentence mentions them: they are what the
    # blank must be resolved against
    protect = [doc["option1"], doc["option2"]]

    def changes_render(sentence: str) -> bool:
        if sentence.count("_") != doc["sentence"].count("_"):
            return False
        return render_original("winogrande", {**doc, "sentence": sentence}) != before

    sentence = noisy_until_changed(doc["sentence"], rng, changes_render, protect)
    if sentence is None:
        return None
    doc["sentence"] = sentence
    return doc


REGISTERED: dict[str, dict[str, Variant]] = {
    "hellaswag": {
        "lettered": Variant(
            "lettered",
            "hellaswag",
            on_a_copy(hellaswag_lettered),
            "preserved",
            True,
            "Asked as lettered multiple choice (the four endings listed, the letter "
            "scored) instead of scoring each ending's text.",
            "never skipped",
            family="format",
            renders=True,
            paired_fewshot=True,
        ),
        "noisy": Variant(
            "noisy",
            "hellaswag",
            on_a_copy(hellaswag_noisy),
            "preserved",
            False,
            "The context (not the endings) gets mild typing noise: lowercase, "
            "contractions, a keyboard typo or two, extra spaces.",
            "the context has no plain prose word that can take noise",
            family="content",
            paired_fewshot=True,
        ),
    },
    "winogrande": {
        "lettered": Variant(
            "lettered",
            "winogrande",
            on_a_copy(winogrande_lettered),
            "preserved",
            True,
            "The sentence with its blank and the two options are shown as lettered "
            "multiple choice and the letter is scored.",
            "never skipped",
            family="format",
            renders=True,
            paired_fewshot=True,
        ),
        "noisy": Variant(
            "noisy",
            "winogrande",
            on_a_copy(winogrande_noisy),
            "preserved",
            False,
            "The sentence gets mild typing noise (the options and their mentions, "
            "the blank and numbers untouched).",
            "the sentence has no plain prose word that can take noise",
            family="content",
            paired_fewshot=True,
        ),
    },
}
"""benchmark -> variant name -> Variant, for the benchmarks of this module."""
