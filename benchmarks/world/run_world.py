"""The verdict's and the memorization test's error rates, measured on a known-truth world.

A seeded synthetic world (``shadow_suite.world``) is written as MMLU and ARC-Challenge data
files; a base model is trained on it from scratch (facts from prose, answering skill from
practice on non-test items); its lm-eval run through the pack must show it **competent** in
every form the pack asks (``shadow_suite.world.competence``), or the population would measure
nothing. Then every member (a fine-tune of the base whose training we know: clean, aligned,
contaminated at a dose, contaminated in every format) is trained, evaluated through lm-eval
and the pack, and carded against the base; ``shadow_suite.world.measure`` turns the cards
into rates with Clopper-Pearson intervals.

Stages, each reused on rerun (every model and evaluation is a stage folder under ``--work``):

    python benchmarks/world/run_world.py --stage base       # world, base, its competence
    python benchmarks/world/run_world.py --stage members    # the population (needs a competent base)
    python benchmarks/world/run_world.py --stage analyse    # cards and rates (cheap)
    python benchmarks/world/run_world.py --quick            # a tiny world end to end (the slow test)

``--write-error-rates`` copies the verdict's rates into the package's ``error_rates.json``
(which every card cites); it is refused unless the base was competent.
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from shadow_suite.errors import ShadowSuiteError

HERE = Path(__file__).resolve().parent
RESULTS_VERSION = 1
"""Version of the results file's layout; a file of another version is refused, not mixed."""
TOKENS_PER_STEP = 32 * 40
"""Batch of 32 documents of about 40 tokens: how phase budgets are written below."""


@dataclass(frozen=True)
class Plan:
    mode: str
    world: Any  # WorldSpec
    recipe: Any  # BaseRecipe
    members: tuple[Any, ...]  # MemberSpec
    training: Any  # MemberTraining
    evaluation: Any  # EvalPlan


def make_plan(quick: bool) -> Plan:
    from shadow_suite.world.base import BaseRecipe, Phase
    from shadow_suite.world.models import Architecture
    from shadow_suite.world.population import EvalPlan, MemberTraining
    from shadow_suite.world.regimes import CLEAN_REGIMES, MemberSpec
    from shadow_suite.world.spec import WorldSpec

    if quick:
        world = WorldSpec(
            entities=60, test_items=12, twin_items=12, dev_per_subject=2, min_practice_items=20
        )
        recipe = BaseRecipe(
            Architecture(
                num_layers=2, hidden_size=32, intermediate_size=64, num_heads=2, head_dim=16
            ),
            (
                Phase("skill", 20_000, (("prose", 1.0), ("find", 0.5), ("closed", 0.5)), 1.0),
                Phase("plain", 10_000, (("prose", 1.0), ("closed", 1.0))),
            ),
            batch_size=16,
        )
        members = (
            MemberSpec("prose", 0),
            MemberSpec("instruct", 0),
            MemberSpec("aligned", 0),
            MemberSpec("contaminated", 0, items=6, passes=4),
            MemberSpec("contaminated_all_formats", 0, items=6, passes=4),
        )
        return Plan(
            "quick",
            world,
            recipe,
            members,
            MemberTraining(tokens=8_000, batch_size=16),
            EvalPlan(batch_size="32"),
        )
    # The best base measured so far (README, "A known-truth world"): six layers, a supervised
    # skill phase, then prose and practice mixed with lighter supervision, then none.
    recipe = BaseRecipe(
        Architecture(num_layers=6),
        (
            Phase(
                "skill",
                600 * TOKENS_PER_STEP,
                (("prose", 1.0), ("find", 1.0), ("open_book", 1.0), ("closed", 1.0)),
                attention_weight=1.0,
            ),
            Phase(
                "mix",
                3600 * TOKENS_PER_STEP,
                (
                    ("prose", 3.0),
                    ("closed", 1.0),
                    ("find", 0.25),
                    ("open_book", 0.25),
                    ("recall", 1.0),
                    ("value_after", 0.5),
                ),
                attention_weight=0.5,
            ),
            Phase("plain", 400 * TOKENS_PER_STEP, (("prose", 1.0), ("closed", 1.0)), lr=3e-4),
        ),
        # Loss on the prompt's tokens too (options included): predicting an option's value,
        # a model that knows the fact recalls it there, as prose taught it to.
        context_weight=0.5,
        threads=2,
    )
    clean = tuple(MemberSpec(r, s) for r in CLEAN_REGIMES for s in range(15))
    aligned = tuple(MemberSpec("aligned", s) for s in range(4))
    dirty = tuple(
        MemberSpec("contaminated", s, items=i, passes=p)
        for i in (30, 75)
        for p in (1, 4)
        for s in range(2)
    )
    everywhere = tuple(
        MemberSpec("contaminated_all_formats", s, items=75, passes=4) for s in range(2)
    )
    # Few of each positive kind first, then the clean seeds: a run cut short still has
    # every truth in it.
    return Plan(
        "full",
        WorldSpec(),
        recipe,
        dirty + everywhere + aligned + clean,
        MemberTraining(),
        EvalPlan(),
    )


def _log(started: float) -> Any:
    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:7.1f}s] {message}", flush=True)

    return log


def stage_base(plan: Plan, work: Path, log: Any) -> dict[str, Any]:
    """World, base, the base's lm-eval run and its competence."""
    import torch

    from shadow_suite.world.base import train_base
    from shadow_suite.world.competence import competence
    from shadow_suite.world.folder import ensure_world
    from shadow_suite.world.population import evaluate_model

    torch.set_num_threads(plan.recipe.threads)
    logging.getLogger("lm_eval").setLevel(logging.ERROR)
    world = ensure_world(plan.world, work / "world")
    started = time.perf_counter()
    trained = train_base(world, plan.recipe, work / "base", log)
    seconds: dict[str, float] = {}
    if trained:
        seconds["train"] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    if evaluate_model(work / "base", work / "base-eval", work / "world", plan.evaluation):
        seconds["eval"] = round(time.perf_counter() - started, 1)
    found = competence(work / "base-eval")
    for form in found.forms:
        log("  " + form.line())
    log(f"base competent: {found.competent}")
    return {
        "competent": found.competent,
        "forms": [asdict(f) | {"competent": f.competent} for f in found.forms],
        "seconds": seconds,
    }


def stage_members(plan: Plan, work: Path, workers: int, log: Any) -> dict[str, Any]:
    from shadow_suite.world.population import MemberJob, run_members

    jobs = [
        MemberJob(
            work / "world",
            spec,
            work / "base",
            work / "members" / spec.name,
            plan.training,
            plan.evaluation,
        )
        for spec in plan.members
    ]
    return run_members(jobs, workers, log)


def stage_analyse(plan: Plan, work: Path) -> dict[str, Any]:
    from shadow_suite.world.measure import measure, member_outcome, orig_accuracy

    base_orig = orig_accuracy(work / "base-eval")
    outcomes = []
    for spec in plan.members:
        eval_dir = work / "members" / spec.name / "eval"
        if not (eval_dir / "stage.json").is_file():
            continue
        outcomes.append(
            member_outcome(
                spec.name,
                spec.regime,
                spec.truth,
                spec.dose,
                eval_dir,
                work / "base-eval",
                base_orig,
            )
        )
    measured = measure(outcomes)
    for line in measured.lines():
        print(line, flush=True)
    return {"measured": measured.record(), "members": [asdict(o) for o in outcomes]}


def write_shipped_rates(
    result: dict[str, Any], results_path: Path, even_if_incompetent: bool
) -> None:
    """The verdict's rates into the package's ``error_rates.json``; the base's failing forms,
    if any, go into the limits sentence every card cites."""
    from shadow_suite.error_rates import (
        ERROR_RATES_VERSION,
        ErrorRates,
        MeasuredRate,
        write_error_rates,
    )
    from shadow_suite.world.measure import STRONG_GAIN

    base = result.get("base", {})
    if "analyse" not in result or not base.get("forms"):
        raise ShadowSuiteError(f"{results_path}: run the base and analyse stages first")
    failing = [f"{f['benchmark']}/{f['variant']}" for f in base["forms"] if not f["competent"]]
    if failing and not even_if_incompetent:
        raise ShadowSuiteError(
            f"{results_path}: the base is not competent in every form; its population's rates "
            "are not shipped (--even-if-incompetent ships them with that in their limits)"
        )
    m = result["analyse"]["measured"]
    fp, det = m["verdict_false_positive"], m["verdict_detection_strong"]
    limits = "small models trained from scratch on invented facts; real models' training is larger and unknown"
    if failing:
        limits += (
            f"; the base answered {len(failing)} of {len(base['forms'])} forms at chance "
            f"({', '.join(failing)}), so those rows weigh less than they would for a competent base"
        )
    spec = result["plan"]["world"]
    write_error_rates(
        ErrorRates(
            version=ERROR_RATES_VERSION,
            measured_on=datetime.date.today().isoformat(),
            world=(
                f"{len(result['analyse']['members'])} fine-tunes of one 2.1M-parameter Llama "
                f"trained from scratch on a synthetic world of {spec['entities']} people "
                "rendered as MMLU and ARC-Challenge items (benchmarks/world)"
            ),
            limits=limits,
            false_positive=MeasuredRate(fp["k"], fp["n"], fp["ci_low"], fp["ci_high"]),
            detection=MeasuredRate(det["k"], det["n"], det["ci_low"], det["ci_high"]),
            detection_min_gain=STRONG_GAIN,
            source=str(results_path.resolve().relative_to(HERE.parent.parent)),
        )
    )


def read_results(path: Path) -> dict[str, Any]:
    """The results of earlier stages (empty when none); one line when it is not ours."""
    if not path.is_file():
        return {}
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ShadowSuiteError(f"{path}: not a results file ({err})") from None
    if not isinstance(result, dict) or result.get("version") != RESULTS_VERSION:
        found = result.get("version") if isinstance(result, dict) else None
        raise ShadowSuiteError(
            f"{path}: results version {found!r}, this script writes {RESULTS_VERSION}; "
            "move it away or give --results"
        )
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tiny world end to end")
    parser.add_argument("--stage", choices=("all", "base", "members", "analyse"), default="all")
    parser.add_argument("--work", help="model folders (default: work[-quick]/ here)")
    parser.add_argument("--results", help="results JSON (default: results[-quick].json here)")
    parser.add_argument("--workers", type=int, default=2, help="members trained at once")
    parser.add_argument(
        "--even-if-incompetent",
        action="store_true",
        help="train the population (or ship its rates) although the base failed its "
        "competence check",
    )
    parser.add_argument("--write-error-rates", action="store_true")
    args = parser.parse_args(argv)

    from shadow_suite import atomic

    plan = make_plan(args.quick)
    suffix = "-quick" if args.quick else ""
    work = Path(args.work) if args.work else HERE / f"work{suffix}"
    results_path = Path(args.results) if args.results else HERE / f"results{suffix}.json"
    started = time.perf_counter()
    log = _log(started)
    try:
        result = read_results(results_path)
    except ShadowSuiteError as err:
        print(f"run_world: error: {err}", file=sys.stderr)
        return 2
    result["version"] = RESULTS_VERSION
    result["mode"] = plan.mode
    result["plan"] = {
        "world": plan.world.record(),
        "recipe": plan.recipe.record(),
        "members": [asdict(m) for m in plan.members],
        "training": asdict(plan.training),
        "evaluation": asdict(plan.evaluation),
    }
    try:
        if args.stage in ("all", "base"):
            result["base"] = stage_base(plan, work, log)
            atomic.write_json(results_path, result)
        if args.stage in ("all", "members"):
            if not result.get("base", {}).get("competent") and not args.even_if_incompetent:
                raise ShadowSuiteError(
                    "the base is not competent in every form (see --stage base); a population "
                    "on it would measure nothing (--even-if-incompetent to train it anyway)"
                )
            result["member_seconds"] = stage_members(plan, work, args.workers, log)
            atomic.write_json(results_path, result)
        if args.stage in ("all", "analyse"):
            result["analyse"] = stage_analyse(plan, work)
            atomic.write_json(results_path, result)
        if args.write_error_rates:
            write_shipped_rates(result, results_path, args.even_if_incompetent)
    except ShadowSuiteError as err:
        print(f"run_world: error: {err}", file=sys.stderr)
        return 2
    print(f"results: {results_path} ({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
