"""Gap analysis: pair each variant item with its original and measure the difference.

``load_results(paths)`` reads lm-eval output folders (results + samples JSONL) and
``analyse(results)`` computes the gap tables and the headline shadow gap.
"""

from shadow_suite.gap.analysis import BenchmarkGap, GapAnalysis, Headline, VariantGap, analyse
from shadow_suite.gap.lm_eval_output import EvalResults, RunInfo, TaskStatus, load_results

__all__ = [
    "BenchmarkGap",
    "EvalResults",
    "GapAnalysis",
    "Headline",
    "RunInfo",
    "TaskStatus",
    "VariantGap",
    "analyse",
    "load_results",
]
