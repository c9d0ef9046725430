"""Our ``orig`` tasks send lm-eval's own requests: same contexts, continuations, few-shot
examples, generation settings, metrics and filters, on the same documents.

lm-eval's tasks are built from lm-eval's own YAML (found through its TaskManager), with only
the data source swapped for the local rows, so that nothing is downloaded.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import datasets
import pytest
from lm_eval.api.task import ConfigurableTask
from lm_eval.tasks import TaskManager
from lm_eval.tasks._yaml_loader import load_yaml

from shadow_suite.errors import ShadowSuiteError
from shadow_suite.taskpack import data
from shadow_suite.taskpack.data import load_split
from shadow_suite.taskpack.loader import resolve_seed, sample_rows
from shadow_suite.taskpack.suite import get_benchmark
from shadow_suite.taskpack.variants import VARIANTS, apply_variant, get_variant

FEWSHOT_SEED = 1234


@pytest.fixture(scope="module")
def task_manager() -> TaskManager:
    return TaskManager()


def requests_by_doc(
    task: Any, limit: int | None = None, samples: list[int] | None = None
) -> list[list[tuple]]:
    task.set_fewshot_seed(FEWSHOT_SEED)
    task.build_all_requests(limit=limit, samples=samples)
    grouped: dict[int, list[tuple]] = defaultdict(list)
    for inst in task.instances:
        grouped[inst.doc_id].append((inst.request_type, inst.idx, _freeze(inst.arguments)))
    return [sorted(grouped[i]) for i in sorted(grouped)]


def _freeze(arguments: tuple) -> tuple:
    return tuple(repr(sorted(a.items())) if isinstance(a, dict) else a for a in arguments)


def lm_eval_task(tm: TaskManager, name: str, splits: dict[str, list[dict]]) -> ConfigurableTask:
    """lm-eval's own task ``name``, reading ``splits`` instead of the hub."""
    config = load_yaml(tm.task_index[name].yaml_path, resolve_func=True, recursive=True)
    config.pop("dataset_kwargs", None)
    config["custom_dataset"] = lambda **_: datasets.DatasetDict(
        {split: datasets.Dataset.from_list(rows) for split, rows in splits.items()}
    )
    return ConfigurableTask(config=config)


def our_task(tm: TaskManager, name: str) -> ConfigurableTask:
    return tm.load([name])["tasks"][name]


def assert_same_config(ours: ConfigurableTask, theirs: ConfigurableTask) -> None:
    for field in (
        "output_type", "num_fewshot", "metric_list", "filter_list", "generation_kwargs",
        "target_delimiter", "fewshot_delimiter", "repeats",
    ):  # fmt: skip
        assert getattr(ours.config, field) == getattr(theirs.config, field), field


@pytest.mark.parametrize(
    ("benchmark", "lm_eval_name", "split_map", "limit"),
    [
        # lm-eval's split name -> our split whose rows it gets (the extra ones only feed
        # the few-shot fallback of zero-shot tasks, never a request).
        (
            "arc_challenge",
            "arc_challenge",
            {"test": "test", "train": "test", "validation": "test"},
            None,
        ),
        ("hellaswag", "hellaswag", {"validation": "validation", "train": "validation"}, 1000),
        ("winogrande", "winogrande", {"validation": "validation", "train": "validation"}, None),
        ("gsm8k", "gsm8k", {"test": "test", "train": "train"}, 400),
    ],
)
def test_orig_requests_match_lm_eval(
    benchmark_data, task_manager, benchmark, lm_eval_name, split_map, limit
):
    splits = {theirs: load_split(benchmark, ours)[0] for theirs, ours in split_map.items()}
    theirs = lm_eval_task(task_manager, lm_eval_name, splits)
    ours = our_task(task_manager, f"shadow_{benchmark}_orig")
    assert_same_config(ours, theirs)
    expected = requests_by_doc(theirs, limit)
    got = requests_by_doc(ours, limit)
    assert len(got) == len(expected) > 0
    for doc_id, (a, b) in enumerate(zip(got, expected, strict=True)):
        assert a == b, f"{benchmark} doc {doc_id}"


def test_mmlu_orig_matches_all_57_subject_tasks(benchmark_data, task_manager):
    """One task over all subjects == lm-eval's 57 subject tasks, 5-shot, on the first
    items of every subject (building requests for all 14,042 items takes minutes)."""
    per_subject = 4
    test_rows, dev_rows = load_split("mmlu", "test")[0], load_split("mmlu", "dev")[0]
    subjects = sorted({row["subject"] for row in test_rows})
    assert len(subjects) == 57
    rows_of = {s: [i for i, r in enumerate(test_rows) if r["subject"] == s] for s in subjects}
    checked = sorted(i for s in subjects for i in rows_of[s][:per_subject])

    ours = our_task(task_manager, "shadow_mmlu_orig")
    ours.set_config("num_fewshot", 5)
    got = requests_by_doc(ours, samples=checked)

    expected: list[list[tuple]] = []
    for subject in subjects:
        theirs = lm_eval_task(
            task_manager,
            f"mmlu_{subject}",
            {
                "test": [test_rows[i] for i in rows_of[subject]],
                "dev": [r for r in dev_rows if r["subject"] == subject],
            },
        )
        theirs.set_config("num_fewshot", 5)
        assert_same_config(ours, theirs)
        expected += requests_by_doc(theirs, limit=per_subject)
    assert len(got) == len(expected) == 57 * per_subject
    for row, a, b in zip(checked, got, expected, strict=True):
        assert a == b, f"mmlu row {row} ({test_rows[row]['subject']})"


# --- few-shot from the training split (ARC-Challenge, HellaSwag, WinoGrande) --------------

# benchmark -> (shots as the Open LLM Leaderboard asks, rows of the evaluated split copied
# into a small train split, documents compared). ARC's train is its validation split
# instead (ARC's schema, no overlap with test; lm-eval never hands ARC's sampler the
# evaluated item). HellaSwag's and WinoGrande's pools hold the first documents compared, so
# that lm-eval's leaving the evaluated item out of its draw happens often and is checked.
FEWSHOT = {
    "arc_challenge": (25, None, 200),
    "hellaswag": (10, 60, 100),
    "winogrande": (5, 40, 120),
}


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture
def train_data(benchmark_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """``make(benchmark, extra_rows)``: a data folder in use whose ``benchmark`` has a small
    train.jsonl (as in FEWSHOT, plus the evaluated split's ``extra_rows``); its splits."""

    def make(benchmark: str, extra_rows: Sequence[int] = ()) -> dict[str, list[dict]]:
        bench = get_benchmark(benchmark)
        (tmp_path / benchmark).mkdir(exist_ok=True)
        source = benchmark_data / benchmark / f"{bench.eval_split}.jsonl"
        (tmp_path / benchmark / source.name).symlink_to(source)
        rows = _jsonl(source)
        copied = FEWSHOT[benchmark][1]
        if copied is None:
            train = _jsonl(benchmark_data / benchmark / "validation.jsonl")
        else:
            train = [rows[i] for i in sorted(set(range(copied)) | set(extra_rows))]
        (tmp_path / benchmark / "train.jsonl").write_text(
            "".join(json.dumps(row) + "\n" for row in train)
        )
        monkeypatch.setenv("SHADOW_SUITE_DATA", str(tmp_path))
        return {bench.eval_split: rows, "train": train}

    return make


@pytest.mark.parametrize("benchmark", list(FEWSHOT))
def test_orig_fewshot_requests_match_lm_eval(train_data, task_manager, benchmark):
    """``--num_fewshot`` 25 / 10 / 5: the same examples, drawn by lm-eval's sampler with
    lm-eval's seed, for every document, as lm-eval's own task on the same rows."""
    shots, _, limit = FEWSHOT[benchmark]
    splits = train_data(benchmark)
    if benchmark == "arc_challenge":
        splits["validation"] = splits["train"]
    theirs = lm_eval_task(task_manager, benchmark, splits)
    ours = our_task(task_manager, f"shadow_{benchmark}_orig")
    for task in (theirs, ours):
        task.set_config("num_fewshot", shots)
    assert_same_config(ours, theirs)
    expected = requests_by_doc(theirs, limit)
    got = requests_by_doc(ours, limit)
    assert len(got) == len(expected) == limit
    for doc_id, (a, b) in enumerate(zip(got, expected, strict=True)):
        assert a == b, f"{benchmark} doc {doc_id}"
    assert got[0][0][2][0].count("\n\n") >= shots  # the examples are there


def _examples(task: Any, shots: int) -> tuple[dict[str, list[dict]], dict[str, str]]:
    """Per item (shadow_id): the examples the task's sampler gave it, and the context before
    the item (the examples as the model sees them)."""
    task.set_config("num_fewshot", shots)
    sampler, given = task.sampler, {}
    draw = sampler.sample

    def spy(*args: Any, **kwargs: Any) -> Any:
        given[sampler.current_doc["shadow_id"]] = out = draw(*args, **kwargs)
        return out

    sampler.sample = spy
    requests_by_doc(task)
    shown = {
        inst.doc["shadow_id"]: inst.arguments[0].rsplit("\n\n", 1)[0]
        for inst in task.instances
        if inst.idx == 0
    }
    return given, shown


def _source(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if not k.startswith("shadow_")}


@pytest.mark.parametrize("benchmark", list(FEWSHOT))
def test_variants_get_orig_examples_in_their_own_format(
    train_data, task_manager, monkeypatch, benchmark
):
    """A content variant's item gets the examples ``orig`` gives the same item, unchanged; a
    format variant's, the same examples in its format (ARC's ``permuted`` and
    ``none_of_the_others``, lettered like ``format_swap``: ``format_swap``'s). On a seeded
    sample of items, so that items sit at other positions than in the whole split."""
    shots, items = FEWSHOT[benchmark][0], 40
    rows = load_split(benchmark, get_benchmark(benchmark).eval_split)[0]
    sampled = sample_rows(benchmark, rows, items, resolve_seed())
    train_data(benchmark, sampled)  # every sampled item has its copy among the examples
    monkeypatch.setenv("SHADOW_SUITE_ITEMS", str(items))
    orig, orig_text = _examples(our_task(task_manager, f"shadow_{benchmark}_orig"), shots)
    assert len(orig) == items and all(len(e) == shots for e in orig.values())
    text_of: dict[str, dict[str, str]] = {}
    for name, spec in VARIANTS[benchmark].items():
        given, text = _examples(our_task(task_manager, f"shadow_{benchmark}_{name}"), shots)
        text_of[name] = text
        assert given and set(given) <= set(orig)
        for item, examples in given.items():
            assert [e["shadow_id"] for e in examples] == [e["shadow_id"] for e in orig[item]], (
                f"{name} {item}"
            )
            if not spec.fewshot and spec.same_format_as is None:  # orig's, as orig shows them
                assert [_source(e) for e in examples] == [_source(e) for e in orig[item]]
                assert text[item] == orig_text[item], f"{name} {item}"
                continue
            shown = get_variant(benchmark, spec.same_format_as or name)
            for example, theirs in zip(examples, orig[item], strict=True):
                expect = apply_variant(
                    benchmark, shown.name, theirs, theirs["shadow_id"], theirs["shadow_seed"]
                )
                assert example["shadow_prompt"] == expect["shadow_prompt"]
            assert text[item] == "\n\n".join(
                f"{e['shadow_prompt']} {e['shadow_choices'][e['shadow_gold']]}" for e in examples
            )
    for name, spec in VARIANTS[benchmark].items():
        if spec.same_format_as is not None:
            other = text_of[spec.same_format_as]
            assert all(other[item] == text for item, text in text_of[name].items() if item in other)


def test_fewshot_without_a_train_split_is_refused_in_one_line(
    benchmark_data, tmp_path, monkeypatch, task_manager
):
    (tmp_path / "arc_challenge").mkdir()
    (tmp_path / "arc_challenge" / "test.jsonl").symlink_to(
        benchmark_data / "arc_challenge" / "test.jsonl"
    )
    monkeypatch.setenv("SHADOW_SUITE_DATA", str(tmp_path))
    for name in ("shadow_arc_challenge_orig", "shadow_arc_challenge_relabeled"):
        task = our_task(task_manager, name)
        assert requests_by_doc(task, limit=3)  # zero-shot needs no train split
        task.set_config("num_fewshot", 25)
        with pytest.raises(ShadowSuiteError) as err:
            requests_by_doc(task, limit=3)
        message = str(err.value)
        assert "\n" not in message
        assert f"{tmp_path}/arc_challenge/train.jsonl is missing" in message
        assert "the same fields as test.jsonl" in message


def test_orig_fewshot_from_the_hub_matches_lm_eval(benchmark_data, task_manager, monkeypatch):
    """Without a data folder the train split comes from the hub dataset lm-eval loads (here
    a stand-in for ``datasets.load_dataset``, the hub being offline), with the same result."""
    splits = {
        "test": _jsonl(benchmark_data / "arc_challenge" / "test.jsonl"),
        "train": _jsonl(benchmark_data / "arc_challenge" / "validation.jsonl"),
    }
    asked: list[tuple] = []

    def load_dataset(path: str, name: str | None = None, split: str | None = None, **_: Any):
        asked.append((path, name, split))
        return datasets.Dataset.from_list(splits[split])

    monkeypatch.delenv("SHADOW_SUITE_DATA")
    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    data._read_hub.cache_clear()
    try:
        theirs = lm_eval_task(task_manager, "arc_challenge", {**splits, "validation": []})
        ours = our_task(task_manager, "shadow_arc_challenge_orig")
        for task in (theirs, ours):
            task.set_config("num_fewshot", 25)
        assert requests_by_doc(ours, 50) == requests_by_doc(theirs, 50)
    finally:
        data._read_hub.cache_clear()
    assert ("allenai/ai2_arc", "ARC-Challenge", "train") in asked
