"""``shadow-suite run``: evaluate a model with the task pack, analyse its weights, write its
report card, in one command.

Three stages, each writing into its own folder under ``--out`` and kept there:

* ``eval/``    lm-eval's output (results JSON + per-sample JSONL), through lm-eval's Python
  API with samples logged. Model responses are cached in ``eval/lm_cache`` (lm-eval's own
  request cache), so an interrupted evaluation resumes where it stopped.
* ``spectra/`` the spectral engine's output, when the weights are a local folder or a hub id
  that can be downloaded (its per-tensor cache makes an interrupted run resume too).
* ``base/``    with ``--base``: the base model evaluated exactly like the model (same tasks,
  items, seed, few-shot and backend settings; its own ``eval/`` and ``card/``), so the
  model's card can compare its gaps with the base's on the same items.
* ``card/``    card.json, card.html, card.md, items.parquet; the verdict is relative to the
  base and any ``--reference`` models.

A stage is finished when its ``stage.json`` (the settings it ran with) exists; a rerun with
the same settings skips it, one with other settings is refused rather than mixing results.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from shadow_suite.errors import ShadowSuiteError

BACKENDS = ("vllm", "hf", "local-completions")
STAGE_FILE = "stage.json"


@dataclass(frozen=True)
class EvalSettings:
    model: str
    model_args: str
    tasks: tuple[str, ...] = ("shadow_suite",)
    limit: int | None = None
    seed: int = 1234
    data_dir: str | None = None
    batch_size: str = "auto"
    device: str | None = None
    gen_kwargs: str | None = None
    num_fewshot: int | None = None


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


def parse_model_args(model_args: str) -> dict[str, Any]:
    from lm_eval.utils import simple_parse_args_string

    try:
        return simple_parse_args_string(model_args)
    except Exception as err:
        raise ShadowSuiteError(f"--model_args {model_args!r}: cannot parse ({err})") from None


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
        # Multiple-choice tasks are scored on prompt log-probabilities, which many servers
        # do not return; only GSM8K (generation) runs against those.
        multiple_choice = any(not t.startswith("shadow_gsm8k") for t in settings.tasks)
        check_server(
            str(args["base_url"]), args.get("model"), require_prompt_logprobs=multiple_choice
        )


def _stage_done(folder: Path, settings: dict[str, Any]) -> bool:
    marker = folder / STAGE_FILE
    if not marker.is_file():
        return False
    recorded = json.loads(marker.read_text(encoding="utf-8"))
    if recorded.get("settings") != settings:
        raise ShadowSuiteError(
            f"{folder} holds a finished stage run with other settings "
            f"({recorded.get('settings')}); use another --out"
        )
    return True


def _mark_done(folder: Path, settings: dict[str, Any], seconds: float) -> None:
    marker = folder / STAGE_FILE
    tmp = marker.with_suffix(".tmp")
    tmp.write_text(json.dumps({"settings": settings, "seconds": round(seconds, 2)}, indent=1))
    os.replace(tmp, marker)


def run_eval(settings: EvalSettings, eval_dir: Path) -> bool:
    """lm-eval with samples logged into ``eval_dir``; False when it was already done."""
    record = _jsonable(asdict(settings))
    if _stage_done(eval_dir, record):
        return False
    check_backend(settings)
    from lm_eval import simple_evaluate
    from lm_eval.loggers import EvaluationTracker
    from lm_eval.tasks import TaskManager

    started = time.perf_counter()
    eval_dir.mkdir(parents=True, exist_ok=True)
    device = settings.device
    if device is None and settings.model == "hf":
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    metadata: dict[str, Any] = {"shadow_seed": settings.seed}
    if settings.data_dir:
        metadata["shadow_data"] = str(Path(settings.data_dir).resolve())
    tracker = EvaluationTracker(output_path=str(eval_dir))
    results = simple_evaluate(
        model=settings.model,
        model_args=settings.model_args,
        tasks=list(settings.tasks),
        num_fewshot=settings.num_fewshot,
        batch_size=settings.batch_size,
        device=device,
        use_cache=str(eval_dir / "lm_cache" / "responses"),
        limit=settings.limit,
        log_samples=True,
        evaluation_tracker=tracker,
        gen_kwargs=settings.gen_kwargs,
        task_manager=TaskManager(metadata=metadata),
        metadata=metadata,
    )
    if results is None:  # only on non-zero ranks of a multi-process run
        return True
    samples = results.pop("samples")
    tracker.save_results_aggregated(results=results, samples=samples)
    for task_name in results["configs"]:
        tracker.save_results_samples(task_name=task_name, samples=samples[task_name])
    _mark_done(eval_dir, record, time.perf_counter() - started)
    return True


def run_spectra(settings: SpectraSettings, spectra_dir: Path, progress: bool = True) -> bool:
    record = _jsonable(asdict(settings))
    if _stage_done(spectra_dir, record):
        return False
    from shadow_suite.spectral import analyze_model, write_result

    started = time.perf_counter()
    result = analyze_model(
        settings.weights, settings.base, device=settings.device, progress=progress
    )
    write_result(result, spectra_dir)
    _mark_done(spectra_dir, record, time.perf_counter() - started)
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
) -> Path:
    from shadow_suite.report.card import build_card, write_card
    from shadow_suite.report.words import verdict_sentence

    spectra = out.spectra_dir / "spectra.json" if out.spectra_dir and eval_dir is None else None
    card = build_card(
        [eval_dir or out.eval_dir], spectra=spectra, base_model=base_name, references=references
    )
    if eval_dir is None:
        out.verdict = verdict_sentence(card)
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
) -> RunOutcome:
    """Eval (the model, then the base on the same items), then spectra (when the weights can
    be read), then the card against the base and ``references``; reruns skip stages."""
    root = Path(out)
    outcome = RunOutcome(root, root / "eval", None, root / "card")
    if not run_eval(settings, outcome.eval_dir):
        outcome.skipped.append("eval")
    refs: list[str | os.PathLike[str]] = []
    base_eval = base_settings(settings, base) if base and evaluate_base else None
    if base and evaluate_base and base_eval is None:
        outcome.notes.append(
            "base not evaluated: a served model's base needs its own server; evaluate it with "
            "`shadow-suite run` and pass its folder as --reference"
        )
    if base_eval is not None:
        outcome.base_eval_dir = root / "base" / "eval"
        if not run_eval(base_eval, outcome.base_eval_dir):
            outcome.skipped.append("base eval")
        run_card(outcome, None, card_dir=root / "base" / "card", eval_dir=outcome.base_eval_dir)
        refs.append(outcome.base_eval_dir)
    refs += list(references)
    where = weights_of(settings, weights)
    if where is None:
        outcome.notes.append("no spectra: the weights are unknown (pass --weights DIR)")
    elif not Path(where).is_dir() and os.environ.get("HF_HUB_OFFLINE") == "1":
        outcome.notes.append(f"no spectra: {where} is not a local folder and the hub is offline")
    else:
        spectra_dir = root / "spectra"
        try:
            if not run_spectra(SpectraSettings(where, base, spectra_device), spectra_dir, progress):
                outcome.skipped.append("spectra")
            outcome.spectra_dir = spectra_dir
        except ShadowSuiteError as err:
            outcome.notes.append(f"no spectra: {err}")
    run_card(outcome, base, refs)
    return outcome


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run",
        help="evaluate a model with the task pack, analyse its weights, write its report card",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument("--model", required=True, choices=BACKENDS, help="lm-eval backend")
    parser.add_argument(
        "--model_args",
        required=True,
        help="lm-eval model arguments, e.g. pretrained=DIR,dtype=bfloat16 (vllm, hf) or "
        "model=NAME,base_url=http://HOST:PORT/v1/completions (local-completions)",
    )
    parser.add_argument("--out", required=True, help="output folder (reused by a rerun)")
    parser.add_argument("--tasks", default="shadow_suite", help="comma-separated task names")
    parser.add_argument("--limit", type=int, help="first N items of each task (a quick look)")
    parser.add_argument("--seed", default=None, help="variant seed (default 1234)")
    parser.add_argument("--data", help="local benchmark data folder (default $SHADOW_SUITE_DATA)")
    parser.add_argument("--batch_size", default="auto")
    parser.add_argument("--device", help="device for the hf backend (e.g. cuda:0, cpu)")
    parser.add_argument("--gen_kwargs", help="generation arguments, e.g. max_gen_toks=256")
    parser.add_argument("--num_fewshot", type=int)
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
    parser.set_defaults(func=_cmd_run)


def _cmd_run(args: argparse.Namespace) -> int:
    from shadow_suite.data import resolve_data_dir
    from shadow_suite.taskpack import resolve_seed

    data_dir = resolve_data_dir(args.data)
    settings = EvalSettings(
        model=args.model,
        model_args=args.model_args,
        tasks=tuple(t.strip() for t in args.tasks.split(",") if t.strip()),
        limit=args.limit,
        seed=resolve_seed(args.seed),
        data_dir=str(data_dir) if data_dir else None,
        batch_size=args.batch_size,
        device=args.device,
        gen_kwargs=args.gen_kwargs,
        num_fewshot=args.num_fewshot,
    )
    outcome = run_pipeline(
        settings,
        args.out,
        weights=args.weights,
        base=args.base,
        spectra_device=args.spectra_device,
        references=args.reference,
        evaluate_base=not args.no_base_eval,
    )
    for stage in outcome.skipped:
        print(f"{stage}: already done in {outcome.out}, reused")
    for note in outcome.notes:
        print(note)
    print(outcome.verdict)
    for name in ("card.json", "card.html", "card.md", "items.parquet"):
        print(outcome.card_dir / name)
    return 0
