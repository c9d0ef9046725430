"""Our mirror of lm-eval's templates (used to check that variants change what the model
sees) against lm-eval 0.4.13's own configs and helper functions, on real rows."""

from __future__ import annotations

from pathlib import Path

import lm_eval
import pytest
import yaml
from lm_eval.utils import apply_template
from variants_helpers import load_docs

from shadow_suite.taskpack.variants import apply_variant
from shadow_suite.taskpack.variants.render import render_original

TASKS = Path(lm_eval.__file__).parent / "tasks"


def _rows(data: Path, benchmark: str, n: int = 60) -> list[dict]:
    docs = load_docs(str(data), benchmark)
    return list(docs[:: max(1, len(docs) // n)])


def _config(relative: str) -> dict:
    return yaml.safe_load((TASKS / relative).read_text())


def test_mmlu_and_its_cloze_format_swap_match_lm_eval(benchmark_data: Path) -> None:
    lettered = _config("mmlu/default/_default_template_yaml")
    cloze = _config("mmlu/continuation/_continuation_template_yaml")
    for doc in _rows(benchmark_data, "mmlu"):
        ours = render_original("mmlu", doc)
        assert ours.prompt == apply_template(lettered["doc_to_text"], doc)
        assert list(ours.choices) == lettered["doc_to_choice"]
        swapped = apply_variant("mmlu", "format_swap", doc, doc["shadow_id"], 0)
        if swapped is not None:
            assert swapped["shadow_prompt"] == apply_template(cloze["doc_to_text"], doc)
            assert swapped["shadow_choices"] == doc["choices"]


def test_arc_and_gsm8k_match_lm_eval(benchmark_data: Path) -> None:
    arc = _config("arc/arc_easy.yaml")
    for doc in _rows(benchmark_data, "arc_challenge"):
        ours = render_original("arc_challenge", doc)
        assert ours.prompt == apply_template(arc["doc_to_text"], doc)
        assert list(ours.choices) == doc["choices"]["text"]
        assert str(ours.gold) == apply_template(arc["doc_to_target"], doc)
    gsm8k = _config("gsm8k/gsm8k.yaml")
    for doc in _rows(benchmark_data, "gsm8k"):
        assert render_original("gsm8k", doc).prompt == apply_template(gsm8k["doc_to_text"], doc)


def test_hellaswag_matches_lm_eval_process_docs(benchmark_data: Path) -> None:
    datasets = pytest.importorskip("datasets")
    from lm_eval.tasks.hellaswag import utils

    rows = _rows(benchmark_data, "hellaswag", 200)
    processed = utils.process_docs(datasets.Dataset.from_list(rows))
    for doc, theirs in zip(rows, processed, strict=True):
        ours = render_original("hellaswag", doc)
        assert ours.prompt == theirs["query"]
        assert list(ours.choices) == theirs["choices"]
        assert ours.gold == theirs["gold"]
        lettered = apply_variant("hellaswag", "lettered", doc, doc["shadow_id"], 0)
        assert lettered is not None and theirs["query"] in lettered["shadow_prompt"]


def test_winogrande_matches_lm_eval(benchmark_data: Path) -> None:
    from lm_eval.tasks.winogrande import preprocess_winogrande as wg

    for doc in _rows(benchmark_data, "winogrande"):
        ours = render_original("winogrande", doc)
        assert ours.prompt == wg.doc_to_target(doc)
        assert list(ours.choices) == wg.doc_to_choice(doc)
        assert ours.gold == wg.doc_to_text(doc)
