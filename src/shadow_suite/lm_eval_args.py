"""Values of lm-eval arguments that its backends use without checking them.

``dtype=bogus`` in ``--model_args`` or ``--gen_kwargs max_gen_toks=abc`` end in a traceback
deep inside transformers, vLLM or lm-eval's generation loop, after the model has loaded. Both
are checked here before, each in one line naming the argument.
"""

from __future__ import annotations

from typing import Any

from shadow_suite.errors import ShadowSuiteError

DTYPES = ("auto", "float32", "float", "float16", "half", "bfloat16", "float64", "double")
"""``dtype=`` values both backends load a model in (lm-eval's hf takes ``torch.<dtype>``)."""

GEN_KWARGS_TYPES: dict[str, type] = {
    "max_gen_toks": int,
    "max_new_tokens": int,
    "max_tokens": int,
    "top_k": int,
    "num_beams": int,
    "temperature": float,
    "top_p": float,
    "min_p": float,
    "repetition_penalty": float,
    "do_sample": bool,
}
"""Generation arguments a backend uses as a number or a flag."""


def check_dtype(model_args: dict[str, Any]) -> None:
    dtype = model_args.get("dtype")
    if dtype is not None and str(dtype) not in DTYPES:
        raise ShadowSuiteError(f"--model_args dtype={dtype}: give one of {', '.join(DTYPES)}")


def check_gen_kwargs(text: str | None) -> None:
    """``--gen_kwargs`` as lm-eval parses it (``key=value,...``, values typed)."""
    if not text:
        return
    from shadow_suite.gap.lm_eval_output import parse_model_args

    for key, value in parse_model_args(text, "--gen_kwargs").items():
        kind = GEN_KWARGS_TYPES.get(key)
        if kind is None:
            continue
        number = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
        ok = {bool: isinstance(value, bool), int: number and isinstance(value, int)}.get(
            kind, number
        )
        if not ok:
            need = {bool: "true or false", int: "a whole number", float: "a number"}[kind]
            raise ShadowSuiteError(f"--gen_kwargs {key}={value!r}: give {need} (>= 0)")
