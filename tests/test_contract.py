"""The contract between the task pack and its readers (``shadow_suite.contract``): names and
document fields round-trip, bad ones fail in one line, and the pack agrees with it."""

from __future__ import annotations

import pytest
import yaml

from shadow_suite.contract import (
    BENCHMARK_NAMES,
    FEWSHOT_FLAG,
    GROUP,
    ORIG,
    ItemId,
    ShadowMeta,
    benchmark_group,
    benchmark_of_task,
    item_id,
    output_type,
    parse_task_name,
    task_name,
)
from shadow_suite.errors import ShadowSuiteError
from shadow_suite.taskpack.plugin import task_pack_dir
from shadow_suite.taskpack.suite import BENCHMARKS
from shadow_suite.taskpack.variants import VARIANTS


class _YamlWithFunctions(yaml.SafeLoader):
    """lm-eval's YAML: ``!function module.name`` read as its text."""


_YamlWithFunctions.add_constructor("!function", lambda loader, node: loader.construct_scalar(node))


def test_every_task_name_parses_back() -> None:
    for benchmark, variants in VARIANTS.items():
        for variant in [ORIG, *variants]:
            name = task_name(benchmark, variant)
            assert parse_task_name(name) == (benchmark, variant)
            assert benchmark_of_task(name) == benchmark
        assert parse_task_name(benchmark_group(benchmark)) == (benchmark, None)
    assert parse_task_name(GROUP) is None
    assert parse_task_name("arc_challenge") is None  # lm-eval's own task, not the pack's
    assert benchmark_of_task("shadow_unknown_orig") is None


def test_the_registry_the_yaml_and_the_contract_agree() -> None:
    """One benchmark list, in one order; each orig task's YAML declares the contract's
    output type (what run and the readers assume about its requests)."""
    assert tuple(BENCHMARKS) == BENCHMARK_NAMES
    for benchmark in BENCHMARK_NAMES:
        path = task_pack_dir() / GROUP / benchmark / f"{task_name(benchmark, ORIG)}.yaml"
        config = yaml.load(path.read_text(encoding="utf-8"), Loader=_YamlWithFunctions)
        assert config["output_type"] == output_type(benchmark), path
    with pytest.raises(ShadowSuiteError, match=r"^unknown benchmark 'mmlu_pro'; known: mmlu, "):
        output_type("mmlu_pro")


def test_item_ids_round_trip_and_bad_ones_fail_in_one_line() -> None:
    assert str(ItemId.parse("gsm8k/test_rephrased/12")) == "gsm8k/test_rephrased/12"
    assert ItemId.parse(item_id("mmlu", "test", 0)) == ItemId("mmlu", "test", 0)
    for bad in ("mmlu/test", "mmlu/test/-1", "mmlu/test/01", "mmlu/test/x", "a/b/1/2"):
        with pytest.raises(ShadowSuiteError, match=r"^shadow_id .* is not <benchmark>/") as err:
            ItemId.parse(bad)
        assert "\n" not in str(err.value)


def test_meta_round_trips_through_a_document() -> None:
    evaluated = ShadowMeta(item_id("arc_challenge", "test", 7), "arc_challenge", "permuted",
                           1234, "ab" * 32, n_source=1172, sample=30, n_applied=28, position=3)  # fmt: skip
    doc = {"question": "q", **evaluated.to_fields()}
    assert ShadowMeta.from_doc(doc) == evaluated
    assert evaluated.task == "shadow_arc_challenge_permuted" and evaluated.item.row == 7
    example = ShadowMeta(item_id("mmlu", "dev", 2), "mmlu", ORIG, 1234, "cd" * 32, fewshot=True)
    fields = example.to_fields()
    assert fields[FEWSHOT_FLAG] is True and "shadow_n_source" not in fields
    assert ShadowMeta.from_doc(fields) == example


def test_a_document_without_the_fields_fails_naming_where() -> None:
    with pytest.raises(ShadowSuiteError, match=r"^samples\.jsonl:3: document lacks shadow_id, "):
        ShadowMeta.from_doc({"question": "q"}, "samples.jsonl:3")
    doc = ShadowMeta(item_id("mmlu", "test", 1), "mmlu", ORIG, 1, "0" * 64, n_source=9,
                     n_applied=9).to_fields()  # fmt: skip
    with pytest.raises(ShadowSuiteError, match=r"^x: bad shadow_\* field"):
        ShadowMeta.from_doc({**doc, "shadow_seed": "seven"}, "x")
    # runs older than the seeded sample have no shadow_sample / shadow_position
    older = {k: v for k, v in doc.items() if k not in ("shadow_sample", "shadow_position")}
    assert ShadowMeta.from_doc(older).sample is None
