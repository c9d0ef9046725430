"""Do two lm-eval runs of the same tasks (say ``--model hf`` and ``--model vllm``) agree item by item?

The test oracle of the vLLM tests, kept free of I/O but for :func:`read_samples`.

Rule for multiple-choice items: every choice's log-likelihood may differ by at most
``ll_tol`` nats between the runs, and the chosen answer (argmax of the raw log-likelihood,
and of the log-likelihood per character of the choice, lm-eval's ``acc_norm``) must be the
same, except on a near tie: when the best two choices are within ``2 * ll_tol`` in either
run, the largest gap that per-choice differences of ``ll_tol`` can flip. Generation items
(gsm8k): same prompt, same generated text (but for an incomplete character at the cut-off),
same extracted answer (greedy decoding of the same float32 model on both sides); the
generation arguments compared leave out :data:`DETOKENIZATION_OPTIONS`, which change how the
generated tokens are written as text, not which tokens, and the texts are compared. Text items
(the familiarity tasks, lm-eval's ``loglikelihood_rolling``): the text's log-likelihood, a sum
over all its tokens, may differ by at most ``ll_tol`` nats per :data:`BYTES_PER_TOLERANCE`
bytes of the text (at least ``ll_tol``), as the per-token differences add up.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BYTES_PER_TOLERANCE = 8
"""Text items: ``ll_tol`` per this many bytes (a token of the tiny tokenizer is 2-4 bytes)."""
DETOKENIZATION_OPTIONS = frozenset({"skip_special_tokens", "spaces_between_special_tokens"})
"""vLLM sampling options that only turn tokens into text. lm-eval's vllm backend defaults to
skip_special_tokens=False where its hf backend (and vLLM's server) skip special tokens, so
the vLLM tests' engine run sets skip_special_tokens=True and the hf run cannot take that
argument (transformers' generate refuses it)."""
Key = tuple[str, int, str]
"""(task, doc_id, filter): one row of an lm-eval samples file."""


@dataclass(frozen=True)
class Item:
    task: str
    doc_id: int
    filter: str
    requests: tuple[tuple[str, ...], ...]
    """The arguments lm-eval sent, per request (context, continuation) or (context, gen_kwargs)."""
    loglikelihoods: tuple[float, ...] | None
    """Per choice, for multiple-choice items; None for generation items."""
    generation: str | None
    answer: str | None
    """The filtered response of a generation item (the extracted number)."""
    text_bytes: int | None = None
    """A text item (loglikelihood_rolling): the text's UTF-8 length; its log-likelihood is
    ``loglikelihoods[0]``."""


def read_samples(output_dir: Path) -> dict[Key, Item]:
    """Every samples_*.jsonl row under an lm-eval ``--output_path`` folder."""
    items: dict[Key, Item] = {}
    files = sorted(output_dir.rglob("samples_*.jsonl"))
    if not files:
        raise FileNotFoundError(f"no samples_*.jsonl under {output_dir}")
    for path in files:
        task = path.name[len("samples_") :].rsplit("_", 1)[0]
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                item = parse_row(task, json.loads(line))
                items[(item.task, item.doc_id, item.filter)] = item
    return items


def parse_row(task: str, row: dict[str, Any]) -> Item:
    requests = tuple(
        tuple(str(_without_detokenization(v)) for v in args.values())
        for args in row["arguments"].values()
    )
    resps = row["resps"]
    if len(requests) == 1 and len(requests[0]) == 1:  # loglikelihood_rolling: (text,)
        text = requests[0][0]
        return Item(task, int(row["doc_id"]), str(row["filter"]), requests,
                    (float(resps[0][0]),), None, None, len(text.encode("utf-8")))  # fmt: skip
    if resps and isinstance(resps[0][0], list | tuple):  # [[ [ll, greedy] ], ...]
        lls = tuple(float(choice[0][0]) for choice in resps)
        return Item(task, int(row["doc_id"]), str(row["filter"]), requests, lls, None, None)
    answer = row["filtered_resps"][0] if row["filtered_resps"] else None
    return Item(
        task, int(row["doc_id"]), str(row["filter"]), requests, None, str(resps[0][0]), answer
    )


def _without_detokenization(arg: Any) -> Any:
    """A generation request's kwargs without :data:`DETOKENIZATION_OPTIONS`; other args as given."""
    if isinstance(arg, dict):
        return {k: v for k, v in arg.items() if k not in DETOKENIZATION_OPTIONS}
    return arg


@dataclass
class Agreement:
    compared: int = 0
    multiple_choice: int = 0
    generation: int = 0
    texts: int = 0
    max_ll_diff: float = 0.0
    max_text_diff_per_byte: float = 0.0
    near_ties: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def compare(reference: dict[Key, Item], other: dict[Key, Item], ll_tol: float) -> Agreement:
    """Check ``other`` against ``reference`` item by item (see the module doc for the rule)."""
    result = Agreement()
    for key in sorted(set(reference) | set(other)):
        if key not in reference or key not in other:
            side = "reference" if key not in reference else "other"
            result.problems.append(f"{key}: missing from the {side} run")
            continue
        ref, oth = reference[key], other[key]
        result.compared += 1
        if ref.requests != oth.requests:
            result.problems.append(f"{key}: different prompts")
            continue
        if ref.text_bytes is not None and oth.text_bytes is not None:
            result.texts += 1
            _compare_text(key, ref, oth, ll_tol, result)
        elif ref.loglikelihoods is not None and oth.loglikelihoods is not None:
            result.multiple_choice += 1
            _compare_choices(key, ref, oth, ll_tol, result)
        else:
            result.generation += 1
            if _complete_text(ref.generation) != _complete_text(oth.generation):
                result.problems.append(
                    f"{key}: generations differ: {ref.generation!r:.60} vs {oth.generation!r:.60}"
                )
            if ref.answer != oth.answer:
                result.problems.append(f"{key}: answers differ: {ref.answer!r} vs {oth.answer!r}")
    return result


def _complete_text(text: str | None) -> str | None:
    """The text without a trailing U+FFFD: when generation stops inside a multi-byte
    character, Hugging Face decodes the partial bytes to U+FFFD while vLLM's incremental
    detokenizer holds them back, so the same tokens read differently at the very end."""
    return None if text is None else text.rstrip("\ufffd")


def _compare_text(key: Key, ref: Item, oth: Item, ll_tol: float, result: Agreement) -> None:
    diff = abs((ref.loglikelihoods or (0.0,))[0] - (oth.loglikelihoods or (0.0,))[0])
    n_bytes = max(ref.text_bytes or 1, 1)
    result.max_text_diff_per_byte = max(result.max_text_diff_per_byte, diff / n_bytes)
    allowed = ll_tol * max(1.0, n_bytes / BYTES_PER_TOLERANCE)
    if diff > allowed:
        result.problems.append(
            f"{key}: text log-likelihoods differ by {diff:.2e} > {allowed:.1e} ({n_bytes} bytes)"
        )


def _compare_choices(key: Key, ref: Item, oth: Item, ll_tol: float, result: Agreement) -> None:
    a, b = ref.loglikelihoods or (), oth.loglikelihoods or ()
    if len(a) != len(b):
        result.problems.append(f"{key}: {len(a)} vs {len(b)} choices")
        return
    diff = max(abs(x - y) for x, y in zip(a, b, strict=True))
    result.max_ll_diff = max(result.max_ll_diff, diff)
    if diff > ll_tol:
        result.problems.append(f"{key}: log-likelihoods differ by {diff:.2e} > {ll_tol:.0e}")
    lengths = [max(len(req[1]), 1) for req in ref.requests]
    for name, sa, sb in (
        ("raw", a, b),
        ("per-char", _per_char(a, lengths), _per_char(b, lengths)),
    ):
        if argmax(sa) == argmax(sb):
            continue
        if min(top_gap(sa), top_gap(sb)) <= 2 * ll_tol:
            result.near_ties += 1
        else:
            result.problems.append(
                f"{key}: {name} argmax {argmax(sa)} vs {argmax(sb)} (gap {top_gap(sa):.2e})"
            )


def _per_char(lls: Sequence[float], lengths: Sequence[int]) -> list[float]:
    return [ll / n for ll, n in zip(lls, lengths, strict=True)]


def argmax(values: Sequence[float]) -> int:
    return max(range(len(values)), key=lambda i: values[i])


def top_gap(values: Sequence[float]) -> float:
    """Best minus second best (infinite with one value)."""
    ordered = sorted(values, reverse=True)
    return ordered[0] - ordered[1] if len(ordered) > 1 else float("inf")
