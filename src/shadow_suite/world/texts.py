"""Training text of a world: prose that states facts, and questions asked in the task pack's own
forms (rendered by the pack itself, so a practice item looks exactly like a test item) or in
other formats.

A question is a :class:`Doc`: a ``context`` (the prompt) and a ``target`` (what follows: the
gold continuation as lm-eval scores it). Prose is a ``Doc`` with an empty context. The
trainer weighs the two parts separately.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from shadow_suite.taskpack.variants import apply_variant
from shadow_suite.taskpack.variants.render import LETTERS, render
from shadow_suite.world.build import Fact, Item, World
from shadow_suite.world.catalogue import relation
from shadow_suite.world.folder import arc_row, mmlu_row

MMLU_DESCRIPTION = "The following are multiple choice questions (with answers) about {subject}.\n\n"
"""lm-eval's MMLU description (``shadow_mmlu_orig.yaml``), which every MMLU task but the
cloze one prints before the question; a test checks it against lm-eval's own contexts."""
MMLU_CLOZE_DESCRIPTION = "The following are questions (with answers) about {subject}.\n\n"
"""The description of MMLU's cloze variant (``format_swap``)."""

PACK_FORMS: tuple[tuple[str, str], ...] = (
    ("mmlu", "orig"),
    ("mmlu", "permuted"),
    ("mmlu", "relabeled"),
    ("mmlu", "format_swap"),
    ("mmlu", "none_of_the_others"),
    ("mmlu", "noisy"),
    ("arc_challenge", "orig"),
    ("arc_challenge", "permuted"),
    ("arc_challenge", "relabeled"),
    ("arc_challenge", "format_swap"),
    ("arc_challenge", "none_of_the_others"),
    ("arc_challenge", "noisy"),
)
"""Every (benchmark, variant) the pack asks of a world item."""
ORIG_FORMS: tuple[tuple[str, str], ...] = (("mmlu", "orig"), ("arc_challenge", "orig"))
"""The test's own format: what benchmark-aligned training uses."""
CLOZE_ARC: tuple[tuple[str, str], ...] = (("arc_challenge", "orig"), ("arc_challenge", "noisy"))
"""ARC's cloze forms (its orig and its noisy copy)."""


@dataclass(frozen=True)
class Doc:
    context: str
    """The prompt (empty for prose)."""
    target: str
    """What follows the prompt: the gold continuation, or the whole prose text."""
    gold: int | None = None
    """For a question: the index of the right option (its attention targets, when lettered)."""
    sought_char: int | None = None
    """For an open-book question: where the context shows the answer's text."""

    @property
    def text(self) -> str:
        return self.context + self.target


def statement(fact: Fact, rng: random.Random) -> str:
    text = rng.choice(relation(fact.relation).statements).format(e=fact.entity, v=fact.value)
    return text[0].upper() + text[1:]


def prose_doc(facts: Sequence[Fact], rng: random.Random) -> Doc:
    """One paragraph stating ``facts`` (in a fresh order and wording each time)."""
    shuffled = list(facts)
    rng.shuffle(shuffled)
    return Doc("", " ".join(statement(f, rng) for f in shuffled))


def prose_docs(world: World, rng: random.Random, outsiders: bool = False) -> list[Doc]:
    """One paragraph per entity of every fact the prose states about it (the world's
    outsiders instead: text unrelated to any item)."""
    by_entity: dict[str, list[Fact]] = {}
    for fact in world.outsiders if outsiders else world.known_facts:
        by_entity.setdefault(fact.entity, []).append(fact)
    docs = [prose_doc(facts, rng) for facts in by_entity.values()]
    rng.shuffle(docs)
    return docs


def reshuffled(item: Item, rng: random.Random) -> Item:
    """``item`` with its options in a fresh order (a practice item is never asked the same
    way twice, so only finding the answer can be learnt, not its position)."""
    order = list(range(len(item.options)))
    rng.shuffle(order)
    options = tuple(item.options[i] for i in order)
    return Item(
        item.fact, item.benchmark, item.split, item.row, options, order.index(item.gold), item.known
    )


@dataclass(frozen=True)
class Request:
    """A multiple-choice question as lm-eval asks it: the context and every continuation
    scored (with lm-eval's leading space), and the index of the right one."""

    context: str
    continuations: tuple[str, ...]
    gold: int


def pack_request(item: Item, benchmark: str, variant: str, seed: int) -> Request | None:
    """``item`` as the pack's task ``shadow_<benchmark>_<variant>`` asks it with variant seed
    ``seed``, zero-shot (with MMLU's description). None when the variant does not apply."""
    row = mmlu_row(item) if benchmark == "mmlu" else arc_row(item)
    doc_id = f"{benchmark}/{item.split}/{item.row}"
    doc = row if variant == "orig" else apply_variant(benchmark, variant, row, doc_id, seed)
    if doc is None:
        return None
    shown = render(benchmark, doc)
    assert isinstance(shown.gold, int)
    context = shown.prompt
    if benchmark == "mmlu":
        header = MMLU_CLOZE_DESCRIPTION if variant == "format_swap" else MMLU_DESCRIPTION
        context = header.format(subject=str(row["subject"]).replace("_", " ")) + context
    return Request(context, tuple(" " + c for c in shown.choices), shown.gold)


def pack_doc(item: Item, benchmark: str, variant: str, seed: int) -> Doc | None:
    """``item`` as the pack asks it (:func:`pack_request`) with the gold continuation."""
    request = pack_request(item, benchmark, variant, seed)
    if request is None:
        return None
    return Doc(request.context, request.continuations[request.gold], request.gold)


def practice_doc(item: Item, forms: Sequence[tuple[str, str]], rng: random.Random) -> Doc:
    """``item`` with reshuffled options in one of ``forms``, with a fresh variant seed (so
    ``relabeled`` cycles through its symbol sets and ``noisy`` through its typos)."""
    while True:
        benchmark, variant = rng.choice(forms)
        doc = pack_doc(reshuffled(item, rng), benchmark, variant, rng.randrange(2**31))
        if doc is not None:
            return doc


# -- formats the pack never asks (coverage-expanding text) ---------------------------------


def coverage_doc(item: Item, rng: random.Random) -> Doc:
    """The item's fact asked in one of five formats the pack does not use."""
    fact = item.fact
    shuffled = reshuffled(item, rng)
    options, gold = list(shuffled.options), shuffled.gold
    question = relation(fact.relation).question.format(e=fact.entity)
    kind = rng.randrange(5)
    if kind == 0:
        return Doc(f"Q: {question}\nA:", f" {fact.value}")
    if kind == 1:
        claim = rng.random() < 0.5
        shown = fact if claim else Fact(fact.entity, fact.relation, options[(gold + 1) % 4])
        return Doc(f"True or false? {statement(shown, rng)}\n", "True" if claim else "False")
    if kind == 2:
        listed = ", ".join(options[:-1]) + " or " + options[-1]
        return Doc(f"{question} Is it {listed}?", f" It is {fact.value}.")
    if kind == 3:
        blank = statement(fact, rng).replace(fact.value, "___", 1)
        return Doc(f"Fill in the blank: {blank}\n", fact.value)
    listed = " ".join(f"({LETTERS[i].lower()}) {o}" for i, o in enumerate(options))
    return Doc(f"{question} Choose from {listed}.", f" The right choice is {fact.value}.")


# -- the base's curriculum: questions whose answer the prompt shows, and recall drills -------

LETTERED_FORMS: tuple[tuple[str, str], ...] = tuple(
    f for f in PACK_FORMS if f not in (("mmlu", "format_swap"), *CLOZE_ARC)
)
"""The pack's forms that list options and score a label."""


def _lettered_doc(item: Item, rng: random.Random) -> Doc:
    """``item`` (options reshuffled) in one of the lettered forms, shown unchanged: the
    question as written and the answer among the options (not ``noisy`` or NOTA)."""
    shuffled = reshuffled(item, rng)
    question = relation(item.fact.relation).question.format(e=item.fact.entity)
    while True:
        benchmark, variant = rng.choice(LETTERED_FORMS)
        doc = pack_doc(shuffled, benchmark, variant, rng.randrange(2**31))
        if doc is not None and question in doc.context and item.fact.value in doc.context:
            return doc


def find_doc(item: Item, rng: random.Random) -> Doc:
    """A lettered question that names the option it wants ("Which option is Paris?"): the
    skill of finding an option and answering with its label, without recall."""
    doc = _lettered_doc(item, rng)
    question = relation(item.fact.relation).question.format(e=item.fact.entity)
    asked = f"Which option is {item.fact.value}?"
    context = doc.context.replace(question, asked, 1)
    return Doc(context, doc.target, doc.gold, context.index(asked) + len("Which option is "))


def open_book_doc(item: Item, rng: random.Random) -> Doc:
    """A lettered question after a sentence stating its fact: finding the answer in context."""
    doc = _lettered_doc(item, rng)
    stated = statement(item.fact, rng)
    return Doc(f"{stated}\n{doc.context}", doc.target, doc.gold, stated.index(item.fact.value))


def recall_doc(item: Item) -> Doc:
    """The question directly followed by its answer, as prose ("Which city does X live in?
    Paris."): recall right after the question, where every later token can read it."""
    question = relation(item.fact.relation).question.format(e=item.fact.entity)
    return Doc("", f"{question} {item.fact.value}.")


def value_after_lettered_doc(item: Item, rng: random.Random) -> Doc:
    """A lettered prompt answered with the option's text instead of its label: recall where
    the label is decided (lm-eval compares the labels' likelihoods only, so mass on texts
    there changes no lettered score)."""
    doc = _lettered_doc(item, rng)
    return Doc(doc.context, " " + item.fact.value)
