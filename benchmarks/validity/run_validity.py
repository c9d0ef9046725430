"""Measured error rates of the reference-relative verdict, on a population of fine-tunes of
one demo base whose training we know (issue 12, item 7).

Two stages, each rerunnable alone:

* ``train`` (expensive): the demo's base (pretrained on non-test text, lettered practice
  included), its lm-eval run on the task pack, then for every member of the population a
  fine-tune of the base, its lm-eval run and its weight-update spectra, each into its own
  folder under ``--work`` and reused on rerun.
* ``analyse`` (cheap): every member's card against the base as reference
  (``shadow_suite.report.card.build_card(..., references=[base eval])``), then the
  false-positive rate (clean members called ``benchmark_specific``), the detection rate per
  dose, the ROC over the verdict's margin and the AUROC of each spectral update metric, all
  with Clopper-Pearson intervals and n; written as JSON next to this script. Rerun it after the
  verdict code changes: nothing is trained or evaluated again.

    python benchmarks/validity/run_validity.py            # both stages, full population
    python benchmarks/validity/run_validity.py --quick    # a few members, for the slow test
    python benchmarks/validity/run_validity.py --stage analyse
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

from shadow_suite.errors import ShadowSuiteError
from shadow_suite.gap.stats import clopper_pearson

HERE = Path(__file__).resolve().parent
VERDICT_POSITIVE = "benchmark_specific"
MARGINS = tuple(round(0.01 * k, 2) for k in range(0, 51))
"""The margins of the ROC (shares: 0.02 = 2 points)."""


@dataclass(frozen=True)
class Plan:
    mode: str
    population: Any
    settings: Any
    demo: Any


def make_plan(quick: bool) -> Plan:
    from shadow_suite.demo.config import DEFAULT, QUICK
    from shadow_suite.demo.population import MemberSpec, PopulationSettings, default_population

    if quick:
        members = [
            MemberSpec("prose", 0),
            MemberSpec("format", 0),
            MemberSpec("contaminated", 0, 12, 24),
            MemberSpec("contaminated", 1, 12, 24),
        ]
        settings = PopulationSettings(finetune_tokens=65_536, n_items=12)
        return Plan("quick", members, settings, QUICK)
    return Plan("full", default_population(), PopulationSettings(), DEFAULT)


def _log(started: float) -> Any:
    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:7.1f}s] {message}", flush=True)

    return log


# -- stage 1: train and evaluate -------------------------------------------------------------


def stage_train(plan: Plan, work: Path, data_dir: Path | None) -> dict[str, Any]:
    import torch

    from shadow_suite import atomic
    from shadow_suite.demo import corpus
    from shadow_suite.demo.experiment import _local_rows, build_base
    from shadow_suite.demo.population import (
        evaluate_member,
        read_test_items,
        spectra_member,
        train_member,
    )
    from shadow_suite.taskpack.data import load_split

    started = time.perf_counter()
    log = _log(started)
    torch.set_num_threads(plan.settings.threads)
    logging.getLogger("lm_eval").setLevel(logging.ERROR)
    timings: dict[str, dict[str, float]] = {}

    def timed(name: str, step: str, fn: Any) -> Any:
        t0 = time.perf_counter()
        result = fn()
        if result:  # only work done now is timed (a reused step returns False)
            timings.setdefault(name, {})[step] = round(time.perf_counter() - t0, 2)
        return result

    base_dir = work / "models" / "base"
    log(f"base ({plan.mode}): pretraining (reused if done)")
    timed("base", "train", lambda: build_base(plan.demo, data_dir, base_dir, log))
    base_eval = work / "runs" / "base" / "eval"
    log("base: lm-eval")
    timed("base", "eval", lambda: evaluate_member(base_dir, base_eval, plan.settings, data_dir))
    test_items = read_test_items(base_eval, plan.settings.benchmarks)
    gsm8k = load_split("gsm8k", "train", data_dir)[0]
    practice = corpus.practice_facts(
        load_split("mmlu", "dev", data_dir)[0],
        _local_rows(data_dir, "arc_challenge", "validation"),
    )
    for k, spec in enumerate(plan.population, start=1):
        model_dir = work / "models" / spec.name
        run_dir = work / "runs" / spec.name
        log(f"[{k}/{len(plan.population)}] {spec.name} ({spec.dose})")
        timed(
            spec.name,
            "train",
            partial(
                train_member,
                spec,
                base_dir,
                model_dir,
                plan.settings,
                plan.demo.seq_len,
                test_items,
                gsm8k,
                practice,
                lambda _m: None,
            ),
        )
        timed(
            spec.name,
            "eval",
            partial(evaluate_member, model_dir, run_dir / "eval", plan.settings, data_dir),
        )
        timed(
            spec.name, "spectra", partial(spectra_member, model_dir, base_dir, run_dir / "spectra")
        )
        atomic.write_json(
            run_dir / "member.json", {"name": spec.name, "spec": asdict(spec), "dose": spec.dose}
        )
    old = work / "timings.json"
    merged = json.loads(old.read_text(encoding="utf-8")) if old.is_file() else {}
    for name, steps in timings.items():
        merged.setdefault(name, {}).update(steps)
    atomic.write_json(old, merged)
    total = round(time.perf_counter() - started, 1)
    log(f"train stage done in {total} s")
    return {"seconds": total, "timings": merged}


# -- stage 2: verdicts and error rates --------------------------------------------------------


def rate(k: int, n: int) -> dict[str, Any]:
    low, high = clopper_pearson(k, n)
    return {"k": k, "n": n, "rate": (k / n) if n else None, "ci_low": low, "ci_high": high}


def auroc(positives: Sequence[float], negatives: Sequence[float]) -> float | None:
    """P(score of a positive > score of a negative), ties counted half (Mann-Whitney)."""
    pos = [p for p in positives if p is not None and not math.isnan(p)]
    neg = [q for q in negatives if q is not None and not math.isnan(q)]
    if not pos or not neg:
        return None
    wins = sum((p > q) + 0.5 * (p == q) for p in pos for q in neg)
    return wins / (len(pos) * len(neg))


def orig_accuracy(eval_dir: Path) -> dict[str, float]:
    """Accuracy of each benchmark's orig task, from the per-sample files."""
    out: dict[str, float] = {}
    for path in sorted(eval_dir.rglob("samples_shadow_*_orig_*.jsonl")):
        bench = path.name[len("samples_shadow_") :].split("_orig_")[0]
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        out[bench] = sum(float(r["acc"]) for r in rows) / len(rows)
    return out


def variant_accuracy(eval_dir: Path) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for path in sorted(eval_dir.rglob("samples_shadow_*.jsonl")):
        if "_familiarity_" in path.name:  # the memorization test's texts: no accuracy
            continue
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        if not rows:
            continue
        doc = rows[0]["doc"]
        bench, variant = doc["shadow_benchmark"], doc["shadow_variant"]
        metric = "acc_norm" if "acc_norm" in rows[0] and variant == "format_swap" else "acc"
        out.setdefault(bench, {})[variant] = sum(float(r[metric]) for r in rows) / len(rows)
    return out


def update_metrics(spectra_json: Path) -> dict[str, float]:
    """The model-level mean of every update metric (W - W0) of the spectra document."""
    if not spectra_json.is_file():
        return {}
    doc = json.loads(spectra_json.read_text(encoding="utf-8"))
    model = doc.get("summary", {}).get("model", {})
    out: dict[str, float] = {}
    for stat, values in model.items():
        if not isinstance(values, dict):
            continue
        for key, value in values.items():
            if key.startswith("update_") and isinstance(value, int | float):
                out[f"{key} ({stat})" if stat != "mean" else key] = float(value)
    return out


def member_verdict(eval_dir: Path, base_eval: Path, spectra: Path | None) -> dict[str, Any]:
    """The member's card against the base: the headline's class and reference numbers."""
    from shadow_suite.report.card import build_card

    try:
        card = build_card([eval_dir], references=[base_eval], spectra=spectra)
    except TypeError as err:  # the reference API has not landed
        return {"verdict_class": None, "error": f"build_card without references: {err}"}
    except ShadowSuiteError as err:
        return {"verdict_class": None, "error": str(err)}
    h = card.gap.headline
    out: dict[str, Any] = {"verdict_class": h.verdict_class}
    for key in (
        "delta",
        "delta_ci_low",
        "delta_ci_high",
        "p_value",
        "mde",
        "margin",
        "reformat_gap",
        "benchmark_score",
        "ood_score",
        "n_items",
        "benchmarks",
    ):
        value = getattr(h, key, None)
        out[key] = list(value) if isinstance(value, tuple) else value
    ref = getattr(card.gap, "reference", None)
    if ref is not None:
        out["families"] = {
            f.family: {
                "delta": f.delta,
                "ci_low": f.ci_low,
                "ci_high": f.ci_high,
                "p_value": f.p_value,
                "n_items": f.n_items,
            }
            for f in getattr(ref, "families", [])
        }
        out["cells"] = [
            {
                k: getattr(c, k, None)
                for k in (
                    "benchmark",
                    "variant",
                    "family",
                    "n_items",
                    "target_gap",
                    "reference_gap",
                    "delta",
                    "ci_low",
                    "ci_high",
                    "p_value",
                    "p_holm",
                )
            }
            for c in getattr(ref, "cells", [])
        ]
    out["excluded"] = dict(getattr(h, "excluded", {}) or {})
    position = getattr(card.gap, "position", None) or []
    out["position"] = [
        {k: getattr(p, k, None) for k in ("benchmark", "variant", "t", "expected", "p_value", "n")}
        for p in position
    ]
    return out


def _positive_at(v: dict[str, Any], margin: float, alpha: float = 0.05) -> bool | None:
    """The verdict's rule with another margin: CI lower bound above it and p below alpha."""
    low, p = v.get("delta_ci_low"), v.get("p_value")
    if low is None or p is None:
        return None if v.get("verdict_class") is None else False
    return bool(low > margin and p < alpha)


def stage_analyse(plan: Plan, work: Path) -> dict[str, Any]:
    started = time.perf_counter()
    base_eval = work / "runs" / "base" / "eval"
    if not base_eval.is_dir():
        raise ShadowSuiteError(f"{base_eval}: no base evaluation; run the train stage first")
    base_orig = orig_accuracy(base_eval)
    members: list[dict[str, Any]] = []
    for spec in plan.population:
        run = work / "runs" / spec.name
        if not (run / "eval" / "stage.json").is_file():
            continue
        spectra = run / "spectra" / "spectra.json"
        orig = orig_accuracy(run / "eval")
        members.append(
            {
                "name": spec.name,
                "kind": spec.kind,
                "seed": spec.seed,
                "items": spec.items,
                "passes": spec.passes,
                "dose": spec.dose,
                "contaminated": spec.contaminated,
                "orig_accuracy": orig,
                "orig_gain_over_base": {b: orig[b] - base_orig.get(b, math.nan) for b in orig},
                "variant_accuracy": variant_accuracy(run / "eval"),
                "verdict": member_verdict(
                    run / "eval", base_eval, spectra if spectra.is_file() else None
                ),
                "update_metrics": update_metrics(spectra),
            }
        )
    clean = [m for m in members if not m["contaminated"]]
    dirty = [m for m in members if m["contaminated"]]

    def called(m: dict[str, Any]) -> bool:
        return m["verdict"].get("verdict_class") == VERDICT_POSITIVE

    classes: dict[str, dict[str, int]] = {}
    for m in members:
        group = "contaminated" if m["contaminated"] else "clean"
        cls = str(m["verdict"].get("verdict_class"))
        classes.setdefault(group, {}).setdefault(cls, 0)
        classes[group][cls] += 1
    doses: dict[str, Any] = {}
    for m in dirty:
        doses.setdefault(m["dose"], []).append(m)
    per_dose = {
        dose: rate(sum(called(m) for m in ms), len(ms))
        | {
            "mean_orig_gain": {
                b: sum(m["orig_gain_over_base"][b] for m in ms) / len(ms)
                for b in ms[0]["orig_gain_over_base"]
            }
        }
        for dose, ms in sorted(doses.items())
    }
    strong = [m for m in dirty if max(m["orig_gain_over_base"].values(), default=0) >= 0.20]
    roc = []
    for margin in MARGINS:
        tp = [_positive_at(m["verdict"], margin) for m in dirty]
        fp = [_positive_at(m["verdict"], margin) for m in clean]
        if any(x is None for x in tp + fp):
            break
        roc.append(
            {
                "margin": margin,
                "tpr": sum(tp) / len(tp) if tp else None,
                "fpr": sum(fp) / len(fp) if fp else None,
            }
        )
    metric_names = sorted({k for m in members for k in m["update_metrics"]})
    spectral = {
        name: {
            "auroc_contaminated_higher": auroc(
                [m["update_metrics"].get(name) for m in dirty],
                [m["update_metrics"].get(name) for m in clean],
            ),
            "clean_mean": _mean([m["update_metrics"].get(name) for m in clean]),
            "contaminated_mean": _mean([m["update_metrics"].get(name) for m in dirty]),
        }
        for name in metric_names
    }
    delta_auroc = auroc(
        [m["verdict"].get("delta_ci_low") for m in dirty],
        [m["verdict"].get("delta_ci_low") for m in clean],
    )
    return {
        "mode": plan.mode,
        "n_clean": len(clean),
        "n_contaminated": len(dirty),
        "base_orig_accuracy": base_orig,
        "settings": asdict(plan.settings) | {"tasks": list(plan.settings.tasks)},
        "verdict_classes": classes,
        "false_positive_rate": rate(sum(called(m) for m in clean), len(clean)),
        "detection_rate": rate(sum(called(m) for m in dirty), len(dirty)),
        "detection_rate_gain_20_points": rate(sum(called(m) for m in strong), len(strong)),
        "detection_per_dose": per_dose,
        "roc_over_margin": roc,
        "auroc_delta_ci_low": delta_auroc,
        "spectral_auroc": spectral,
        "members": members,
        "analyse_seconds": round(time.perf_counter() - started, 1),
    }


def _mean(values: Sequence[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="4 members, 12 items (the test)")
    parser.add_argument("--stage", choices=("all", "train", "analyse"), default="all")
    parser.add_argument("--work", help="per-model folders (default: work[-quick]/ here)")
    parser.add_argument("--results", help="results JSON (default: results[-quick].json here)")
    parser.add_argument("--data", help="local benchmark folder (default $SHADOW_SUITE_DATA)")
    args = parser.parse_args(argv)

    from shadow_suite import atomic
    from shadow_suite.taskpack.data import resolve_data_dir

    plan = make_plan(args.quick)
    suffix = "-quick" if args.quick else ""
    work = Path(args.work) if args.work else HERE / f"work{suffix}"
    results_path = Path(args.results) if args.results else HERE / f"results{suffix}.json"
    data_dir = resolve_data_dir(args.data)
    try:
        train_info = None
        if args.stage in ("all", "train"):
            train_info = stage_train(plan, work, data_dir)
        if args.stage in ("all", "analyse"):
            result = stage_analyse(plan, work)
            timings = work / "timings.json"
            result["timings"] = (
                json.loads(timings.read_text(encoding="utf-8")) if timings.is_file() else {}
            )
            if train_info is not None:
                result["train_stage_seconds"] = train_info["seconds"]
            atomic.write_json(results_path, result)
            print(summary_text(result))
            print(f"results: {results_path}")
    except ShadowSuiteError as err:
        print(f"run_validity: error: {err}", file=sys.stderr)
        return 2
    return 0


def _fmt_rate(r: dict[str, Any]) -> str:
    if not r["n"]:
        return "n/a (n = 0)"
    return (
        f"{100 * r['rate']:.1f}% [{100 * r['ci_low']:.1f}, {100 * r['ci_high']:.1f}] "
        f"({r['k']}/{r['n']})"
    )


def summary_text(result: dict[str, Any]) -> str:
    lines = [
        f"validity ({result['mode']}): {result['n_clean']} clean, "
        f"{result['n_contaminated']} contaminated members",
        f"verdict classes: {json.dumps(result['verdict_classes'])}",
        f"false-positive rate: {_fmt_rate(result['false_positive_rate'])}",
        f"detection rate (all doses): {_fmt_rate(result['detection_rate'])}",
        f"detection rate (orig +20 points or more): "
        f"{_fmt_rate(result['detection_rate_gain_20_points'])}",
    ]
    for dose, r in result["detection_per_dose"].items():
        gain = ", ".join(f"{b} {100 * g:+.1f}" for b, g in r["mean_orig_gain"].items())
        lines.append(f"  {dose}: {_fmt_rate(r)}; orig gain over base {gain} points")
    for name, s in result["spectral_auroc"].items():
        a = s["auroc_contaminated_higher"]
        lines.append(f"  spectral {name}: AUROC {'n/a' if a is None else f'{a:.2f}'}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
