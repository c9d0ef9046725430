"""``shadow_items``: a seeded sample of N source items, the same for ``orig`` and every
variant of a benchmark, spread over MMLU's subjects; only the sampled items are transformed."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from shadow_suite.contract import ITEMS_ENV
from shadow_suite.errors import ShadowSuiteError
from shadow_suite.taskpack import loader as taskpack
from shadow_suite.taskpack.data import load_split
from shadow_suite.taskpack.loader import build_docs, resolve_items
from shadow_suite.taskpack.suite import BENCHMARKS, get_benchmark
from shadow_suite.taskpack.variants import VARIANTS


@pytest.fixture(autouse=True)
def _no_items_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ITEMS_ENV, raising=False)


def eval_docs(benchmark: str, variant: str = "orig", **kwargs: Any) -> list[dict[str, Any]]:
    return build_docs(benchmark, variant, **kwargs)[get_benchmark(benchmark).eval_split]


def ids(docs: list[dict[str, Any]]) -> list[str]:
    return [d["shadow_id"] for d in docs]


def rows(docs: list[dict[str, Any]]) -> list[int]:
    return [int(i.rsplit("/", 1)[1]) for i in ids(docs)]


@pytest.mark.parametrize("benchmark", sorted(BENCHMARKS))
def test_every_variant_evaluates_a_subset_of_the_original_sample(
    benchmark_data: Path, benchmark: str
) -> None:
    n = 40
    orig = eval_docs(benchmark, items=n)
    n_split = len(load_split(benchmark, get_benchmark(benchmark).eval_split)[0])
    assert len(orig) == n and rows(orig) == sorted(set(rows(orig)))  # row order, no repeats
    assert {(d["shadow_sample"], d["shadow_n_source"], d["shadow_n_applied"]) for d in orig} == {
        (n, n_split, n)
    }
    assert [d["shadow_position"] for d in orig] == list(range(n))
    position = {d["shadow_id"]: d["shadow_position"] for d in orig}
    for variant in VARIANTS[benchmark]:
        docs = eval_docs(benchmark, variant, items=n)
        assert set(ids(docs)) <= set(ids(orig)), variant
        assert rows(docs) == sorted(rows(docs)), variant
        assert {d["shadow_n_applied"] for d in docs} == {len(docs)}, variant
        assert {d["shadow_sample"] for d in docs} == {n}, variant
        # the few-shot pairing key: the item's position among orig's documents
        assert all(d["shadow_position"] == position[d["shadow_id"]] for d in docs), variant


def test_the_sample_follows_the_seed(benchmark_data: Path) -> None:
    first = ids(eval_docs("arc_challenge", seed=1, items=30))
    assert set(ids(eval_docs("arc_challenge", "permuted", seed=1, items=30))) <= set(first)
    assert ids(eval_docs("arc_challenge", seed=1, items=30)) == first
    assert ids(eval_docs("arc_challenge", seed=2, items=30)) != first
    # a larger sample holds the smaller one
    assert set(first) <= set(ids(eval_docs("arc_challenge", seed=1, items=60)))


def test_mmlu_sample_is_spread_over_the_subjects(benchmark_data: Path) -> None:
    per_subject = Counter(d["subject"] for d in eval_docs("mmlu", items=114))
    assert len(per_subject) == 57 and set(per_subject.values()) == {2}
    assert len({d["subject"] for d in eval_docs("mmlu", items=57)}) == 57
    assert len({d["subject"] for d in eval_docs("mmlu", items=20)}) == 20
    assert eval_docs("mmlu", seed=3, items=20) != eval_docs("mmlu", seed=4, items=20)


def test_only_the_sampled_items_are_transformed(
    benchmark_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = taskpack.get_variant

    def counting(benchmark: str, name: str) -> Any:
        spec = real(benchmark, name)

        def transform(doc: dict[str, Any], rng: Any) -> Any:
            calls.append(doc["shadow_id"])
            return spec.transform(doc, rng)

        return dataclasses.replace(spec, transform=transform)

    monkeypatch.setattr(taskpack, "get_variant", counting)
    docs = build_docs("mmlu", "permuted", items=30)  # a content variant: few-shot unchanged
    assert len(calls) == 30 and set(calls) == set(ids(eval_docs("mmlu", items=30)))
    n_dev = len(load_split("mmlu", "dev")[0])
    assert len(docs["dev"]) == n_dev  # few-shot splits are never sampled
    calls.clear()
    build_docs("mmlu", "format_swap", items=30)  # a format variant: few-shot transformed too
    assert len(calls) == 30 + n_dev


def test_items_come_from_the_environment_unless_given(
    benchmark_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ITEMS_ENV, "12")
    assert resolve_items() == 12 and len(eval_docs("winogrande")) == 12
    # an explicit None (what `shadow-suite run` passes without --limit) is the whole split
    whole = eval_docs("winogrande", items=None)
    assert len(whole) == len(load_split("winogrande", "validation")[0])
    assert {d["shadow_sample"] for d in whole} == {None}
    assert resolve_items("7") == 7


@pytest.mark.parametrize("value", [0, -1, "x", "-1", "1.5", 2.5, True, 1_000_000])
def test_a_bad_sample_size_is_one_line_naming_shadow_items(
    benchmark_data: Path, value: object
) -> None:
    with pytest.raises(ShadowSuiteError, match="shadow_items") as caught:
        build_docs("arc_challenge", "permuted", items=value)
    assert "\n" not in str(caught.value)


def test_a_bad_sample_size_in_the_environment_is_named(
    benchmark_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ITEMS_ENV, "ten")
    with pytest.raises(ShadowSuiteError, match=f"shadow_items 'ten'.*{ITEMS_ENV}"):
        build_docs("arc_challenge")


def test_lm_eval_pairs_the_tasks_of_a_sample(benchmark_data: Path) -> None:
    """Through lm-eval's own TaskManager and ``--metadata``: orig and its variants evaluate
    the sample's items, and a GSM8K variant item gets the orig item's few-shot examples."""
    from lm_eval.tasks import TaskManager

    from shadow_suite.taskpack.plugin import task_pack_dir

    names = [
        "shadow_mmlu_orig",
        "shadow_mmlu_noisy",
        "shadow_gsm8k_orig",
        "shadow_gsm8k_distractor",
    ]
    tasks = TaskManager(
        include_defaults=False, include_path=str(task_pack_dir()), metadata={"shadow_items": 20}
    ).load(names)["tasks"]
    got = {name: ids(list(tasks[name].eval_docs)) for name in names}
    assert got["shadow_mmlu_orig"] == ids(eval_docs("mmlu", items=20))
    assert len(got["shadow_mmlu_orig"]) == 20
    assert set(got["shadow_mmlu_noisy"]) <= set(got["shadow_mmlu_orig"])
    assert len(got["shadow_mmlu_noisy"]) >= 15
    assert set(got["shadow_gsm8k_distractor"]) <= set(got["shadow_gsm8k_orig"])

    prefixes: dict[str, dict[str, str]] = {}
    for name in ("shadow_gsm8k_orig", "shadow_gsm8k_distractor"):
        task = tasks[name]
        task.set_fewshot_seed(1234)
        task.build_all_requests()
        docs = list(task.eval_docs)
        # the context up to the item's own question: the five few-shot examples
        prefixes[name] = {
            docs[inst.doc_id]["shadow_id"]: inst.arguments[0].rsplit("Question:", 1)[0]
            for inst in task.instances
        }
    orig, variant = prefixes["shadow_gsm8k_orig"], prefixes["shadow_gsm8k_distractor"]
    assert variant and all(variant[i] == orig[i] for i in variant)
    assert len(set(orig.values())) > 1  # the examples differ from item to item


@pytest.mark.parametrize(("sample", "n_source"), [(25, 25), (None, 1172), ("absent", 1172)])
def test_the_gap_reader_counts_skips_within_the_sample(
    tmp_path: Path, sample: object, n_source: int
) -> None:
    """A sampled run's skips are counted within the sample (the card's "skipped k of n");
    a run without a sample, or older than ``shadow_sample``, reads as before."""
    import json

    from shadow_suite.gap.lm_eval_output import read_samples

    doc = {
        "shadow_id": "arc_challenge/test/3",
        "shadow_benchmark": "arc_challenge",
        "shadow_variant": "permuted",
        "shadow_seed": 1234,
        "shadow_data_sha256": "0" * 64,
        "shadow_n_source": 1172,
        "shadow_sample": sample,
        "shadow_n_applied": 20,
    }
    if sample == "absent":
        del doc["shadow_sample"]
    path = tmp_path / "samples_shadow_arc_challenge_permuted.jsonl"
    path.write_text(json.dumps({"doc": doc, "filter": "none", "acc_norm": 1.0}) + "\n")
    task = read_samples(path, tmp_path / "results.json", "shadow_arc_challenge_permuted", 0.0)
    assert (task.n_source, task.n_applied) == (n_source, 20)
    assert task.sample == (sample if isinstance(sample, int) else None)


class _Stop(Exception):
    pass


def _run(tmp_path: Path, *extra: str, model: Path | None = None) -> list[str]:
    return ["run", "--model", "hf", "--model_args", f"pretrained={model or tmp_path}",
            "--tasks", "shadow_arc_challenge", "--out", str(tmp_path / "out"), *extra]  # fmt: skip


def test_run_limit_evaluates_the_sample_and_first_is_lm_evals_limit(
    benchmark_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_model: Path
) -> None:
    import lm_eval
    import lm_eval.tasks

    from shadow_suite.cli import main

    seen: list[dict[str, Any]] = []

    def fake_evaluate(**kwargs: Any) -> None:
        seen.append(kwargs)
        raise _Stop

    monkeypatch.setattr(lm_eval, "simple_evaluate", fake_evaluate)
    # lm-eval's task index takes seconds to build and is not used here
    monkeypatch.setattr(lm_eval.tasks, "TaskManager", lambda **kwargs: kwargs)
    for extra, limit, items in [(["--limit", "8"], None, 8), (["--first", "8"], 8, None)]:
        with pytest.raises(_Stop):
            main(_run(tmp_path, *extra, model=tiny_model))
        assert seen[-1]["limit"] == limit and seen[-1]["metadata"]["shadow_items"] == items
    monkeypatch.setenv(ITEMS_ENV, "9")
    with pytest.raises(_Stop):
        main(_run(tmp_path, model=tiny_model))
    assert seen[-1]["limit"] is None and seen[-1]["metadata"]["shadow_items"] == 9


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--limit", "5000"], "--limit 5000: arc_challenge's evaluated split has only 1172"),
        (["--limit", "0"], "--limit 0: give a positive number"),
        (["--first", "0"], "--first 0: give a positive number"),
        (["--limit", "5", "--first", "5"], "--limit and --first: give one"),
    ],
)
def test_run_refuses_a_bad_limit_before_loading_a_model(
    benchmark_data: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
    extra: list[str],
    message: str,
) -> None:
    from shadow_suite.cli import main

    assert main(_run(tmp_path, *extra)) == 2
    assert message in capsys.readouterr().err
