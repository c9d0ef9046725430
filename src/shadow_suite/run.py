"""``shadow-suite run``: evaluate a model with the task pack, analyse its weights, write its
report card, in one command.

Three stages, each writing into its own folder under ``--out`` and kept there:

* ``eval/``    lm-eval's output (results JSON + per-sample JSONL), through lm-eval's Python
  API with samples logged. Model responses are cached in ``lm_cache/eval-<settings hash>``
  beside it (lm-eval's own request cache, outside the stage folder and keyed by the
  settings), so an interrupted evaluation resumes where it stopped.
* ``spectra/`` the spectral engine's output, when the weights are a local folder or a hub id
  that can be downloaded (its per-tensor cache makes an interrupted run resume too).
* ``base/``    with ``--base``: the base model evaluated exactly like the model (same tasks,
  items, seed, few-shot and backend settings; its own ``eval/`` and ``card/``), so the
  model's card can compare its gaps with the base's on the same items.
* ``card/``    card.json, card.html, card.md, items.parquet; the verdict is relative to the
  base and any ``--reference`` models.

A stage is finished when its ``stage.json`` (the settings it ran with) exists: each stage runs
into a fresh temporary folder renamed into place with its marker (``shadow_suite.stage``), so a
killed run leaves nothing half-written. Every stage's marker is checked before any work: a rerun
with the same settings skips it, one with other settings (another ``--base``, ``--limit``,
seed...) is refused with one line naming the setting, rather than mixing results. The settings
include each model's identity (a digest of its files, ``shadow_suite.identity``): weights
replaced in the same folder are another model, refused in one line, or recomputed with
``--force``; lm-eval's request cache is keyed by the same record, so it never answers for
other weights.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from shadow_suite import contract
from shadow_suite.atomic import check_writable_dir
from shadow_suite.contract import (
    DATA_ENV,
    DEFAULT_VARIANT_SEED,
    GROUP,
    ITEMS_ENV,
    METADATA_DATA,
    METADATA_ITEMS,
    METADATA_SEED,
    SEED_ENV,
    benchmark_group,
    output_type,
    task_name,
)
from shadow_suite.errors import ShadowSuiteError
from shadow_suite.gap.lm_eval_output import parse_model_args
from shadow_suite.identity import BASE_IDENTITY, MODEL_IDENTITY, identity_of
from shadow_suite.report.cli import add_card_options, check_card_options, print_pdf
from shadow_suite.report.schema import Card
from shadow_suite.stage import STAGE_FILE, StageBusy, StageMismatch, run_stage, stage_is_done

BACKENDS = ("vllm", "hf", "local-completions")
PRESETS: dict[str, dict[str, int]] = {
    "open-llm-v1": {
        "arc_challenge": 25,
        "hellaswag": 10,
        "mmlu": 5,
        "winogrande": 5,
        "gsm8k": 5,
    },
}
"""Few-shot examples per benchmark as leaderboards asked them. ``open-llm-v1``: the Open LLM
Leaderboard (v1), whose numbers vendors still quote."""
__all__ = ["STAGE_FILE", "run_pipeline"]
Log = Callable[[str], None]
"""Where ``run`` reports progress (the command prints; library callers may pass None)."""


BENCHMARK_TITLES = {"arc_challenge": "ARC-Challenge", "hellaswag": "HellaSwag", "mmlu": "MMLU",
                    "winogrande": "WinoGrande", "gsm8k": "GSM8K"}  # fmt: skip


def preset_words(counts: dict[str, int]) -> str:
    """'ARC-Challenge 25, HellaSwag 10, ...': a preset as the help and the README state it."""
    return ", ".join(f"{BENCHMARK_TITLES.get(b, b)} {n}" for b, n in counts.items())


@dataclass(frozen=True)
class EvalSettings:
    model: str
    model_args: str
    tasks: tuple[str, ...] = (GROUP,)
    limit: int | None = None
    """lm-eval's ``limit`` (``run --first``): the first N documents of each task. A variant
    skips items, so its first N do not pair with ``orig``'s; ``items`` does."""
    seed: int = DEFAULT_VARIANT_SEED
    data_dir: str | None = None
    batch_size: str = "auto"
    device: str | None = None
    gen_kwargs: str | None = None
    num_fewshot: int | None = None
    items: int | None = None
    """The task pack's ``shadow_items`` (``run --limit``): a seeded sample of N source items
    per benchmark, the same for ``orig`` and every variant; None: the whole split."""
    preset: str | None = None
    """``run --preset``: the name of the few-shot preset (see :data:`PRESETS`), or None."""
    fewshot: dict[str, int] | None = None
    """Few-shot examples per benchmark (from ``preset``); None: ``num_fewshot`` for all."""
    apply_chat_template: bool | str | None = None
    """lm-eval's ``apply_chat_template``: True (the tokenizer's default template), a
    template's name, or None (prompts as plain text)."""
    fewshot_as_multiturn: bool | None = None
    """lm-eval's ``fewshot_as_multiturn`` (with a chat template only; None without one)."""
    system_instruction: str | None = None
    """lm-eval's ``system_instruction``."""


@dataclass(frozen=True)
class SpectraSettings:
    weights: str
    base: str | None = None
    device: str = "auto"


@dataclass
class RunOutcome:
    out: Path
    eval_dir: Path
    spectra_dir: Path | None
    card_dir: Path
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    base_eval_dir: Path | None = None
    """The base model's lm-eval output (a reference for the card), when it was evaluated."""
    verdict: str = ""
    card: Card | None = None
    """The model's card, as written to ``card_dir``."""


def weights_of(settings: EvalSettings, explicit: str | None) -> str | None:
    """Where the model's weights are: --weights, else the model_args' pretrained/model."""
    if explicit:
        return explicit
    args = parse_model_args(settings.model_args)
    return args.get("pretrained") or (
        args.get("model") if settings.model == "local-completions" else None
    )


def check_backend(settings: EvalSettings) -> None:
    """Fail before any work when the backend cannot run (one line, with the fix)."""
    if settings.model not in BACKENDS:
        raise ShadowSuiteError(f"--model {settings.model!r}: use one of {', '.join(BACKENDS)}")
    if settings.model == "vllm":
        from shadow_suite.vllm_support import require_vllm

        require_vllm()
    elif settings.model == "local-completions":
        from shadow_suite.vllm_support import check_server

        args = parse_model_args(settings.model_args)
        if "base_url" not in args:
            raise ShadowSuiteError("--model local-completions needs base_url=... in --model_args")
        # Multiple-choice and familiarity tasks are scored on prompt log-probabilities, which
        # many servers do not return; only GSM8K's generation tasks run against those.
        multiple_choice = any(
            output_type(b) == "multiple_choice" or familiarity_in([t], b)
            if (b := benchmark_of_any_task(t))
            else True
            for t in settings.tasks
        )
        check_server(
            str(args["base_url"]), args.get("model"), require_prompt_logprobs=multiple_choice
        )


def pack_task_names() -> set[str]:
    """Every task and group name of the task pack (read from its YAML, no lm-eval import)."""
    from shadow_suite.taskpack.plugin import task_pack_dir

    names: set[str] = set()
    pattern = re.compile(r"^(?:task|group):\s*([A-Za-z0-9_.-]+)\s*$", re.MULTILINE)
    for path in task_pack_dir().rglob("*.yaml"):
        names.update(pattern.findall(path.read_text(encoding="utf-8")))
    return names


def lm_eval_task_words() -> frozenset[str]:
    """Every word of lm-eval's own task YAML files (read, not parsed: about 0.5 s). A task,
    group or tag name must appear in one of them, so a name that is not here is unknown
    without building lm-eval's task index (about 7 s)."""
    import lm_eval

    words: set[str] = set()
    for path in (Path(lm_eval.__file__).parent / "tasks").rglob("*.yaml"):
        words.update(
            re.findall(r"[A-Za-z0-9_.\-]+", path.read_text(encoding="utf-8", errors="replace"))
        )
    return frozenset(words)


def check_tasks(tasks: Sequence[str], metadata: dict[str, Any] | None = None) -> None:
    """One line naming an unknown task, before any model is loaded. The pack's names are
    known without lm-eval, and a ``shadow_`` name outside them is unknown; another name that
    appears in none of lm-eval's task files is unknown too. Only a name found there is looked
    up in lm-eval's task index (built with ``metadata``, so the evaluation reuses it)."""
    if not tasks:
        raise ShadowSuiteError("--tasks: no task named (give comma-separated task names)")
    ours = pack_task_names()
    unknown = [t for t in tasks if t not in ours]
    if not unknown:
        return
    import difflib

    def refuse(name: str, candidates: set[str]) -> ShadowSuiteError:
        close = difflib.get_close_matches(name, sorted(candidates), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        return ShadowSuiteError(f"--tasks: unknown task {name!r}{hint}")

    for name in unknown:
        if name.startswith(contract.TASK_PREFIX):
            raise refuse(name, ours)
    found = lm_eval_task_words()
    for name in unknown:
        if name not in found:
            raise refuse(name, ours | {w for w in found if "_" in w and w[0].isalpha()})
    known = set(task_manager_for(metadata or {}).all_tasks)
    missing = [t for t in unknown if t not in known]
    if missing:
        raise refuse(missing[0], known | ours)


def check_model_location(what: str, where: str | None) -> None:
    """A model given as a path must exist; a hub id offline must be in the hub cache."""
    if not where:
        return
    what = what if what.endswith("=") else what + " "
    path = Path(where).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ShadowSuiteError(f"{what}{where}: expected a model folder, got a file")
        return
    path_like = where.startswith(("/", ".", "~")) or where.count("/") > 1
    if path_like:
        raise ShadowSuiteError(f"{what}{where}: no such model folder")
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        from huggingface_hub import try_to_load_from_cache

        if not isinstance(try_to_load_from_cache(where, "config.json"), str):
            raise ShadowSuiteError(
                f"{what}{where}: not a local folder, not in the hub cache, and the hub is "
                "offline (HF_HUB_OFFLINE=1)"
            )


def check_backend_installed(model: str) -> None:
    """The backend's Python extras, named with the pip command that installs them."""
    needed = {"local-completions": ("tenacity", "aiohttp", "requests"), "hf": ("transformers",)}
    fix = "pip install 'lm-eval[api]'" if model == "local-completions" else "pip install"
    for module in needed.get(model, ()):
        if importlib.util.find_spec(module) is None:
            command = fix if model == "local-completions" else f"{fix} {module}"
            raise ShadowSuiteError(
                f"--model {model} needs the Python package {module!r}: {command}"
            )


def check_run_arguments(
    settings: EvalSettings,
    out: Path,
    weights: str | None = None,
    base: str | None = None,
    references: Sequence[str | os.PathLike[str]] = (),
    items_flag: str = "--limit ",
    evaluate_base: bool = True,
) -> None:
    """Everything ``run`` can check before loading a model, each failure one line."""
    from shadow_suite.lm_eval_args import check_dtype, check_gen_kwargs
    from shadow_suite.model_folder import check_model_folders
    from shadow_suite.outputs import check_out_apart

    check_writable_dir(out)
    if settings.model not in BACKENDS:
        raise ShadowSuiteError(f"--model {settings.model!r}: use one of {', '.join(BACKENDS)}")
    if settings.items is not None and settings.items < 1:
        raise ShadowSuiteError(f"--limit {settings.items}: give a positive number of items")
    if settings.limit is not None and settings.limit < 1:
        raise ShadowSuiteError(f"--first {settings.limit}: give a positive number of items")
    if settings.items is not None and settings.limit is not None:
        raise ShadowSuiteError("--limit and --first: give one (--limit N pairs the variants)")
    if settings.num_fewshot is not None and settings.num_fewshot < 0:
        raise ShadowSuiteError(f"--num_fewshot {settings.num_fewshot}: cannot be negative")
    if settings.preset is not None and settings.preset not in PRESETS:
        raise ShadowSuiteError(f"--preset {settings.preset!r}: use one of {', '.join(PRESETS)}")
    if settings.fewshot is not None and settings.num_fewshot is not None:
        raise ShadowSuiteError(
            f"--preset {settings.preset} and --num_fewshot: give one (the preset sets each "
            "benchmark's few-shot count)"
        )
    if settings.fewshot_as_multiturn and not settings.apply_chat_template:
        raise ShadowSuiteError(
            "--fewshot_as_multiturn needs --apply_chat_template (few-shot turns are chat turns)"
        )
    batch = settings.batch_size
    if not re.fullmatch(r"auto(:[1-9]\d*)?|[1-9]\d*", str(batch)):
        raise ShadowSuiteError(f"--batch_size {batch!r}: give a positive number, auto or auto:N")
    check_backend_installed(settings.model)
    args = parse_model_args(settings.model_args)
    if settings.model != "local-completions":
        if not args.get("pretrained"):
            raise ShadowSuiteError(f"--model_args {settings.model_args!r}: needs pretrained=...")
        check_model_location("--model_args pretrained=", str(args["pretrained"]))
    check_model_location("--weights", weights)
    check_model_location("--base", base)
    check_dtype(args)
    check_gen_kwargs(settings.gen_kwargs)
    check_tasks(settings.tasks, eval_metadata(settings))
    check_task_data(settings, items_flag)
    if settings.apply_chat_template and settings.model != "local-completions":
        check_chat_template("--model_args pretrained=", str(args["pretrained"]))
    pretrained = None if settings.model == "local-completions" else str(args["pretrained"])
    check_out_apart(
        out,
        [("--model_args pretrained=", pretrained), ("--weights", weights), ("--base", base),
         *(("--reference", r) for r in references), ("--data", settings.data_dir)],
    )  # fmt: skip
    if settings.model != "local-completions":
        check_model_folders(settings.model, args, weights, base if evaluate_base else None)


def check_chat_template(what: str, where: str, hint: str = "") -> None:
    """With ``--apply_chat_template``, a local model folder's tokenizer must have a chat
    template (lm-eval would fail after loading the model). Hub ids are left to lm-eval."""
    folder = Path(where).expanduser()
    if not folder.is_dir():
        return
    if any((folder / name).is_file() for name in ("chat_template.jinja", "chat_template.json")):
        return
    config = folder / "tokenizer_config.json"
    try:
        template = json.loads(config.read_text(encoding="utf-8")).get("chat_template")
    except (OSError, ValueError, AttributeError):
        template = None
    if not template:
        what = what if what.endswith("=") else what + " "
        raise ShadowSuiteError(
            f"--apply_chat_template: {what}{where} has no chat template (none in "
            f"tokenizer_config.json or chat_template.jinja){hint}"
        )


def benchmarks_evaluated(tasks: Sequence[str]) -> list[str]:
    """The benchmarks whose task-pack data the tasks read (``shadow_suite``: all of them)."""
    from shadow_suite.taskpack.suite import BENCHMARKS

    if GROUP in tasks:
        return list(BENCHMARKS)
    found = {contract.benchmark_of_task(t) for t in tasks}
    return [b for b in BENCHMARKS if b in found]


def familiarity_in(tasks: Sequence[str], benchmark: str) -> bool:
    """Whether ``tasks`` run a familiarity task of ``benchmark`` (its group and the whole
    pack's hold them)."""
    names = {GROUP, benchmark_group(benchmark)}
    names |= {task_name(benchmark, text) for text in contract.FAMILIARITY_TEXTS}
    return bool(names & set(tasks))


def familiarity_tasks(tasks: Sequence[str]) -> list[str]:
    """The familiarity tasks that ``tasks`` run (named, or in their benchmark's group or the
    whole pack's), in the pack's order."""
    from shadow_suite.taskpack.suite import BENCHMARKS

    return [
        task_name(benchmark, text)
        for benchmark in BENCHMARKS
        for text in contract.FAMILIARITY_TEXTS
        if {GROUP, benchmark_group(benchmark), task_name(benchmark, text)} & set(tasks)
    ]


def memorization_measured(settings: EvalSettings) -> list[str]:
    """The benchmarks whose memorization test the run will measure, as far as is known before
    evaluating: their ``familiarity_item`` task runs, the local data folder has their twin
    split, and at least two items are evaluated. (Hub data is known only once lm-eval loads
    it: then none, and the card checks the references.)"""
    from shadow_suite.gap.memorization import MIN_PER_SET
    from shadow_suite.taskpack.data import MissingSplit, load_split, resolve_data_dir
    from shadow_suite.taskpack.suite import get_benchmark

    data_dir = resolve_data_dir(settings.data_dir)
    if data_dir is None or (settings.items is not None and settings.items < MIN_PER_SET):
        return []
    item_tasks = set(familiarity_tasks(settings.tasks))
    measured = []
    for name in benchmarks_evaluated(settings.tasks):
        twin_split = get_benchmark(name).twin_split
        if twin_split is None or task_name(name, contract.FAMILIARITY_ITEM) not in item_tasks:
            continue
        try:
            load_split(name, twin_split, data_dir)
        except MissingSplit:
            continue
        measured.append(name)
    return measured


def check_task_data(settings: EvalSettings, items_flag: str = "--limit ") -> None:
    """Before a model is loaded, one line for data the run cannot use: a ``--limit`` larger
    than a benchmark's split; a train split that few-shot examples are asked from but that
    is not there; and any malformed row of an evaluated split (every split the tasks read is
    read, so checked row by row; from the hub only after one quick request says it answers,
    so that a missing data folder is one line, not half a minute of the datasets library's
    retries). ``items_flag`` names where the sample size came from (``--limit ``, or
    ``SHADOW_SUITE_ITEMS=``)."""
    from shadow_suite.taskpack.data import (
        MissingSplit,
        hub_unreachable,
        load_split,
        missing_examples,
    )
    from shadow_suite.taskpack.suite import get_benchmark

    tasks, data_dir = settings.tasks, settings.data_dir
    evaluated = benchmarks_evaluated(tasks)
    if evaluated and not data_dir and (problem := hub_unreachable()) is not None:
        raise ShadowSuiteError(
            f"no data folder (--data or ${DATA_ENV}) and the hub datasets cannot be fetched: "
            f"{problem}; point --data at a local copy (`shadow-suite data download DIR` on a "
            "connected machine writes one)"
        )
    for name in evaluated:
        bench = get_benchmark(name)
        shots = (settings.fewshot or {}).get(name, settings.num_fewshot or 0)
        splits = [bench.eval_split]
        if data_dir and bench.fewshot_split:
            splits.append(bench.fewshot_split)
        rephrased = {GROUP, benchmark_group("gsm8k"), task_name("gsm8k", "rephrased")}
        if data_dir and name == "gsm8k" and rephrased & set(tasks):
            splits.append("test_rephrased")
        if data_dir and bench.twin_split and familiarity_in(tasks, name):
            # optional (no twin set: no memorization row), but a bad row is refused now
            with contextlib.suppress(MissingSplit):
                load_split(name, bench.twin_split, data_dir)
        for split in splits:
            n_rows = len(load_split(name, split, data_dir)[0])
            if split == bench.eval_split and settings.items and settings.items > n_rows:
                raise ShadowSuiteError(
                    f"{items_flag}{settings.items}: {name}'s evaluated split has only {n_rows} "
                    f"items; give at most {n_rows}, or none to evaluate the whole split"
                )
        if shots and bench.train_split and data_dir:
            try:
                load_split(name, bench.train_split, data_dir)
            except MissingSplit:
                flag = f"--preset {settings.preset}" if settings.fewshot else "--num_fewshot"
                raise ShadowSuiteError(missing_examples(name, shots, 0, data_dir, flag)) from None


def lm_cache_dir(eval_dir: Path, record: dict[str, Any]) -> Path:
    """lm-eval's response cache for one evaluation: beside the stage folder (so it survives an
    interrupted stage) and keyed by its settings (lm-eval keys responses by request only)."""
    digest = hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:16]
    return eval_dir.parent / "lm_cache" / f"{eval_dir.name}-{digest}"


def eval_metadata(settings: EvalSettings) -> dict[str, Any]:
    """lm-eval's ``--metadata`` for the task pack under these settings. ``shadow_items`` is
    always set (None: the whole split), so $SHADOW_SUITE_ITEMS cannot change what the
    settings evaluate."""
    metadata: dict[str, Any] = {METADATA_SEED: settings.seed, METADATA_ITEMS: settings.items}
    if settings.data_dir:
        metadata[METADATA_DATA] = str(Path(settings.data_dir).resolve())
    if settings.preset:
        metadata["shadow_preset"] = settings.preset
    return metadata


_TASK_MANAGERS: dict[tuple[Any, str], Any] = {}


def task_manager_for(metadata: dict[str, Any]) -> Any:
    """lm-eval's TaskManager with ``metadata``, one per distinct metadata in a process: its
    task index takes seconds to build (about 7 s here), and a model, its base and the demo's
    models all evaluate with the same metadata."""
    from lm_eval.tasks import TaskManager

    # keyed by the class in force too: a caller (a test) that swaps lm-eval's TaskManager gets
    # its own, never one built by the other class
    key = (TaskManager, json.dumps(metadata, sort_keys=True, default=str))
    if key not in _TASK_MANAGERS:
        _TASK_MANAGERS[key] = TaskManager(metadata=metadata)
    return _TASK_MANAGERS[key]


FORCE_HINT = "pass --force to recompute it"
"""How a ``run`` user redoes a stage whose settings or model changed (stage messages)."""


def evaluated_identity(settings: EvalSettings) -> str | None:
    """The identity of the model these settings evaluate: the digest of its local folder;
    None for a served model or a hub id (``identity.identity_of``)."""
    if settings.model == "local-completions":
        return None
    return identity_of(str(parse_model_args(settings.model_args).get("pretrained")))


FAMILIARITY_RECORD = "familiarity_tasks"
"""The eval stage marker's key for the familiarity tasks evaluated (absent: none)."""


def eval_record(
    settings: EvalSettings, extra_record: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What an eval stage's marker records: the settings and the model's identity, and the
    familiarity tasks the run evaluates (a group's members are not in ``settings.tasks``: an
    evaluation made before the pack had them is not one with them; ``--force`` redoes it)."""
    familiarity = familiarity_tasks(settings.tasks)
    return {
        **_jsonable(asdict(settings)),
        MODEL_IDENTITY: evaluated_identity(settings),
        **({FAMILIARITY_RECORD: familiarity} if familiarity else {}),
        **(extra_record or {}),
    }


def run_eval(
    settings: EvalSettings,
    eval_dir: Path,
    task_manager: Any = None,
    *,
    extra_record: dict[str, Any] | None = None,
    redo: bool = False,
    label: str = "eval",
    log: Log | None = None,
) -> bool:
    """lm-eval with samples logged into ``eval_dir``; False when it was already done.

    ``task_manager``: lm-eval's, built with :func:`eval_metadata` of these settings (default:
    :func:`task_manager_for` builds or reuses one). ``extra_record``: more settings the stage
    marker records (a rerun with other values is refused, or with ``redo`` evaluated again).
    The marker, and the key of lm-eval's request cache, hold the model's identity too.
    ``log``: where to say what was decided for lm-eval (the batch size on a CPU)."""
    record = eval_record(settings, extra_record)
    if stage_is_done(eval_dir, record, label=label, redo=redo, redo_hint=FORCE_HINT):
        return False
    check_backend(settings)
    show_metadata_warning_once()
    metadata = eval_metadata(settings)
    if task_manager is None:
        task_manager = task_manager_for(metadata)
    elif getattr(task_manager, "metadata", None) != metadata:
        raise ShadowSuiteError(
            f"the task manager was built with metadata {getattr(task_manager, 'metadata', None)}"
            f", these settings need {metadata}; build it with eval_metadata(settings)"
        )
    with run_stage(eval_dir, record) as work:
        _evaluate(settings, work, lm_cache_dir(eval_dir, record), task_manager, metadata, log)
    return True


CPU_BATCH_SIZE = 16
"""The hf backend's batch size on a CPU when ``auto`` is asked for (``run``'s default).
lm-eval's ``auto`` runs five forward passes of 64 sequences of the model's full length to
find the largest batch that fits in memory, which takes minutes on a CPU, where memory is
not what limits a batch, and then pads every batch to 64."""


def batch_size_for(settings: EvalSettings, device: str | None) -> str:
    """``settings.batch_size``, except ``auto`` with the hf backend on a CPU:
    :data:`CPU_BATCH_SIZE`."""
    on_cpu = device is not None and str(device).startswith("cpu")
    if settings.model == "hf" and on_cpu and str(settings.batch_size).startswith("auto"):
        return str(CPU_BATCH_SIZE)
    return settings.batch_size


METADATA_WARNING = "Custom kwargs can be passed to `--metadata`"
"""lm-eval's notice, once per task that builds its documents in code (every task of the
pack): 12 identical warnings for one benchmark and its base. ``run`` sets the metadata
itself; the notice is shown once per process."""


class _OnceFilter(logging.Filter):
    def __init__(self, marker: str) -> None:
        super().__init__()
        self.marker = marker
        self.shown = False

    def filter(self, record: logging.LogRecord) -> bool:
        if self.marker not in record.getMessage():
            return True
        if self.shown:
            return False
        self.shown = True
        return True


def show_metadata_warning_once() -> None:
    """Let lm-eval's per-task metadata notice through once in this process."""
    logger = logging.getLogger("lm_eval.api.task")  # where lm-eval's Task logs it
    if not any(isinstance(f, _OnceFilter) for f in logger.filters):
        logger.addFilter(_OnceFilter(METADATA_WARNING))


def _evaluate(
    settings: EvalSettings,
    work: Path,
    cache: Path,
    task_manager: Any,
    metadata: dict[str, Any],
    log: Log | None = None,
) -> None:
    """lm-eval's run, its results and samples saved into ``work``."""
    from lm_eval import simple_evaluate
    from lm_eval.loggers import EvaluationTracker

    device = settings.device
    if device is None and settings.model == "hf":
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    batch_size = batch_size_for(settings, device)
    if batch_size != settings.batch_size and log is not None:
        log(
            f"batch size {batch_size} on a CPU (lm-eval's --batch_size {settings.batch_size} "
            "would first time 64 full-length sequences; --batch_size N to choose)"
        )
    tasks: list[Any] = list(settings.tasks)
    if settings.fewshot is not None:
        tasks = tasks_with_fewshot(task_manager, settings.tasks, settings.fewshot)
    tracker = EvaluationTracker(output_path=str(work))
    chat = bool(settings.apply_chat_template)
    results = simple_evaluate(
        model=settings.model,
        model_args=settings.model_args,
        tasks=tasks,
        num_fewshot=settings.num_fewshot,
        batch_size=batch_size,
        device=device,
        use_cache=str(cache / "responses"),
        limit=settings.limit,
        log_samples=True,
        evaluation_tracker=tracker,
        system_instruction=settings.system_instruction,
        apply_chat_template=settings.apply_chat_template if chat else False,
        # lm-eval's own CLI: multi-turn few-shot by default with a chat template, never without
        fewshot_as_multiturn=chat and settings.fewshot_as_multiturn is not False,
        gen_kwargs=settings.gen_kwargs,
        task_manager=task_manager,
        metadata=metadata,
    )
    if results is None:  # only on non-zero ranks of a multi-process run
        return
    samples = results.pop("samples")
    tracker.save_results_aggregated(results=results, samples=samples)
    for name in results["configs"]:
        tracker.save_results_samples(task_name=name, samples=samples[name])


def benchmark_of_any_task(task: str) -> str | None:
    """The benchmark a leaf task evaluates: ours (``shadow_<benchmark>_<variant>``) or
    lm-eval's own (``arc_challenge``, ``mmlu_<subject>`` ...); None for any other task."""
    ours = contract.benchmark_of_task(task)
    if ours is not None:
        return ours
    for bench in sorted(contract.BENCHMARK_NAMES, key=len, reverse=True):
        if task == bench or task.startswith(bench + "_"):
            return bench
    return None


def tasks_with_fewshot(task_manager: Any, names: Sequence[str], fewshot: dict[str, int]) -> list:
    """The tasks and groups ``names``, built, each leaf task set to its benchmark's few-shot
    count (lm-eval's ``num_fewshot`` is one number for every task; a task's own config may
    differ). Tasks of no benchmark in ``fewshot`` keep their own default."""
    built: list[Any] = []
    for name in names:
        loaded = task_manager.load([name])
        top = loaded["groups"].get(name) or loaded["tasks"].get(name)
        # a tag is no object of its own: its tasks
        top_level = [top] if top is not None else list(loaded["tasks"].values())
        for leaf, task in loaded["tasks"].items():
            bench = benchmark_of_any_task(leaf)
            # the familiarity tasks score plain texts: never examples (their YAML says 0)
            if bench is not None and bench in fewshot and not contract.is_familiarity_task(leaf):
                task.set_config(key="num_fewshot", value=fewshot[bench])
        built += top_level
    return built


def spectra_record(settings: SpectraSettings) -> dict[str, Any]:
    """What a spectra stage's marker records: the settings and both models' identities."""
    return {
        **_jsonable(asdict(settings)),
        MODEL_IDENTITY: identity_of(settings.weights),
        BASE_IDENTITY: identity_of(settings.base),
    }


def run_spectra(
    settings: SpectraSettings, spectra_dir: Path, progress: bool = True, redo: bool = False
) -> bool:
    record = spectra_record(settings)
    if stage_is_done(spectra_dir, record, label="spectra", redo=redo, redo_hint=FORCE_HINT):
        return False
    from shadow_suite.spectral import analyze_model, write_result

    with run_stage(spectra_dir, record) as work:
        result = analyze_model(
            settings.weights, settings.base, device=settings.device, progress=progress
        )
        write_result(result, work)
    return True


def base_settings(settings: EvalSettings, base: str) -> EvalSettings | None:
    """The model's evaluation settings with the base model's weights in their place; None
    for a served model (the server serves one model)."""
    if settings.model == "local-completions":
        return None
    args = parse_model_args(settings.model_args)
    args["pretrained"] = base
    model_args = ",".join(f"{k}={v}" for k, v in args.items())
    return replace(settings, model_args=model_args)


def run_card(
    out: RunOutcome,
    base_name: str | None,
    references: Sequence[str | os.PathLike[str]] = (),
    card_dir: Path | None = None,
    eval_dir: Path | None = None,
    name: str | None = None,
) -> Path:
    from shadow_suite.report.card import build_card, write_card
    from shadow_suite.report.memorization import memorization_line
    from shadow_suite.report.words import verdict_printout

    spectra = out.spectra_dir / "spectra.json" if out.spectra_dir and eval_dir is None else None
    card = build_card(
        [eval_dir or out.eval_dir],
        spectra=spectra,
        base_model=base_name,
        references=references,
        name=name if eval_dir is None else None,
    )
    if eval_dir is None:
        out.verdict = verdict_printout(card)
        if (memorization := memorization_line(card)) is not None:
            out.verdict += f"\nMemorization. {memorization}"
        out.card = card
    return write_card(card, card_dir or out.card_dir).json


def run_pipeline(
    settings: EvalSettings,
    out: str | Path,
    *,
    weights: str | None = None,
    base: str | None = None,
    spectra_device: str = "auto",
    progress: bool = True,
    references: Sequence[str | os.PathLike[str]] = (),
    evaluate_base: bool = True,
    name: str | None = None,
    task_manager: Any = None,
    force: bool = False,
    items_flag: str = "--limit ",
    log: Log | None = None,
) -> RunOutcome:
    """Eval (the model, then the base on the same items), then spectra (when the weights can
    be read), then the card against the base and ``references``; reruns skip stages. The
    outcome holds the card (``outcome.card``) and where each stage's files are.

    ``name``: the model's name on the card (default: from model_args). ``task_manager``:
    lm-eval's, built with ``eval_metadata(settings)``, for callers that run several pipelines
    (default: one per metadata per process, :func:`task_manager_for`). ``force``: stages
    whose settings or model identity changed are run again (else refused in one line).
    ``items_flag``: where ``settings.items`` came from, for messages. ``log``: where each
    stage's header goes, once, as it starts ("[2/4] evaluating the base ...")."""
    root = Path(out)
    check_run_arguments(settings, root, weights, base, references, items_flag, evaluate_base)
    outcome = RunOutcome(root, root / "eval", None, root / "card")
    base_eval = base_settings(settings, base) if base and evaluate_base else None
    if base_eval is not None and settings.apply_chat_template and base:
        check_chat_template("--base", base, "; evaluate the base without it and pass its run "
                            "as --reference, or give --no-base-eval")  # fmt: skip
    where = weights_of(settings, weights)
    spectra_settings = None
    if where is not None and (Path(where).is_dir() or os.environ.get("HF_HUB_OFFLINE") != "1"):
        spectra_settings = SpectraSettings(where, base, spectra_device)
    # every stage is checked before any work: a rerun with other settings (another --base,
    # --limit, seed ...) is refused now, not after an evaluation or as a printed note
    checks = [(outcome.eval_dir, eval_record(settings), "eval")]
    if base_eval is not None:
        checks.append((root / "base" / "eval", eval_record(base_eval), "base eval"))
    if spectra_settings is not None:
        checks.append((root / "spectra", spectra_record(spectra_settings), "spectra"))
    done = {
        label: stage_is_done(folder, record, label=label, redo=force, redo_hint=FORCE_HINT)
        for folder, record, label in checks
    }
    if references:
        from shadow_suite.report.identity_checks import check_references_early

        check_references_early(
            references, settings.seed, evaluated_identity(settings), memorization_measured(settings)
        )
    headers = stage_headers(settings, name, where, base, done, root)

    def header(stage: str) -> None:
        if log is not None:
            log(headers[stage])

    header("eval")
    if not run_eval(settings, outcome.eval_dir, task_manager, redo=force, log=log):
        outcome.skipped.append("eval")
    refs: list[str | os.PathLike[str]] = []
    if base and evaluate_base and base_eval is None:
        outcome.notes.append(
            "base not evaluated: a served model's base needs its own server; evaluate it with "
            "`shadow-suite run` and pass its folder as --reference"
        )
    if base_eval is not None:
        outcome.base_eval_dir = root / "base" / "eval"
        header("base eval")
        if not run_eval(base_eval, outcome.base_eval_dir, task_manager, redo=force,
                        label="base eval", log=log):  # fmt: skip
            outcome.skipped.append("base eval")
        run_card(outcome, None, card_dir=root / "base" / "card", eval_dir=outcome.base_eval_dir)
        refs.append(outcome.base_eval_dir)
    refs += list(references)
    if where is None:
        outcome.notes.append("no spectra: the weights are unknown (pass --weights DIR)")
    elif spectra_settings is None:
        outcome.notes.append(f"no spectra: {where} is not a local folder and the hub is offline")
    else:
        spectra_dir = root / "spectra"
        header("spectra")
        try:
            if not run_spectra(spectra_settings, spectra_dir, progress, redo=force):
                outcome.skipped.append("spectra")
            outcome.spectra_dir = spectra_dir
        except (StageMismatch, StageBusy):
            raise
        except ShadowSuiteError as err:
            outcome.notes.append(f"no spectra: {err}")
    # the card names a base only when it was analysed: its weights compared, or it evaluated
    analysed_base = base if base and (outcome.spectra_dir or base_eval is not None) else None
    if base and analysed_base is None:
        outcome.notes.append(f"the card names no base: {base} was neither evaluated nor compared")
    header("card")
    run_card(outcome, analysed_base, refs, name=name)
    return outcome


def stage_headers(
    settings: EvalSettings,
    name: str | None,
    weights: str | None,
    base: str | None,
    done: dict[str, bool],
    root: Path,
) -> dict[str, str]:
    """'[i/n] what' for each stage this run has (``done``: the stages it will run or reuse,
    and whether each is already done), the card last."""
    from shadow_suite.report.card import display_name

    model = name or display_name(
        weights or str(parse_model_args(settings.model_args).get("model", settings.model))
    )
    base_name = display_name(base) if base else ""
    what = {
        "eval": f"evaluating {model}",
        "base eval": f"evaluating the base {base_name} on the same items",
        "spectra": f"weight spectra of {model}" + (f" against {base_name}" if base else ""),
        "card": "report card",
    }
    folders = {"eval": "eval", "base eval": "base/eval", "spectra": "spectra"}
    stages = [*done, "card"]
    return {
        stage: f"[{i}/{len(stages)}] {what[stage]}"
        + (f": already done in {root / folders[stage]}, reused" if done.get(stage) else "")
        for i, stage in enumerate(stages, start=1)
    }


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run",
        help="evaluate a model with the task pack, analyse its weights, write its report card",
        description="Evaluate a model with the task pack (and its base on the same items, "
        "with --base), analyse its weights, and write its report card, in one command. Each "
        "stage is kept in --out; a rerun reuses finished stages.",
    )
    parser.add_argument("--model", required=True, choices=BACKENDS, help="lm-eval backend")
    parser.add_argument(
        "--model_args",
        required=True,
        help="lm-eval model arguments, e.g. pretrained=DIR,dtype=bfloat16 (vllm, hf) or "
        "model=NAME,base_url=http://HOST:PORT/v1/completions (local-completions)",
    )
    parser.add_argument("--out", required=True, help="output folder (reused by a rerun)")
    parser.add_argument("--tasks", default=GROUP, help="comma-separated task names")
    parser.add_argument(
        "--limit",
        type=int,
        metavar="N",
        help="a quick look: a seeded sample of N items per benchmark, the same items for the "
        "original and every variant, spread over MMLU's subjects (default $SHADOW_SUITE_ITEMS)",
    )
    parser.add_argument(
        "--first",
        type=int,
        metavar="N",
        help="lm-eval's --limit: the first N documents of each task (variants skip items, so "
        "they do not pair with the original; MMLU's first rows are one subject)",
    )
    parser.add_argument(
        "--seed",
        default=None,
        help="variant seed, or 'fresh': a new secret one drawn for this run and recorded (a "
        f"rerun into the same --out reuses it) (default ${SEED_ENV}, else {DEFAULT_VARIANT_SEED})",
    )
    parser.add_argument("--data", help="local benchmark data folder (default $SHADOW_SUITE_DATA)")
    parser.add_argument(
        "--batch_size",
        default="auto",
        help="lm-eval's batch size: a number, auto or auto:N (default auto; with the hf "
        f"backend on a CPU, auto means {CPU_BATCH_SIZE}: lm-eval's detection would first time "
        "64 full-length sequences)",
    )
    parser.add_argument("--device", help="device for the hf backend (e.g. cuda:0, cpu)")
    parser.add_argument("--gen_kwargs", help="generation arguments, e.g. max_gen_toks=256")
    parser.add_argument("--num_fewshot", type=int, help="few-shot examples for every task")
    parser.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        help="each benchmark's few-shot count as a leaderboard asked it; "
        + "; ".join(f"{name}: {preset_words(counts)}" for name, counts in PRESETS.items()),
    )
    parser.add_argument(
        "--apply_chat_template",
        nargs="?",
        const=True,
        default=None,
        metavar="NAME",
        help="format prompts with the model's chat template (NAME: one of its named templates), "
        "as lm-eval's --apply_chat_template; for instruct and chat models",
    )
    parser.add_argument(
        "--fewshot_as_multiturn",
        nargs="?",
        const="true",
        default=None,
        metavar="true|false",
        help="few-shot examples as chat turns (lm-eval's; default true with a chat template)",
    )
    parser.add_argument("--system_instruction", metavar="TEXT", help="lm-eval's system instruction")
    parser.add_argument(
        "--base",
        help="the base model (folder or hub id): evaluated on the same items as a reference "
        "for the verdict, and its weights compared with the model's",
    )
    parser.add_argument(
        "--no-base-eval",
        action="store_true",
        help="with --base: compare weights only, do not evaluate the base",
    )
    parser.add_argument(
        "--reference",
        action="append",
        default=[],
        metavar="DIR",
        help="a trusted model evaluated on the same items: its run, card or lm-eval output "
        "folder (repeatable)",
    )
    parser.add_argument("--weights", help="the model's weights when model_args do not say")
    parser.add_argument("--spectra_device", default="auto", help="auto | cpu | cuda")
    parser.add_argument(
        "--force",
        action="store_true",
        help="recompute the stages in --out whose settings or model files changed since they "
        "ran (default: refuse them in one line); unchanged stages are still reused",
    )
    add_card_options(parser)
    parser.set_defaults(func=_cmd_run)


def _cmd_run(args: argparse.Namespace) -> int:
    from shadow_suite.taskpack.data import resolve_data_dir
    from shadow_suite.taskpack.loader import resolve_items

    data_dir = resolve_data_dir(args.data)
    check_writable_dir(args.out)
    browser = check_card_options(args)
    seed, seed_note = run_seed(args.seed, Path(args.out))
    settings = EvalSettings(
        model=args.model,
        model_args=args.model_args,
        tasks=tuple(t.strip() for t in args.tasks.split(",") if t.strip()),
        items=args.limit if args.limit is not None else resolve_items(),
        limit=args.first,
        seed=seed,
        data_dir=str(data_dir) if data_dir else None,
        batch_size=args.batch_size,
        device=args.device,
        gen_kwargs=args.gen_kwargs,
        num_fewshot=args.num_fewshot,
        preset=args.preset,
        fewshot=dict(PRESETS[args.preset]) if args.preset in PRESETS else None,
        apply_chat_template=args.apply_chat_template,
        fewshot_as_multiturn=multiturn_flag(args.fewshot_as_multiturn, args.apply_chat_template),
        system_instruction=args.system_instruction,
    )
    if seed_note:
        print(seed_note)
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f}s] {message}", flush=True)

    outcome = run_pipeline(
        settings,
        args.out,
        weights=args.weights,
        base=args.base,
        spectra_device=args.spectra_device,
        references=args.reference,
        evaluate_base=not args.no_base_eval,
        name=args.name,
        force=args.force,
        items_flag="--limit " if args.limit is not None else f"{ITEMS_ENV}=",
        log=log,
    )
    for note in outcome.notes:
        print(note)
    print(outcome.verdict)
    for name in ("card.json", "card.html", "card.md", "items.parquet"):
        print(outcome.card_dir / name)
    print_pdf(outcome.card_dir / "card.html", args, browser)
    return 0


def multiturn_flag(value: str | None, chat_template: bool | str | None) -> bool | None:
    """``--fewshot_as_multiturn [true|false]`` as lm-eval reads it; with a chat template and
    no flag, True (lm-eval's default); without a chat template, None unless asked."""
    if value is None:
        return True if chat_template else None
    word = value.strip().lower()
    if word in ("true", "1", "yes"):
        return True
    if word in ("false", "0", "no"):
        return False
    raise ShadowSuiteError(f"--fewshot_as_multiturn {value!r}: give true or false")


def run_seed(value: str | None, out: Path) -> tuple[int, str | None]:
    """The variant seed of a run, and a line to print when it was drawn or reused.

    ``fresh`` (``--seed fresh`` or ``$SHADOW_SUITE_SEED=fresh``): the seed recorded by a
    finished evaluation in ``out`` when there is one (a rerun continues that audit), else a
    new one drawn once in this process; any other value as ``resolve_seed`` reads it."""
    from shadow_suite.taskpack.loader import is_fresh, resolve_seed

    wanted = value if value is not None else os.environ.get(SEED_ENV)
    if not is_fresh(wanted):
        return resolve_seed(wanted), None
    from shadow_suite.stage import recorded_settings

    recorded = recorded_settings(out / "eval")
    if recorded is not None and recorded.get("seed") is not None:
        seed = resolve_seed(recorded["seed"])
        return seed, f"seed fresh: reusing {seed}, recorded by the evaluation in {out / 'eval'}"
    seed = resolve_seed("fresh")
    return seed, (
        f"seed fresh: drew {seed} (recorded in every sample and on the card; evaluate "
        f"references with --seed {seed}, and keep it private until the audit is done)"
    )
