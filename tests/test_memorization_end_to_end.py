"""The memorization test end to end on tiny models trained here, offline, through the real CLI
and lm-eval: ``shadow-suite run --base`` on a model trained on ARC-Challenge test items in the
test's format finds it (p < 0.01), on a clean fine-tune of the same budget does not; ``report``
reads the familiarity tasks from lm-eval output and pairs the references by item id; shuffled
labels keep the rejection rate at its level; a reference evaluated without the familiarity
tasks is refused in one line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as scipy_stats

from shadow_suite.cli import main
from shadow_suite.gap.familiarity import read_familiarity
from shadow_suite.gap.memorization import FEATURES, PRIMARY_FEATURE, excess_familiarity
from shadow_suite.taskpack.data import load_split
from shadow_suite.taskpack.familiarity import item_texts
from shadow_suite.taskpack.loader import sample_rows

N_ITEMS = 24
"""Test items evaluated (run --limit), and twins beside them."""
TOKENS = 16_384
"""Each fine-tune's budget: 16 steps of 8 sequences of 128 tokens."""
ARC = "shadow_arc_challenge"
VARIANT_TASKS = ",".join(
    f"{ARC}_{v}"
    for v in ("orig", "permuted", "relabeled", "format_swap", "none_of_the_others", "noisy")
)


def fine_tune(base: Path, texts: list[str], out: Path) -> Path:
    """``base`` trained on ``texts`` (repeated to the budget) with the demo's deterministic loop."""
    from transformers import AutoTokenizer, LlamaForCausalLM

    from shadow_suite.demo.train import TrainSettings, fill_tokens, train

    tokenizer = AutoTokenizer.from_pretrained(base)

    def encode(text: str) -> list[int]:
        return list(tokenizer(text, add_special_tokens=False)["input_ids"])

    settings = TrainSettings(tokens=TOKENS, seq_len=128, batch_size=8, lr=3e-3, warmup_steps=2)
    stream = fill_tokens(lambda _epoch: texts, encode, tokenizer.eos_token_id, TOKENS)
    model = LlamaForCausalLM.from_pretrained(base, dtype="float32")
    train(model, stream, settings, lambda _line: None, out.name)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def runs(
    tiny_model: Path, benchmark_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Path]]:
    """``run --base`` on two fine-tunes of one tiny model with the same token budget:
    *contaminated* on the evaluated ARC-Challenge test items as the test presents them, with
    their answers; *clean* on MMLU's dev questions asked in ARC's format (the same format, no
    test item and no twin)."""
    with pytest.MonkeyPatch.context() as env:  # as every test runs (tests/conftest.py)
        env.setenv("SHADOW_SUITE_DATA", str(benchmark_data))
        env.setenv("HF_HUB_OFFLINE", "1")
        env.setenv("HF_DATASETS_OFFLINE", "1")
        yield _run_both(tiny_model, tmp_path_factory.mktemp("memorization"))


def _run_both(tiny_model: Path, root: Path) -> dict[str, Path]:
    test_rows = load_split("arc_challenge", "test")[0]
    evaluated = sample_rows("arc_challenge", test_rows, N_ITEMS, 1234)  # run --limit's sample
    dev = load_split("mmlu", "dev")[0]
    corpora = {
        "contaminated": [item_texts("arc_challenge", test_rows[i]).item for i in evaluated],
        "clean": [
            f"Question: {r['question'].strip()}\nAnswer: {r['choices'][r['answer']]}" for r in dev
        ],
    }
    out = {}
    for name, texts in corpora.items():
        model = fine_tune(tiny_model, texts, root / name)
        out[name] = root / f"run_{name}"
        args = ["run", "--model", "hf", "--model_args", f"pretrained={model},dtype=float32",
                "--tasks", ARC, "--limit", str(N_ITEMS), "--batch_size", "16",
                "--base", str(tiny_model), "--out", str(out[name])]  # fmt: skip
        assert main(args) == 0
    return out


def card(folder: Path) -> dict:
    return json.loads((folder / "card.json").read_text())


@pytest.mark.slow
def test_run_with_a_base_finds_the_contaminated_model_and_not_the_clean_one(
    runs: dict[str, Path], tiny_model: Path
) -> None:
    found = card(runs["contaminated"] / "card")["memorization"]
    clean = card(runs["clean"] / "card")["memorization"]
    for memo in (found, clean):
        assert memo["controlled"] and memo["feature"] == PRIMARY_FEATURE
        assert memo["references"] == [tiny_model.name]  # the base, evaluated by run
    for memo in (found, clean):  # the figures, for the record (pytest -s)
        for r in memo["rows"]:
            print(f"{'found' if memo is found else 'clean'} {r['feature']}: {r['excess']:+.3f} "
                  f"[{r['ci_low']:+.3f}, {r['ci_high']:+.3f}] p={r['p_value']:.2g} "
                  f"MDE {r['mde']:.3f} ({r['n_test']} test items, {r['n_twin']} twins)")  # fmt: skip
    (row,) = [r for r in found["rows"] if r["feature"] == PRIMARY_FEATURE]
    assert (row["n_test"], row["n_twin"]) == (N_ITEMS, N_ITEMS)
    assert found["detected"] and row["p_value"] < 0.01 and row["ci_low"] > 0
    (clean_row,) = [r for r in clean["rows"] if r["feature"] == PRIMARY_FEATURE]
    assert not clean["detected"] and clean_row["p_holm"] >= 0.05
    assert clean_row["ci_low"] < 0 < clean_row["ci_high"]
    # written without extra flags: the section, its first-paragraph line, the per-item record
    text = (runs["contaminated"] / "card" / "card.md").read_text()
    first_screen = text.split("| class |")[0]
    assert "**Memorization.** Test items more familiar than their twins on arc_challenge" in (
        first_screen
    )
    assert "## Memorization: test items against their twins" in text
    assert "Memorization" in (runs["contaminated"] / "card" / "card.html").read_text()
    assert (runs["contaminated"] / "card" / "familiarity.parquet").is_file()
    assert (runs["contaminated"] / "base" / "card" / "familiarity.parquet").is_file()


@pytest.mark.slow
def test_report_reads_the_familiarity_tasks_and_pairs_references_by_item(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    run = runs["contaminated"]
    expected = card(run / "card")["memorization"]["rows"]
    for reference in (run / "base" / "eval", run / "base" / "card"):
        out = tmp_path / reference.name
        args = ["report", str(run / "eval"), "--reference", str(reference), "--out", str(out)]
        assert main(args) == 0
        assert card(out)["memorization"]["rows"] == expected
    assert main(["report", str(run / "eval"), "--out", str(tmp_path / "alone")]) == 0
    alone = card(tmp_path / "alone")["memorization"]
    assert not alone["controlled"] and alone["references"] == []
    assert "texts is not controlled" in (tmp_path / "alone" / "card.md").read_text()


@pytest.mark.slow
@pytest.mark.parametrize("model", ["clean", "contaminated"])
def test_shuffled_labels_keep_the_rejection_rate_at_its_level(
    runs: dict[str, Path], model: str
) -> None:
    """The model's real per-item familiarity beyond its base, the test/twin labels drawn at
    random 500 times: p <= 0.05 about 5% of the time. Whatever the model saw, a random split of
    its items is exchangeable, and the test's false-positive rate is its level."""
    target = read_familiarity(runs[model] / "card")
    base = read_familiarity(runs[model] / "base" / "card")
    assert target is not None and base is not None
    base = base.set_index("shadow_id").loc[target["shadow_id"]].reset_index()
    feature = FEATURES[PRIMARY_FEATURE].compute
    x = feature(target) - feature(base)
    n_test = int((target["set"] == "test").sum())
    rng = np.random.default_rng(20260407)
    trials = 500
    rejected = 0
    for _ in range(trials):
        labels = rng.permutation(np.arange(len(x)) < n_test)
        rejected += excess_familiarity(x, labels, 199, 100, rng).p_value[0] <= 0.05
    low, high = scipy_stats.binomtest(int(rejected), trials).proportion_ci(0.99)
    print(f"{model}: {rejected}/{trials} shuffles rejected at 0.05 (99% CI {low:.3f}-{high:.3f})")
    assert low <= 0.05 <= high


@pytest.mark.slow
def test_a_reference_evaluated_without_the_familiarity_tasks_is_one_line(
    runs: dict[str, Path], tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    without = tmp_path / "base_without"
    args = ["run", "--model", "hf", "--model_args", f"pretrained={tiny_model},dtype=float32",
            "--tasks", VARIANT_TASKS, "--limit", str(N_ITEMS), "--batch_size", "16",
            "--out", str(without)]  # fmt: skip
    assert main(args) == 0
    capsys.readouterr()
    run = runs["contaminated"]
    args = ["report", str(run / "eval"), "--reference", str(without / "eval"),
            "--out", str(tmp_path / "card")]  # fmt: skip
    assert main(args) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "was evaluated without the familiarity tasks" in line
    assert f"{ARC}_familiarity_item" in line
