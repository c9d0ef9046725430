"""The validity population's texts: clean members never contain an evaluated item, a
contaminated member holds exactly its dose of test copies, every member the same budget."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shadow_suite.demo import corpus, population
from shadow_suite.demo.population import EvaluatedItem, MemberSpec
from shadow_suite.errors import ShadowSuiteError
from shadow_suite.taskpack.data import load_split


def _encode(text: str) -> list[int]:
    return [ord(c) % 251 + 1 for c in text]


@pytest.fixture(scope="module")
def sources(benchmark_data: Path) -> dict:
    gsm8k, _ = load_split("gsm8k", "train", benchmark_data)
    dev, _ = load_split("mmlu", "dev", benchmark_data)
    mmlu_test, _ = load_split("mmlu", "test", benchmark_data)
    arc_test, _ = load_split("arc_challenge", "test", benchmark_data)
    tests = [
        EvaluatedItem("mmlu", f"mmlu/test/{i}", corpus.mmlu_fact(r, i).test_text)
        for i, r in enumerate(mmlu_test[:10])
    ]
    tests += [
        EvaluatedItem("arc_challenge", f"arc_challenge/test/{i}", corpus.arc_fact(r, i).test_text)
        for i, r in enumerate(arc_test[:10])
    ]
    return {
        "gsm8k": gsm8k[:600],
        "practice": corpus.practice_facts(dev, []),
        "tests": tests,
        "questions": [str(r["question"]).strip() for r in mmlu_test[:10] + arc_test[:10]],
    }


def test_clean_members_hold_no_evaluated_item(sources: dict) -> None:
    for kind in population.CLEAN_KINDS:
        for seed in (0, 1):
            stream = population.member_stream(
                MemberSpec(kind, seed),
                4096,
                _encode,
                0,
                sources["tests"],
                sources["gsm8k"],
                sources["practice"],
            )
            assert len(stream.ids) == 4096
            text = "\n".join(
                population.clean_epoch(
                    kind,
                    0,
                    seed,
                    [corpus.gsm8k_text(r) for r in sources["gsm8k"]],
                    sources["gsm8k"],
                    sources["practice"],
                )
            )
            for question in sources["questions"]:
                assert question not in text
    # two seeds give two different texts
    a = population.clean_epoch("format", 0, 0, ["x"], sources["gsm8k"], sources["practice"])
    b = population.clean_epoch("format", 0, 1, ["x"], sources["gsm8k"], sources["practice"])
    assert a != b


def test_contaminated_member_holds_its_dose_whole(sources: dict) -> None:
    spec = MemberSpec("contaminated", 0, items=4, passes=3)
    prose = [corpus.gsm8k_text(r) for r in sources["gsm8k"]]
    docs = population.contaminated_documents(sources["tests"], spec, prose, _encode, 20_000)
    test_texts = {t.text for t in sources["tests"]}
    copies = [d for d in docs if d in test_texts]
    assert len(copies) == 4 * 2 * 3  # 4 items of each benchmark, 3 passes
    assert len(set(copies)) == 8
    assert docs[-1] not in test_texts  # the budget cuts prose, never a test copy
    assert sum(len(_encode(d)) + 1 for d in docs[:-1]) < 20_000
    stream = population.member_stream(
        spec, 20_000, _encode, 0, sources["tests"], sources["gsm8k"], sources["practice"]
    )
    assert len(stream.ids) == 20_000
    with pytest.raises(ShadowSuiteError, match="11 arc_challenge items asked, 10 evaluated"):
        population.contaminated_documents(
            sources["tests"], MemberSpec("contaminated", 0, 11, 1), prose, _encode, 20_000
        )
    with pytest.raises(ShadowSuiteError, match="the budget is 100"):
        population.contaminated_documents(sources["tests"], spec, prose, _encode, 100)


def test_lettered_practice_moves_the_answer_but_keeps_it_right(sources: dict) -> None:
    fact = sources["practice"][0]
    answers = set()
    for epoch in range(12):
        text = corpus.lettered_text(fact, epoch, seed=0)
        label = text.rsplit("Answer: ", 1)[1]
        line = next(
            x for x in text.splitlines() if x.startswith(label + " ") or x.startswith(label + ". ")
        )
        assert line.split(" ", 1)[1] == fact.answer
        answers.add(label.strip("().").upper())
    assert len(answers) > 1


def test_default_population_sizes() -> None:
    members = population.default_population()
    assert sum(not m.contaminated for m in members) >= 20
    assert sum(m.contaminated for m in members) >= 10
    assert len({m.name for m in members}) == len(members)


def test_test_items_come_from_the_orig_samples(tmp_path: Path) -> None:
    folder = tmp_path / "eval" / "model"
    folder.mkdir(parents=True)
    sample = {
        "doc": {"shadow_id": "mmlu/test/7"},
        "target": 2,
        "arguments": {
            f"gen_args_{k}": {"arg_0": "Q\nAnswer:", "arg_1": f" {'ABCD'[k]}"} for k in range(4)
        },
    }
    (folder / "samples_shadow_mmlu_orig_x.jsonl").write_text(json.dumps(sample) + "\n")
    items = population.read_test_items(tmp_path / "eval", ["mmlu"])
    assert items == [EvaluatedItem("mmlu", "mmlu/test/7", "Q\nAnswer: C")]
    with pytest.raises(ShadowSuiteError, match="no samples_shadow_arc_challenge_orig"):
        population.read_test_items(tmp_path / "eval", ["arc_challenge"])
    (folder / "samples_shadow_mmlu_orig_x.jsonl").write_text('{"doc": {}}\n')
    with pytest.raises(ShadowSuiteError, match=r"samples_shadow_mmlu_orig_x\.jsonl:1"):
        population.read_test_items(tmp_path / "eval", ["mmlu"])
