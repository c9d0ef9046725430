"""Training text of the world: practice questions are rendered by the pack itself, so a
question a model practises on looks exactly like one lm-eval asks (checked against lm-eval's
own requests); attention targets point at the right tokens in every lettered form."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from shadow_suite.world import texts
from shadow_suite.world.build import build_world
from shadow_suite.world.folder import write_world
from shadow_suite.world.spec import WorldSpec
from shadow_suite.world.supervision import lettered_targets, option_spans

SMALL = WorldSpec(
    entities=60, test_items=12, twin_items=12, dev_per_subject=2, min_practice_items=20
)


@pytest.mark.slow
def test_pack_requests_are_lm_evals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lm_eval.tasks import TaskManager

    world = build_world(SMALL)
    write_world(world, tmp_path)
    monkeypatch.setenv("SHADOW_SUITE_DATA", str(tmp_path))
    manager = TaskManager()
    names = [f"shadow_{b}_{v}" for b, v in texts.PACK_FORMS]
    tasks = manager.load(names)["tasks"]
    for benchmark, variant in texts.PACK_FORMS:
        task = tasks[f"shadow_{benchmark}_{variant}"]
        task.build_all_requests()
        by_doc: dict[int, list] = {}
        for inst in task.instances:
            by_doc.setdefault(inst.doc_id, []).append(inst.arguments)
        docs = list(task.eval_docs)
        items = world.split(benchmark, "test")
        assert len(docs) == len(items)
        for doc_id, doc in enumerate(docs):
            row = int(doc["shadow_id"].rsplit("/", 1)[1])
            request = texts.pack_request(items[row], benchmark, variant, 1234)
            assert request is not None
            contexts = {args[0] for args in by_doc[doc_id]}
            continuations = tuple(args[1] for args in by_doc[doc_id])
            assert contexts == {request.context}, (benchmark, variant)
            assert continuations == request.continuations, (benchmark, variant)


def test_option_spans_of_every_symbol_set() -> None:
    world = build_world(SMALL)
    item = world.practice[0]
    rng = random.Random(0)
    seen = set()
    for seed in range(40):
        request = texts.pack_request(item, "mmlu", "relabeled", seed)
        assert request is not None
        spans = option_spans(request.context)
        assert len(spans) == 4
        labels = [request.context[s.label_char] for s in spans]
        seen.add(labels[0])
        for span, option in zip(spans, item.options, strict=True):
            assert request.context[span.text_char :].startswith(option)
    assert seen >= {"1", "a"}
    assert option_spans(texts.pack_request(item, "mmlu", "format_swap", 0).context) == []  # type: ignore[union-attr]
    del rng


def test_attention_targets_point_at_label_and_gold_text() -> None:
    from transformers import PreTrainedTokenizerFast

    from shadow_suite.tiny_model import train_tokenizer
    from shadow_suite.world.train import tokenize_with

    world = build_world(SMALL)
    rng = random.Random(1)
    docs = [texts.practice_doc(i, texts.PACK_FORMS, rng) for i in world.practice[:40]]
    tokenizer: PreTrainedTokenizerFast = train_tokenizer([d.text for d in docs], 400)
    tokenize = tokenize_with(tokenizer)
    lettered = 0
    for doc in docs:
        (ids, offsets), (answer, _) = tokenize([doc.context, doc.target])
        assert doc.gold is not None
        targets = lettered_targets(doc.context, offsets, doc.gold, 4, len(answer))
        if not option_spans(doc.context):
            assert targets == []
            continue
        lettered += 1
        match = [t for t in targets if t.layer == 2]
        gold_text = doc.context.split("\n")[-5 + doc.gold].split(" ", 1)[1]
        key = offsets[match[0].key]
        assert gold_text.startswith(doc.context[key[0] : key[1]].strip()[:3])
        assert match[0].query == len(ids) - 1
    assert lettered > 10
