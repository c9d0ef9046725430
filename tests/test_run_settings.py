"""``shadow-suite run``'s evaluation settings: the leaderboard few-shot preset, lm-eval's chat
flags and fresh audit seeds, each recorded in the stage marker and on the card."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
from safetensors.torch import load_file, save_file

from shadow_suite import contract
from shadow_suite.cli import main
from shadow_suite.contract import is_familiarity_task
from shadow_suite.run import PRESETS, benchmark_of_any_task, run_seed, tasks_with_fewshot
from shadow_suite.taskpack import loader as taskpack
from shadow_suite.tiny_model import CHATML_TEMPLATE, add_chat_template

SYSTEM = "You are a careful assistant."


@pytest.fixture
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in a new process: no fresh seed drawn yet."""
    monkeypatch.setattr(taskpack, "_fresh_seed", None)


def card_of(out: Path) -> dict:
    return json.loads((out / "card" / "card.json").read_text())


def samples_of(out: Path) -> list[dict]:
    return [
        json.loads(line)
        for path in sorted((out / "eval").rglob("samples_*.jsonl"))
        for line in path.read_text().splitlines()
    ]


def test_fresh_seed_is_drawn_once_per_process_and_recorded_in_every_doc(
    benchmark_data: Path, fresh_process: None
) -> None:
    seed = taskpack.resolve_seed("fresh")
    assert seed != contract.DEFAULT_VARIANT_SEED and seed > 0
    assert taskpack.resolve_seed(" Fresh ") == seed  # every task of the process shares it
    docs = taskpack.build_docs("arc_challenge", "permuted", seed="fresh", items=3)
    assert {d["shadow_seed"] for split in docs.values() for d in split} == {seed}
    assert taskpack.resolve_seed("7") == 7


def test_seed_fresh_reuses_the_seed_an_earlier_evaluation_recorded(
    tmp_path: Path, fresh_process: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed, note = run_seed("fresh", tmp_path)
    assert note and f"drew {seed}" in note and f"--seed {seed}" in note
    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / "stage.json").write_text(json.dumps({"settings": {"seed": 4242}}))
    assert run_seed("fresh", tmp_path)[0] == 4242  # a rerun continues that audit
    monkeypatch.setenv("SHADOW_SUITE_SEED", "fresh")
    assert run_seed(None, tmp_path)[0] == 4242
    assert run_seed("99", tmp_path) == (99, None)


def test_preset_counts_per_benchmark_and_task() -> None:
    assert PRESETS["open-llm-v1"] == {
        "arc_challenge": 25, "hellaswag": 10, "mmlu": 5, "winogrande": 5, "gsm8k": 5,
    }  # fmt: skip
    assert benchmark_of_any_task("shadow_arc_challenge_permuted") == "arc_challenge"
    assert benchmark_of_any_task("shadow_mmlu_orig") == "mmlu"
    assert benchmark_of_any_task("mmlu_abstract_algebra") == "mmlu"  # lm-eval's own tasks too
    assert benchmark_of_any_task("hellaswag") == "hellaswag"
    assert benchmark_of_any_task("lambada_openai") is None


def test_preset_sets_each_task_of_a_group(benchmark_data: Path) -> None:
    from lm_eval.tasks import TaskManager

    tm = TaskManager(metadata={"shadow_items": 3})
    built = tasks_with_fewshot(
        tm, ["shadow_mmlu", "shadow_arc_challenge_orig"], PRESETS["open-llm-v1"]
    )
    loaded = tm.load(built)
    shots = {name: task.get_config("num_fewshot") for name, task in loaded["tasks"].items()}
    assert shots["shadow_arc_challenge_orig"] == 25
    familiarity = {n for n in shots if is_familiarity_task(n)}
    assert familiarity == {"shadow_mmlu_familiarity_item", "shadow_mmlu_familiarity_prompt"}
    assert {shots[n] for n in familiarity} == {0}  # plain texts: never examples
    assert all(
        k == 5 for n, k in shots.items() if n.startswith("shadow_mmlu_") and n not in familiarity
    )
    assert "shadow_mmlu" in loaded["groups"]  # the group is kept (lm-eval aggregates it)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--preset", "open-llm-v1", "--num_fewshot", "3"], "give one"),
        (["--fewshot_as_multiturn"], "needs --apply_chat_template"),
        (["--apply_chat_template", "--fewshot_as_multiturn", "maybe"], "give true or false"),
    ],
)
def test_conflicting_settings_are_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, extra: list[str], message: str
) -> None:
    args = ["run", "--model", "hf", "--model_args", "pretrained=x", "--out", str(tmp_path)]
    assert main(args + extra) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


@pytest.fixture(scope="module")
def chat_model(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model as an instruct model: its tokenizer has a (ChatML) chat template."""
    folder = tmp_path_factory.mktemp("chat") / "tiny_chat_model"
    shutil.copytree(tiny_model, folder)
    return add_chat_template(folder)


def run_args(model: Path, out: Path, tasks: str, *extra: str) -> list[str]:
    return ["run", "--model", "hf", "--model_args", f"pretrained={model},dtype=float32",
            "--tasks", tasks, "--limit", "4", "--batch_size", "8", "--out", str(out),
            *extra]  # fmt: skip


@pytest.mark.slow
def test_preset_and_chat_template_end_to_end(
    chat_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "run"
    args = run_args(
        chat_model, out, "shadow_mmlu_orig,shadow_mmlu_permuted,shadow_gsm8k_orig",
        "--preset", "open-llm-v1", "--apply_chat_template", "--system_instruction", SYSTEM,
        "--gen_kwargs", "max_gen_toks=8",
    )  # fmt: skip
    assert main(args) == 0
    capsys.readouterr()

    settings = json.loads((out / "eval" / "stage.json").read_text())["settings"]
    assert settings["preset"] == "open-llm-v1"
    assert settings["fewshot"] == PRESETS["open-llm-v1"]
    assert settings["apply_chat_template"] is True
    assert settings["fewshot_as_multiturn"] is True
    assert settings["system_instruction"] == SYSTEM

    card = card_of(out)
    model = card["model"]
    assert model["chat_template_applied"] is True
    assert model["fewshot_as_multiturn"] is True
    assert model["chat_template_sha"] == hashlib.sha256(CHATML_TEMPLATE.encode()).hexdigest()
    assert model["system_instruction_sha"] == hashlib.sha256(SYSTEM.encode()).hexdigest()
    sha = model["chat_template_sha"][:12]
    for page in ("card.html", "card.md"):  # the provenance tables say it too
        text = (out / "card" / page).read_text()
        assert f"applied (sha256 {sha}), few-shot as chat turns" in text
        assert "shadow_mmlu_orig=5" in text or page == "card.md"
    n_shot = card["provenance"]["n_shot"]
    assert n_shot == {"shadow_mmlu_orig": 5, "shadow_mmlu_permuted": 5, "shadow_gsm8k_orig": 5}
    shots = {b["benchmark"]: b["n_fewshot"] for b in card["gap"]["benchmarks"]}
    assert shots == {"mmlu": 5, "gsm8k": 5}
    prompts = [s["arguments"]["gen_args_0"]["arg_0"] for s in samples_of(out)]
    assert prompts and all(p.startswith("<|im_start|>system\n" + SYSTEM) for p in prompts)
    # five few-shot examples as chat turns, then the answer's turn
    assert all(p.count("<|im_start|>assistant") == 6 for p in prompts)

    # a rerun with the same settings reuses the evaluation
    assert main(args) == 0
    assert re.search(r"\[1/\d\] evaluating \S+: already done", capsys.readouterr().out)

    # ARC-Challenge 25-shot needs a train split; without one, one line before any result
    arc = tmp_path / "arc"
    no_train = tmp_path / "data"
    no_train.mkdir()
    for bench in ("arc_challenge",):
        shutil.copytree(Path(settings["data_dir"]) / bench, no_train / bench)
        for extra in (no_train / bench).glob("train*"):
            extra.unlink()
    code = main(
        run_args(chat_model, arc, "shadow_arc_challenge_orig", "--preset", "open-llm-v1",
                 "--data", str(no_train))
    )  # fmt: skip
    errors = [e for e in capsys.readouterr().err.splitlines() if "error:" in e]
    assert code == 2 and len(errors) == 1  # (after the model's loading bars)
    assert "arc" in errors[0].lower() and ("few-shot" in errors[0] or "num_fewshot" in errors[0])
    assert not (arc / "eval" / "stage.json").exists()


@pytest.mark.slow
def test_fresh_seed_run_pairs_and_refuses_a_default_seed_reference(
    tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture, fresh_process: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    tasks = "shadow_arc_challenge_orig,shadow_arc_challenge_permuted"
    fresh = tmp_path / "fresh"
    assert main(run_args(tiny_model, fresh, tasks, "--seed", "fresh")) == 0
    printed = capsys.readouterr().out
    seed = json.loads((fresh / "eval" / "stage.json").read_text())["settings"]["seed"]
    assert f"seed fresh: drew {seed}" in printed and seed != contract.DEFAULT_VARIANT_SEED
    card = card_of(fresh)
    assert card["provenance"]["seeds"]["shadow_seed"] == seed
    assert {s["doc"]["shadow_seed"] for s in samples_of(fresh)} == {seed}
    rows = {r["variant"]: r for b in card["gap"]["benchmarks"] for r in b["variants"]}
    assert rows["permuted"]["n_paired"] > 0  # the variant pairs with orig's items

    # a rerun (a new process: no seed drawn yet) reuses the recorded seed and the evaluation
    monkeypatch.setattr(taskpack, "_fresh_seed", None)
    assert main(run_args(tiny_model, fresh, tasks, "--seed", "fresh")) == 0
    again = capsys.readouterr().out
    assert f"reusing {seed}" in again
    assert re.search(r"\[1/\d\] evaluating \S+: already done", again)  # the stage header

    # a reference made with the public default seed is refused in one line ...
    default = tmp_path / "default"
    assert main(run_args(tiny_model, default, tasks)) == 0
    capsys.readouterr()
    report = ["report", str(fresh / "eval"), "--out", str(tmp_path / "card"), "--n-boot", "200"]
    assert main([*report, "--reference", str(default)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"shadow_seed {contract.DEFAULT_VARIANT_SEED}" in err
    assert "same --seed" in err
    # ... one run with the recorded seed is taken: a peer's (the model itself is refused as
    # its own reference)
    peer = Path(shutil.copytree(tiny_model, tmp_path / "peer"))
    weights = load_file(str(peer / "model.safetensors"))
    save_file({k: v.flip(0).contiguous() for k, v in weights.items()},
              str(peer / "model.safetensors"), metadata={"format": "pt"})  # fmt: skip
    same = tmp_path / "same"
    assert main(run_args(peer, same, tasks, "--seed", str(seed))) == 0
    assert main([*report, "--reference", str(same)]) == 0
    capsys.readouterr()
    paired = json.loads((tmp_path / "card" / "card.json").read_text())
    assert paired["provenance"]["seeds"]["shadow_seed"] == seed
    assert paired["gap"]["reference"]["references"] == ["peer"]
    itself = tmp_path / "itself"
    assert main(run_args(tiny_model, itself, tasks, "--seed", str(seed))) == 0
    capsys.readouterr()
    assert main([*report, "--reference", str(itself)]) == 2
    assert "a model cannot be its own reference" in capsys.readouterr().err


def test_chat_template_missing_is_refused_before_any_model_loads(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from shadow_suite.tiny_model import train_tokenizer

    model = tmp_path / "base_model"
    train_tokenizer(["a base model has no chat template"] * 3, 300).save_pretrained(model)
    args = ["run", "--model", "hf", "--model_args", f"pretrained={model}",
            "--tasks", "shadow_arc_challenge_orig", "--out", str(tmp_path / "out")]  # fmt: skip
    assert main([*args, "--apply_chat_template"]) == 2
    err = capsys.readouterr().err.strip()
    assert "has no chat template" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out" / "eval").exists()
