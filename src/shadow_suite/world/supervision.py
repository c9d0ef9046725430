"""Attention targets that teach a small model to answer lettered questions: a curriculum for the
base, never a change to the model (what is saved is a plain Llama).

Answering "...\\nA. London\\nB. Paris\\n...\\nAnswer:" with " B" takes three attention steps:
each option's text must know its label (a head looks back from "Paris" to "B"), the last
position must know what it is looking for, and a head there must find the option whose text
matches and bring its label. Gradient descent finds that composition only after a long
plateau, because no step helps until the others exist: measured on the world, a 1.4M-parameter
model trained on nothing but such questions stayed at chance for 500 to over 2,500 steps
depending on the seed. With the attention of three heads pointed at the right tokens (a cross
-entropy on their attention weights, next to the usual loss), the same model answered 98% of
held-out questions after 300 steps (``benchmarks/validity/README.md``).

A target is (layer, head, query position, key position): at ``query`` that head should attend
to ``key``. The heads are fixed by convention below; every other head is free.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

LABEL_HEAD = (0, 0)
"""At each option's first text token: attend to the option's label."""
QUERY_HEAD = (0, 1)
"""At the last position: attend to the sought value where the prompt shows it (open book)."""
MATCH_HEAD_OFFSET = 2
"""The match head is head 0 of layer ``num_layers - MATCH_HEAD_OFFSET``: at the last position,
attend to the first text token of the right option."""

_OPTION_LINE = re.compile(r"^(\(?)([A-Za-z0-9])(\)|\.)( )(.+)$")
"""An option line of the pack's lettered forms: ``A. text``, ``1. text``, ``(a) text``."""


@dataclass(frozen=True)
class AttentionTarget:
    layer: int
    head: int
    query: int
    key: int


@dataclass(frozen=True)
class OptionSpan:
    label_char: int
    """Character offset of the label's letter or digit."""
    text_char: int
    """Character offset of the option's text."""


def option_spans(context: str) -> list[OptionSpan]:
    """The option lines at the end of a lettered prompt (just before its last line)."""
    lines = context.split("\n")
    starts = []
    offset = 0
    for line in lines:
        starts.append(offset)
        offset += len(line) + 1
    spans: list[OptionSpan] = []
    for index in range(len(lines) - 2, -1, -1):
        match = _OPTION_LINE.match(lines[index])
        if match is None:
            break
        base = starts[index]
        spans.append(OptionSpan(base + match.start(2), base + match.start(5)))
    return spans[::-1]


def token_at(offsets: Sequence[tuple[int, int]], char: int) -> int:
    """Index of the token whose span holds character ``char`` (a leading space included)."""
    for i, (start, end) in enumerate(offsets):
        if start <= char < end:
            return i
    raise ValueError(f"no token covers character {char}")


def lettered_targets(
    context: str,
    offsets: Sequence[tuple[int, int]],
    gold: int,
    num_layers: int,
    answer_tokens: int,
    sought_char: int | None = None,
) -> list[AttentionTarget]:
    """The targets of one lettered question whose context tokens have ``offsets`` and whose
    answer (" B", " (2)") has ``answer_tokens`` tokens: the label is predicted at the last
    context token and at every answer token but the last (" (2)" is decided at " ("), and
    the match head attends from each of them. ``sought_char``: where the prompt shows the
    answer's text (an open-book question), if it does. No targets for a prompt that does not
    end in options (cloze forms)."""
    spans = option_spans(context)
    if len(spans) < 2 or not 0 <= gold < len(spans):
        return []
    last = len(offsets) - 1
    deciding = range(last, last + max(1, answer_tokens - 1))
    text_tokens = [token_at(offsets, s.text_char) for s in spans]
    label_layer, label_head = LABEL_HEAD
    out = [
        AttentionTarget(label_layer, label_head, t, token_at(offsets, s.label_char))
        for s, t in zip(spans, text_tokens, strict=True)
    ]
    out += [
        AttentionTarget(num_layers - MATCH_HEAD_OFFSET, 0, q, text_tokens[gold]) for q in deciding
    ]
    if sought_char is not None:
        query_layer, query_head = QUERY_HEAD
        out.append(AttentionTarget(query_layer, query_head, last, token_at(offsets, sought_char)))
    return out
