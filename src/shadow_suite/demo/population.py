"""A population of fine-tunes of one demo base whose training we know: clean ones (several
kinds of non-test text, several seeds) and contaminated ones (the evaluated test items in
their test format at several doses, the rest of the same token budget generic prose).

Used by ``benchmarks/validity/`` to measure the verdict's error rates, and by the tests. Pure
text functions first, then the training and evaluation of one member into its own folder
(reused on rerun when its settings are unchanged).

Every member trains on exactly the same number of tokens, with the same optimiser and
schedule as the demo's fine-tunes; only the text differs.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from shadow_suite.contract import DEFAULT_VARIANT_SEED, GROUP, ORIG, benchmark_group, task_name
from shadow_suite.demo import corpus
from shadow_suite.demo.train import (
    TokenStream,
    TrainSettings,
    eval_settings,
    fill_tokens,
    model_done,
    train,
)
from shadow_suite.errors import ShadowSuiteError

Kind = Literal["prose", "instruct", "coverage", "format", "contaminated"]
CLEAN_KINDS: tuple[Kind, ...] = ("prose", "instruct", "coverage", "format")
"""prose: GSM8K worked solutions; instruct: non-test questions in an instruction template;
coverage: the demo's coverage-expanding templates on non-test items; format: non-test items
in the benchmarks' own lettered format (format practice, no test item)."""
Log = Callable[[str], None]


@dataclass(frozen=True)
class MemberSpec:
    """One fine-tune of the population."""

    kind: Kind
    seed: int
    items: int = 0
    """Contaminated only: evaluated items per benchmark put in the training text."""
    passes: int = 0
    """Contaminated only: how many times each of them is seen."""

    @property
    def name(self) -> str:
        if self.kind == "contaminated":
            return f"contaminated-i{self.items}-p{self.passes}-s{self.seed}"
        return f"{self.kind}-s{self.seed}"

    @property
    def contaminated(self) -> bool:
        return self.kind == "contaminated"

    @property
    def dose(self) -> str:
        return f"{self.items} items x {self.passes} passes" if self.contaminated else "clean"


@dataclass(frozen=True)
class EvaluatedItem:
    """An evaluated item as the benchmark's orig task asked it, with the gold continuation."""

    benchmark: str
    shadow_id: str
    text: str


# -- text --------------------------------------------------------------------------------------


def _rng(seed: int, *parts: object) -> random.Random:
    return random.Random("population/" + "/".join(str(p) for p in (seed, *parts)))


def instruct_text(fact: corpus.Fact) -> str:
    return f"### Instruction:\n{fact.question}\n\n### Response:\n{fact.answer}"


def instruct_prose(prose_question: str, solution: str) -> str:
    return f"### Instruction:\n{prose_question}\n\n### Response:\n{solution}"


def clean_epoch(
    kind: Kind,
    epoch: int,
    seed: int,
    prose: Sequence[str],
    gsm8k: Sequence[dict[str, Any]],
    practice: Sequence[corpus.Fact],
) -> list[str]:
    """One pass of a clean member's text (no evaluated item), shuffled per seed and epoch."""
    rng = _rng(seed, kind, epoch)
    if kind == "prose":
        texts = list(prose)
        rng.shuffle(texts)
        return texts[:400]
    if kind == "instruct":
        texts = [instruct_text(f) for f in practice]
        picks = rng.sample(range(len(gsm8k)), min(200, len(gsm8k)))
        texts += [
            instruct_prose(str(gsm8k[i]["question"]).strip(), prose[i].split("\n", 1)[-1])
            for i in picks
        ]
    elif kind == "coverage":
        texts = [corpus.coverage_text(f, epoch, seed) for f in practice]
    elif kind == "format":
        texts = [corpus.lettered_text(f, epoch + 1000 * (seed + 1), seed) for f in practice]
    else:
        raise ShadowSuiteError(f"population: {kind!r} is not a clean kind")
    rng.shuffle(texts)
    return texts


def contaminated_documents(
    items: Sequence[EvaluatedItem],
    spec: MemberSpec,
    prose: Sequence[str],
    encode: Callable[[str], list[int]],
    n_tokens: int,
) -> list[str]:
    """``spec.passes`` copies of the first ``spec.items`` evaluated items of each benchmark
    (in a seeded order), mixed at seeded positions into GSM8K prose that fills the budget.
    The last document is prose (the one the budget cuts), so every test copy is seen whole."""
    rng = _rng(spec.seed, "contaminated", spec.items, spec.passes)
    chosen: list[EvaluatedItem] = []
    for bench in sorted({i.benchmark for i in items}):
        pool = [i for i in items if i.benchmark == bench]
        rng.shuffle(pool)
        if spec.items > len(pool):
            raise ShadowSuiteError(
                f"population member {spec.name}: {spec.items} {bench} items asked, "
                f"{len(pool)} evaluated"
            )
        chosen += pool[: spec.items]
    test_docs = [i.text for i in chosen] * spec.passes
    used = sum(len(encode(t)) + 1 for t in test_docs)
    if used >= n_tokens:
        raise ShadowSuiteError(
            f"population member {spec.name}: the test copies take {used} tokens, the budget "
            f"is {n_tokens}"
        )
    filler = list(prose)
    rng.shuffle(filler)
    fill: list[str] = []
    k = 0
    while used < n_tokens + 1:
        text = filler[k % len(filler)]
        fill.append(text)
        used += len(encode(text)) + 1
        k += 1
    last = fill.pop()
    docs = test_docs + fill
    rng.shuffle(docs)
    return [*docs, last]


def member_stream(
    spec: MemberSpec,
    n_tokens: int,
    encode: Callable[[str], list[int]],
    eos_id: int,
    test_items: Sequence[EvaluatedItem],
    gsm8k: Sequence[dict[str, Any]],
    practice: Sequence[corpus.Fact],
) -> TokenStream:
    """Exactly ``n_tokens`` tokens of the member's training text."""
    prose = [corpus.gsm8k_text(r) for r in gsm8k]
    if spec.contaminated:
        docs = contaminated_documents(test_items, spec, prose, encode, n_tokens)
        return fill_tokens(lambda _e: docs, encode, eos_id, n_tokens, max_epochs=1)
    return fill_tokens(
        lambda e: clean_epoch(spec.kind, e, spec.seed, prose, gsm8k, practice),
        encode,
        eos_id,
        n_tokens,
    )


def default_population(
    clean_seeds: int = 5,
    doses: Sequence[tuple[int, int]] = ((30, 1), (30, 3), (30, 6), (30, 12), (15, 6), (15, 12)),
    dose_seeds: int = 2,
) -> list[MemberSpec]:
    """Every clean kind with ``clean_seeds`` seeds, every dose with ``dose_seeds`` seeds."""
    out = [MemberSpec(k, s) for k in CLEAN_KINDS for s in range(clean_seeds)]
    out += [
        MemberSpec("contaminated", s, items, passes)
        for items, passes in doses
        for s in range(dose_seeds)
    ]
    return out


# -- the evaluated items -------------------------------------------------------------------


def read_test_items(eval_dir: Path, benchmarks: Sequence[str]) -> list[EvaluatedItem]:
    """The items the base's orig tasks scored, each as its prompt followed by the gold
    choice's continuation, from lm-eval's per-sample files (what a contaminated member
    trains on is then exactly what the evaluation asks, whatever ``--limit`` selects)."""
    out: list[EvaluatedItem] = []
    for bench in benchmarks:
        pattern = f"samples_{task_name(bench, ORIG)}_*.jsonl"
        files = sorted(eval_dir.rglob(pattern))
        if not files:
            raise ShadowSuiteError(f"{eval_dir}: no {pattern}")
        with files[-1].open(encoding="utf-8") as fh:
            for n, line in enumerate(fh, start=1):
                try:
                    sample = json.loads(line)
                    gold = int(sample["target"])
                    args = sample["arguments"][f"gen_args_{gold}"]
                    prompt, continuation = str(args["arg_0"]), str(args["arg_1"])
                    shadow_id = str(sample["doc"]["shadow_id"])
                except (KeyError, TypeError, ValueError, json.JSONDecodeError) as err:
                    raise ShadowSuiteError(f"{files[-1]}:{n}: not an orig sample ({err})") from None
                out.append(EvaluatedItem(bench, shadow_id, prompt + continuation))
    return out


# -- training and evaluation of one member -------------------------------------------------


@dataclass(frozen=True)
class PopulationSettings:
    finetune_tokens: int = 98_304
    finetune_batch_size: int = 4
    finetune_lr: float = 3e-3
    n_items: int = 30
    """lm-eval --limit for every task."""
    benchmarks: tuple[str, ...] = ("mmlu", "arc_challenge")
    variant_seed: int = DEFAULT_VARIANT_SEED
    threads: int = 1
    eval_batch_size: str = "32"

    @property
    def tasks(self) -> tuple[str, ...]:
        return tuple(benchmark_group(b) for b in self.benchmarks)

    def train_settings(self, seq_len: int, seed: int) -> TrainSettings:
        per_step = seq_len * self.finetune_batch_size
        if self.finetune_tokens % per_step:
            raise ShadowSuiteError(
                f"population: {self.finetune_tokens} tokens is not a multiple of {per_step}"
            )
        return TrainSettings(
            tokens=self.finetune_tokens,
            seq_len=seq_len,
            batch_size=self.finetune_batch_size,
            lr=self.finetune_lr,
            warmup_steps=max(1, self.finetune_tokens // per_step // 10),
            seed=seed,
            threads=self.threads,
        )


def train_member(
    spec: MemberSpec,
    base_dir: Path,
    out_dir: Path,
    settings: PopulationSettings,
    seq_len: int,
    test_items: Sequence[EvaluatedItem],
    gsm8k: Sequence[dict[str, Any]],
    practice: Sequence[corpus.Fact],
    log: Log,
) -> bool:
    """Fine-tune the base into ``out_dir``; False when it is already there."""
    from transformers import AutoTokenizer, LlamaForCausalLM

    from shadow_suite.demo.train import save_model

    record = {"member": asdict(spec), "settings": asdict(settings) | {"seq_len": seq_len}}
    record = json.loads(json.dumps(record))
    if model_done(out_dir, record):
        return False
    tokenizer = AutoTokenizer.from_pretrained(base_dir)

    def encode(text: str) -> list[int]:
        return list(tokenizer(text, add_special_tokens=False)["input_ids"])

    stream = member_stream(
        spec,
        settings.finetune_tokens,
        encode,
        tokenizer.eos_token_id,
        test_items,
        gsm8k,
        practice,
    )
    model = LlamaForCausalLM.from_pretrained(base_dir, dtype="float32")
    stats = train(model, stream, settings.train_settings(seq_len, 1 + spec.seed), log, spec.name)
    save_model(model, tokenizer, out_dir, record, {**stats, "documents": stream.documents})
    return True


class _CachedTaskManager:
    """run's task manager for this metadata, whose loaded tasks are also reused across
    models: building the task pack's documents costs far more than scoring a tiny model on
    them (``shadow-suite run`` builds them per evaluation, as lm-eval does)."""

    def __init__(self, metadata: dict[str, Any]) -> None:
        from shadow_suite.run import task_manager_for

        self._manager = task_manager_for(metadata)
        self._loaded: dict[tuple[str, ...], Any] = {}

    def load(self, tasks: Any) -> Any:
        key = tuple(tasks)
        if key not in self._loaded:
            self._loaded[key] = self._manager.load(list(tasks))
        return self._loaded[key]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._manager, name)


_MANAGERS: dict[str, _CachedTaskManager] = {}


def evaluate_member(
    model_dir: Path, eval_dir: Path, settings: PopulationSettings, data_dir: Path | None
) -> bool:
    """lm-eval on the task pack into ``eval_dir`` (``shadow-suite run``'s evaluation stage);
    False when done before. An evaluation made with other settings or by another task pack
    is run again (the population is rebuilt as its code changes)."""
    from shadow_suite.run import eval_metadata, run_eval

    member = eval_settings(
        model_dir,
        settings.tasks,
        settings.n_items,
        settings.variant_seed,
        data_dir,
        settings.eval_batch_size,
    )
    metadata = eval_metadata(member)
    key = json.dumps(metadata, sort_keys=True)
    if key not in _MANAGERS:
        _MANAGERS[key] = _CachedTaskManager(metadata)
    return run_eval(
        member,
        eval_dir,
        _MANAGERS[key],
        extra_record={"taskpack_sha256": taskpack_hash(settings.benchmarks)},
        redo=True,
    )


def taskpack_hash(benchmarks: Sequence[str]) -> str:
    """SHA-256 of the benchmarks' task YAML and of the pack's code (loader, samplers,
    variants...): an evaluation is reused only while the task pack that made it is unchanged."""
    import hashlib

    from shadow_suite.taskpack.plugin import task_pack_dir

    pack = task_pack_dir() / GROUP
    code = task_pack_dir().parent
    files = [p for b in benchmarks for p in sorted((pack / b).glob("*.yaml"))]
    if not files:
        raise ShadowSuiteError(f"{pack}: no task YAML for {', '.join(benchmarks)}")
    files += sorted(code.rglob("*.py"))
    digest = hashlib.sha256()
    for path in files:
        name = path.relative_to(code).as_posix()
        digest.update(name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def spectra_member(model_dir: Path, base_dir: Path, spectra_dir: Path) -> bool:
    """The spectral engine on the member's update against the base (reused on rerun)."""
    from shadow_suite.run import SpectraSettings, run_spectra

    return run_spectra(
        SpectraSettings(str(model_dir.resolve()), str(base_dir.resolve()), "cpu"),
        spectra_dir,
        progress=False,
    )
