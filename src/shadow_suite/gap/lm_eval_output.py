"""Read and validate lm-eval output folders (``--output_path OUT --log_samples``).

lm-eval 0.4.13 writes ``OUT/<model_name_sanitized>/results_<date_id>.json`` and, next to
it, one ``samples_<task>_<date_id>.jsonl`` per task (one line per document per filter).
Several runs of one model (e.g. one per benchmark) are merged; the result is one
:class:`EvalResults` holding, per shadow task, the model's 0/1 score on each item keyed by
the item's stable ``shadow_id`` (``doc_id`` is a position and is never used to pair).

Everything wrong with the input raises :class:`ShadowSuiteError` with one line naming
the file; a partial run (tasks without samples) is recorded per task, not fatal.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from shadow_suite.contract import (
    ORIG,
    TASK_PREFIX,
    ShadowMeta,
    benchmark_group,
    is_familiarity_task,
    task_name,
)
from shadow_suite.errors import ShadowSuiteError
from shadow_suite.gap.familiarity import FamiliaritySamples, read_familiarity_samples
from shadow_suite.taskpack.suite import BENCHMARKS

# model_args keys whose values must not end up in a report card
_SECRET_ARG = re.compile(r"key|token|secret|password|auth", re.IGNORECASE)
_SEED_KEYS = ("random_seed", "numpy_seed", "torch_seed", "fewshot_seed")


@dataclass(frozen=True)
class ItemDetail:
    """What the model answered on one item, beyond right or wrong (for the gates and the
    position test). ``chosen``/``gold`` are option indices (-1 for generation or when the
    samples do not say); ``loglikelihoods`` one per option; ``extracted``/``target`` the
    filtered answer and the target of a generation task."""

    chosen: int
    gold: int
    loglikelihoods: tuple[float, ...] | None
    extracted: str | None
    target: str | None


@dataclass
class TaskSamples:
    """The per-item scores of one shadow task (one benchmark x variant)."""

    task: str
    benchmark: str
    variant: str
    metric: str  # e.g. "acc_norm,none"
    scores: dict[str, float]  # shadow_id -> 0.0 / 1.0
    n_choices: dict[str, int]  # shadow_id -> answer options (0 for free generation)
    seed: int
    data_sha256: str
    n_source: int
    """Source items the variant was tried on: the split's rows, or the sample's size."""
    n_applied: int
    samples_file: str
    results_file: str
    run_date: float
    details: dict[str, ItemDetail] = field(default_factory=dict)
    """shadow_id -> the answer the model gave (absent for items whose samples lack it)."""
    n_fewshot: int | None = None
    """Few-shot examples per item, from the results file's ``n-shot``."""
    sample: int | None = None
    """``shadow_items``: the seeded sample of source items the task drew from, or None
    (the whole split, or a run older than the sample)."""


@dataclass
class RunInfo:
    """What one results_*.json says about the run that wrote it."""

    results_file: str
    model_name: str
    model_source: str
    model_args: dict[str, str]
    model_revision: str | None
    model_sha: str | None
    model_dtype: str | None
    model_num_parameters: int | None
    batch_size: str | None
    limit: float | None
    seeds: dict[str, int | None]
    lm_eval_version: str | None
    transformers_version: str | None
    date: float
    total_evaluation_time_seconds: float | None
    chat_template_sha: str | None
    system_instruction_sha: str | None
    n_shot: dict[str, int]
    task_versions: dict[str, str]
    chat_template_applied: bool | None = None
    """Whether lm-eval formatted prompts with a chat template (None: the file does not say)."""
    fewshot_as_multiturn: bool | None = None
    """lm-eval's ``fewshot_as_multiturn`` as the results file records it."""
    n_samples: dict[str, int] = field(default_factory=dict)
    """Task -> items lm-eval says it scored (``n-samples.effective``)."""
    tokenizer: str | None = None
    """The tokenizer's special tokens as lm-eval records them (to tell tokenizers apart)."""


@dataclass
class TaskStatus:
    """How one task fared: 'ok', 'missing_samples', 'replaced' (a later run superseded
    it), 'no_orig' (nothing to pair with), 'not_run' (known but absent), 'incomplete'
    (its samples file holds fewer items than the results file says were scored)."""

    task: str
    status: str
    n_items: int = 0
    message: str = ""


@dataclass
class EvalResults:
    runs: list[RunInfo]
    tasks: dict[str, TaskSamples]
    statuses: list[TaskStatus] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    model_identity: str | None = None
    """The evaluated model's identity (``shadow_suite.identity``) as the eval stage marker of
    ``shadow-suite run`` recorded it; None for plain lm_eval output (nothing recorded it)."""
    familiarity: dict[str, FamiliaritySamples] = field(default_factory=dict)
    """The familiarity tasks' samples (the memorization test's input), by task name."""


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ShadowSuiteError(f"{path}: corrupt JSON ({err})") from None
    except OSError as err:
        raise ShadowSuiteError(f"{path}: cannot read ({err.strerror})") from None


def find_results_files(paths: Iterable[str | Path]) -> list[Path]:
    """Every ``results_*.json`` under the given folders (or the files themselves)."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise ShadowSuiteError(f"{path}: no such file or folder")
        if path.is_file():
            if not (path.name.startswith("results_") and path.suffix == ".json"):
                raise ShadowSuiteError(f"{path}: not an lm-eval results_<date>.json file")
            found.append(path)
            continue
        hits = sorted(path.rglob("results_*.json"))
        if not hits:
            raise ShadowSuiteError(
                f"{path}: no lm-eval results_*.json inside; run lm_eval with "
                "--output_path DIR --log_samples"
            )
        found.extend(hits)
    # the same file given twice (folder and file) counts once
    return sorted({p.resolve() for p in found})


def parse_model_args(text: str, what: str = "--model_args") -> dict[str, Any]:
    """``key=value,...`` as lm-eval itself parses ``--model_args`` (values typed as lm-eval
    types them); one line naming ``what`` when it cannot."""
    from lm_eval.utils import simple_parse_args_string

    try:
        return dict(simple_parse_args_string(text))
    except Exception as err:
        raise ShadowSuiteError(f"{what} {text!r}: cannot parse ({err})") from None


def _card_model_args(raw: Any, where: Path) -> dict[str, str]:
    """The run's model_args for the card, secrets redacted."""
    if isinstance(raw, dict):
        args = raw
    elif isinstance(raw, str) and raw.strip():
        args = parse_model_args(raw, f"{where}: config.model_args")
    else:
        args = {}
    return {
        str(k): ("<redacted>" if _SECRET_ARG.search(str(k)) else str(v)) for k, v in args.items()
    }


def _opt_float(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _run_info(path: Path, data: dict[str, Any]) -> RunInfo:
    config = data.get("config") or {}
    if not isinstance(config, dict):
        raise ShadowSuiteError(f"{path}: field 'config' is not an object")
    model_args = _card_model_args(config.get("model_args"), path)
    name = data.get("model_name") or model_args.get("pretrained") or model_args.get("model")
    num_params = config.get("model_num_parameters")
    return RunInfo(
        results_file=str(path),
        model_name=str(name or "unknown model"),
        model_source=str(data.get("model_source") or config.get("model") or "unknown"),
        model_args=model_args,
        model_revision=config.get("model_revision") or None,
        model_sha=config.get("model_sha") or None,
        model_dtype=None if config.get("model_dtype") is None else str(config["model_dtype"]),
        model_num_parameters=int(num_params) if isinstance(num_params, int | float) else None,
        batch_size=None if config.get("batch_size") is None else str(config["batch_size"]),
        limit=_opt_float(config.get("limit")),
        seeds={k: config.get(k) for k in _SEED_KEYS},
        lm_eval_version=data.get("lm_eval_version"),
        transformers_version=data.get("transformers_version"),
        date=_opt_float(data.get("date")) or path.stat().st_mtime,
        total_evaluation_time_seconds=_opt_float(data.get("total_evaluation_time_seconds")),
        chat_template_sha=data.get("chat_template_sha"),
        system_instruction_sha=data.get("system_instruction_sha"),
        chat_template_applied=(
            None
            if "chat_template" not in data and "chat_template_sha" not in data
            else bool(data.get("chat_template") or data.get("chat_template_sha"))
        ),
        fewshot_as_multiturn=(
            data["fewshot_as_multiturn"]
            if isinstance(data.get("fewshot_as_multiturn"), bool)
            else None
        ),
        n_shot={
            k: int(v)
            for k, v in (data.get("n-shot") or {}).items()
            if k.startswith(TASK_PREFIX) and isinstance(v, int | float)
        },
        task_versions={
            k: str(v) for k, v in (data.get("versions") or {}).items() if k.startswith(TASK_PREFIX)
        },
        n_samples={
            k: int(v["effective"])
            for k, v in (data.get("n-samples") or {}).items()
            if k.startswith(TASK_PREFIX)
            and isinstance(v, dict)
            and isinstance(v.get("effective"), int | float)
        },
        tokenizer=_tokenizer_identity(data),
    )


def _tokenizer_identity(data: dict[str, Any]) -> str | None:
    parts = [data.get(k) for k in ("tokenizer_pad_token", "tokenizer_eos_token",
                                   "tokenizer_bos_token", "eot_token_id")]  # fmt: skip
    if all(p is None for p in parts):
        return None
    return json.dumps(parts, sort_keys=True, default=str)


def _shadow_tasks(path: Path, data: dict[str, Any]) -> list[str]:
    """Leaf shadow tasks of a results file (groups like ``shadow_suite`` excluded)."""
    results = data.get("results")
    if not isinstance(results, dict):
        raise ShadowSuiteError(f"{path}: not an lm-eval results file (no 'results' object)")
    groups = set(data.get("groups") or {}) | set(data.get("group_subtasks") or {})
    return sorted(t for t in results if t.startswith(TASK_PREFIX) and t not in groups)


def _samples_files(results_path: Path) -> dict[str, Path]:
    date_id = results_path.stem[len("results_") :]
    suffix = f"_{date_id}.jsonl"
    return {
        p.name[len("samples_") : -len(suffix)]: p
        for p in results_path.parent.glob(f"samples_*{suffix}")
        if p.name.endswith(suffix)
    }


def item_metric(benchmark: str, variant: str) -> str:
    """The per-item metric (``metric,filter``) that decides whether an item is right: the
    benchmark's leaderboard metric, unless the variant declares its own (MMLU in cloze
    form is scored by ``acc_norm``, as lm-eval scores cloze tasks)."""
    primary = BENCHMARKS[benchmark].primary_metric
    if variant == ORIG:
        return primary
    try:
        from shadow_suite.taskpack.variants import VARIANTS
    except Exception:  # the variants registry is optional for reading
        return primary
    spec = VARIANTS.get(benchmark, {}).get(variant)
    return (getattr(spec, "metric", None) or primary) if spec is not None else primary


def _metric_of(benchmark: str, variant: str, where: str) -> tuple[str, str]:
    if benchmark not in BENCHMARKS:
        raise ShadowSuiteError(
            f"{where}: unknown shadow_benchmark {benchmark!r}; known: {', '.join(BENCHMARKS)}"
        )
    metric, _, filter_name = item_metric(benchmark, variant).partition(",")
    return metric, filter_name or "none"


def _n_choices(line: dict[str, Any]) -> int:
    """Answer options of a multiple-choice item (one loglikelihood request per option);
    0 for free generation, whose requests carry generation kwargs instead."""
    arguments = line.get("arguments")
    if not isinstance(arguments, dict) or not arguments:
        return 0
    first = next(iter(arguments.values()))
    if isinstance(first, dict) and isinstance(first.get("arg_1"), dict):
        return 0  # generate_until: (context, gen_kwargs)
    return len(arguments)


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """Numbered lines, streamed: a 5-shot MMLU samples file is hundreds of MB."""
    try:
        with path.open(encoding="utf-8") as handle:
            yield from enumerate(handle, start=1)
    except (OSError, UnicodeDecodeError) as err:
        raise ShadowSuiteError(f"{path}: cannot read ({err})") from None


def read_samples(path: Path, results_path: Path, task: str, run_date: float) -> TaskSamples:
    """One samples_<task>_<date>.jsonl -> per-item 0/1 scores under the primary metric."""
    scores: dict[str, float] = {}
    n_choices: dict[str, int] = {}
    details: dict[str, ItemDetail] = {}
    meta: ShadowMeta | None = None
    metric = filter_name = ""
    for number, text in _lines(path):
        if not text.strip():
            continue
        where = f"{path}:{number}"
        try:
            line = json.loads(text)
        except json.JSONDecodeError as err:
            raise ShadowSuiteError(f"{where}: corrupt JSON ({err.msg})") from None
        doc = line.get("doc") if isinstance(line, dict) else None
        if not isinstance(doc, dict):
            raise ShadowSuiteError(f"{where}: no 'doc' object; not an lm-eval samples file")
        doc_meta = ShadowMeta.from_doc(doc, where)
        if meta is None:
            meta = doc_meta
            metric, filter_name = _metric_of(meta.benchmark, meta.variant, where)
        else:
            for key in ("benchmark", "variant", "seed", "data_sha256"):
                if getattr(doc_meta, key) != getattr(meta, key):
                    raise ShadowSuiteError(
                        f"{where}: shadow_{key} is {getattr(doc_meta, key)!r} but earlier lines "
                        f"say {getattr(meta, key)!r}"
                    )
        if line.get("filter", "none") != filter_name:
            continue
        if metric not in line:
            raise ShadowSuiteError(f"{where}: no per-item value for metric {metric!r}")
        value = line[metric]
        if value not in (0, 1, 0.0, 1.0, True, False):
            raise ShadowSuiteError(
                f"{where}: metric {metric!r} is {value!r}; paired tests need 0/1 per item"
            )
        item_id = doc_meta.shadow_id
        if item_id in scores:
            raise ShadowSuiteError(f"{where}: shadow_id {item_id!r} appears twice")
        scores[item_id] = float(value)
        n_choices[item_id] = _n_choices(line)
        detail = _detail(
            line, metric, n_choices[item_id], bool(value), f"{where}: {task}, item {item_id}"
        )
        if detail is not None:
            details[item_id] = detail
    if meta is None:
        raise ShadowSuiteError(f"{path}: no samples in file")
    if not scores:
        raise ShadowSuiteError(f"{path}: no line with filter {filter_name!r} for metric {metric!r}")
    return TaskSamples(
        task=task,
        benchmark=meta.benchmark,
        variant=meta.variant,
        metric=f"{metric},{filter_name}",
        scores=scores,
        n_choices=n_choices,
        seed=meta.seed,
        data_sha256=meta.data_sha256,
        n_source=int(meta.sample or meta.n_source or 0),
        n_applied=int(meta.n_applied or 0),
        sample=meta.sample,
        samples_file=str(path),
        results_file=str(results_path),
        run_date=run_date,
        details=details,
    )


def _float(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out


def _continuations(line: dict[str, Any]) -> list[str] | None:
    arguments = line.get("arguments")
    if not isinstance(arguments, dict):
        return None
    out = []
    for value in arguments.values():
        if not isinstance(value, dict) or not isinstance(value.get("arg_1"), str):
            return None
        out.append(value["arg_1"])
    return out


def _gold_index(target: Any, choices: list[str] | None) -> int | None:
    """The gold option a sample's target names: an index (maybe out of range, which the
    caller refuses), or None when the target names no option (a foreign run)."""
    if isinstance(target, bool):
        return None
    if isinstance(target, int):
        return target
    if isinstance(target, str):
        text = target.strip()
        if text.lstrip("-").isdecimal():
            return int(text)
        if choices is not None:
            stripped = [c.strip() for c in choices]
            if text in stripped:
                return stripped.index(text)
    return None


def _multiple_input_gold(doc: Any, where: str) -> int | None:
    """Gold option of a WinoGrande-form document ("answer" is "1" or "2"); None when the
    document is not of that form; one line when its answer is neither."""
    from shadow_suite.taskpack.variants.render import winogrande_gold

    if not isinstance(doc, dict) or "option1" not in doc:
        return None
    try:
        return winogrande_gold(doc)
    except (KeyError, TypeError, ValueError):
        raise ShadowSuiteError(
            f"{where}: doc field 'answer' is {doc.get('answer')!r}, expected '1' or '2'"
        ) from None


def _detail(
    line: dict[str, Any], metric: str, n_options: int, correct: bool, where: str = "sample"
) -> ItemDetail | None:
    """The chosen option of a multiple-choice item, recomputed as lm-eval does (argmax of the
    log-likelihoods, per character of the option for acc_norm) and checked against the
    logged score; the filtered answer of a generation item. None when the samples do not
    carry what is needed (an older or foreign run). Numbers that cannot be right are one
    line naming ``where`` (file, line, task, item): a NaN or infinite log-likelihood, a gold
    outside the options, a logged score the log-likelihoods contradict."""
    if n_options == 0:
        resp = line.get("filtered_resps")
        extracted = resp[0] if isinstance(resp, list) and resp else resp
        target = line.get("target")
        return ItemDetail(
            -1,
            -1,
            None,
            None if extracted is None else str(extracted),
            None if target is None else str(target),
        )
    filtered = line.get("filtered_resps")
    if not isinstance(filtered, list) or len(filtered) != n_options:
        return None
    lls = []
    for option, pair in enumerate(filtered):
        value = _float(pair[0] if isinstance(pair, list | tuple) and pair else pair)
        if value is None:
            return None
        if not np.isfinite(value):
            raise ShadowSuiteError(
                f"{where}: log-likelihood of option {option} is {value} (filtered_resps); a "
                "model with NaN or infinite outputs has no answers to score: check its weights"
            )
        lls.append(value)
    continuations = _continuations(line)
    if continuations is not None and len(set(continuations)) == 1 and n_options > 1:
        # WinoGrande's form ("multiple input"): the options fill the blank in the contexts
        # and every request shares one continuation, which is also the logged target, so
        # the target names no option; the gold is the doc's answer, as lm-eval's
        # doc_to_text computes it (reading the target gave option 0 for every item)
        gold = _multiple_input_gold(line.get("doc"), where)
    else:
        gold = _gold_index(line.get("target"), continuations)
    if gold is None:
        return None
    if not 0 <= gold < n_options:
        raise ShadowSuiteError(
            f"{where}: gold option {gold} (target) is outside the item's {n_options} options"
        )
    values = np.asarray(lls)
    if metric == "acc_norm":
        if continuations is None:
            return None
        # lm-eval divides by the option's length without the target delimiter (a space
        # by default); try that first, then the whole continuation, and keep the one that
        # reproduces the logged score.
        candidates = [
            [max(len(c) - (1 if c.startswith(" ") else 0), 1) for c in continuations],
            [max(len(c), 1) for c in continuations],
        ]
        picks = [int(np.argmax(values / np.asarray(lengths))) for lengths in candidates]
    else:
        picks = [int(np.argmax(values))]
    chosen = next((p for p in picks if (p == gold) == correct), None)
    if chosen is None:
        raise ShadowSuiteError(
            f"{where}: {metric} is {int(correct)} but the log-likelihoods choose option "
            f"{picks[0]} and the gold is {gold}; the logged score contradicts them"
        )
    return ItemDetail(chosen, gold, tuple(lls), None, None)


def _identity(run: RunInfo) -> tuple[str, str | None, str | None]:
    return (run.model_name, run.model_revision, run.model_sha)


def _check_same_model(runs: Sequence[RunInfo]) -> None:
    first = runs[0]
    for run in runs[1:]:
        if _identity(run) != _identity(first):
            raise ShadowSuiteError(
                f"results of different models: {first.model_name!r} (revision "
                f"{first.model_revision}) in {first.results_file} and {run.model_name!r} "
                f"(revision {run.model_revision}) in {run.results_file}; give one model's runs"
            )
        for key in _SEED_KEYS:
            if run.seeds.get(key) != first.seeds.get(key):
                raise ShadowSuiteError(
                    f"conflicting {key}: {first.seeds.get(key)} in {first.results_file}, "
                    f"{run.seeds.get(key)} in {run.results_file}"
                )


def recorded_identity(files: Sequence[Path]) -> str | None:
    """The model identity recorded by the eval stage markers (``stage.json`` of ``shadow-suite
    run``, the folder above lm-eval's per-model folder) of these results files: one value
    when every file has it; None when any lacks one. Two values: one line, two models."""
    from shadow_suite.identity import MODEL_IDENTITY, short
    from shadow_suite.stage import STAGE_FILE, recorded_settings

    found: dict[str | None, Path] = {}
    for path in files:
        folder = next((d for d in path.parents[:2] if (d / STAGE_FILE).is_file()), None)
        try:
            settings = recorded_settings(folder) if folder is not None else None
        except ShadowSuiteError:  # another tool's stage.json, or a damaged one: unknown
            settings = None
        value = settings.get(MODEL_IDENTITY) if settings else None
        found.setdefault(value if isinstance(value, str) else None, path)
    known = sorted(k for k in found if k is not None)
    if len(known) > 1:
        a, b = known[:2]
        raise ShadowSuiteError(
            f"results of two models: {found[a]} records model identity {short(a)}, {found[b]} "
            f"{short(b)}; give one model's runs"
        )
    return known[0] if known and None not in found else None


def _known_variants(benchmark: str) -> list[str]:
    try:
        from shadow_suite.taskpack.variants import VARIANTS  # written in parallel; optional here
    except Exception:
        return []
    try:
        return sorted(VARIANTS.get(benchmark, {}))
    except AttributeError:
        return []


def load_results(paths: Iterable[str | Path]) -> EvalResults:
    """Read, validate and merge lm-eval output folders of one model."""
    files = find_results_files(paths)
    loaded = [(p, _load_json(p)) for p in files]
    for path, data in loaded:
        if not isinstance(data, dict):
            raise ShadowSuiteError(f"{path}: not an lm-eval results file (not an object)")
    runs = [_run_info(p, d) for p, d in loaded]
    _check_same_model(runs)
    identity = recorded_identity(files)

    statuses: list[TaskStatus] = []
    warnings: list[str] = []
    tasks: dict[str, TaskSamples] = {}
    familiarity: dict[str, FamiliaritySamples] = {}
    other_tasks: set[str] = set()
    n_with_tasks = 0
    n_samples_found = 0
    # oldest first, so a later run of the same task replaces an earlier one
    for (path, data), run in sorted(zip(loaded, runs, strict=True), key=lambda x: x[1].date):
        shadow = _shadow_tasks(path, data)
        other_tasks |= {t for t in data["results"] if not t.startswith(TASK_PREFIX)}
        if not shadow:
            continue
        n_with_tasks += 1
        samples_files = _samples_files(path)
        for task in shadow:
            if task not in samples_files:
                statuses.append(
                    TaskStatus(task, "missing_samples", 0, f"no samples file next to {path.name}")
                )
                continue
            n_samples_found += 1
            if is_familiarity_task(task):  # log-likelihoods of texts, not right or wrong
                familiarity[task] = read_familiarity_samples(samples_files[task], path, task)
                continue
            samples = read_samples(samples_files[task], path, task, run.date)
            samples.n_fewshot = run.n_shot.get(task)
            expected = run.n_samples.get(task)
            if expected is not None and expected != len(samples.scores):
                statuses.append(
                    TaskStatus(
                        task,
                        "incomplete",
                        len(samples.scores),
                        f"{Path(samples.samples_file).name} holds {len(samples.scores)} items "
                        f"but {path.name} says {expected} were scored; the task is left out",
                    )
                )
                continue
            previous = tasks.get(task)
            if previous is not None:
                if (previous.seed, previous.data_sha256) != (samples.seed, samples.data_sha256):
                    raise ShadowSuiteError(
                        f"{task}: runs disagree on seed or data "
                        f"({previous.samples_file}: seed {previous.seed}, "
                        f"data {previous.data_sha256[:12]}; {samples.samples_file}: seed "
                        f"{samples.seed}, data {samples.data_sha256[:12]})"
                    )
                statuses.append(
                    TaskStatus(
                        task,
                        "replaced",
                        len(previous.scores),
                        f"superseded by the later run {Path(samples.results_file).name}",
                    )
                )
            tasks[task] = samples

    if n_with_tasks == 0:
        found = ", ".join(sorted(other_tasks)[:8]) or "none"
        raise ShadowSuiteError(
            f"no shadow-suite tasks in {', '.join(str(p) for p in files)} (found: {found}); "
            "run lm_eval with --tasks shadow_suite"
        )
    if n_samples_found == 0:
        raise ShadowSuiteError(
            f"no per-sample files next to {', '.join(str(p) for p in files)}; "
            "rerun lm_eval with --log_samples"
        )
    seeded = [(t.seed, t.samples_file) for t in tasks.values()]
    seeded += [(t.seed, t.samples_file) for t in familiarity.values()]
    seeds = {seed for seed, _ in seeded}
    if len(seeds) > 1:
        by_seed = dict(seeded)
        raise ShadowSuiteError(
            "conflicting shadow_seed across tasks: "
            + "; ".join(f"{s} in {f}" for s, f in sorted(by_seed.items()))
        )

    benchmarks = {t.benchmark for t in tasks.values()}
    has_orig = {t.benchmark for t in tasks.values() if t.variant == ORIG}
    for shadow_task in sorted(tasks.values(), key=lambda t: t.task):
        if shadow_task.benchmark not in has_orig:
            statuses.append(
                TaskStatus(
                    shadow_task.task,
                    "no_orig",
                    len(shadow_task.scores),
                    f"{task_name(shadow_task.benchmark, ORIG)} not in these results; nothing to pair with",
                )
            )
        else:
            statuses.append(TaskStatus(shadow_task.task, "ok", len(shadow_task.scores)))
    statuses += [TaskStatus(t.task, "ok", len(t.loglikelihood)) for t in familiarity.values()]
    for bench in BENCHMARKS:
        if bench not in benchmarks:
            statuses.append(
                TaskStatus(benchmark_group(bench), "not_run", 0, "benchmark not in these results")
            )
            continue
        present = {t.variant for t in tasks.values() if t.benchmark == bench}
        reported = {s.task for s in statuses}
        for variant in _known_variants(bench):
            if variant not in present and task_name(bench, variant) not in reported:
                statuses.append(
                    TaskStatus(
                        task_name(bench, variant), "not_run", 0, "variant not in these results"
                    )
                )
    if other_tasks:
        warnings.append(f"ignored non-shadow tasks: {', '.join(sorted(other_tasks))}")
    # lm-eval's --limit (runs[].limit) and the pack's seeded sample (TaskSamples.sample) are
    # the card's caveats (report/caveats.py), worded there from the card's own fields
    sources = {r.model_source for r in runs}
    if len(sources) > 1:
        warnings.append(f"runs used different backends ({', '.join(sorted(sources))})")
    return EvalResults(
        runs=runs,
        tasks=tasks,
        statuses=statuses,
        warnings=warnings,
        model_identity=identity,
        familiarity=familiarity,
    )
