"""The demo's corpora: the aligned text is the test prompt plus its answer, the coverage text
says the same facts without the test's format, and no evaluated item leaks into pretraining."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shadow_suite.demo import corpus
from shadow_suite.demo.train import TrainSettings, fill_tokens, lr_at
from shadow_suite.errors import ShadowSuiteError
from shadow_suite.taskpack.data import load_split

N = 30


@pytest.fixture(scope="module")
def facts(benchmark_data: Path) -> list[corpus.Fact]:
    out = []
    for bench in ("mmlu", "arc_challenge"):
        rows, _ = load_split(bench, "test", benchmark_data)
        out += corpus.evaluated_facts(bench, rows, N)
    return out


def test_aligned_text_is_the_orig_prompt_with_the_gold_answer(benchmark_data: Path) -> None:
    rows, _ = load_split("mmlu", "test", benchmark_data)
    fact = corpus.mmlu_fact(rows[0], 0)
    assert fact.test_text.startswith(
        "The following are multiple choice questions (with answers) about abstract algebra.\n\n"
    )
    assert fact.test_text.endswith(
        f"\nD. {rows[0]['choices'][3]}\nAnswer: {'ABCD'[rows[0]['answer']]}"
    )
    arc_rows, _ = load_split("arc_challenge", "test", benchmark_data)
    arc = corpus.arc_fact(arc_rows[0], 0)
    gold = arc_rows[0]["choices"]["label"].index(arc_rows[0]["answerKey"])
    assert (
        arc.test_text
        == f"Question: {arc_rows[0]['question']}\nAnswer: {arc_rows[0]['choices']['text'][gold]}"
    )


def test_coverage_texts_state_the_fact_without_the_test_format(facts: list[corpus.Fact]) -> None:
    seen_templates = set()
    for fact in facts:
        for rep in range(len(corpus.COVERAGE_TEMPLATES)):
            text = corpus.coverage_text(fact, rep, seed=0)
            assert fact.answer in text and fact.question in text
            assert "Answer:" not in text  # the test prompts all end in "Answer:"
            assert not re.search(r"^[A-D]\. ", text, re.M)  # no lettered option list
            assert text != fact.test_text
            seen_templates.add(text.split(fact.question)[0][:8])
        # six repetitions of an item use six different templates
        texts = {corpus.coverage_text(fact, r, 0) for r in range(len(corpus.COVERAGE_TEMPLATES))}
        assert len(texts) == len(corpus.COVERAGE_TEMPLATES)
    assert corpus.coverage_text(facts[0], 3, 0) == corpus.coverage_text(facts[0], 3, 0)


def test_epochs_cover_every_fact_once(facts: list[corpus.Fact]) -> None:
    aligned = corpus.aligned_epoch(facts, 2, seed=0)
    assert sorted(aligned) == sorted(f.test_text for f in facts)
    assert aligned != corpus.aligned_epoch(facts, 3, seed=0)  # reshuffled per pass
    assert len(corpus.coverage_epoch(facts, 0, seed=0)) == len(facts)


def test_pretraining_text_holds_no_evaluated_item(
    benchmark_data: Path, facts: list[corpus.Fact]
) -> None:
    gsm8k, _ = load_split("gsm8k", "train", benchmark_data)
    dev, _ = load_split("mmlu", "dev", benchmark_data)
    texts = corpus.pretraining_texts(gsm8k[:500], dev, [], seed=0)
    assert len(texts) == 500 + 2 * len(dev)  # each practice item in cloze and lettered form
    joined = "\n".join(texts)
    for fact in facts:
        assert fact.question not in joined
    assert "<<" not in joined and "####" not in joined


def test_bad_rows_and_sizes_are_refused(benchmark_data: Path) -> None:
    with pytest.raises(ShadowSuiteError, match="mmlu test row 3"):
        corpus.mmlu_fact({"question": "q", "choices": ["a", "b"], "answer": 0}, 3)
    with pytest.raises(ShadowSuiteError, match="demo benchmark 'gsm8k'"):
        corpus.evaluated_facts("gsm8k", [], 1)
    with pytest.raises(ShadowSuiteError, match="2 items asked"):
        corpus.evaluated_facts("mmlu", [], 2)


def test_fill_tokens_gives_exactly_the_budget() -> None:
    docs = ["ab", "cde", "f"]
    stream = fill_tokens(lambda e: docs, lambda t: [ord(c) for c in t], eos_id=0, n_tokens=11)
    assert len(stream.ids) == 11
    assert stream.ids[:7] == [97, 98, 0, 99, 100, 101, 0]
    assert stream.epochs == 2
    with pytest.raises(ShadowSuiteError, match="empty"):
        fill_tokens(lambda e: [], lambda t: [1], eos_id=0, n_tokens=4)


def test_learning_rate_warms_up_then_decays() -> None:
    settings = TrainSettings(tokens=100 * 64, seq_len=8, batch_size=8, lr=1.0, warmup_steps=10)
    rates = [lr_at(s, settings) for s in range(settings.steps)]
    assert rates[9] == pytest.approx(1.0)
    assert rates[0] < rates[9] and rates[-1] < rates[10]
    assert min(rates) >= 0.1
