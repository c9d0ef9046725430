"""The ``shadow_suite`` lm-eval task pack: YAML only (``shadow_suite/``).

A package so that lm-eval's task entry points (``lm_eval.tasks`` -> ``shadow_suite.taskpack.tasks``,
lm-evaluation-harness PR #4015) resolve to this folder. The variant tasks' YAML is generated
from the variant registry (``python -m shadow_suite.taskpack.generate``); the Python the YAML
names lives one level up, in ``shadow_suite.taskpack``.
"""
