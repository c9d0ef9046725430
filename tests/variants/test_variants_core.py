"""The variant registry, seeding and error messages (no benchmark data needed)."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from shadow_suite.cli import main
from shadow_suite.errors import ShadowSuiteError
from shadow_suite.taskpack.suite import BENCHMARKS
from shadow_suite.taskpack.variants import (
    VARIANTS,
    Variant,
    applicability,
    apply_variant,
    get_variant,
    item_rng,
    run_rng,
    validate_seed,
)

SRC = Path(__file__).resolve().parents[2] / "src"

# Hand-written documents in each benchmark's raw schema (not benchmark data).
SAMPLES: dict[str, dict] = {
    "mmlu": {
        "subject": "astronomy",
        "question": "Which planet is known as the Red Planet because of the iron oxide on it?",
        "choices": ["Venus", "Mars", "Jupiter", "Saturn"],
        "answer": 1,
        "shadow_id": "mmlu/test/0",
    },
    "arc_challenge": {
        "id": "X_1",
        "question": "Which process do plants use to turn sunlight into chemical energy?",
        "choices": {
            "text": ["respiration", "photosynthesis", "digestion", "evaporation"],
            "label": ["A", "B", "C", "D"],
        },
        "answerKey": "B",
        "shadow_id": "arc_challenge/test/0",
    },
    "hellaswag": {
        "ind": 1,
        "activity_label": "Washing dishes",
        "ctx_a": "A woman stands at the kitchen sink and fills it with warm soapy water.",
        "ctx_b": "she",
        "ctx": "A woman stands at the kitchen sink and fills it with warm soapy water. she",
        "endings": ["scrubs a plate.", "flies away.", "eats the sponge.", "sings to a car."],
        "source_id": "x",
        "split": "val",
        "split_type": "indomain",
        "label": "0",
        "shadow_id": "hellaswag/validation/0",
    },
    "winogrande": {
        "sentence": "The trophy would not fit into the suitcase because the _ was too large.",
        "option1": "trophy",
        "option2": "suitcase",
        "answer": "1",
        "shadow_id": "winogrande/validation/0",
    },
    "gsm8k": {
        "question": "Tom has 12 apples. He buys 30 more apples at the market. How many apples "
        "does Tom have now?",
        "answer": "Tom has 12+30=<<12+30=42>>42 apples.\n#### 42",
        "rephrased_question": "Tom owns 12 apples and purchases another 30 at the market. What "
        "is his apple count now?",
        "shadow_id": "gsm8k/test/0",
    },
}


def test_registry_matches_the_issue() -> None:
    assert set(VARIANTS) == set(BENCHMARKS)
    expected = {
        "mmlu": {"permuted", "relabeled", "format_swap", "none_of_the_others", "noisy"},
        "arc_challenge": {"permuted", "relabeled", "format_swap", "none_of_the_others", "noisy"},
        "hellaswag": {"lettered", "noisy"},
        "winogrande": {"lettered", "noisy"},
        "gsm8k": {"rephrased", "renumbered", "distractor", "answer_format"},
    }
    assert {b: set(v) for b, v in VARIANTS.items()} == expected
    for benchmark, variants in VARIANTS.items():
        for name, variant in variants.items():
            assert isinstance(variant, Variant)
            assert (variant.name, variant.benchmark) == (name, benchmark)
            assert variant.fewshot == (
                name in {"relabeled", "format_swap", "lettered", "answer_format"}
            )
            assert variant.label == ("recomputed" if name == "renumbered" else "preserved")
            assert variant.description.endswith(".") and variant.skip_reason


@pytest.mark.parametrize("seed", [0, 7, "12", " 3 ", 2**40])
def test_validate_seed_accepts_non_negative_integers(seed: object) -> None:
    assert validate_seed(seed) == int(str(seed).strip())


@pytest.mark.parametrize("seed", [-1, "-3", "abc", 1.5, True, None, "1e3", "", "٣"])
def test_validate_seed_rejects_the_rest_naming_the_value(seed: object) -> None:
    with pytest.raises(ShadowSuiteError, match="invalid seed") as err:
        validate_seed(seed)
    assert repr(seed) in str(err.value) and "\n" not in str(err.value)


def test_unknown_names_are_one_line_errors_listing_the_known() -> None:
    with pytest.raises(ShadowSuiteError, match=r"unknown variant 'shuffled'.*permuted, relabeled"):
        get_variant("mmlu", "shuffled")
    with pytest.raises(ShadowSuiteError, match="unknown variant 'orig'"):
        get_variant("gsm8k", "orig")
    with pytest.raises(ShadowSuiteError, match=r"unknown benchmark 'mmlu_pro'.*mmlu"):
        apply_variant("mmlu_pro", "permuted", SAMPLES["mmlu"], "0", 0)
    with pytest.raises(ShadowSuiteError, match="invalid seed 'x'"):
        apply_variant("mmlu", "permuted", SAMPLES["mmlu"], "0", "x")


def test_item_rng_is_a_pure_function_of_its_four_parts() -> None:
    draws = [item_rng("mmlu", "mmlu/test/0", "permuted", 1).random() for _ in range(2)]
    assert draws[0] == draws[1]
    others = {
        item_rng(*parts).random()
        for parts in [
            ("mmlu", "mmlu/test/0", "permuted", 2),
            ("mmlu", "mmlu/test/1", "permuted", 1),
            ("mmlu", "mmlu/test/0", "noisy", 1),
            ("arc_challenge", "mmlu/test/0", "permuted", 1),
        ]
    }
    assert draws[0] not in others and len(others) == 4
    # pinned values: SHA-256 + Mersenne Twister give the same stream on every platform
    assert item_rng("mmlu", "mmlu/test/0", "permuted", 1234).randrange(10**9) == 78459011
    assert run_rng("mmlu", "relabeled", 1234).randrange(10**9) == 888704118


def test_variant_documents_are_identical_across_processes() -> None:
    script = (
        "import json, sys\n"
        "from shadow_suite.taskpack.variants import VARIANTS, apply_variant\n"
        "samples = json.loads(sys.argv[1])\n"
        "out = {f'{b}/{v}': apply_variant(b, v, samples[b], samples[b]['shadow_id'], 99)\n"
        "       for b in VARIANTS for v in VARIANTS[b]}\n"
        "print(json.dumps(out, sort_keys=True))\n"
    )
    outputs = set()
    for hash_seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(SRC)}
        result = subprocess.run(
            [sys.executable, "-c", script, json.dumps(SAMPLES)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        outputs.add(result.stdout)
    assert len(outputs) == 1
    produced = json.loads(outputs.pop())
    assert all(doc is not None for doc in produced.values()), produced


@pytest.mark.parametrize(("benchmark", "variant"), [(b, v) for b in VARIANTS for v in VARIANTS[b]])
def test_apply_variant_copies_and_keeps_loader_fields(benchmark: str, variant: str) -> None:
    doc = {**copy.deepcopy(SAMPLES[benchmark]), "shadow_seed": 5, "shadow_extra": {"k": [1]}}
    snapshot = copy.deepcopy(doc)
    new = apply_variant(benchmark, variant, doc, doc["shadow_id"], 5)
    assert doc == snapshot
    assert new is not None
    assert new["shadow_extra"] == {"k": [1]} and new["shadow_extra"] is not doc["shadow_extra"]
    assert new["shadow_seed"] == 5 and new["shadow_id"] == doc["shadow_id"]


def test_applicability_counts_skips() -> None:
    aggregate = copy.deepcopy(SAMPLES["mmlu"])
    aggregate["choices"] = ["Venus", "Mars", "Both", "All of the above"]
    docs = [SAMPLES["mmlu"], aggregate, SAMPLES["mmlu"]]
    assert applicability("mmlu", "none_of_the_others", docs, 0) == (3, 2)
    assert applicability("mmlu", "noisy", docs, 0) == (3, 3)
    assert applicability("mmlu", "noisy", [], 0) == (0, 0)


def test_cli_rejects_bad_seed_and_benchmark(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["variants", "--seed", "minus one"]) == 2
    assert "invalid seed 'minus one'" in capsys.readouterr().err
    assert main(["variants", "--benchmark", "mmlu_pro"]) == 2
    assert "unknown benchmark 'mmlu_pro'" in capsys.readouterr().err


def test_variants_pickle() -> None:
    import pickle

    restored = pickle.loads(pickle.dumps(VARIANTS))
    doc = SAMPLES["mmlu"]
    for name in VARIANTS["mmlu"]:
        rng_a, rng_b = (item_rng("mmlu", "mmlu/test/0", name, 3) for _ in range(2))
        assert restored["mmlu"][name].transform(doc, rng_a) == VARIANTS["mmlu"][name].transform(
            doc, rng_b
        )


def test_applicability_rejects_bad_names_and_seeds_without_docs() -> None:
    with pytest.raises(ShadowSuiteError, match="unknown variant 'lettered'"):
        applicability("mmlu", "lettered", [], 0)
    with pytest.raises(ShadowSuiteError, match="invalid seed -2"):
        applicability("mmlu", "noisy", [], -2)
