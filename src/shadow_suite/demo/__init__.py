"""``shadow-suite demo``: the benchmark-shadow experiment in miniature, offline, on a CPU.

A tiny Llama is pretrained on non-test text, then two copies are fine-tuned with the same
compute on the same evaluated items: one in the benchmarks' own test format
(*benchmark-aligned*), one in other formats (*coverage-expanding*). The task pack, the
spectral engine and the report cards then tell the three models apart, or fail to.
"""

from shadow_suite.demo.config import DEFAULT, QUICK, DemoConfig
from shadow_suite.demo.experiment import DemoOutcome, run_demo

__all__ = ["DEFAULT", "QUICK", "DemoConfig", "DemoOutcome", "run_demo"]
