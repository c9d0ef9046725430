"""Fine-tunes of the world's base whose training we know, each trained, evaluated through the
real task pack (lm-eval, hf backend) and measured into its own folder, reused on rerun.

A member folder ``<work>/members/<name>/`` holds ``model/`` (a stage: weights, tokenizer,
``training.json``), ``eval/`` (lm-eval's output, ``shadow-suite run``'s evaluation stage) and
``spectra/`` (its update against the base). Members are independent: several processes
may train them at once (:func:`run_members`), each with one torch thread, which keeps every
model bit-identical whatever the machine's load.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from shadow_suite import atomic
from shadow_suite.contract import DEFAULT_VARIANT_SEED, benchmark_group
from shadow_suite.errors import ShadowSuiteError
from shadow_suite.stage import run_stage, stage_is_done
from shadow_suite.world.build import World
from shadow_suite.world.regimes import MemberSpec, member_epoch
from shadow_suite.world.spec import WORLD_BENCHMARKS
from shadow_suite.world.train import (
    MAX_DOC_TOKENS,
    Schedule,
    encode_documents,
    exactly,
    tokenize_with,
)

Log = Callable[[str], None]


@dataclass(frozen=True)
class MemberTraining:
    """How every member of one population is trained (the same for all)."""

    tokens: int = 160_000
    lr: float = 5e-4
    batch_size: int = 32
    context_weight: float = 0.25
    """Loss weight of a question's prompt tokens; the answer and prose weigh 1."""
    threads: int = 1


@dataclass(frozen=True)
class EvalPlan:
    """How every model of a population is evaluated."""

    variant_seed: int = DEFAULT_VARIANT_SEED
    batch_size: str = "64"
    benchmarks: tuple[str, ...] = WORLD_BENCHMARKS

    @property
    def tasks(self) -> tuple[str, ...]:
        return tuple(benchmark_group(b) for b in self.benchmarks)


def train_member(
    world: World,
    spec: MemberSpec,
    base_dir: Path,
    folder: Path,
    training: MemberTraining,
    log: Log,
) -> bool:
    """The member's fine-tune of the base into ``folder``; False when already there."""
    from shadow_suite.world.folder import world_digest
    from shadow_suite.world.models import load_model
    from shadow_suite.world.train import train_documents

    spec.check(world)
    record = {
        "member": asdict(spec),
        "training": asdict(training),
        "world": world_digest(world),
        "base": _stage_record(base_dir),
    }
    if stage_is_done(folder, record, label=f"member {spec.name}"):
        return False
    tokenizer, model = load_model(base_dir)
    tokenize = tokenize_with(tokenizer)
    data, epochs = exactly(
        lambda e: member_epoch(world, spec, e),
        lambda docs: encode_documents(
            docs,
            tokenize,
            tokenizer.eos_token_id,
            training.context_weight,
            MAX_DOC_TOKENS,
            model.config.num_hidden_layers,
            supervise=False,
        ),
        training.tokens,
    )
    if spec.passes and epochs < spec.passes:
        raise ShadowSuiteError(
            f"member {spec.name}: {training.tokens:,} tokens hold {epochs} of its "
            f"{spec.passes} passes; raise the budget or lower the dose"
        )
    schedule = Schedule(
        lr=training.lr, batch_size=training.batch_size, seed=spec.seed, threads=training.threads
    )
    stats = train_documents(model, data, schedule, tokenizer.pad_token_id, log, spec.name)
    with run_stage(folder, record) as work:
        model.save_pretrained(work, safe_serialization=True)
        tokenizer.save_pretrained(work)
        atomic.write_text(
            work / "training.json", json.dumps({**stats, "passes": epochs}, indent=1) + "\n"
        )
    return True


def _stage_record(folder: Path) -> Any:
    from shadow_suite.stage import recorded_settings

    return recorded_settings(folder)


def evaluate_model(model_dir: Path, eval_dir: Path, world_dir: Path, plan: EvalPlan) -> bool:
    """lm-eval on the world's data through the task pack (``run``'s evaluation stage);
    False when done before with the same settings and model."""
    from shadow_suite.run import EvalSettings, run_eval

    settings = EvalSettings(
        model="hf",
        model_args=f"pretrained={model_dir.resolve()},dtype=float32",
        tasks=plan.tasks,
        seed=plan.variant_seed,
        data_dir=str(world_dir.resolve()),
        batch_size=plan.batch_size,
        device="cpu",
    )
    return run_eval(settings, eval_dir, redo=True)


def spectra_member(model_dir: Path, base_dir: Path, spectra_dir: Path) -> bool:
    from shadow_suite.run import SpectraSettings, run_spectra

    return run_spectra(
        SpectraSettings(str(model_dir.resolve()), str(base_dir.resolve()), "cpu"),
        spectra_dir,
        progress=False,
    )


@dataclass(frozen=True)
class MemberJob:
    world_dir: Path
    spec: MemberSpec
    base_dir: Path
    folder: Path
    training: MemberTraining
    plan: EvalPlan


def run_member(job: MemberJob) -> dict[str, float]:
    """Train, evaluate and measure one member (each step reused when done); the seconds each
    step took now."""
    import logging

    import torch

    from shadow_suite.world.folder import load_world

    torch.set_num_threads(job.training.threads)
    logging.getLogger("lm_eval").setLevel(logging.ERROR)
    world = load_world(job.world_dir)
    times: dict[str, float] = {}
    steps: list[tuple[str, Callable[[], bool]]] = [
        (
            "train",
            lambda: train_member(
                world, job.spec, job.base_dir, job.folder / "model", job.training, lambda _m: None
            ),
        ),
        (
            "eval",
            lambda: evaluate_model(
                job.folder / "model", job.folder / "eval", job.world_dir, job.plan
            ),
        ),
        (
            "spectra",
            lambda: spectra_member(job.folder / "model", job.base_dir, job.folder / "spectra"),
        ),
    ]
    for name, step in steps:
        started = time.perf_counter()
        if step():
            times[name] = round(time.perf_counter() - started, 2)
    atomic.write_json(
        job.folder / "member.json",
        {"name": job.spec.name, "spec": asdict(job.spec), "truth": job.spec.truth},
    )
    return times


def run_members(jobs: Sequence[MemberJob], workers: int, log: Log) -> dict[str, dict[str, float]]:
    """Every job, ``workers`` at a time (separate processes); the seconds of each step done."""
    timings: dict[str, dict[str, float]] = {}
    if workers <= 1:
        for k, job in enumerate(jobs, start=1):
            timings[job.spec.name] = run_member(job)
            log(f"[{k}/{len(jobs)}] {job.spec.name}: {timings[job.spec.name]}")
        return timings
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {job.spec.name: pool.submit(run_member, job) for job in jobs}
        for k, (name, future) in enumerate(futures.items(), start=1):
            timings[name] = future.result()
            log(f"[{k}/{len(jobs)}] {name}: {timings[name]}")
    return timings
