"""Assemble a report card from lm-eval output (and optional spectra), and write it out.

The three calls ``shadow-suite run`` needs::

    from shadow_suite.report import build_card, write_card
    card = build_card([eval_dir], spectra=spectra_dir, base_model=base_name)
    paths = write_card(card, out_dir)  # card.json, card.html, card.md
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import pandas as pd

from shadow_suite import __version__
from shadow_suite.contract import METADATA_SEED
from shadow_suite.error_rates import shipped_error_rates
from shadow_suite.errors import ShadowSuiteError
from shadow_suite.gap import analyse, load_results
from shadow_suite.gap.defaults import ALPHA, DEFAULT_BOOTSTRAP_SEED, DEFAULT_N_BOOT
from shadow_suite.gap.familiarity import (
    FAMILIARITY_FILE,
    familiarity_from_samples,
    write_familiarity,
)
from shadow_suite.gap.items import ITEMS_FILE, items_from_results, items_identity, write_items
from shadow_suite.gap.lm_eval_output import EvalResults
from shadow_suite.gap.memorization import memorization_test
from shadow_suite.gap.pairwise import originals_against_references
from shadow_suite.gap.records import ReferenceItems
from shadow_suite.report.identity_checks import (
    check_items_identity,
    check_spectra_model,
    distinct_references,
)
from shadow_suite.report.schema import (
    SCHEMA,
    SCHEMA_VERSION,
    BaseModelInfo,
    Card,
    ModelInfo,
    Provenance,
    RunRecord,
    SpectralSection,
    StatsConfig,
    card_json,
    write_text_atomic,
)
from shadow_suite.report.spectral import load_spectral_section
from shadow_suite.report.words import excluded_reasons, reference_gate_notes

_PACKAGES = ("numpy", "scipy", "pandas", "lm_eval", "transformers", "torch")


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def _versions() -> dict[str, str]:
    out = {}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name.replace("_", "-"))
        except metadata.PackageNotFoundError:
            continue
    return out


def card_from_results(
    results: EvalResults,
    spectral: SpectralSection | None = None,
    base_model: str | None = None,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = DEFAULT_BOOTSTRAP_SEED,
    references: Sequence[ReferenceItems] = (),
    name: str | None = None,
) -> Card:
    """Pure assembly: the analysis of ``results`` (against ``references``, if any) plus
    provenance and spectra; ``name`` replaces the model's name in the title (``--name``)."""
    items = items_from_results(results)
    target_tokenizer = next((r.tokenizer for r in results.runs if r.tokenizer), None)
    for ref in references:
        check_reference(items, ref, _n_shot(results))
    # one model per card: references that are other models, each counted once
    folders = [p for r in results.runs for p in Path(r.results_file).parents[:2]]
    familiarity = familiarity_from_samples(results.familiarity)
    references, extra_warnings = distinct_references(
        references, items, results.model_identity, folders, familiarity
    )
    for ref in references:
        if ref.tokenizer and target_tokenizer and ref.tokenizer != target_tokenizer:
            extra_warnings.append(
                f"reference {ref.name} uses another tokenizer (special tokens differ): its "
                "position signature is its own, not comparable token for token"
            )
    analysis = analyse(items, n_boot=n_boot, seed=seed, references=references)
    memorization = memorization_test(
        familiarity,
        references,
        benchmarks=sorted({t.benchmark for t in results.tasks.values()}),
        n_perm=n_boot,
        n_boot=n_boot,
        seed=seed,
    )
    latest = max(results.runs, key=lambda r: r.date)
    model_name = name if name else display_name(latest.model_name)
    reference_originals = originals_against_references(model_name, items, references)
    analysis.headline.excluded = excluded_reasons(analysis)
    if analysis.reference is not None:
        analysis.reference.notes = reference_gate_notes(analysis.reference)
    shadow_seeds = sorted({t.seed for t in results.tasks.values()})
    seeds: dict[str, int | None] = {METADATA_SEED: shadow_seeds[0] if shadow_seeds else None}
    seeds.update(latest.seeds)
    n_shot: dict[str, int] = {}
    versions: dict[str, str] = {}
    for run in sorted(results.runs, key=lambda r: r.date):
        n_shot.update(run.n_shot)
        versions.update(run.task_versions)
    base: BaseModelInfo | None = None
    base_identity = spectral.base_identity if spectral is not None else None
    if base_model:
        base = BaseModelInfo(base_model, "argument", base_identity)
    elif spectral is not None and spectral.base_path:
        # with --against the spectra's "base" is a sibling; the model's base is the ancestor
        base = BaseModelInfo(spectral.ancestor_path or spectral.base_path, "spectra", base_identity)
    return Card(
        schema=SCHEMA,
        schema_version=SCHEMA_VERSION,
        model=ModelInfo(
            name=model_name,
            backend=latest.model_source,
            model_args=latest.model_args,
            revision=latest.model_revision,
            sha=latest.model_sha,
            dtype=latest.model_dtype,
            num_parameters=latest.model_num_parameters,
            chat_template_sha=latest.chat_template_sha,
            system_instruction_sha=latest.system_instruction_sha,
            chat_template_applied=latest.chat_template_applied,
            fewshot_as_multiturn=latest.fewshot_as_multiturn
            if latest.chat_template_applied
            else None,
            identity=results.model_identity,
        ),
        base_model=base,
        provenance=Provenance(
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            shadow_suite_version=__version__,
            packages=_versions(),
            runs=[
                RunRecord(
                    results_file=str(
                        Path(r.results_file).relative_to(Path(r.results_file).parents[1])
                    ),
                    date=_iso(r.date),
                    backend=r.model_source,
                    lm_eval_version=r.lm_eval_version,
                    transformers_version=r.transformers_version,
                    batch_size=r.batch_size,
                    limit=r.limit,
                    evaluation_seconds=r.total_evaluation_time_seconds,
                )
                for r in sorted(results.runs, key=lambda r: r.date)
            ],
            seeds=seeds,
            data_sha256={
                f"{t.benchmark}/{t.variant}": t.data_sha256
                for t in sorted(results.tasks.values(), key=lambda t: t.task)
            },
            n_shot=n_shot,
            task_versions=versions,
            sampled_items=sorted({t.sample for t in results.tasks.values() if t.sample}),
            stats=StatsConfig(
                n_boot=n_boot,
                seed=seed,
                confidence=analysis.confidence,
                alpha=ALPHA,
                ci_method="rows: Newcombe paired score interval; families, headline and "
                "reference deltas: percentile bootstrap resampling source items (paired; "
                "target and references together), benchmarks independent",
                test="rows: exact McNemar, two-sided; reference deltas: one-sided sign-flip "
                "permutation test on whole item rows",
                multiplicity="Holm across every row of the card; Holm across the reference "
                "cells and across the families; the headline is the primary test",
            ),
        ),
        gap=analysis,
        tasks=results.statuses,
        warnings=list(results.warnings) + extra_warnings,
        spectral=spectral,
        error_rates=shipped_error_rates(),
        reference_originals=reference_originals,
        items=items,
        memorization=memorization,
        familiarity=familiarity,
    )


def display_name(name: str) -> str:
    """The model's name for a card's title: a hub id as it is, a local folder by its own name
    (never a cache path such as /root/.cache/...)."""
    path = Path(name)
    if path.is_absolute() or path.exists():
        return path.name or name
    return name


def _n_shot(results: EvalResults) -> dict[str, int]:
    n_shot: dict[str, int] = {}
    for run in sorted(results.runs, key=lambda r: r.date):
        n_shot.update(run.n_shot)
    return n_shot


def check_reference(
    target: pd.DataFrame, ref: ReferenceItems, target_n_shot: dict[str, int]
) -> None:
    """Refuse, in one line naming the difference, a reference that was not evaluated like the
    target: another variant seed, other data files, other few-shot settings, or items the
    target scored and it did not."""
    ours = target.groupby("task").first()
    theirs = ref.items.groupby("task").first()
    where = f"reference {ref.name!r} ({ref.source})"
    for task in ours.index:
        if task not in theirs.index:
            raise ShadowSuiteError(f"{where} has no {task} results; evaluate it on the same tasks")
        if int(ours.at[task, "seed"]) != int(theirs.at[task, "seed"]):
            raise ShadowSuiteError(
                f"{where}: {task} was made with shadow_seed {int(theirs.at[task, 'seed'])}, the "
                f"target's with {int(ours.at[task, 'seed'])}; run both with the same --seed"
            )
        if ours.at[task, "data_sha256"] != theirs.at[task, "data_sha256"]:
            raise ShadowSuiteError(
                f"{where}: {task} comes from another data file (sha256 "
                f"{str(theirs.at[task, 'data_sha256'])[:12]} vs the target's "
                f"{str(ours.at[task, 'data_sha256'])[:12]})"
            )
        mine = target_n_shot.get(task, int(ours.at[task, "n_fewshot"]))
        other = ref.n_shot.get(task, int(theirs.at[task, "n_fewshot"]))
        if mine >= 0 and other >= 0 and mine != other:
            raise ShadowSuiteError(
                f"{where}: {task} ran {other}-shot, the target {mine}-shot; use the same few-shot "
                "settings"
            )
    mine_ids = target.groupby("task")["shadow_id"].apply(set)
    their_ids = ref.items.groupby("task")["shadow_id"].apply(set)
    for task, ids in mine_ids.items():
        lacking = sorted(ids - their_ids.get(task, set()))
        if lacking:
            raise ShadowSuiteError(
                f"{where} lacks {len(lacking)} of the target's {len(ids)} items of {task} (e.g. "
                f"{lacking[0]}); evaluate it on the same items (same --limit or sample, same seed)"
            )


def load_reference(path: str | os.PathLike[str]) -> ReferenceItems:
    """A reference model from a card folder (card.json + items.parquet), a `shadow-suite run`
    folder (its card/) or an lm-eval output folder of that model."""
    from shadow_suite.report.schema import load_card

    folder = Path(path)
    if not folder.exists():
        raise ShadowSuiteError(f"reference {folder}: no such file or folder")
    card_file: Path | None = None
    if folder.is_file() and folder.suffix == ".json" and not folder.name.startswith("results_"):
        card_file = folder
    elif (folder / "card" / "card.json").is_file():
        card_file = folder / "card" / "card.json"
    elif (folder / "card.json").is_file():
        card_file = folder / "card.json"
    if card_file is not None:
        card = load_card(card_file)
        if card.items is None:
            raise ShadowSuiteError(
                f"reference {card_file.parent}: card has no items.parquet beside it; "
                "regenerate it with `shadow-suite report`"
            )
        items_file = card_file.parent / ITEMS_FILE
        check_items_identity(
            card.model.identity, items_identity(items_file), f"reference {card_file.parent}"
        )
        familiarity_file = card_file.parent / FAMILIARITY_FILE
        if card.familiarity is not None:  # what it adds to the memorization test: its own too
            check_items_identity(
                card.model.identity,
                items_identity(familiarity_file),
                f"reference {card_file.parent}",
                FAMILIARITY_FILE,
            )
        return ReferenceItems(
            name=card.model.name,
            items=card.items,
            source=str(card_file.parent),
            n_shot=dict(card.provenance.n_shot),
            tokenizer=None,
            model_identity=card.model.identity,
            familiarity=card.familiarity,
        )
    results = load_results([folder])
    return ReferenceItems(
        name=display_name(results.runs[0].model_name),
        items=items_from_results(results),
        source=str(folder),
        n_shot=_n_shot(results),
        tokenizer=next((r.tokenizer for r in results.runs if r.tokenizer), None),
        model_identity=results.model_identity,
        familiarity=familiarity_from_samples(results.familiarity) if results.familiarity else None,
    )


def build_card(
    results_dirs: Sequence[str | os.PathLike[str]],
    spectra: str | os.PathLike[str] | None = None,
    base_spectra: str | os.PathLike[str] | None = None,
    base_model: str | None = None,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = DEFAULT_BOOTSTRAP_SEED,
    references: Sequence[str | os.PathLike[str]] = (),
    name: str | None = None,
) -> Card:
    """Read lm-eval output folders (one model) and an optional spectra file into a card;
    ``references``: trusted models evaluated on the same items (see ``load_reference``);
    ``name``: the model's name on the card (default: ``display_name`` of lm-eval's)."""
    refs = [load_reference(r) for r in references]
    results = load_results(results_dirs)
    spectral = None
    if spectra is not None:
        spectral = load_spectral_section(
            Path(spectra), None if base_spectra is None else Path(base_spectra)
        )
        check_spectra_model(  # one model per card: the spectra are the evaluated model's
            results.model_identity,
            results.runs[-1].model_args.get("pretrained"),
            spectral.model_identity,
            str(spectra),
        )
    elif base_spectra is not None:
        raise ShadowSuiteError("--base-spectra needs --spectra (the model's own spectra)")
    return card_from_results(
        results, spectral, base_model, n_boot, seed, references=refs, name=name
    )


@dataclass(frozen=True)
class CardPaths:
    json: Path
    html: Path
    markdown: Path
    items: Path
    familiarity: Path | None = None
    """familiarity.parquet, when the card has a familiarity record."""


def write_card(card: Card, out_dir: str | os.PathLike[str]) -> CardPaths:
    """Write items.parquet (the per-item record), familiarity.parquet (with the familiarity
    tasks), card.json (the source of truth), card.html and card.md, each atomically."""
    from shadow_suite.report.html import render_html
    from shadow_suite.report.markdown import render_markdown

    out = Path(out_dir)
    has_familiarity = card.familiarity is not None and not card.familiarity.empty
    paths = CardPaths(
        out / "card.json",
        out / "card.html",
        out / "card.md",
        out / ITEMS_FILE,
        out / FAMILIARITY_FILE if has_familiarity else None,
    )
    if card.items is not None:
        write_items(card.items, paths.items, card.model.identity)
    if card.familiarity is not None and paths.familiarity is not None:
        write_familiarity(card.familiarity, paths.familiarity, card.model.identity)
    elif (out / FAMILIARITY_FILE).is_file():  # a stale record would pair with this card
        (out / FAMILIARITY_FILE).unlink()
    write_text_atomic(paths.json, card_json(card))
    write_text_atomic(paths.html, render_html(card))
    write_text_atomic(paths.markdown, render_markdown(card))
    return paths
