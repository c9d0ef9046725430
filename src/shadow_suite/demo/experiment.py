"""The benchmark-shadow experiment in miniature: pretrain a base, fine-tune two copies with
the same compute on the same facts (test format vs other formats), evaluate all three with
the task pack, analyse the weight updates, write cards and a comparison page.

Output folder layout (every artefact kept; a rerun reuses each finished step)::

    corpus/      token counts and one pass of each fine-tuning corpus (JSONL)
    models/      base/, benchmark-aligned/, coverage-expanding/ (safetensors + tokenizer)
    runs/<model>/eval, spectra, card      (shadow_suite.run.run_pipeline)
    compare.html, compare.md, compare.csv, compare_pairs.csv (the base as the reference)
    footprint.html, footprint.csv (.parquet)  the fine-tunes' per-layer profiles vs the base
    summary.md, summary.json
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shadow_suite import atomic
from shadow_suite.contract import ItemId
from shadow_suite.demo import corpus
from shadow_suite.demo.config import BASE_FIELDS, FINETUNE_FIELDS, MODEL_NAMES, DemoConfig
from shadow_suite.demo.summary import SummaryRow, format_table, summary_rows
from shadow_suite.demo.train import (
    TrainSettings,
    eval_settings,
    fill_tokens,
    model_done,
    save_model,
    train,
)
from shadow_suite.errors import ShadowSuiteError
from shadow_suite.report.schema import Card

Log = Callable[[str], None]


@dataclass
class DemoOutcome:
    out: Path
    models: dict[str, Path]
    cards: dict[str, Path]
    """Each model's card.json."""
    compare_html: Path
    rows: list[SummaryRow]
    reused: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _progress(started: float) -> Log:
    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f}s] {message}", flush=True)

    return log


def _settings(
    config: DemoConfig, tokens: int, batch_size: int, lr: float, seed: int
) -> TrainSettings:
    per_step = config.seq_len * batch_size
    if tokens % per_step:
        raise ShadowSuiteError(f"demo config: {tokens} tokens is not a multiple of {per_step}")
    return TrainSettings(
        tokens=tokens,
        seq_len=config.seq_len,
        batch_size=batch_size,
        lr=lr,
        warmup_steps=max(1, tokens // per_step // 10),
        seed=seed,
        threads=config.train_threads,
    )


def build_base(config: DemoConfig, data_dir: Path | None, folder: Path, log: Log) -> bool:
    """Tokenizer + random Llama, pretrained on non-test text; False when already there."""
    record = config.record(*BASE_FIELDS)
    if model_done(folder, record):
        return False
    from transformers import AutoTokenizer, LlamaForCausalLM

    from shadow_suite.taskpack.data import load_split
    from shadow_suite.tiny_model import TinyModelConfig, build_tiny_model

    gsm8k = load_split("gsm8k", "train", data_dir)[0]
    mmlu_dev = load_split("mmlu", "dev", data_dir)[0]
    arc_validation = _local_rows(data_dir, "arc_challenge", "validation")
    texts = corpus.pretraining_texts(gsm8k, mmlu_dev, arc_validation, config.seed)
    prose = [corpus.gsm8k_text(r) for r in gsm8k]
    practice = corpus.practice_facts(mmlu_dev, arc_validation)
    log(f"base: tokenizer ({config.vocab_size} tokens) on {len(texts)} non-test documents")
    init = folder.with_name(f".{folder.name}.init")
    shutil.rmtree(init, ignore_errors=True)
    build_tiny_model(
        init,
        texts,
        TinyModelConfig(
            vocab_size=config.vocab_size,
            hidden_size=config.hidden_size,
            intermediate_size=config.intermediate_size,
            num_hidden_layers=config.num_layers,
            num_attention_heads=config.num_heads,
            max_position_embeddings=1024,
            seed=config.seed,
        ),
    )
    tokenizer = AutoTokenizer.from_pretrained(init)
    model = LlamaForCausalLM.from_pretrained(init, dtype="float32")
    settings = _settings(
        config, config.pretrain_tokens, config.pretrain_batch_size, config.pretrain_lr, config.seed
    )
    stream = fill_tokens(
        lambda epoch: corpus.pretraining_epoch(
            prose, practice, epoch, config.seed, config.pretrain_prose_per_epoch
        ),
        _encoder(tokenizer),
        tokenizer.eos_token_id,
        settings.tokens,
    )
    n_params = sum(p.numel() for p in model.parameters())
    log(
        f"base: pretraining {n_params / 1e6:.2f}M parameters on {settings.tokens:,} tokens "
        f"({stream.documents} documents, {stream.epochs} passes over {len(practice)} "
        f"practice items), {settings.steps} steps"
    )
    stats = train(model, stream, settings, log, "pretrain")
    save_model(model, tokenizer, folder, record, {**stats, "documents": stream.documents})
    shutil.rmtree(init, ignore_errors=True)
    return True


def _local_rows(data_dir: Path | None, benchmark: str, split: str) -> list[dict[str, Any]]:
    """Rows of a split the task pack never reads (so shadow_suite.taskpack.data does not know it),
    from the local folder; none when it is absent (e.g. data from the hub)."""
    if data_dir is None or not (data_dir / benchmark / f"{split}.jsonl").is_file():
        return []
    path = data_dir / benchmark / f"{split}.jsonl"
    try:
        return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line]
    except json.JSONDecodeError as err:
        raise ShadowSuiteError(f"{path}: not valid JSONL ({err.msg})") from None


def _encoder(tokenizer: Any) -> Callable[[str], list[int]]:
    def encode(text: str) -> list[int]:
        return list(tokenizer(text, add_special_tokens=False)["input_ids"])

    return encode


def evaluated_rows(eval_dir: Path, benchmarks: Sequence[str]) -> dict[str, list[int]]:
    """Which test rows the base's orig tasks scored (whatever ``--limit`` selects), from
    their shadow ids ("<benchmark>/test/<row>") in lm-eval's per-sample files."""
    from shadow_suite.demo.population import read_test_items

    out: dict[str, list[int]] = {b: [] for b in benchmarks}
    for item in read_test_items(eval_dir, benchmarks):
        out[item.benchmark].append(ItemId.parse(item.shadow_id).row)
    return {b: sorted(rows) for b, rows in out.items()}


def fine_tune_both(
    config: DemoConfig,
    data_dir: Path | None,
    out: Path,
    log: Log,
    evaluated: dict[str, list[int]],
) -> list[str]:
    """The benchmark-aligned and coverage-expanding models, trained on the ``evaluated``
    test rows; returns the ones trained now."""
    from transformers import AutoTokenizer, LlamaForCausalLM

    from shadow_suite.taskpack.data import load_split

    models = out / "models"
    record = config.record(*FINETUNE_FIELDS)
    record["benchmarks"] = list(config.benchmarks)
    record["evaluated_rows"] = {b: evaluated[b] for b in config.benchmarks}
    todo = [n for n in MODEL_NAMES[1:] if not model_done(models / n, record)]
    if not todo:
        return []
    facts: list[corpus.Fact] = []
    for bench in config.benchmarks:
        rows, _ = load_split(bench, "test", data_dir)
        facts += corpus.facts_of_rows(bench, rows, evaluated[bench])
    tokenizer = AutoTokenizer.from_pretrained(models / "base")
    encode = _encoder(tokenizer)
    renderers = {
        "benchmark-aligned": lambda e: corpus.aligned_epoch(facts, e, config.seed),
        "coverage-expanding": lambda e: corpus.coverage_epoch(facts, e, config.seed),
    }
    settings = _settings(
        config,
        config.finetune_tokens,
        config.finetune_batch_size,
        config.finetune_lr,
        config.seed + 1,
    )
    streams = {
        name: fill_tokens(render, encode, tokenizer.eos_token_id, settings.tokens)
        for name, render in renderers.items()
    }
    counts = {name: len(s.ids) for name, s in streams.items()}
    # the experiment's one control: both fine-tunes see exactly the same number of tokens
    if len(set(counts.values())) != 1:
        raise ShadowSuiteError(f"fine-tuning token counts differ: {counts}")
    corpus_dir = out / "corpus"
    for name, render in renderers.items():
        atomic.write_jsonl(corpus_dir / f"{name}.jsonl", ({"text": t} for t in render(0)))
    atomic.write_json(
        corpus_dir / "tokens.json",
        {
            name: {"tokens": len(s.ids), "documents": s.documents, "passes": s.epochs}
            for name, s in streams.items()
        }
        | {"items": {b: config.n_items for b in config.benchmarks}},
    )
    for name in todo:
        stream = streams[name]
        log(
            f"{name}: fine-tuning the base on {len(stream.ids):,} tokens "
            f"({stream.documents} documents, {stream.epochs} passes over {len(facts)} items)"
        )
        model = LlamaForCausalLM.from_pretrained(models / "base", dtype="float32")
        stats = train(model, stream, settings, log, name)
        save_model(model, tokenizer, models / name, record, {**stats, "passes": stream.epochs})
    return todo


def evaluate(
    config: DemoConfig, data_dir: Path | None, out: Path, name: str, log: Log
) -> tuple[Card, bool]:
    """Task pack + spectra (against the base for the fine-tunes) + card, via run_pipeline;
    a fine-tune's card takes the base, evaluated on the same items, as its reference."""
    from shadow_suite.run import run_pipeline

    base = None if name == "base" else str((out / "models" / "base").resolve())
    references = [] if name == "base" else [out / "runs" / "base" / "eval"]
    settings = eval_settings(
        out / "models" / name,
        config.tasks,
        config.n_items,
        config.variant_seed,
        data_dir,
        config.eval_batch_size,
    )
    outcome = run_pipeline(
        settings,
        out / "runs" / name,
        base=base,
        spectra_device="cpu",
        references=references,
        evaluate_base=False,  # evaluated once, as runs/base
    )
    for note in outcome.notes:
        log(f"{name}: {note}")
    if outcome.card is None:
        raise ShadowSuiteError(f"{name}: the pipeline wrote no card")
    return outcome.card, "eval" in outcome.skipped


@contextmanager
def _quiet_lm_eval_fixed_threads(threads: int) -> Iterator[None]:
    """A fixed torch thread count for every step (training and scoring: the same numbers on
    any machine), lm-eval's per-task notices hidden (they drown the progress); both restored
    afterwards, since the caller may be a longer-lived process (a test run)."""
    import torch

    logger = logging.getLogger("lm_eval")
    level, before = logger.level, torch.get_num_threads()
    logger.setLevel(logging.ERROR)
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        logger.setLevel(level)
        torch.set_num_threads(before)


def run_demo(config: DemoConfig, out: str | Path, data_dir: Path | None) -> DemoOutcome:
    """Every step of the demo into ``out``, reusing the ones already done there."""
    with _quiet_lm_eval_fixed_threads(config.train_threads):
        return _run_demo(config, Path(out), data_dir)


def _run_demo(config: DemoConfig, root: Path, data_dir: Path | None) -> DemoOutcome:
    import torch

    from shadow_suite.report.compare import write_comparison

    started = time.perf_counter()
    log = _progress(started)
    root.mkdir(parents=True, exist_ok=True)
    models = {n: root / "models" / n for n in MODEL_NAMES}
    reused: list[str] = []
    steps = 3 + len(MODEL_NAMES)

    log(f"[1/{steps}] base model ({config.mode} mode, {torch.get_num_threads()} threads)")
    if not build_base(config, data_dir, models["base"], log):
        reused.append("base model")
        log("base: already trained, reused")
    cards: dict[str, Card] = {}
    log(
        f"[2/{steps}] base: lm-eval {', '.join(config.tasks)} (--limit {config.n_items}), "
        "spectra, card (the fine-tunes' reference)"
    )
    cards["base"], skipped = evaluate(config, data_dir, root, "base", log)
    if skipped:
        reused.append("base evaluation")
    evaluated = evaluated_rows(root / "runs" / "base" / "eval", config.benchmarks)
    log(f"[3/{steps}] fine-tunes: benchmark-aligned and coverage-expanding")
    trained = fine_tune_both(config, data_dir, root, log, evaluated)
    reused += [f"{n} model" for n in MODEL_NAMES[1:] if n not in trained]
    if not trained:
        log("fine-tunes: already trained, reused")

    for i, name in enumerate(MODEL_NAMES[1:], start=4):
        log(
            f"[{i}/{steps}] {name}: lm-eval {', '.join(config.tasks)} (--limit "
            f"{config.n_items}), spectra, card against the base"
        )
        cards[name], skipped = evaluate(config, data_dir, root, name, log)
        if skipped:
            reused.append(f"{name} evaluation")

    log(f"[{steps}/{steps}] comparison page, footprints and summary")
    base, tuned = MODEL_NAMES[0], MODEL_NAMES[1:]
    # the base is the fine-tunes' reference; their footprints against it go on the page
    # (footprint.html/.csv/.parquet beside it), its own spectra in the effective-rank pairs
    compare = write_comparison(
        [cards[n] for n in tuned],
        root,
        references=[cards[base]],
        spectra=[root / "runs" / n / "spectra" for n in tuned],
        ancestor_spectra=root / "runs" / base / "spectra",
    )
    rows = summary_rows(cards)
    table = format_table(rows)
    tokens = json.loads((root / "corpus" / "tokens.json").read_text(encoding="utf-8"))
    atomic.write_json(
        root / "summary.json",
        {
            "config": config.record() | {"benchmarks": list(config.benchmarks)},
            "rows": [r.as_dict() for r in rows],
            "fine_tuning_tokens": tokens,
        },
    )
    atomic.write_text(root / "summary.md", table + "\n")
    return DemoOutcome(
        root,
        models,
        {n: root / "runs" / n / "card" / "card.json" for n in cards},
        compare.html,
        rows,
        reused,
        time.perf_counter() - started,
    )
