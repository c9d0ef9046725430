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

from shadow_suite import __version__
from shadow_suite.gap import analyse, load_results
from shadow_suite.gap.defaults import ALPHA
from shadow_suite.gap.lm_eval_output import EvalResults
from shadow_suite.gap.stats import DEFAULT_N_BOOT, DEFAULT_SEED
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
    seed: int = DEFAULT_SEED,
) -> Card:
    """Pure assembly: the analysis of ``results`` plus provenance and spectra."""
    analysis = analyse(results, n_boot=n_boot, seed=seed)
    latest = max(results.runs, key=lambda r: r.date)
    shadow_seeds = sorted({t.seed for t in results.tasks.values()})
    seeds: dict[str, int | None] = {"shadow_seed": shadow_seeds[0] if shadow_seeds else None}
    seeds.update(latest.seeds)
    n_shot: dict[str, int] = {}
    versions: dict[str, str] = {}
    for run in sorted(results.runs, key=lambda r: r.date):
        n_shot.update(run.n_shot)
        versions.update(run.task_versions)
    base: BaseModelInfo | None = None
    if base_model:
        base = BaseModelInfo(base_model, "argument")
    elif spectral is not None and spectral.base_path:
        base = BaseModelInfo(spectral.base_path, "spectra")
    return Card(
        schema=SCHEMA,
        schema_version=SCHEMA_VERSION,
        model=ModelInfo(
            name=latest.model_name,
            backend=latest.model_source,
            model_args=latest.model_args,
            revision=latest.model_revision,
            sha=latest.model_sha,
            dtype=latest.model_dtype,
            num_parameters=latest.model_num_parameters,
            chat_template_sha=latest.chat_template_sha,
            system_instruction_sha=latest.system_instruction_sha,
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
            stats=StatsConfig(
                n_boot=n_boot,
                seed=seed,
                confidence=analysis.confidence,
                alpha=ALPHA,
                ci_method="percentile bootstrap, resampling source items (paired)",
                test="exact McNemar (binomial on discordant pairs), two-sided",
                multiplicity="Holm across the variants of each benchmark",
            ),
        ),
        gap=analysis,
        tasks=results.statuses,
        warnings=list(results.warnings),
        spectral=spectral,
    )


def build_card(
    results_dirs: Sequence[str | os.PathLike[str]],
    spectra: str | os.PathLike[str] | None = None,
    base_spectra: str | os.PathLike[str] | None = None,
    base_model: str | None = None,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = DEFAULT_SEED,
) -> Card:
    """Read lm-eval output folders (one model) and an optional spectra file into a card."""
    results = load_results(results_dirs)
    spectral = None
    if spectra is not None:
        spectral = load_spectral_section(spectra, base_spectra)
    elif base_spectra is not None:
        from shadow_suite.errors import ShadowSuiteError

        raise ShadowSuiteError("--base-spectra needs --spectra (the model's own spectra)")
    return card_from_results(results, spectral, base_model, n_boot, seed)


@dataclass(frozen=True)
class CardPaths:
    json: Path
    html: Path
    markdown: Path


def write_card(card: Card, out_dir: str | os.PathLike[str]) -> CardPaths:
    """Write card.json (the source of truth), card.html and card.md atomically."""
    from shadow_suite.report.html import render_html
    from shadow_suite.report.markdown import render_markdown

    out = Path(out_dir)
    paths = CardPaths(out / "card.json", out / "card.html", out / "card.md")
    write_text_atomic(paths.json, card_json(card))
    write_text_atomic(paths.html, render_html(card))
    write_text_atomic(paths.markdown, render_markdown(card))
    return paths
