"""What a card cannot tell, from its own fields: each caveat has one condition, checked here,
and one sentence, written in :mod:`shadow_suite.report.words`.

A caveat appears exactly when its condition holds on the card (the tests build cards for
each condition and its absence), so a reader handed the card alone gets them:

- ``error_rates``: the card is a verdict against references; it cites the measured false-
  positive and detection rates it recorded (``Card.error_rates``) and their limits;
- ``no_reference``: no reference model, so no claim about training;
- ``reference_fails_gate``: a row the headline averages on which a reference fails a gate;
- ``weaker_reference``: a reference at least ``WEAKER_BY`` below the model on the original
  items of a benchmark in the headline, by an exact McNemar test (Holm p < alpha);
- ``public_seed``: the variants come from the public default seed;
- ``first_n``: lm-eval's ``--limit`` (the first N items of each task);
- ``sample``: the task pack's seeded sample (``run --limit N``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shadow_suite.contract import DEFAULT_VARIANT_SEED, METADATA_SEED
from shadow_suite.gap.defaults import ALPHA
from shadow_suite.gap.verdict_rows import verdict_rows
from shadow_suite.report import words
from shadow_suite.report.schema import Card

CaveatCode = Literal[
    "error_rates",
    "no_reference",
    "reference_fails_gate",
    "weaker_reference",
    "public_seed",
    "first_n",
    "sample",
]

WEAKER_BY = 0.20
"""A reference this far (accuracy share) below the model on a benchmark's original items,
significantly so, is called much weaker: it has too little to lose to show a gap."""


@dataclass(frozen=True)
class Caveat:
    code: CaveatCode
    text: str


def caveats(card: Card) -> list[Caveat]:
    """The card's caveats, in the order the first screen shows them."""
    h = card.gap.headline
    out: list[Caveat] = []
    if h.verdict_class in words.VERDICT_CLASSES:
        out.append(Caveat("error_rates", words.error_rates_caveat(card.error_rates)))
    if not h.references:
        out.append(Caveat("no_reference", words.no_reference_caveat()))
    rows = verdict_rows(card.gap)
    references = card.gap.reference.references if card.gap.reference else []
    failing = [
        (name, vr.key, gate)
        for vr in rows
        if vr.reference is not None
        for name, gate in zip(references, vr.reference.reference_gates, strict=False)
        if gate != "ok"
    ]
    if failing:
        out.append(Caveat("reference_fails_gate", words.reference_gate_caveat(failing, len(rows))))
    weaker = [
        p
        for p in card.reference_originals
        if p.benchmark in h.benchmarks
        and p.acc_a - p.acc_b >= WEAKER_BY
        and p.p_holm is not None
        and p.p_holm < ALPHA
    ]
    if weaker:
        out.append(Caveat("weaker_reference", words.weaker_reference_caveat(weaker)))
    seed = card.provenance.seeds.get(METADATA_SEED)
    if seed == DEFAULT_VARIANT_SEED:
        out.append(Caveat("public_seed", words.public_seed_caveat(seed)))
    limits = sorted({r.limit for r in card.provenance.runs if r.limit is not None})
    if limits:
        out.append(Caveat("first_n", words.first_n_caveat(limits)))
    if card.provenance.sampled_items:
        out.append(Caveat("sample", words.sample_caveat(card.provenance.sampled_items)))
    return out
