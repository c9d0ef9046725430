"""Under lm-eval's chat flags (``--apply_chat_template``, ``--fewshot_as_multiturn``,
``--system_instruction``) our ``orig`` tasks still send lm-eval's own requests: the prompts
are rendered through a model's chat template exactly as lm-eval's evaluator renders them
(``build_all_requests`` with the template, its flags and the tokenizer's name).

lm-eval's tasks are built from lm-eval's own YAML with only the data source swapped for the
local rows, as in ``test_parity.py``; the chat template is the tiny tokenizer's ChatML one.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import datasets
import pytest
from lm_eval.api.task import ConfigurableTask
from lm_eval.tasks import TaskManager
from lm_eval.tasks._yaml_loader import load_yaml

from shadow_suite.taskpack.data import load_split
from shadow_suite.tiny_model import CHATML_TEMPLATE, train_tokenizer

FEWSHOT_SEED = 1234
SYSTEM = "You are a careful assistant. Answer the question."


@pytest.fixture(scope="module")
def task_manager() -> TaskManager:
    return TaskManager()


@pytest.fixture(scope="module")
def chat_template() -> Any:
    """What lm-eval's HF model passes as ``chat_template``: its ``apply_chat_template``."""
    tokenizer = train_tokenizer(["a chat template for a tiny test tokenizer"] * 4, 300)
    tokenizer.chat_template = CHATML_TEMPLATE

    def apply(history: list[dict[str, str]], add_generation_prompt: bool = True) -> str:
        return tokenizer.apply_chat_template(
            history,
            tokenize=False,
            add_generation_prompt=add_generation_prompt,
            continue_final_message=not add_generation_prompt,
        )

    return apply


def requests_by_doc(
    task: Any, chat: Any, flags: dict[str, Any], samples: list[int] | None = None, **kw: Any
) -> list[list[tuple]]:
    task.set_fewshot_seed(FEWSHOT_SEED)
    task.build_all_requests(
        samples=samples,
        apply_chat_template=True,
        chat_template=chat,
        tokenizer_name="tiny",
        **flags,
        **kw,
    )
    grouped: dict[int, list[tuple]] = defaultdict(list)
    for inst in task.instances:
        args = tuple(repr(sorted(a.items())) if isinstance(a, dict) else a for a in inst.arguments)
        grouped[inst.doc_id].append((inst.request_type, inst.idx, args))
    return [sorted(grouped[i]) for i in sorted(grouped)]


def lm_eval_task(tm: TaskManager, name: str, splits: dict[str, list[dict]]) -> ConfigurableTask:
    config = load_yaml(tm.task_index[name].yaml_path, resolve_func=True, recursive=True)
    config.pop("dataset_kwargs", None)
    config["custom_dataset"] = lambda **_: datasets.DatasetDict(
        {split: datasets.Dataset.from_list(rows) for split, rows in splits.items()}
    )
    return ConfigurableTask(config=config)


FLAGS = {
    "multiturn": {"fewshot_as_multiturn": True},
    "single_turn": {"fewshot_as_multiturn": False},
    "system": {"fewshot_as_multiturn": True, "system_instruction": SYSTEM},
}


@pytest.mark.parametrize("flags", sorted(FLAGS))
@pytest.mark.parametrize(
    ("benchmark", "split_map", "limit"),
    [
        # lm-eval's split -> ours (the extra ones only feed zero-shot tasks' sampler setup)
        ("arc_challenge", {"test": "test", "train": "test", "validation": "test"}, 40),
        ("hellaswag", {"validation": "validation", "train": "validation"}, 40),
        ("winogrande", {"validation": "validation", "train": "validation"}, 40),
        ("gsm8k", {"test": "test", "train": "train"}, 20),  # 5-shot, generation
    ],
)
def test_orig_chat_requests_match_lm_eval(
    benchmark_data, task_manager, chat_template, benchmark, split_map, limit, flags
):
    splits = {theirs: load_split(benchmark, ours)[0] for theirs, ours in split_map.items()}
    theirs = lm_eval_task(task_manager, benchmark, splits)
    ours = task_manager.load([f"shadow_{benchmark}_orig"])["tasks"][f"shadow_{benchmark}_orig"]
    assert ours.config.num_fewshot == theirs.config.num_fewshot
    expected = requests_by_doc(theirs, chat_template, FLAGS[flags], limit=limit)
    got = requests_by_doc(ours, chat_template, FLAGS[flags], limit=limit)
    assert len(got) == len(expected) > 0
    context = got[0][0][2][0]
    assert context.startswith("<|im_start|>")  # the template was applied
    assert (SYSTEM in context) == (flags == "system")
    for doc_id, (a, b) in enumerate(zip(got, expected, strict=True)):
        assert a == b, f"{benchmark} doc {doc_id} ({flags})"


@pytest.mark.parametrize("flags", sorted(FLAGS))
def test_mmlu_orig_chat_5_shot_matches_lm_eval(benchmark_data, task_manager, chat_template, flags):
    """MMLU 5-shot (the leaderboard's setting) through the chat template, on the first
    items of a few subjects, against lm-eval's subject tasks."""
    subjects = ["abstract_algebra", "high_school_biology", "world_religions"]
    per_subject = 3
    test_rows, dev_rows = load_split("mmlu", "test")[0], load_split("mmlu", "dev")[0]
    rows_of = {s: [i for i, r in enumerate(test_rows) if r["subject"] == s] for s in subjects}
    checked = sorted(i for s in subjects for i in rows_of[s][:per_subject])

    ours = task_manager.load(["shadow_mmlu_orig"])["tasks"]["shadow_mmlu_orig"]
    ours.set_config("num_fewshot", 5)
    got = requests_by_doc(ours, chat_template, FLAGS[flags], samples=checked)
    expected: list[list[tuple]] = []
    for subject in sorted(subjects, key=lambda s: rows_of[s][0]):
        theirs = lm_eval_task(
            task_manager,
            f"mmlu_{subject}",
            {
                "test": [test_rows[i] for i in rows_of[subject]],
                "dev": [r for r in dev_rows if r["subject"] == subject],
            },
        )
        theirs.set_config("num_fewshot", 5)
        expected += requests_by_doc(theirs, chat_template, FLAGS[flags], limit=per_subject)
    assert len(got) == len(expected) == len(subjects) * per_subject
    # five examples as five user and five assistant turns, then the generation prompt
    turns = got[0][0][2][0].count("<|im_start|>assistant")
    assert turns == (1 if flags == "single_turn" else 6)
    for row, a, b in zip(checked, got, expected, strict=True):
        assert a == b, f"mmlu row {row} ({test_rows[row]['subject']}, {flags})"
