"""Out-of-distribution variants of benchmark items: pure ``doc -> doc | None`` functions.

Each variant rewrites one raw benchmark document (the schema lm-eval's own task reads)
into a new one, seeded per item from (benchmark, doc id, variant, seed), or returns None
when the transformation does not apply to that item (the skip is counted and reported).

*Content* variants return the raw schema, so the benchmark's own prompt template renders
them. *Format* variants (``fewshot=True``) also set ``shadow_prompt`` (the whole question
prompt, ending in "Answer:"), ``shadow_choices`` (the continuations scored, without the
leading space lm-eval adds) and ``shadow_gold`` (index of the right one); they are applied
to the few-shot examples too, so examples and question share one format. The loader marks
few-shot examples with ``shadow_fewshot: True`` (``FEWSHOT_FLAG``): a format variant never
skips those, so every subject keeps all its examples.
"""

from __future__ import annotations

import copy
import functools
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from shadow_suite.contract import FEWSHOT_FLAG, item_id
from shadow_suite.errors import ShadowSuiteError
from shadow_suite.taskpack.suite import get_benchmark
from shadow_suite.taskpack.variants import completion, gsm8k, multiple_choice, renumber
from shadow_suite.taskpack.variants.core import (
    FAMILIES,
    RENDER_FIELDS,
    Doc,
    Family,
    ItemRandom,
    Transform,
    Variant,
    item_rng,
    run_rng,
    validate_seed,
)
from shadow_suite.taskpack.variants.multiple_choice import relabel_symbols

__all__ = [
    "FAMILIES",
    "FEWSHOT_FLAG",
    "RENDER_FIELDS",
    "VARIANTS",
    "Family",
    "ItemRandom",
    "Variant",
    "applicability",
    "apply_variant",
    "get_variant",
    "item_rng",
    "relabel_symbols",
    "run_rng",
    "validate_seed",
]


@dataclass(frozen=True)
class _OnACopy:
    """A transform made safe to hand any document: it works on a deep copy, so the
    caller's document (and the few-shot split it belongs to) is never modified. A class
    rather than a closure so that variants pickle (lm-eval may ship tasks to workers)."""

    function: Callable[[Doc, random.Random], Doc | None]

    def __call__(self, doc: Doc, rng: random.Random) -> Doc | None:
        return self.function(copy.deepcopy(doc), rng)


def _pure(function: Callable[[Doc, random.Random], Doc | None]) -> Transform:
    return _OnACopy(function)


def _bind(function: Callable[[str, Doc, random.Random], Doc | None], benchmark: str) -> Transform:
    return _OnACopy(functools.partial(function, benchmark))


LISTED_NOTE = (
    " Asked with the options listed and lettered, as format_swap asks the unchanged item (in "
    "lm-eval's cloze form each option is scored alone, so this change would change no score)."
)


def _multiple_choice(benchmark: str) -> dict[str, Variant]:
    cloze = benchmark == "arc_challenge"
    return {
        "permuted": Variant(
            "permuted",
            benchmark,
            _bind(multiple_choice.permuted, benchmark),
            "preserved",
            False,
            "The answer options are reordered so that the correct one moves; options that "
            "refer to others (all/none of the above, 'both A and B') stay in place."
            + (LISTED_NOTE if cloze else ""),
            "the correct option refers to other options, or fewer than two options may move",
            family="content",
            same_format_as="format_swap" if cloze else None,
        ),
        "relabeled": Variant(
            "relabeled",
            benchmark,
            _bind(multiple_choice.relabeled, benchmark),
            "preserved",
            True,
            "The options are labelled with another symbol set (1/2/3/4, (a)/(b)/(c)/(d), "
            "a/b/c/d or (1)/(2)/(3)/(4), one per run) and the model answers with the symbol.",
            "an option names other options by letter, or its text is one of the new symbols",
            family="format",
        ),
        "format_swap": Variant(
            "format_swap",
            benchmark,
            _bind(multiple_choice.format_swap, benchmark),
            "preserved",
            True,
            "Asked as lettered multiple choice (A/B/C/D listed, the letter scored) instead "
            "of lm-eval's cloze form."
            if cloze
            else "Asked in cloze form (the option texts scored after 'Answer:', options not "
            "listed) instead of lettered multiple choice.",
            "an option refers to other options, which is meaningless when options are not listed",
            family="format",
            metric=None if cloze else "acc_norm,none",
        ),
        "none_of_the_others": Variant(
            "none_of_the_others",
            benchmark,
            _bind(multiple_choice.none_of_the_others, benchmark),
            "preserved",
            False,
            "The correct option's text is replaced by 'None of the other answers', which "
            "stays correct and in the same position." + (LISTED_NOTE if cloze else ""),
            "the item already has an option that refers to the others, or repeats the "
            "correct option",
            family="hard",
            same_format_as="format_swap" if cloze else None,
        ),
        "noisy": Variant(
            "noisy",
            benchmark,
            _bind(multiple_choice.noisy, benchmark),
            "preserved",
            False,
            "The question (not the options) gets mild typing noise: lowercase, contractions, "
            "a keyboard typo or two, extra spaces; numbers and formulas untouched.",
            "the question has no plain prose word that can take noise",
            family="content",
        ),
    }


def _build() -> dict[str, dict[str, Variant]]:
    return {
        "mmlu": _multiple_choice("mmlu"),
        "arc_challenge": _multiple_choice("arc_challenge"),
        "hellaswag": {
            "lettered": Variant(
                "lettered",
                "hellaswag",
                _pure(completion.hellaswag_lettered),
                "preserved",
                True,
                "Asked as lettered multiple choice (the four endings listed, the letter "
                "scored) instead of scoring each ending's text.",
                "never skipped",
                family="format",
            ),
            "noisy": Variant(
                "noisy",
                "hellaswag",
                _pure(completion.hellaswag_noisy),
                "preserved",
                False,
                "The context (not the endings) gets mild typing noise: lowercase, "
                "contractions, a keyboard typo or two, extra spaces.",
                "the context has no plain prose word that can take noise",
                family="content",
            ),
        },
        "winogrande": {
            "lettered": Variant(
                "lettered",
                "winogrande",
                _pure(completion.winogrande_lettered),
                "preserved",
                True,
                "The sentence with its blank and the two options are shown as lettered "
                "multiple choice and the letter is scored.",
                "never skipped",
                family="format",
            ),
            "noisy": Variant(
                "noisy",
                "winogrande",
                _pure(completion.winogrande_noisy),
                "preserved",
                False,
                "The sentence gets mild typing noise (the options and their mentions, "
                "the blank and numbers untouched).",
                "the sentence has no plain prose word that can take noise",
                family="content",
            ),
        },
        "gsm8k": {
            "rephrased": Variant(
                "rephrased",
                "gsm8k",
                _pure(gsm8k.rephrased),
                "preserved",
                False,
                "The question is replaced by a published rewording with the same numbers "
                "and answer (Yang et al. 2023).",
                "no rewording for this item, or it is identical to the question",
                family="content",
            ),
            "renumbered": Variant(
                "renumbered",
                "gsm8k",
                _pure(renumber.renumber),
                "recomputed",
                False,
                "The question's numbers are changed and the answer recomputed exactly from "
                "the solution's calculator annotations.",
                "the solution cannot be traced from its annotations, or no new numbers keep "
                "all results whole and non-negative",
                family="content",
            ),
            "distractor": Variant(
                "distractor",
                "gsm8k",
                _pure(gsm8k.distractor),
                "preserved",
                False,
                "One irrelevant sentence containing a number is inserted before the "
                "question sentence.",
                "the problem is a single sentence (no place before the question)",
                family="hard",
            ),
            "answer_format": Variant(
                "answer_format",
                "gsm8k",
                _pure(gsm8k.answer_format),
                "preserved",
                True,
                "The final answer is asked for as 'The final answer is N.' instead of "
                "'#### N', in the few-shot examples too.",
                "the solution has no final '#### N' line",
                family="format",
            ),
        },
    }


VARIANTS: dict[str, dict[str, Variant]] = _build()
"""benchmark -> variant name -> Variant (the unchanged ``orig`` is not a variant)."""


def get_variant(benchmark: str, name: str) -> Variant:
    get_benchmark(benchmark)  # raises naming an unknown benchmark
    variants = VARIANTS.get(benchmark, {})
    if name not in variants:
        raise ShadowSuiteError(
            f"unknown variant {name!r} for benchmark {benchmark!r}; known: {', '.join(variants)}"
        )
    return variants[name]


def apply_variant(benchmark: str, variant: str, doc: Doc, doc_id: str, seed: int) -> Doc | None:
    """The variant of ``doc`` (a new dict; ``doc`` is never modified), or None if the
    variant does not apply to it. Extra keys (the loader's ``shadow_*``) are copied."""
    spec = get_variant(benchmark, variant)
    rng = item_rng(benchmark, str(doc_id), variant, validate_seed(seed))
    result = spec.transform(doc, rng)
    if result is not None and spec.fewshot and benchmark != "gsm8k":
        missing = [f for f in RENDER_FIELDS if f not in result]
        if missing:
            raise AssertionError(f"format variant {benchmark}/{variant} did not set {missing}")
    return result


def applicability(
    benchmark: str,
    variant: str,
    docs: Iterable[Doc],
    seed: int,
    doc_ids: Sequence[str] | None = None,
) -> tuple[int, int]:
    """(n source, n applied): on how many of ``docs`` the variant applies. Doc ids are
    ``doc_ids`` if given, else each doc's ``shadow_id``, else the id the task pack gives
    row ``i`` of the evaluated split (``<benchmark>/<split>/<i>``)."""
    split = get_benchmark(benchmark).eval_split
    get_variant(benchmark, variant)  # bad names fail even when there are no docs
    seed = validate_seed(seed)
    n_source = n_applied = 0
    for index, doc in enumerate(docs):
        if doc_ids is not None:
            doc_id = doc_ids[index]
        else:
            doc_id = str(doc.get("shadow_id", item_id(benchmark, split, index)))
        n_source += 1
        if apply_variant(benchmark, variant, doc, doc_id, seed) is not None:
            n_applied += 1
    return n_source, n_applied
