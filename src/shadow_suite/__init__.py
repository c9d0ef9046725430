"""shadow-suite: is a model's benchmark score real, or a benchmark shadow?

Kept import-light on purpose: ``shadow_suite.taskpack.plugin`` is imported at every
interpreter start-up (through a ``.pth`` file), so nothing heavy may be imported here.
"""

__version__ = "0.1.0"
