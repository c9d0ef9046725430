"""Defaults of the gap statistics, importable without numpy (the CLI shows them in --help)."""

DEFAULT_N_BOOT = 10_000
DEFAULT_BOOTSTRAP_SEED = 20260407
CONFIDENCE = 0.95
ALPHA = 0.05
