"""One model per card, and references that are other models, each counted once.

A card describes one model: its evaluation, its spectra and the base it names must carry the
same model identity (``shadow_suite.identity``), else one line. References are the
evaluation's yardstick, so a reference that is the target itself (given by its run, its card
or its lm-eval folder, or as items copied beside another card) would make the target's gap
cancel out into ``no_evidence``; it is refused. One reference given twice (two spellings of a
path, two runs of one model) would count as two models in the verdict and the calibration;
it is counted once, and the card says so.

A model is recognised by its identity when one was recorded, by the real path of its
folder, and, for lm-eval output nothing recorded, by its answers: two evaluations whose
per-option log-likelihoods agree on every item are one model (two different models never
agree to the last bit on even a few items).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from shadow_suite.errors import ShadowSuiteError
from shadow_suite.gap.records import ReferenceItems
from shadow_suite.identity import identity_of, short

MIN_ITEMS_COMPARED = 4
"""Items with log-likelihoods that must agree to take two evaluations for one model."""


def _real(path: str | os.PathLike[str]) -> str:
    return os.path.realpath(Path(path).expanduser())


def check_spectra_model(
    eval_identity: str | None,
    pretrained: str | None,
    spectra_identity: str | None,
    spectra_source: str,
) -> None:
    """The spectra must be of the evaluated model. Without a recorded evaluation identity
    (plain lm_eval output), the evaluated folder's identity now stands in for it when the
    folder is on this machine."""
    if spectra_identity is None:
        return  # spectra written before identities: nothing to compare
    evaluated = eval_identity
    if evaluated is None and pretrained:
        try:
            evaluated = identity_of(pretrained)
        except ShadowSuiteError:
            evaluated = None
    if evaluated is not None and evaluated != spectra_identity:
        raise ShadowSuiteError(
            f"--spectra {spectra_source} is of another model (identity "
            f"{short(spectra_identity)}) than the evaluation ({short(evaluated)}): a card "
            "describes one model; give the spectra of the evaluated weights"
        )


def check_not_target(ref: ReferenceItems, target_identity: str | None) -> None:
    if target_identity is not None and ref.model_identity == target_identity:
        raise ShadowSuiteError(
            f"reference {ref.name!r} ({ref.source}) is the evaluated model itself (model "
            f"identity {short(target_identity)}); a model cannot be its own reference"
        )


def same_answers(a: pd.DataFrame, b: pd.DataFrame) -> int:
    """The number of items on which two per-item records hold identical log-likelihoods, when
    they agree on all their shared multiple-choice items and at least
    :data:`MIN_ITEMS_COMPARED` of them; else 0."""
    columns = ["task", "shadow_id", "loglikelihoods"]
    left = a[columns][a["loglikelihoods"].notna()]
    right = b[columns][b["loglikelihoods"].notna()]
    shared = left.merge(right, on=["task", "shadow_id"], suffixes=("_a", "_b"))
    if len(shared) < MIN_ITEMS_COMPARED:
        return 0
    for x, y in zip(shared["loglikelihoods_a"], shared["loglikelihoods_b"], strict=True):
        if list(x) != list(y):
            return 0
    return len(shared)


def distinct_references(
    references: Sequence[ReferenceItems],
    target_items: pd.DataFrame,
    target_identity: str | None,
    target_dirs: Sequence[str | os.PathLike[str]] = (),
) -> tuple[list[ReferenceItems], list[str]]:
    """The references with the target refused and repeats dropped, and one card warning per
    repeat. A repeat is the same folder (after resolving links), the same model identity, or
    the same answers."""
    target_paths = {_real(d) for d in target_dirs}
    kept: list[ReferenceItems] = []
    warnings: list[str] = []
    for ref in references:
        where = f"reference {ref.name!r} ({ref.source})"
        check_not_target(ref, target_identity)
        if _real(ref.source) in target_paths:
            raise ShadowSuiteError(
                f"{where} is the evaluated model's own results; a model cannot be its own reference"
            )
        agreeing = same_answers(target_items, ref.items)
        if agreeing:
            raise ShadowSuiteError(
                f"{where} holds the evaluated model's own answers (identical log-likelihoods "
                f"on all {agreeing} shared items): a model cannot be its own reference"
            )
        for other in kept:
            why = _same_model(ref, other)
            if why is not None:
                warnings.append(
                    f"{where} is the same model as reference {other.name!r} ({other.source}) "
                    f"({why}): counted once"
                )
                break
        else:
            kept.append(ref)
    return kept, warnings


def _same_model(a: ReferenceItems, b: ReferenceItems) -> str | None:
    if _real(a.source) == _real(b.source):
        return "the same folder"
    if a.model_identity is not None and a.model_identity == b.model_identity:
        return f"model identity {short(a.model_identity)}"
    agreeing = same_answers(a.items, b.items)
    if agreeing:
        return f"identical log-likelihoods on all {agreeing} shared items"
    return None


def check_items_identity(card_identity: str | None, items_identity: str | None, where: str) -> None:
    """A card's items must be its own model's: refused when both record an identity and the
    two differ (items copied beside another model's card)."""
    if card_identity is not None and items_identity is not None and card_identity != items_identity:
        raise ShadowSuiteError(
            f"{where}: items.parquet holds the answers of model {short(items_identity)}, "
            f"card.json describes model {short(card_identity)}: not this card's items; "
            "regenerate the card with `shadow-suite report`"
        )


def check_references_early(
    references: Sequence[str | os.PathLike[str]], seed: int, target_identity: str | None
) -> None:
    """``run --reference`` mistakes that need no evaluation, found before one: a folder that
    holds no model's results, another variant seed, the evaluated model itself. (The rest,
    items and few-shot settings, needs the target's items: the card checks them.)"""
    from shadow_suite.report.card import load_reference

    for given in references:
        ref = load_reference(given)
        check_not_target(ref, target_identity)
        seeds = sorted({int(s) for s in ref.items["seed"]})
        if seeds and seeds != [seed]:
            raise ShadowSuiteError(
                f"reference {ref.name!r} ({ref.source}) was made with shadow_seed {seeds[0]}, "
                f"this run uses {seed}; evaluate it with --seed {seed}"
            )
