"""Real benchmark rows for the variant tests, and what "label preserved" means per variant."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from shadow_suite.taskpack.suite import get_benchmark
from shadow_suite.taskpack.variants.arithmetic import evaluate
from shadow_suite.taskpack.variants.gsm8k import DISTRACTORS
from shadow_suite.taskpack.variants.multiple_choice import NONE_OF_THE_OTHERS, get_gold, get_options
from shadow_suite.taskpack.variants.render import hellaswag_preprocess

Doc = dict[str, Any]

# Variants whose output does not depend on the seed (nothing random to choose).
SEED_INVARIANT = {
    ("mmlu", "format_swap"),
    ("mmlu", "none_of_the_others"),
    ("arc_challenge", "format_swap"),
    ("arc_challenge", "none_of_the_others"),
    ("hellaswag", "lettered"),
    ("winogrande", "lettered"),
    ("gsm8k", "rephrased"),
    ("gsm8k", "answer_format"),
}


def _read(path: Path) -> list[Doc]:
    return [json.loads(line) for line in path.read_text("utf-8").split("\n") if line.strip()]


@cache
def load_docs(data_dir: str, benchmark: str, split: str | None = None) -> tuple[Doc, ...]:
    """Rows as the task pack hands them to a variant (with ``shadow_id``; GSM8K's test rows
    joined with their rewording)."""
    split = split or get_benchmark(benchmark).eval_split
    rows = _read(Path(data_dir) / benchmark / f"{split}.jsonl")
    docs = [{**row, "shadow_id": f"{benchmark}/{split}/{i}"} for i, row in enumerate(rows)]
    if benchmark == "gsm8k" and split == "test":
        reworded = {
            r["idx"]: r["question"]
            for r in _read(Path(data_dir) / "gsm8k" / "test_rephrased.jsonl")
        }
        docs = [{**d, "rephrased_question": reworded.get(i)} for i, d in enumerate(docs)]
    return tuple(docs)


def canonical(doc: Doc | None) -> str:
    return json.dumps(doc, sort_keys=True, ensure_ascii=False)


def assert_lettered(prompt: str, symbols: list[str], options: list[str]) -> None:
    """Every option is listed once, in order, after its symbol ("1. text" or "(a) text")."""
    positions = []
    for symbol, option in zip(symbols, options, strict=True):
        lines = [f"\n{symbol}. {option}\n", f"\n{symbol} {option}\n"]
        found = [prompt.find(line) for line in lines if line in prompt]
        assert len(found) == 1, (symbol, option, prompt)
        positions.append(found[0])
    assert positions == sorted(positions)
    assert prompt.endswith("\nAnswer:")


NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?|\.\d+")


def assert_label(benchmark: str, variant: str, old: Doc, new: Doc) -> None:
    """The variant's label contract: the same correct answer (possibly moved, relabelled or
    reformatted), or for ``renumbered`` a recomputed one that checks out."""
    assert {k: v for k, v in old.items() if k.startswith("shadow_")}.items() <= new.items()
    if benchmark in ("mmlu", "arc_challenge"):
        options, gold = get_options(benchmark, old), get_gold(benchmark, old)
        new_options, new_gold = get_options(benchmark, new), get_gold(benchmark, new)
        if variant == "permuted":
            assert new_options[new_gold] == options[gold] and new_gold != gold
            assert sorted(new_options) == sorted(options)
        elif variant == "none_of_the_others":
            assert new_gold == gold and new_options[gold] == NONE_OF_THE_OTHERS
            assert [o for i, o in enumerate(new_options) if i != gold] == [
                o for i, o in enumerate(options) if i != gold
            ]
        else:
            assert (new_options, new_gold) == (options, gold)
        if variant in ("relabeled", "format_swap"):
            assert new["shadow_gold"] == gold
            choices = new["shadow_choices"]
            if benchmark == "mmlu" and variant == "format_swap":
                assert choices == options
            else:
                assert_lettered(new["shadow_prompt"], choices, options)
        if variant == "noisy":
            assert NUMBER.findall(new["question"]) == NUMBER.findall(old["question"])
    elif benchmark == "hellaswag":
        assert (new["endings"], new["label"]) == (old["endings"], old["label"])
        if variant == "lettered":
            endings = [hellaswag_preprocess(e).strip() for e in old["endings"]]
            assert new["shadow_gold"] == int(old["label"])
            assert_lettered(new["shadow_prompt"], new["shadow_choices"], endings)
        else:
            assert new["ctx_b"] == old["ctx_b"] and new["activity_label"] == old["activity_label"]
            assert NUMBER.findall(new["ctx_a"]) == NUMBER.findall(old["ctx_a"])
            assert re.findall(r"\[[^\]]*\]", new["ctx_a"]) == re.findall(
                r"\[[^\]]*\]", old["ctx_a"]
            )
    elif benchmark == "winogrande":
        for key in ("option1", "option2", "answer"):
            assert new[key] == old[key]
        if variant == "lettered":
            assert new["shadow_gold"] == int(old["answer"]) - 1
            assert_lettered(new["shadow_prompt"], ["A", "B"], [old["option1"], old["option2"]])
        else:
            assert new["sentence"].count("_") == old["sentence"].count("_")
            for option in (old["option1"], old["option2"]):
                mention = re.compile(rf"\b{re.escape(option)}\b")
                assert len(mention.findall(new["sentence"])) == len(
                    mention.findall(old["sentence"])
                )
    elif benchmark == "gsm8k":
        final = old["answer"].rsplit("#### ", 1)[1]
        if variant == "renumbered":
            assert_renumbered(old, new)
        elif variant == "answer_format":
            assert new["answer"].endswith(f"\nThe final answer is {final}.")
            assert (
                new["answer"].split("\nThe final answer is ")[0]
                == old["answer"].split("\n#### ")[0]
            )
            assert new["question"].startswith(old["question"].rstrip())
        else:
            assert new["answer"] == old["answer"]
            if variant == "rephrased":
                assert new["question"] == old["rephrased_question"]
            if variant == "distractor":
                assert_one_sentence_inserted(old["question"], new["question"])


def assert_one_sentence_inserted(old: str, new: str) -> None:
    """``new`` is ``old`` with one of the distractor sentences (with a number) inserted
    before the last sentence, not at the end."""
    patterns = [re.escape(t).replace(re.escape("{n}"), r"\d+") + " " for t, _ in DISTRACTORS]
    found = [m for p in patterns for m in re.finditer(p, new)]
    assert len(found) == 1, new
    match = found[0]
    assert new[: match.start()] + new[match.end() :] == old
    assert match.start() > 0 and new[match.end() :].strip()  # a sentence follows it


def assert_renumbered(old: Doc, new: Doc) -> None:
    """Same text with other numbers, every annotation checks out, and the final answer is
    the (new, whole, non-negative) result the annotations compute."""
    mask = lambda text: NUMBER.sub("#", text)  # noqa: E731
    assert mask(new["question"]) == mask(old["question"])
    assert mask(new["answer"]) == mask(old["answer"])
    assert new["question"] != old["question"]
    annotations = re.findall(r"<<([^<>=]*)=([^<>]*)>>", new["answer"])
    assert annotations
    for expression, result in annotations:
        assert evaluate(expression) == evaluate(result), (expression, result)
    final = new["answer"].rsplit("\n#### ", 1)[1].replace(",", "")
    old_final = old["answer"].rsplit("\n#### ", 1)[1].replace(",", "")
    assert final.isdigit() and final != old_final
    assert any(evaluate(r) == int(final) for _, r in annotations)
