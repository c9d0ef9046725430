"""Gap analysis: pair each variant item with its original and measure the difference.

``load_results(paths)`` reads lm-eval output folders (results + samples JSONL) and
``analyse(results)`` computes the gap tables and the headline shadow gap. Names are
imported lazily (numpy/scipy stay out of ``shadow-suite --help``).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "BenchmarkGap": "shadow_suite.gap.analysis",
    "GapAnalysis": "shadow_suite.gap.analysis",
    "Headline": "shadow_suite.gap.analysis",
    "VariantGap": "shadow_suite.gap.analysis",
    "analyse": "shadow_suite.gap.analysis",
    "EvalResults": "shadow_suite.gap.lm_eval_output",
    "RunInfo": "shadow_suite.gap.lm_eval_output",
    "TaskStatus": "shadow_suite.gap.lm_eval_output",
    "load_results": "shadow_suite.gap.lm_eval_output",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
