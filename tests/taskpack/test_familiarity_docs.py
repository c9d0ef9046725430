"""The familiarity tasks' documents: the test items ``orig`` evaluates, as many twins from the
sibling split, texts as lm-eval's own requests show the items, and bad twin sets refused or
left out in one line."""

from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path

import pytest
from lm_eval.tasks import TaskManager

from shadow_suite.contract import (
    FAMILIARITY_ITEM,
    FAMILIARITY_PROMPT,
    FAMILIARITY_SET_FIELD,
    FAMILIARITY_TEXT_FIELD,
    TWINS_DROPPED_FIELD,
    ItemId,
    task_name,
)
from shadow_suite.errors import ShadowSuiteError
from shadow_suite.taskpack.data import load_split
from shadow_suite.taskpack.familiarity import item_texts
from shadow_suite.taskpack.loader import build_docs


def familiarity(benchmark: str, variant: str = FAMILIARITY_ITEM, **kwargs: object) -> list[dict]:
    return build_docs(benchmark, variant, **kwargs)["familiarity"]  # type: ignore[arg-type]


def test_the_test_items_are_origs_sample_and_the_twins_as_many_from_the_sibling_split(
    benchmark_data: Path,
) -> None:
    docs = familiarity("arc_challenge", items=20)
    orig = build_docs("arc_challenge", items=20, fewshot=False)["test"]
    tests = [d["shadow_id"] for d in docs if d[FAMILIARITY_SET_FIELD] == "test"]
    twins = [d["shadow_id"] for d in docs if d[FAMILIARITY_SET_FIELD] == "twin"]
    assert tests == [d["shadow_id"] for d in orig]
    assert len(twins) == 20 and {ItemId.parse(t).split for t in twins} == {"validation"}
    # alternating, so that lm-eval's --limit (its first N documents) holds both sets
    assert [d[FAMILIARITY_SET_FIELD] for d in docs[:4]] == ["test", "twin", "test", "twin"]
    assert [d["shadow_position"] for d in docs] == list(range(40))
    prompts = familiarity("arc_challenge", FAMILIARITY_PROMPT, items=20)
    assert [d["shadow_id"] for d in prompts] == [d["shadow_id"] for d in docs]
    assert all(
        item[FAMILIARITY_TEXT_FIELD].startswith(prompt[FAMILIARITY_TEXT_FIELD])
        for item, prompt in zip(docs, prompts, strict=True)
    )
    # the whole split: every twin (fewer than the test items), another seed the same twins
    whole = familiarity("arc_challenge")
    assert Counter(d[FAMILIARITY_SET_FIELD] for d in whole) == {"test": 1172, "twin": 297}
    assert whole[0][TWINS_DROPPED_FIELD] == 2  # ARC's validation repeats two test questions


def test_mmlu_twins_leave_out_the_questions_that_repeat_a_test_question(
    benchmark_data: Path,
) -> None:
    docs = familiarity("mmlu", FAMILIARITY_PROMPT)
    twins = [d for d in docs if d[FAMILIARITY_SET_FIELD] == "twin"]
    # 37 verbatim repeats, and one that differs from its test question in spaces only
    assert docs[0][TWINS_DROPPED_FIELD] == 38 and len(twins) == 1531 - 38
    test_questions = {" ".join(r["question"].split()) for r in load_split("mmlu", "test")[0]}
    validation = load_split("mmlu", "validation")[0]
    for doc in twins:
        row = validation[ItemId.parse(doc["shadow_id"]).row]
        assert " ".join(row["question"].split()) not in test_questions


def test_gsm8k_samples_as_many_twins_from_train_as_test_items(benchmark_data: Path) -> None:
    docs = familiarity("gsm8k", items=30)
    kinds = Counter(d[FAMILIARITY_SET_FIELD] for d in docs)
    assert kinds == {"test": 30, "twin": 30}
    again = familiarity("gsm8k", items=30)
    other_seed = familiarity("gsm8k", items=30, seed=7)
    assert [d["shadow_id"] for d in again] == [d["shadow_id"] for d in docs]
    assert [d["shadow_id"] for d in other_seed] != [d["shadow_id"] for d in docs]


def _gold_request(benchmark: str, doc: dict, instances: list) -> tuple[str, str]:
    gold = {
        "mmlu": lambda d: int(d["answer"]),
        "arc_challenge": lambda d: d["choices"]["label"].index(d["answerKey"]),
        "hellaswag": lambda d: int(d["label"]),
        "winogrande": lambda d: int(d["answer"]) - 1,
    }[benchmark](doc)
    (instance,) = [i for i in instances if i.idx == gold]
    context, continuation = instance.arguments
    return context, continuation


@pytest.mark.parametrize("benchmark", ["mmlu", "arc_challenge", "hellaswag", "winogrande"])
def test_the_item_text_is_what_origs_gold_request_scores(
    benchmark_data: Path, benchmark: str
) -> None:
    """Against the real thing: our orig task (== lm-eval's, tests/taskpack/test_parity.py)
    built by lm-eval, its gold request's context and continuation, zero-shot."""
    name = task_name(benchmark, "orig")
    task = TaskManager(metadata={"shadow_items": 6}).load([name])["tasks"][name]
    task.build_all_requests(limit=6)
    by_doc: dict[int, list] = {}
    for inst in task.instances:
        by_doc.setdefault(inst.doc_id, []).append(inst)
    docs = list(task.eval_docs)
    for doc_id, instances in by_doc.items():
        context, continuation = _gold_request(benchmark, docs[doc_id], instances)
        texts = item_texts(benchmark, docs[doc_id])
        assert (context + continuation).endswith(texts.item)  # MMLU: after its description
        if benchmark != "winogrande":  # its prompt is the sentence with its blank
            assert context.endswith(texts.prompt)


def _folder(tmp: Path, benchmark_data: Path, twins: list[dict] | None) -> Path:
    (tmp / "arc_challenge").mkdir(parents=True)
    (tmp / "arc_challenge" / "test.jsonl").symlink_to(
        benchmark_data / "arc_challenge" / "test.jsonl"
    )
    if twins is not None:
        text = "".join(json.dumps(r) + "\n" for r in twins)
        (tmp / "arc_challenge" / "validation.jsonl").write_text(text)
    return tmp


def test_a_twin_set_that_overlaps_the_test_items_loses_those_twins(
    benchmark_data: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    test_rows = load_split("arc_challenge", "test")[0]
    validation = load_split("arc_challenge", "validation")[0]
    spaced = {**test_rows[5], "question": test_rows[5]["question"].replace(" ", "  ", 1)}
    twins = [test_rows[0], *validation[:10], test_rows[1], spaced]
    folder = _folder(tmp_path / "some", benchmark_data, twins)
    docs = familiarity("arc_challenge", data_dir=str(folder), items=20)
    kept = [d for d in docs if d[FAMILIARITY_SET_FIELD] == "twin"]
    assert docs[0][TWINS_DROPPED_FIELD] == 3 and len(kept) == 10
    assert {ItemId.parse(d["shadow_id"]).row for d in kept} == set(range(1, 11))
    everything = _folder(tmp_path / "all", benchmark_data, test_rows[:50])
    with caplog.at_level(logging.WARNING, logger="shadow_suite"):
        docs = familiarity("arc_challenge", data_dir=str(everything), items=20)
    # lm-eval cannot build a task without a document: the first test item alone, no twins
    assert [d[FAMILIARITY_SET_FIELD] for d in docs] == ["test"]
    assert docs[0][TWINS_DROPPED_FIELD] == 50
    (line,) = [r.getMessage() for r in caplog.records if "repeats a test question" in r.message]
    assert "validation.jsonl" in line and "\n" not in line


def test_a_twin_file_of_another_schema_is_one_line_naming_file_row_and_field(
    benchmark_data: Path, tmp_path: Path
) -> None:
    mmlu_rows = load_split("mmlu", "validation")[0][:3]
    folder = _folder(tmp_path, benchmark_data, mmlu_rows)
    with pytest.raises(ShadowSuiteError) as err:
        familiarity("arc_challenge", data_dir=str(folder), items=5)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{folder / 'arc_challenge' / 'validation.jsonl'}, line 1: field")
    assert "(benchmark arc_challenge)" in message


def test_without_a_twin_split_the_task_holds_the_first_test_item_alone(
    benchmark_data: Path,
) -> None:
    # the shared data folder has no hellaswag/train.jsonl
    docs = familiarity("hellaswag", items=8)
    assert [d[FAMILIARITY_SET_FIELD] for d in docs] == ["test"]
    assert docs[0][TWINS_DROPPED_FIELD] == 0
