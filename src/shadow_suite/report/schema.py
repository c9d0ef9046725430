"""The report card's JSON schema: typed dataclasses, versioned, with strict loading.

The card is the source of truth; HTML and Markdown are renderings of it. Field meanings are
documented in ``report/SCHEMA.md`` and on the dataclasses (the gap tables reuse the
dataclasses of :mod:`shadow_suite.gap.analysis`). Bump ``SCHEMA_VERSION`` on any change
that an older reader would misread, and add a migration to ``_MIGRATIONS`` when one exists.
"""

from __future__ import annotations

import dataclasses
import json
import os
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from shadow_suite.error_rates import ErrorRates
from shadow_suite.errors import ShadowSuiteError
from shadow_suite.gap.analysis import GapAnalysis
from shadow_suite.gap.lm_eval_output import TaskStatus
from shadow_suite.gap.memorization import MemorizationAnalysis
from shadow_suite.gap.pairwise import OrigPair
from shadow_suite.numbers import finite_or_none
from shadow_suite.typed_json import from_json

SCHEMA = "shadow-suite.card"
SCHEMA_VERSION = 2
"""2: gates, families, verdict classes, references and the per-item record (items.parquet);
version-1 cards are refused with a one-line error (their headline cannot be re-derived
without the per-item record)."""


@dataclass
class ModelInfo:
    name: str
    """lm-eval's model name (from pretrained=/model= of model_args)."""
    backend: str
    """lm-eval model type: hf, vllm, local-completions, ..."""
    model_args: dict[str, str]
    """Backend arguments as given to lm-eval; secrets (key/token/...) redacted."""
    revision: str | None
    sha: str | None
    dtype: str | None
    num_parameters: int | None
    chat_template_sha: str | None
    system_instruction_sha: str | None
    chat_template_applied: bool | None = None
    """Whether prompts went through the model's chat template (``--apply_chat_template``);
    None: the results file does not say (older lm-eval)."""
    fewshot_as_multiturn: bool | None = None
    """With a chat template: whether few-shot examples were chat turns (lm-eval's flag)."""
    identity: str | None = None
    """``sha256:...``: the digest of the evaluated model's files (``shadow_suite.identity``)
    as ``shadow-suite run`` recorded it; None for plain lm_eval output and older cards."""


@dataclass
class BaseModelInfo:
    name: str
    """The model this one was fine-tuned from (given by the user or the spectra file)."""
    source: str
    """Where the name came from: 'argument', 'spectra' or 'base-spectra'."""
    identity: str | None = None
    """The base's model identity as its spectra recorded it; None when unknown."""


@dataclass
class RunRecord:
    results_file: str
    date: str
    """ISO 8601, UTC, from the results file."""
    backend: str
    lm_eval_version: str | None
    transformers_version: str | None
    batch_size: str | None
    limit: float | None
    evaluation_seconds: float | None


@dataclass
class StatsConfig:
    n_boot: int
    seed: int
    confidence: float
    alpha: float
    ci_method: str
    test: str
    multiplicity: str


@dataclass
class Provenance:
    created: str
    shadow_suite_version: str
    packages: dict[str, str]
    """Versions at report time (numpy, scipy, pandas, ...); lm-eval's at eval time is per run."""
    runs: list[RunRecord]
    seeds: dict[str, int | None]
    """shadow_seed (variant generation) and lm-eval's random/numpy/torch/fewshot seeds."""
    data_sha256: dict[str, str]
    """'benchmark/variant' -> SHA-256 of the data file its items came from."""
    n_shot: dict[str, int]
    task_versions: dict[str, str]
    stats: StatsConfig
    sampled_items: list[int] = field(default_factory=list)
    """The task pack's seeded sample size(s) per benchmark (``run --limit N``,
    ``shadow_items``); empty: each task's whole split, or lm-eval's first N (``runs[].limit``).
    Empty in older cards."""


@dataclass
class LayerSeries:
    kind: str
    """Module kind (attn_q, mlp_down, ...) or 'all' for a per-layer total."""
    layers: list[int]
    values: list[float | None]


@dataclass
class MatrixSpectrum:
    name: str
    kind: str
    layer: int | None
    shape: list[int]
    relative_change: float | None
    """||W - W0||_F / ||W0||_F, None without a base."""
    what: str
    """'update' (singular values of W - W0) or 'weight' (of W)."""
    singular_values: list[float]
    """Largest first, at most 64."""


@dataclass
class SpectralSection:
    source: str
    spectra_schema_version: int | None
    model_path: str | None
    base_path: str | None
    method: str | None
    effective_rank_metric: str
    """Which metric the effective-rank plots show (entropy effective rank, Roy & Vetterli)."""
    summary: dict[str, float | None]
    """Model-level means over analysed matrices (effective rank, stable rank, alpha, ...)."""
    update_summary: dict[str, float | None] | None
    """With a base: overall relative change, median, matrices compared, noise-dominated."""
    effective_rank_by_layer: list[LayerSeries]
    base_effective_rank_by_layer: list[LayerSeries]
    update_relative_change_by_layer: LayerSeries | None
    update_effective_rank_by_layer: LayerSeries | None
    top_changed: list[MatrixSpectrum]
    notes: list[str] = field(default_factory=list)
    ancestor_path: str | None = None
    """With ``spectra --base A --against B``: A, the model's base; ``base_path`` is then the
    sibling B the updates are measured against. None otherwise (and in older cards)."""
    model_identity: str | None = None
    """The analysed model's identity (``spectra.json``); the card's model must have it."""
    base_identity: str | None = None
    """The identity of the model's base (the ancestor with ``spectra --against``); None: no
    base, or spectra written before identities."""


@dataclass
class Card:
    schema: str
    schema_version: int
    model: ModelInfo
    base_model: BaseModelInfo | None
    provenance: Provenance
    gap: GapAnalysis
    tasks: list[TaskStatus]
    warnings: list[str]
    spectral: SpectralSection | None
    error_rates: ErrorRates | None = None
    """The verdict's measured error rates as this shadow-suite shipped them when the card was
    made (``shadow_suite/error_rates.json``): what the card cites next to a verdict. None in
    older cards."""
    reference_originals: list[OrigPair] = field(default_factory=list)
    """The model (``model_a``) against each reference (``model_b``) on the original items
    both scored, per benchmark: accuracies and the exact McNemar test (Holm across these
    rows). Empty without references, and in older cards."""
    items: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    """The per-item record every number comes from; written beside card.json as
    items.parquet (not part of the JSON)."""
    memorization: MemorizationAnalysis | None = None
    """The memorization test (test items against their twins); None in cards made before it."""
    familiarity: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    """The per-item familiarity record the memorization test reads; written beside card.json
    as familiarity.parquet (not part of the JSON)."""


SCHEMA_DOC = Path(__file__).resolve().parent / "SCHEMA.md"
"""Every field of card.json, documented; shipped in the package beside this module."""


def schema_doc() -> str:
    """The text of ``report/SCHEMA.md``, which every card names (and the HTML page embeds)."""
    return SCHEMA_DOC.read_text(encoding="utf-8")


# -- (de)serialisation -------------------------------------------------------------------


def _clean(value: Any) -> Any:
    """JSON-safe: NaN/inf to None, recursively (JSON has no NaN)."""
    if isinstance(value, float):
        return finite_or_none(value)
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def card_to_dict(card: Card) -> dict[str, Any]:
    """The card as JSON data: without the per-item record (items.parquet) and the typed
    exclusions (the card states them in words, ``gap.headline.excluded``)."""
    gap = dataclasses.replace(card.gap, exclusions=[])
    data = dataclasses.asdict(dataclasses.replace(card, items=None, familiarity=None, gap=gap))
    data.pop("items")
    data.pop("familiarity")
    data["gap"].pop("exclusions")
    cleaned: dict[str, Any] = _clean(data)
    return cleaned


# version -> function upgrading a card dict of that version to version + 1
_MIGRATIONS: dict[int, typing.Callable[[dict[str, Any]], dict[str, Any]]] = {}


def card_from_dict(data: Any, source: str = "card") -> Card:
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise ShadowSuiteError(f"{source}: not a shadow-suite report card (schema {SCHEMA!r})")
    version = data.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ShadowSuiteError(f"{source}: schema_version missing or not an integer")
    while version < SCHEMA_VERSION and version in _MIGRATIONS:
        data = _MIGRATIONS[version](data)
        version = data["schema_version"]
    if version < SCHEMA_VERSION:
        raise ShadowSuiteError(
            f"{source}: card schema version {version} is older than the supported "
            f"{SCHEMA_VERSION} and has no migration; regenerate it with `shadow-suite report`"
        )
    if version > SCHEMA_VERSION:
        raise ShadowSuiteError(
            f"{source}: card schema version {version} is newer than this shadow-suite "
            f"supports ({SCHEMA_VERSION}); upgrade shadow-suite"
        )
    from shadow_suite.report.ranges import check_card_ranges

    check_card_ranges(data, source)
    card = from_json(Card, data, source)  # the whole path: compare reads several cards
    return card


def load_card(path: str | os.PathLike[str]) -> Card:
    path = Path(path)
    if path.is_dir():
        path = path / "card.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ShadowSuiteError(f"{path}: no such card") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ShadowSuiteError(f"{path}: corrupt JSON ({err})") from None
    card = card_from_dict(data, str(path))
    items_path = path.parent / "items.parquet"
    if items_path.is_file():
        from shadow_suite.gap.items import read_items

        card.items = read_items(items_path)
    from shadow_suite.gap.familiarity import read_familiarity

    card.familiarity = read_familiarity(path.parent)
    return card


def write_text_atomic(path: Path, text: str) -> None:
    """``path`` replaced atomically, fsynced, with the user's normal permissions."""
    from shadow_suite.atomic import write_text

    write_text(path, text)


def card_json(card: Card) -> str:
    return json.dumps(card_to_dict(card), indent=1, ensure_ascii=False, allow_nan=False) + "\n"
