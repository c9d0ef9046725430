"""Variants of the four-option benchmarks, MMLU and ARC-Challenge.

MMLU is scored by letter (lm-eval shows "A. ..." lines and scores " A"); ARC-Challenge
in cloze form (lm-eval scores each option's text after "Question: ...\\nAnswer:").
Content variants return the raw schema, so lm-eval's own template renders them; format
variants also set ``shadow_prompt``/``shadow_choices``/``shadow_gold``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from shadow_suite.contract import FEWSHOT_FLAG
from shadow_suite.taskpack.variants.core import Doc, ItemRandom, Variant, for_benchmark, run_rng
from shadow_suite.taskpack.variants.noise import noisy_until_changed
from shadow_suite.taskpack.variants.options import pinned_positions, refers_to_others
from shadow_suite.taskpack.variants.render import (
    arc_gold,
    lettered,
    lettered_prompt,
    render_original,
    with_render,
)

NONE_OF_THE_OTHERS = "None of the other answers"


def is_fewshot_example(doc: Doc) -> bool:
    """Set by the loader on few-shot examples (``contract.FEWSHOT_FLAG``): format variants
    then never skip them, so every subject keeps all its examples; an example whose options
    name letters or equal the new symbols is still a fair demonstration of the format, while
    as a scored question it would be ambiguous."""
    return bool(doc.get(FEWSHOT_FLAG))


def get_options(benchmark: str, doc: Doc) -> list[str]:
    if benchmark == "arc_challenge":
        return list(doc["choices"]["text"])
    return list(doc["choices"])


def get_gold(benchmark: str, doc: Doc) -> int:
    if benchmark == "arc_challenge":
        return arc_gold(doc)
    return int(doc["answer"])


def with_options(benchmark: str, doc: Doc, options: list[str], gold: int) -> Doc:
    """``doc`` (already a copy) with new option texts and gold, in the raw schema."""
    if benchmark == "arc_challenge":
        labels = list(doc["choices"]["label"])
        doc["choices"] = {**doc["choices"], "text": options}
        doc["answerKey"] = labels[gold]
    else:
        doc["choices"] = options
        doc["answer"] = gold
    return doc


def permuted(benchmark: str, doc: Doc, rng: random.Random) -> Doc | None:
    options, gold = get_options(benchmark, doc), get_gold(benchmark, doc)
    pinned = pinned_positions(options)
    free = [i for i in range(len(options)) if i not in pinned]
    if gold in pinned or len(free) < 2:
        return None
    # The gold always moves (to a uniformly chosen other free slot); the rest of the free
    # options are shuffled uniformly into the remaining free slots.
    new_gold = rng.choice([i for i in free if i != gold])
    sources = [i for i in free if i != gold]
    rng.shuffle(sources)
    new_options = list(options)
    new_options[new_gold] = options[gold]
    for slot, source in zip([i for i in free if i != new_gold], sources, strict=True):
        new_options[slot] = options[source]
    if new_options == options:  # only possible with duplicate option texts
        return None
    return _listed_for_cloze_benchmarks(
        benchmark, with_options(benchmark, doc, new_options, new_gold)
    )


def none_of_the_others(benchmark: str, doc: Doc, rng: random.Random) -> Doc | None:
    # The gold keeps its position: this variant changes content only, so its gap is not
    # mixed with the effect of a permutation (which ``permuted`` measures).
    options, gold = get_options(benchmark, doc), get_gold(benchmark, doc)
    if any(refers_to_others(o) for o in options):
        return None
    normalized = [o.strip().lower().rstrip(".") for o in options]
    if normalized.count(normalized[gold]) > 1:  # another option says the same thing
        return None
    new_options = list(options)
    new_options[gold] = NONE_OF_THE_OTHERS
    return _listed_for_cloze_benchmarks(benchmark, with_options(benchmark, doc, new_options, gold))


def _listed_for_cloze_benchmarks(benchmark: str, doc: Doc) -> Doc:
    """ARC-Challenge is scored in cloze form, where each option is scored alone: reordering
    the options changes no score, and "None of the other answers" means nothing when the
    others are not shown. So ARC's ``permuted`` and ``none_of_the_others`` are asked with
    the options listed and lettered, as ``format_swap`` asks the unchanged item; compare
    them with ``format_swap`` to separate the listing from the change itself."""
    if benchmark != "arc_challenge":
        return doc
    options, gold = get_options(benchmark, doc), get_gold(benchmark, doc)
    return lettered(doc, f"Question: {doc['question']}", options, gold)


def noisy(benchmark: str, doc: Doc, rng: random.Random) -> Doc | None:
    before = render_original(benchmark, doc).prompt

    def changes_prompt(question: str) -> bool:
        return render_original(benchmark, {**doc, "question": question}).prompt != before

    question = noisy_until_changed(doc["question"], rng, changes_prompt)
    if question is None:
        return None
    doc["question"] = question
    return doc


@dataclass(frozen=True)
class SymbolSet:
    name: str
    symbols: tuple[str, ...]
    """What the model must answer (scored without the leading space lm-eval adds)."""
    line_format: str
    """How an option line starts, e.g. "{}." gives "1. text"."""


# Roman numerals are left out on purpose: many MMLU items list statements I, II, III
# and have options like "I and II only", which roman option labels would make ambiguous.
SYMBOL_SETS: tuple[SymbolSet, ...] = (
    SymbolSet("numbers", ("1", "2", "3", "4", "5"), "{}."),
    SymbolSet("parenthesized letters", ("(a)", "(b)", "(c)", "(d)", "(e)"), "{}"),
    SymbolSet("lowercase letters", ("a", "b", "c", "d", "e"), "{}."),
    SymbolSet("parenthesized numbers", ("(1)", "(2)", "(3)", "(4)", "(5)"), "{}"),
)


def _choose_symbol_set(run: random.Random) -> SymbolSet:
    return run.choice(SYMBOL_SETS)


def run_symbol_set(rng: random.Random) -> SymbolSet:
    """The symbol set every item and few-shot example of one run shares."""
    if not isinstance(rng, ItemRandom):
        raise TypeError("relabeled needs the generator made by item_rng/apply_variant")
    return _choose_symbol_set(rng.run)


def relabel_symbols(benchmark: str, seed: int) -> SymbolSet:
    """The symbol set ``relabeled`` uses for ``benchmark`` in a run with ``seed`` (for the
    report card, which should say what the model was asked to answer with)."""
    return _choose_symbol_set(run_rng(benchmark, "relabeled", seed))


def _question_head(benchmark: str, doc: Doc) -> str:
    # keep each benchmark's own question line: MMLU's bare question, ARC's "Question: "
    if benchmark == "arc_challenge":
        return f"Question: {doc['question']}"
    question: str = doc["question"]
    return question.strip()


def relabeled(benchmark: str, doc: Doc, rng: random.Random) -> Doc | None:
    symbol_set = run_symbol_set(rng)
    options, gold = get_options(benchmark, doc), get_gold(benchmark, doc)
    symbols = list(symbol_set.symbols[: len(options)])
    if len(symbols) < len(options):
        return None
    # An option that names letters loses its referent; one whose text is itself a symbol
    # ("2" among options labelled 1-4) makes the answer ambiguous.
    symbol_texts = {s.lower() for s in symbols}
    if not is_fewshot_example(doc) and any(
        refers_to_others(o) or o.strip().rstrip(".").lower() in symbol_texts for o in options
    ):
        return None
    prompt = lettered_prompt(
        _question_head(benchmark, doc), options, symbols, symbol_set.line_format
    )
    return with_render(doc, prompt, symbols, gold)


def format_swap(benchmark: str, doc: Doc, rng: random.Random) -> Doc | None:
    options, gold = get_options(benchmark, doc), get_gold(benchmark, doc)
    if benchmark == "mmlu":
        # cloze form, as lm-eval's mmlu_continuation task: the options are not shown, so
        # an option that points at the others ("All of the above") means nothing.
        if not is_fewshot_example(doc) and any(refers_to_others(o) for o in options):
            return None
        return with_render(doc, f"Question: {doc['question'].strip()}\nAnswer:", options, gold)
    return _listed_for_cloze_benchmarks(benchmark, doc)


LISTED_NOTE = (
    " Asked with the options listed and lettered, as format_swap asks the unchanged item (in "
    "lm-eval's cloze form each option is scored alone, so this change would change no score)."
)


MMLU_CLOZE_DESCRIPTION = (
    "The following are questions (with answers) about {{subject.replace('_', ' ')}}.\n\n"
)
"""The header of lm-eval's cloze-form MMLU (``mmlu_continuation``): MMLU's format_swap."""
MMLU_CLOZE_NOTE = "the header of lm-eval's cloze-form MMLU (mmlu_continuation)"


def _variants(benchmark: str) -> dict[str, Variant]:
    cloze = benchmark == "arc_challenge"
    # MMLU's few-shot examples (the subject's first n) are the same for every item already
    paired = benchmark != "mmlu"
    return {
        "permuted": Variant(
            "permuted",
            benchmark,
            for_benchmark(permuted, benchmark),
            "preserved",
            False,
            "The answer options are reordered so that the correct one moves; options that "
            "refer to others (all/none of the above, 'both A and B') stay in place."
            + (LISTED_NOTE if cloze else ""),
            "the correct option refers to other options, or fewer than two options may move",
            family="content",
            same_format_as="format_swap" if cloze else None,
            renders=cloze,
            paired_fewshot=paired,
        ),
        "relabeled": Variant(
            "relabeled",
            benchmark,
            for_benchmark(relabeled, benchmark),
            "preserved",
            True,
            "The options are labelled with another symbol set (1/2/3/4, (a)/(b)/(c)/(d), "
            "a/b/c/d or (1)/(2)/(3)/(4), one per run) and the model answers with the symbol.",
            "an option names other options by letter, or its text is one of the new symbols",
            family="format",
            renders=True,
            paired_fewshot=paired,
        ),
        "format_swap": Variant(
            "format_swap",
            benchmark,
            for_benchmark(format_swap, benchmark),
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
            renders=True,
            paired_fewshot=paired,
            task_config={} if cloze else {"description": MMLU_CLOZE_DESCRIPTION},
            task_config_note="" if cloze else MMLU_CLOZE_NOTE,
        ),
        "none_of_the_others": Variant(
            "none_of_the_others",
            benchmark,
            for_benchmark(none_of_the_others, benchmark),
            "preserved",
            False,
            "The correct option's text is replaced by 'None of the other answers', which "
            "stays correct and in the same position." + (LISTED_NOTE if cloze else ""),
            "the item already has an option that refers to the others, or repeats the "
            "correct option",
            family="hard",
            same_format_as="format_swap" if cloze else None,
            renders=cloze,
            paired_fewshot=paired,
        ),
        "noisy": Variant(
            "noisy",
            benchmark,
            for_benchmark(noisy, benchmark),
            "preserved",
            False,
            "The question (not the options) gets mild typing noise: lowercase, contractions, "
            "a keyboard typo or two, extra spaces; numbers and formulas untouched.",
            "the question has no plain prose word that can take noise",
            family="content",
            paired_fewshot=paired,
        ),
    }


REGISTERED: dict[str, dict[str, Variant]] = {
    "mmlu": _variants("mmlu"),
    "arc_challenge": _variants("arc_challenge"),
}
"""benchmark -> variant name -> Variant, for the benchmarks of this module."""
