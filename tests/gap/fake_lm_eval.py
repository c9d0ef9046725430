"""Write synthetic lm-eval 0.4.13 output folders for tests.

The layout and every field mirror what ``lm_eval --output_path OUT --log_samples`` writes
(checked against a real run: evaluator.py builds each sample, EvaluationTracker writes
``OUT/<model_name_sanitized>/results_<date_id>.json`` and ``samples_<task>_<date_id>.jsonl``
with arguments flattened to ``gen_args_i/arg_j`` and one line per document per filter).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shadow_suite.contract import GROUP, ORIG, ShadowMeta, item_id, task_name
from shadow_suite.gap.lm_eval_output import item_metric

DATE_ID = "2026-11-27T15-24-20.338156"
SPLITS = {
    "mmlu": "test",
    "arc_challenge": "test",
    "hellaswag": "validation",
    "gsm8k": "test",
    "winogrande": "validation",
}
N_CHOICES = {"mmlu": 4, "arc_challenge": 4, "hellaswag": 4, "gsm8k": 0, "winogrande": 2}


@dataclass
class Item:
    row: int
    correct: bool


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _sample_lines(
    benchmark: str, variant: str, items: list[Item], seed: int, data_sha: str, n_source: int
) -> list[dict]:
    metric, _, primary_filter = item_metric(benchmark, variant).partition(",")
    n_choices = N_CHOICES[benchmark]
    lines = []
    for position, item in enumerate(items):
        meta = ShadowMeta(
            item_id(benchmark, SPLITS[benchmark], item.row),
            benchmark,
            variant,
            seed,
            data_sha,
            n_source=n_source,
            n_applied=n_source if variant == ORIG else n_source - 3,
            position=position,
        )
        doc = {
            "question": f"Question {item.row} of {benchmark} <b>bold</b>?",
            **meta.to_fields(),
        }
        prompt = f"Question: {doc['question']}\nAnswer:"
        if n_choices:
            arguments = {
                f"gen_args_{j}": {"arg_0": prompt, "arg_1": f" option {j}"}
                for j in range(n_choices)
            }
            # gold moves with the row; the model's choice is gold when it is right, else
            # another option (so answers spread over positions as a real model's do)
            gold = item.row % n_choices
            chosen = gold if item.correct else (gold + 1 + item.row % (n_choices - 1)) % n_choices
            lls = [-1.0 - j - (0.0 if j == chosen else 1.0) for j in range(n_choices)]
            lls[chosen] = -0.5
            resps = [[[str(x), "False"]] for x in lls]
            filtered = [[str(x), "False"] for x in lls]
            filters = ["none"]
            target = str(gold)
        else:
            arguments = {
                "gen_args_0": {
                    "arg_0": prompt,
                    "arg_1": {"until": ["Question:"], "do_sample": False, "temperature": 0.0},
                }
            }
            resps = [["The answer is #### 18"]]
            filters = ["strict-match", "flexible-extract"]
            target = "Some work.\n#### 18"
        for filter_name in filters:
            line = {
                "doc_id": position,
                "doc": doc,
                "target": target,
                "arguments": arguments,
                "resps": resps,
                "filtered_resps": filtered if n_choices else ["18"],
                "filter": filter_name,
                "metrics": [metric] if not n_choices else ["acc", "acc_norm"],
                "doc_hash": _sha(json.dumps(doc)),
                "prompt_hash": _sha(prompt),
                "target_hash": _sha(target),
            }
            if n_choices:
                # the non-primary metric is noise, so reading the wrong one would show
                line["acc"] = float(item.correct) if metric == "acc" else float(position % 2)
                line["acc_norm"] = (
                    float(item.correct) if metric == "acc_norm" else float(position % 2)
                )
            else:
                # flexible-extract disagrees on purpose: only the primary filter counts
                line[metric] = float(item.correct) if filter_name == primary_filter else 1.0
            lines.append(line)
    return lines


def write_run(
    out: Path,
    tasks: dict[tuple[str, str], list[Item]],
    model_name: str = "org/tiny-model",
    date_id: str = DATE_ID,
    date: float = 1795793050.6,
    seed: int = 1234,
    fewshot_seed: int = 1234,
    revision: str = "main",
    n_source: int = 100,
    with_samples: bool = True,
    extra_tasks: dict[str, dict] | None = None,
) -> Path:
    """Write one lm-eval run (results JSON + samples JSONL) and return the results file."""
    sanitized = re.sub(r"[\"<>:/|\\?*\[\]]+", "__", model_name)
    folder = out / sanitized
    folder.mkdir(parents=True, exist_ok=True)
    results: dict = {}
    configs: dict = {}
    n_samples: dict = {}
    for (benchmark, variant), items in tasks.items():
        task = task_name(benchmark, variant)
        metric = item_metric(benchmark, variant)
        acc = float(np.mean([i.correct for i in items])) if items else 0.0
        results[task] = {"alias": task, metric: acc, metric.replace(",", "_stderr,"): 0.01}
        configs[task] = {
            "task": task,
            "output_type": "generate_until" if benchmark == "gsm8k" else "multiple_choice",
            "metadata": {"version": 1.0},
        }
        n_samples[task] = {"original": len(items), "effective": len(items)}
        if with_samples:
            data_sha = _sha(f"{benchmark}-{variant}-data")
            lines = _sample_lines(benchmark, variant, items, seed, data_sha, n_source)
            path = folder / f"samples_{task}_{date_id}.jsonl"
            path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines))
    for name, entry in (extra_tasks or {}).items():
        results[name] = entry
    groups = {GROUP: {"alias": GROUP}}
    results[GROUP] = {"alias": GROUP, "acc,none": 0.5}
    doc = {
        "results": results,
        "groups": groups,
        "group_subtasks": {GROUP: sorted(t for t in results if t != GROUP)},
        "configs": configs,
        "versions": {t: 1.0 for t in results},
        "n-shot": {t: 0 for t in results},
        "higher_is_better": {t: {"acc": True} for t in results},
        "n-samples": n_samples,
        "config": {
            "model": "hf",
            "model_args": {"pretrained": model_name, "token": "hf_secret"},
            "model_num_parameters": 147776,
            "model_dtype": "torch.float32",
            "model_revision": revision,
            "model_sha": "",
            "batch_size": 1,
            "batch_sizes": [],
            "device": "cpu",
            "use_cache": None,
            "limit": None,
            "bootstrap_iters": 100000,
            "gen_kwargs": {},
            "random_seed": 0,
            "numpy_seed": 1234,
            "torch_seed": 1234,
            "fewshot_seed": fewshot_seed,
        },
        "git_hash": None,
        "date": date,
        "pretty_env_info": "PyTorch version: 2.13.0",
        "transformers_version": "5.24.0",
        "lm_eval_version": "0.4.13",
        "upper_git_hash": None,
        "tokenizer_pad_token": ["<pad>", "2"],
        "tokenizer_eos_token": ["</s>", "1"],
        "tokenizer_bos_token": ["<s>", "1"],
        "eot_token_id": 1,
        "max_length": 2048,
        "task_hashes": {task_name(b, v): _sha(f"{b}{v}") for b, v in tasks},
        "model_source": "hf",
        "model_name": model_name,
        "model_name_sanitized": sanitized,
        "system_instruction": None,
        "system_instruction_sha": None,
        "fewshot_as_multiturn": False,
        "chat_template": None,
        "chat_template_sha": None,
        "total_evaluation_time_seconds": "15.69",
    }
    path = folder / f"results_{date_id}.json"
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False))
    return path


def simulate(
    benchmarks: dict[str, float],
    variants: dict[str, float],
    n: int,
    rng: np.random.Generator,
    skip_every: int = 0,
) -> dict[tuple[str, str], list[Item]]:
    """Items for each benchmark: orig right with probability ``benchmarks[b]``; each variant
    keeps the orig answer but turns a right one wrong with probability ``variants[v]``.
    ``skip_every`` > 0 drops every k-th item from the variants (a variant that skips)."""
    out: dict[tuple[str, str], list[Item]] = {}
    for bench, p in benchmarks.items():
        orig = rng.random(n) < p
        out[(bench, ORIG)] = [Item(i, bool(c)) for i, c in enumerate(orig)]
        for variant, drop in variants.items():
            flipped = orig & (rng.random(n) < drop)
            out[(bench, variant)] = [
                Item(i, bool(c and not f))
                for i, (c, f) in enumerate(zip(orig, flipped, strict=True))
                if not (skip_every and i % skip_every == 0)
            ]
    return out
