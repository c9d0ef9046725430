"""The memorization test on a real model: LoRAs of SmolLM2-135M(-Instruct), one trained on
ARC-Challenge test items, one on other text of the same budget, each against its base.

What it measures: whether ``shadow-suite run`` (the real CLI, lm-eval's hf backend, the pack's
familiarity tasks) finds the test items more familiar than their twins (ARC-Challenge's
validation items) beyond the base, for

* **contaminated**: a LoRA trained on N of the evaluated ARC-Challenge test items (a seeded
  sample of the K items ``run --limit K`` evaluates, so every trained item is scored), each
  exactly as the familiarity task ``shadow_arc_challenge_familiarity_item`` scores it (the
  ``orig`` prompt, a space, the gold answer: ``taskpack.familiarity.item_texts``), several
  passes;
* **clean**: a LoRA of the same rank, passes, batch and learning rate, trained on the same
  number of tokens of other text: MMLU's dev questions rendered by the pack as ARC-Challenge
  items (the same format; no ARC-Challenge test or validation item, whose questions are
  checked and left out if repeated; the data folder has no ARC-Challenge train split).

Each adapter is trained on the CPU in float32, merged into a full Hugging Face folder
(safetensors) under ``--work`` (outside the repository: weights are never committed), and
evaluated with ``shadow-suite run --tasks shadow_arc_challenge --limit K`` (the pack's
seeded item sample ``shadow_items``, which the familiarity tasks share; lm-eval's ``--limit``
would cut their alternating test/twin documents instead). The base is evaluated once, alone,
and given to both LoRAs' runs as ``--reference`` (with ``--base --no-base-eval`` for the
weight comparison), which is what ``run --base`` would evaluate twice. The cards'
memorization section (excess familiarity of the test items over the twins beyond the base,
its 95% CI, permutation p, detected) and verdict class go to ``smollm2_results.json`` here.

Needs ``peft`` (not a dependency of shadow-suite: ``pip install peft``), the benchmark data
folder ($SHADOW_SUITE_DATA) and a SmolLM2-135M folder (``scripts/prepare_smollm2.py``)::

    SHADOW_SUITE_DATA=../shared/benchmarks HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 \\
        python benchmarks/memorization/smollm2_lora.py --base ~/.cache/shadow-suite/smollm2-135m

Every stage is reused on rerun (a trained adapter when its settings match, and ``run``'s own
stages), so an interrupted run resumes. On two CPU cores the defaults (60 items, 40 of them
trained on, 3 passes) took 11.5 minutes: 2.5 to train both adapters, 9 to evaluate three
models.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import importlib.util
import json
import math
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from shadow_suite.errors import ShadowSuiteError

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "smollm2_results.json"
RESULTS_VERSION = 1
"""Version of the results file's layout."""
BENCHMARK = "arc_challenge"
GROUP = "shadow_arc_challenge"
BASE_CANDIDATES = (
    Path("/tmp/card_work/example/smollm2-135m"),
    Path.home() / ".cache" / "shadow-suite" / "smollm2-135m",
)
"""Where a prepared SmolLM2-135M folder is looked for when --base is not given."""
LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
"""Every attention and MLP projection of each layer."""
FAMILIARITY_TASKS = f"{GROUP}_familiarity_item,{GROUP}_familiarity_prompt"
MODELS = ("base", "contaminated", "clean")
TRAINED = ("contaminated", "clean")


@dataclass(frozen=True)
class Settings:
    items: int = 60
    """K: ARC-Challenge test items evaluated (``run --limit``), and as many twins."""
    contaminated: int = 40
    """N: evaluated test items the contaminated LoRA trains on."""
    passes: int = 3
    batch_size: int = 8
    rank: int = 16
    alpha: int = 32
    lr: float = 5e-4
    warmup_steps: int = 2
    seed: int = 0
    """Training seed: the contaminated sample, the clean text's order, batches, LoRA init."""
    variant_seed: int = 1234
    """The pack's seed (``run --seed``), which draws the evaluated items and the twins."""
    eval_batch_size: int = 16
    tasks: str = GROUP
    """What ``run --tasks`` evaluates: the benchmark's group (the original, its variants and
    the familiarity tasks), or a comma-separated subset holding the familiarity tasks."""


@dataclass
class TrainingRecord:
    sequences: int
    """Distinct texts (one sequence each)."""
    tokens_per_pass: int
    steps: int
    seconds: float
    loss_per_pass: list[float]


Log = Callable[[str], None]


def _log(started: float) -> Log:
    def log(line: str) -> None:
        print(f"[{time.perf_counter() - started:7.1f}s] {line}", flush=True)

    return log


def check_requirements(base: Path) -> None:
    if importlib.util.find_spec("peft") is None:
        raise ShadowSuiteError(
            "peft is not installed: this benchmark trains LoRA adapters with it "
            "(pip install peft; it is not a dependency of shadow-suite)"
        )
    if not (base / "config.json").is_file():
        raise ShadowSuiteError(
            f"{base}: no SmolLM2-135M folder (config.json missing); make one with "
            "scripts/prepare_smollm2.py, or give --base"
        )


def default_base() -> Path:
    for candidate in BASE_CANDIDATES:
        if (candidate / "config.json").is_file():
            return candidate
    return BASE_CANDIDATES[-1]


# --- the training texts -------------------------------------------------------------------------


@dataclass(frozen=True)
class Corpora:
    evaluated: list[int]
    """Rows of ARC-Challenge's test split that ``run --limit K`` evaluates."""
    contaminated_rows: list[int]
    """The subset of ``evaluated`` the contaminated LoRA trains on."""
    texts: dict[str, list[str]]
    clean_source: str
    clean_dropped: int
    """MMLU dev rows left out because their question repeats an ARC-Challenge question."""


def arc_item_from_mmlu(row: dict[str, Any], index: int) -> dict[str, Any]:
    """An MMLU row in ARC-Challenge's schema, so that the pack renders it as an ARC item."""
    labels = [chr(ord("A") + i) for i in range(len(row["choices"]))]
    return {
        "id": f"mmlu_dev_{index}",
        "question": row["question"],
        "choices": {"text": list(row["choices"]), "label": labels},
        "answerKey": labels[int(row["answer"])],
    }


def build_corpora(settings: Settings, count_tokens: Callable[[str], int]) -> Corpora:
    from shadow_suite.taskpack.data import load_split
    from shadow_suite.taskpack.familiarity import item_texts, question_key
    from shadow_suite.taskpack.loader import sample_rows

    if not 1 <= settings.contaminated <= settings.items:
        raise ShadowSuiteError(
            f"--contaminate {settings.contaminated}: give 1 to --items ({settings.items})"
        )
    test_rows = load_split(BENCHMARK, "test")[0]
    twin_rows = load_split(BENCHMARK, "validation")[0]
    # exactly the pack's sample under shadow_items = K and the variant seed (run --limit K)
    evaluated = sample_rows(BENCHMARK, test_rows, settings.items, settings.variant_seed)
    rng = random.Random(f"smollm2-lora\x1fcontaminated\x1f{settings.seed}")
    contaminated_rows = sorted(rng.sample(evaluated, settings.contaminated))
    contaminated = [item_texts(BENCHMARK, test_rows[i]).item for i in contaminated_rows]

    arc_questions = {question_key(r["question"]) for r in (*test_rows, *twin_rows)}
    dev = load_split("mmlu", "dev")[0]
    candidates = [
        arc_item_from_mmlu(row, i)
        for i, row in enumerate(dev)
        if question_key(row["question"]) not in arc_questions
    ]
    random.Random(f"smollm2-lora\x1fclean\x1f{settings.seed}").shuffle(candidates)
    lengths = [count_tokens(t) for t in contaminated]
    budget = sum(lengths)
    # the same tokens in items no longer than the longest trained one (so about as many
    # sequences and steps), without passing the budget
    clean: list[str] = []
    tokens = 0
    for row in candidates:
        text = item_texts(BENCHMARK, row).item
        n = count_tokens(text)
        if n <= max(lengths) and tokens + n <= budget:
            clean.append(text)
            tokens += n
    if tokens < 0.98 * budget:
        raise ShadowSuiteError(
            f"MMLU dev items fill only {tokens} of the contaminated set's {budget} tokens"
        )
    return Corpora(
        evaluated=list(evaluated),
        contaminated_rows=contaminated_rows,
        texts={"contaminated": contaminated, "clean": clean},
        clean_source="mmlu/dev rendered by the pack as arc_challenge items",
        clean_dropped=len(dev) - len(candidates),
    )


# --- LoRA training ------------------------------------------------------------------------------


def encoder(tokenizer: Any) -> Callable[[str], list[int]]:
    """A text as one training sequence: end-of-text, the text, end-of-text (lm-eval's rolling
    log-likelihood conditions a text's first token on the end-of-text token too)."""
    eos = int(tokenizer.eos_token_id)

    def encode(text: str) -> list[int]:
        return [eos, *tokenizer(text, add_special_tokens=False)["input_ids"], eos]

    return encode


def train_lora(
    base: Path, texts: Sequence[str], out: Path, settings: Settings, log: Log
) -> TrainingRecord:
    """``base`` with a LoRA trained on ``texts`` (``settings.passes`` passes, each in a seeded
    order), merged and saved as a float32 Hugging Face folder in ``out``."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(settings.seed)
    tokenizer = AutoTokenizer.from_pretrained(base)
    encode = encoder(tokenizer)
    sequences = [encode(t) for t in texts]
    pad = int(tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0)
    model: Any
    base_model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    config = LoraConfig(
        r=settings.rank,
        lora_alpha=settings.alpha,
        lora_dropout=0.0,
        target_modules=list(LORA_TARGETS),
        task_type="CAUSAL_LM",
    )
    model = get_peft_model(base_model, config)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=settings.lr, weight_decay=0.0)
    order_rng = random.Random(f"smollm2-lora\x1forder\x1f{settings.seed}")
    model.train()
    started = time.perf_counter()
    step = 0
    losses: list[float] = []
    for number in range(settings.passes):
        order = list(range(len(sequences)))
        order_rng.shuffle(order)
        total, weight = 0.0, 0
        for start in range(0, len(order), settings.batch_size):
            batch = [sequences[i] for i in order[start : start + settings.batch_size]]
            width = max(len(s) for s in batch)
            ids = torch.full((len(batch), width), pad, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            labels = torch.full((len(batch), width), -100, dtype=torch.long)
            for row, seq in enumerate(batch):
                ids[row, : len(seq)] = torch.tensor(seq)
                mask[row, : len(seq)] = 1
                labels[row, 1 : len(seq)] = torch.tensor(seq[1:])  # not the leading eos
            for group in optimizer.param_groups:
                group["lr"] = settings.lr * min(1.0, (step + 1) / settings.warmup_steps)
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            n = int((labels[:, 1:] != -100).sum())
            total += float(loss.detach()) * n
            weight += n
        losses.append(total / weight)
        log(f"  {out.name}: pass {number + 1}/{settings.passes}, loss {losses[-1]:.4f} "
            f"({step} steps, {time.perf_counter() - started:.0f} s)")  # fmt: skip
    seconds = time.perf_counter() - started
    merged = model.merge_and_unload()
    merged.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    return TrainingRecord(
        sequences=len(sequences),
        tokens_per_pass=sum(len(s) - 1 for s in sequences),
        steps=step,
        seconds=round(seconds, 1),
        loss_per_pass=[round(x, 4) for x in losses],
    )


def trained_model(
    base: Path, name: str, texts: Sequence[str], work: Path, settings: Settings, log: Log
) -> tuple[Path, TrainingRecord]:
    """The merged model of one LoRA: reused when ``training.json`` (written last) records the
    same base, settings and texts."""
    from shadow_suite import atomic

    out = work / name
    marker = out / "training.json"
    key = {
        "base": str(base),
        "settings": asdict(settings),
        "texts_sha256": hashlib.sha256("\x1e".join(texts).encode()).hexdigest(),
    }
    if marker.is_file():
        done = json.loads(marker.read_text())
        if done.get("key") == key:
            log(f"{name}: trained already in {out}, reused")
            return out, TrainingRecord(**done["record"])
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    log(f"{name}: training a LoRA on {len(texts)} texts, {settings.passes} passes")
    record = train_lora(base, texts, out, settings, log)
    atomic.write_json(marker, {"key": key, "record": asdict(record)})
    return out, record


# --- evaluation through the CLI -----------------------------------------------------------------


def run_cli(name: str, model: Path, base: Path | None, work: Path, settings: Settings,
            log: Log) -> tuple[Path, float]:  # fmt: skip
    """``shadow-suite run`` on one model (with ``base``: its weights compared and the base's
    own run as the reference); its output folder and the seconds it took."""
    out = work / f"run_{name}"
    args = [
        sys.executable, "-m", "shadow_suite.cli", "run",
        "--model", "hf", "--model_args", f"pretrained={model},dtype=float32",
        "--device", "cpu", "--tasks", settings.tasks, "--limit", str(settings.items),
        "--seed", str(settings.variant_seed), "--batch_size", str(settings.eval_batch_size),
        "--name", name, "--out", str(out),
    ]  # fmt: skip
    if base is not None:
        args += ["--base", str(base), "--no-base-eval", "--reference", str(work / "run_base")]
    log(f"{name}: shadow-suite {' '.join(args[4:])}")
    started = time.perf_counter()
    with (work / f"run_{name}.log").open("w") as output:
        code = subprocess.call(args, stdout=output, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - started
    if code != 0:
        lines = (work / f"run_{name}.log").read_text().strip().splitlines()
        last = lines[-1] if lines else ""
        raise ShadowSuiteError(f"shadow-suite run on {name} exited {code}: {last}")
    log(f"{name}: evaluated in {seconds:.0f} s")
    return out, seconds


def memorization_record(run: Path, base_run: Path | None, corpora: Corpora) -> dict[str, Any]:
    """The card's verdict class and memorization section, and (against the base) the mean
    familiarity gain of the test items the contaminated LoRA trained on (for every model, so
    the clean one's are a control), the other evaluated test items and the twins."""
    import numpy as np

    from shadow_suite.contract import item_id
    from shadow_suite.gap.familiarity import read_familiarity
    from shadow_suite.gap.memorization import FEATURES
    from shadow_suite.report.schema import load_card

    card = load_card(run / "card" / "card.json")
    record: dict[str, Any] = {"verdict_class": card.gap.headline.verdict_class}
    memo = card.memorization
    if memo is None:
        raise ShadowSuiteError(f"{run / 'card'}: the card has no memorization section")
    rows = {r.feature: r for r in memo.rows if r.benchmark == BENCHMARK}
    if memo.feature not in rows:
        why = memo.not_measured.get(BENCHMARK, "no row")
        raise ShadowSuiteError(f"{run / 'card'}: no {BENCHMARK} memorization row ({why})")

    def figures(feature: str) -> dict[str, Any]:
        row = rows[feature]
        return {
            "excess": row.excess,
            "ci": [row.ci_low, row.ci_high],
            "p": row.p_value,
            "p_holm": row.p_holm,
            "mde": row.mde,
            "n_test": row.n_test,
            "n_twin": row.n_twin,
        }

    record["memorization"] = {
        "feature": memo.feature,
        "unit": rows[memo.feature].unit,
        "controlled": memo.controlled,
        "references": memo.references,
        "detected": memo.detected,
        **figures(memo.feature),
        "other_features": {f: figures(f) for f in rows if f != memo.feature},
    }
    target = read_familiarity(run / "card")
    if target is None:
        raise ShadowSuiteError(f"{run / 'card'}: no familiarity.parquet")
    target = target[target["benchmark"] == BENCHMARK].reset_index(drop=True)
    trained = {item_id(BENCHMARK, "test", r) for r in corpora.contaminated_rows}
    test_ids = set(target.loc[target["set"] == "test", "shadow_id"])
    record["contaminated_items_evaluated"] = len(trained & test_ids)
    record["test_items_evaluated"] = len(test_ids)
    if base_run is not None:
        reference = read_familiarity(base_run / "card")
        if reference is None:
            raise ShadowSuiteError(f"{base_run / 'card'}: no familiarity.parquet")
        reference = reference.set_index("shadow_id").loc[target["shadow_id"]].reset_index()
        compute = FEATURES[memo.feature].compute
        gain = compute(target) - compute(reference)
        is_trained = target["shadow_id"].isin(trained).to_numpy()
        is_test = (target["set"] == "test").to_numpy()
        groups = {
            "contaminated_test_items": is_test & is_trained,
            "other_test_items": is_test & ~is_trained,
            "twins": ~is_test,
        }
        record["gain_over_base"] = {
            name: {"n": int(mask.sum()), "mean": float(np.mean(gain[mask])) if mask.any() else None}
            for name, mask in groups.items()
        }
    return record


# --- the whole benchmark ------------------------------------------------------------------------


def run_benchmark(base: Path, work: Path, settings: Settings, log: Log) -> dict[str, Any]:
    import torch
    from transformers import AutoTokenizer

    started = time.perf_counter()
    check_requirements(base)
    work.mkdir(parents=True, exist_ok=True)
    encode = encoder(AutoTokenizer.from_pretrained(base))
    corpora = build_corpora(settings, lambda text: len(encode(text)) - 1)
    log(f"{len(corpora.evaluated)} evaluated test items; contaminated trains on "
        f"{len(corpora.contaminated_rows)} of them, clean on {len(corpora.texts['clean'])} "
        f"MMLU dev items in ARC's format")  # fmt: skip
    timings: dict[str, float] = {}
    training: dict[str, Any] = {}
    folders: dict[str, Path] = {"base": base}
    for name in TRAINED:
        t0 = time.perf_counter()
        folders[name], record = trained_model(base, name, corpora.texts[name], work, settings, log)
        training[name] = asdict(record)
        timings[f"train_{name}"] = round(time.perf_counter() - t0, 1)
    runs: dict[str, Path] = {}
    for name in MODELS:
        runs[name], seconds = run_cli(
            name, folders[name], None if name == "base" else base, work, settings, log
        )
        timings[f"eval_{name}"] = round(seconds, 1)
    models = {
        name: memorization_record(runs[name], None if name == "base" else runs["base"], corpora)
        for name in MODELS
    }
    timings["total"] = round(time.perf_counter() - started, 1)
    return {
        "version": RESULTS_VERSION,
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "what": (
            "ARC-Challenge memorization test (shadow-suite run, familiarity 'item' feature, "
            "against the base) on LoRAs of SmolLM2-135M-Instruct: contaminated = trained on "
            "evaluated test items as the test presents them; clean = same budget of MMLU dev "
            "items in ARC's format"
        ),
        "base": str(base),
        "settings": asdict(settings),
        "lora_targets": list(LORA_TARGETS),
        "evaluation": {
            "tasks": settings.tasks,
            "item_sample": f"run --limit {settings.items} (the pack's shadow_items sample, "
            f"seed {settings.variant_seed}); the familiarity tasks score the same test items "
            f"and as many validation twins",
            "base_as_reference": "the base's own run (run_base), given to each LoRA's run as "
            "--reference with --base --no-base-eval",
            "backend": "hf, float32, cpu",
        },
        "data": {
            "evaluated_test_rows": corpora.evaluated,
            "contaminated_test_rows": corpora.contaminated_rows,
            "clean_source": corpora.clean_source,
            "clean_rows_left_out_repeating_an_arc_question": corpora.clean_dropped,
        },
        "machine": {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads()},
        "training": training,
        "timings_s": timings,
        "models": models,
    }


def _signed(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.4f}"


def summary(result: dict[str, Any]) -> list[str]:
    lines = []
    for name, model in result["models"].items():
        m = model["memorization"]
        low, high = m["ci"]
        p = "n/a" if m["p"] is None else f"{m['p']:.2g}"
        lines.append(
            f"{name}: excess {_signed(m['excess'])} [{_signed(low)}, {_signed(high)}] "
            f"{m['unit']}, p = {p}, detected {m['detected']} (controlled {m['controlled']}); "
            f"verdict {model['verdict_class']}"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    defaults = Settings()
    parser.add_argument("--base", type=Path, default=None, help="SmolLM2-135M folder")
    parser.add_argument("--work", type=Path, default=Path("/work/scratch/smollm2-lora"),
                        help="model and run folders (outside the repository)")  # fmt: skip
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--items", type=int, default=defaults.items)
    parser.add_argument("--contaminate", type=int, default=defaults.contaminated)
    parser.add_argument("--passes", type=int, default=defaults.passes)
    parser.add_argument("--lr", type=float, default=defaults.lr)
    parser.add_argument("--rank", type=int, default=defaults.rank)
    parser.add_argument(
        "--tasks",
        default=defaults.tasks,
        help=f"run --tasks (default {GROUP}; a subset must hold "
        f"{FAMILIARITY_TASKS}, which the memorization test reads)",
    )
    args = parser.parse_args(argv)
    settings = Settings(
        items=args.items,
        contaminated=args.contaminate,
        passes=args.passes,
        lr=args.lr,
        rank=args.rank,
        alpha=2 * args.rank,
        tasks=args.tasks,
    )
    if not all(x > 0 for x in (args.items, args.passes, args.rank)) or not math.isfinite(args.lr):
        print("smollm2_lora: error: --items, --passes and --rank must be positive", file=sys.stderr)
        return 2
    log = _log(time.perf_counter())
    try:
        result = run_benchmark(args.base or default_base(), args.work, settings, log)
        from shadow_suite import atomic

        atomic.write_json(args.results, result)
    except ShadowSuiteError as err:
        print(f"smollm2_lora: error: {err}", file=sys.stderr)
        return 2
    for line in summary(result):
        log(line)
    log(f"written {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
