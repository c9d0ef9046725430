"""How lm-eval's own tasks render a raw document: prompt, scored choices and gold.

Used to check that a variant really changes what the model sees (the comparison is
against the original template, not the raw fields) and by the format variants, which
start from the same cleaned text. Mirrors lm-eval 0.4.13's ``mmlu`` (default),
``arc_challenge``, ``hellaswag``, ``gsm8k`` and ``winogrande`` task configs; a test
checks the mirror against lm-eval's own helper functions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from shadow_suite.errors import ShadowSuiteError
from shadow_suite.taskpack.variants.core import RENDER_FIELDS, Doc

LETTERS = "ABCDEFGHIJ"


def lettered_prompt(
    head: str, options: Sequence[str], labels: Sequence[str] = LETTERS, line_format: str = "{}."
) -> str:
    """``head``, one line per option (``A. text``; ``line_format`` writes the label) and
    ``Answer:``: lm-eval's MMLU prompt, and every lettered form of the pack (labels: the
    first ``len(options)`` of ``labels``)."""
    lines = [head]
    lines += [
        f"{line_format.format(label)} {text}"
        for label, text in zip(labels[: len(options)], options, strict=True)
    ]
    return "\n".join([*lines, "Answer:"])


def with_render(doc: Doc, prompt: str, choices: Sequence[str], gold: int) -> Doc:
    """``doc`` (already a copy) with the render fields (``RENDER_FIELDS``) a format variant's
    task reads: the whole prompt, the continuations scored and the index of the right one."""
    doc["shadow_prompt"] = prompt
    doc["shadow_choices"] = list(choices)
    doc["shadow_gold"] = gold
    return doc


def lettered(doc: Doc, head: str, options: Sequence[str], gold: int) -> Doc:
    """``doc`` (already a copy) asked as lettered multiple choice: ``head``, the options under
    A, B, C..., and the letter scored."""
    letters = list(LETTERS[: len(options)])
    return with_render(doc, lettered_prompt(head, options, letters), letters, gold)


@dataclass(frozen=True)
class Rendered:
    prompt: str
    choices: tuple[str, ...]
    """Continuations scored, without lm-eval's target delimiter (a leading space)."""
    gold: int | str
    """Index into ``choices``; for a generative benchmark (gsm8k) the target text."""


def hellaswag_preprocess(text: str) -> str:
    """lm-eval's hellaswag text cleaning (WikiHow bracket artifacts, double spaces)."""
    text = text.strip()
    text = text.replace(" [title]", ". ")
    text = re.sub("\\[.*?\\]", "", text)
    text = text.replace("  ", " ")
    return text


def hellaswag_query(doc: Doc) -> str:
    ctx = doc["ctx_a"] + " " + doc["ctx_b"].capitalize()
    return hellaswag_preprocess(doc["activity_label"] + ": " + ctx)


def arc_gold(doc: Doc) -> int:
    labels = list(doc["choices"]["label"])
    try:
        return labels.index(doc["answerKey"])
    except ValueError:
        raise ShadowSuiteError(
            f"arc_challenge doc: answerKey {doc['answerKey']!r} not among labels {labels}"
        ) from None


def winogrande_gold(doc: Doc) -> int:
    """The right option of a WinoGrande row (``answer`` is "1" or "2") as an index."""
    return {"1": 0, "2": 1}[doc["answer"]]


def winogrande_target(doc: Doc) -> str:
    """What lm-eval scores for a WinoGrande row: the sentence after its blank."""
    sentence: str = doc["sentence"]
    return sentence[sentence.index("_") + 1 :].strip()


def winogrande_contexts(doc: Doc) -> list[str]:
    """lm-eval's WinoGrande choices: the sentence up to the blank with each option put in."""
    head = doc["sentence"][: doc["sentence"].index("_")]
    return [head + option for option in (doc["option1"], doc["option2"])]


def render_original(benchmark: str, doc: Doc) -> Rendered:
    """What lm-eval's task for ``benchmark`` shows the model for ``doc`` (no few-shot)."""
    if benchmark == "mmlu":
        prompt = lettered_prompt(doc["question"].strip(), doc["choices"])
        return Rendered(prompt, tuple(LETTERS[:4]), int(doc["answer"]))
    if benchmark == "arc_challenge":
        return Rendered(
            f"Question: {doc['question']}\nAnswer:", tuple(doc["choices"]["text"]), arc_gold(doc)
        )
    if benchmark == "hellaswag":
        return Rendered(
            hellaswag_query(doc),
            tuple(hellaswag_preprocess(e) for e in doc["endings"]),
            int(doc["label"]),
        )
    if benchmark == "winogrande":
        # lm-eval scores the text after the blank given each option filled in: the
        # "prompt" here is the sentence up to the blank, the choices the two contexts.
        return Rendered(
            winogrande_target(doc), tuple(winogrande_contexts(doc)), winogrande_gold(doc)
        )
    if benchmark == "gsm8k":
        return Rendered(f"Question: {doc['question']}\nAnswer:", (), doc["answer"])
    raise ShadowSuiteError(f"no renderer for benchmark {benchmark!r}")


def render(benchmark: str, doc: Doc) -> Rendered:
    """What our task shows for ``doc``: its render fields if a format variant set them,
    else the original template."""
    if all(f in doc for f in RENDER_FIELDS):
        return Rendered(doc["shadow_prompt"], tuple(doc["shadow_choices"]), doc["shadow_gold"])
    return render_original(benchmark, doc)
