"""lm-eval's own preprocessing of HellaSwag and WinoGrande, named by the ``orig`` tasks' YAML.

Our ``orig`` tasks must send lm-eval's requests exactly (a test compares them request by
request), so they call the same cleaning and the same WinoGrande blank handling as lm-eval's
``hellaswag`` and ``winogrande`` tasks; the text work itself lives in
:mod:`shadow_suite.taskpack.variants.render`, which the variants share.
"""

from __future__ import annotations

from typing import Any

from shadow_suite.taskpack.variants.render import (
    hellaswag_preprocess,
    hellaswag_query,
    winogrande_contexts,
    winogrande_gold,
    winogrande_target,
)


def hellaswag_process_docs(dataset: Any) -> Any:
    def process(doc: dict[str, Any]) -> dict[str, Any]:
        return {
            "query": hellaswag_query(doc),
            "choices": [hellaswag_preprocess(ending) for ending in doc["endings"]],
            "gold": int(doc["label"]),
        }

    return dataset.map(process)


def winogrande_doc_to_text(doc: dict[str, Any]) -> int:
    # lm-eval's winogrande asks with several inputs: the "text" is the gold option's index
    return winogrande_gold(doc)


def winogrande_doc_to_target(doc: dict[str, Any]) -> str:
    return winogrande_target(doc)


def winogrande_doc_to_choice(doc: dict[str, Any]) -> list[str]:
    return winogrande_contexts(doc)
