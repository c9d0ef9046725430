"""GSM8K ``renumbered``: the same problem with new numbers and an exactly recomputed answer.

The solution's calculator annotations (``<<16-3-4=9>>9``) are a dataflow graph: every
number in an expression is a number from the question (an *input*), the result of an
earlier annotation, or a constant the wording implies (60 for "hour", 2 for "half").
We give the inputs new values, re-evaluate every annotation in order with exact
fractions, and rewrite the question, the solution text and the final ``#### N``.

An item is skipped (None) whenever that graph cannot be trusted: an annotation that does
not check out in the original, a number in an expression or in the solution text whose
origin is unknown or ambiguous (the same value is an input and a result, or an input and
an implied constant), or no new numbers (out of a few tries) that keep every result
non-negative, every originally whole intermediate whole, and the answer a new
non-negative integer.
"""

from __future__ import annotations

import itertools
import random
import re
from dataclasses import dataclass
from fractions import Fraction

from shadow_suite.taskpack.variants.arithmetic import (
    NUMBER,
    ArithmeticSyntaxError,
    evaluate,
    format_number,
)
from shadow_suite.taskpack.variants.core import (
    SMALL_NUMBER_WORDS,
    TENS_WORDS,
    Doc,
    Variant,
    on_a_copy,
)

ANNOTATION = re.compile(r"<<([^<>=]*)=([^<>]*)>>")
FINAL = re.compile(r"\n#### ([^\n]+)\s*$")
# a number as written in text: 16, 1,000, 2.50, .5
_TEXT_NUMBER = re.compile(r"(?<![\d.,])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|(?<![\d.])\.\d+")

ATTEMPTS = 30

# Values a wording implies without writing digits, so they may appear in expressions.
# Single words: spelled-out numbers and multipliers.
_IMPLIED_BY_WORD: dict[str, tuple[Fraction, ...]] = {
    **{w: (Fraction(v),) for v, w in enumerate(SMALL_NUMBER_WORDS)},
    **{w: (Fraction(10 * (i + 3)),) for i, w in enumerate(TENS_WORDS)},
    "hundred": (Fraction(100),),
    "thousand": (Fraction(1000),),
    "million": (Fraction(1000000),),
    "half": (Fraction(2), Fraction(1, 2)),
    "halves": (Fraction(2), Fraction(1, 2)),
    "halfway": (Fraction(2), Fraction(1, 2)),
    "twice": (Fraction(2),),
    "double": (Fraction(2),),
    "doubles": (Fraction(2),),
    "pair": (Fraction(2),),
    "pairs": (Fraction(2),),
    "both": (Fraction(2),),
    "couple": (Fraction(2),),
    "triple": (Fraction(3),),
    "thrice": (Fraction(3),),
    "third": (Fraction(3), Fraction(1, 3)),
    "thirds": (Fraction(3), Fraction(1, 3)),
    "quarter": (Fraction(4), Fraction(1, 4), Fraction(25)),
    "quarters": (Fraction(4), Fraction(1, 4), Fraction(25)),
    "dozen": (Fraction(12),),
    "dozens": (Fraction(12),),
    "percent": (Fraction(100),),
    "%": (Fraction(100),),
    "century": (Fraction(100),),
    "decade": (Fraction(10),),
    "dime": (Fraction(10),),
    "dimes": (Fraction(10),),
    "nickel": (Fraction(5),),
    "nickels": (Fraction(5),),
    "cents": (Fraction(100),),
    "cent": (Fraction(100),),
}
# Unit conversions: implied only when the problem names both units (a bare "days" does
# not make every 7, 24, 30 and 365 in it ambiguous).
_IMPLIED_BY_UNITS: tuple[tuple[tuple[str, ...], tuple[str, ...], Fraction], ...] = (
    (("second", "seconds"), ("minute", "minutes"), Fraction(60)),
    (("minute", "minutes"), ("hour", "hours", "hourly"), Fraction(60)),
    (("hour", "hours", "hourly"), ("day", "days", "daily"), Fraction(24)),
    (("day", "days", "daily"), ("week", "weeks", "weekly"), Fraction(7)),
    (("day", "days", "daily"), ("month", "months", "monthly"), Fraction(30)),
    (("day", "days", "daily"), ("year", "years", "yearly", "annual", "annually"), Fraction(365)),
    (("week", "weeks", "weekly"), ("year", "years", "yearly", "annual", "annually"), Fraction(52)),
    (
        ("month", "months", "monthly"),
        ("year", "years", "yearly", "annual", "annually"),
        Fraction(12),
    ),
    (("inch", "inches"), ("foot", "feet"), Fraction(12)),
    (("foot", "feet"), ("yard", "yards"), Fraction(3)),
    (("ounce", "ounces"), ("pound", "pounds"), Fraction(16)),
    (("quart", "quarts"), ("gallon", "gallons"), Fraction(4)),
    (("cup", "cups"), ("gallon", "gallons"), Fraction(16)),
    (("centimeter", "centimeters", "cm"), ("meter", "meters", "m"), Fraction(100)),
    (("meter", "meters", "m"), ("kilometer", "kilometers", "km"), Fraction(1000)),
    (("gram", "grams", "g"), ("kilogram", "kilograms", "kg"), Fraction(1000)),
    (("cent", "cents"), ("dollar", "dollars", "$"), Fraction(100)),
)
_ALWAYS_IMPLIED = frozenset({Fraction(0), Fraction(1)})


def implied_values(question: str) -> set[Fraction]:
    words = set(re.findall(r"[a-z]+|%|\$", question.lower()))
    values = set(_ALWAYS_IMPLIED)
    for word in words:
        values.update(_IMPLIED_BY_WORD.get(word, ()))
    for first, second, value in _IMPLIED_BY_UNITS:
        if words & set(first) and words & set(second):
            values.add(value)
    return values


@dataclass(frozen=True)
class _QuestionNumber:
    start: int
    end: int
    text: str
    value: Fraction
    mutable: bool
    percent: bool


def _parse_number(text: str) -> Fraction:
    return Fraction(text.replace(",", ""))


def _question_numbers(question: str) -> list[_QuestionNumber]:
    numbers = []
    for match in _TEXT_NUMBER.finditer(question):
        text, start, end = match.group(0), match.start(), match.end()
        value = _parse_number(text)
        before, after = question[max(0, start - 2) : start], question[end : end + 2]
        mutable = (
            value.denominator == 1
            and "." not in text
            and value >= 2
            # times (3:30), fractions (1/2), ordinals/units glued on (5th, 3pm), names
            # with digits (COVID-19), ranges (grades 4 - 7), years
            and not re.search(r"[:/]$|[A-Za-z]-?$", before)
            and not re.match(r"^[:/]|^[A-Za-z]", after)
            and not re.search(r"\d\s*[-–—]\s*$", question[max(0, start - 4) : start])
            and not re.match(r"^\s*[-–—]\s*\d", question[end : end + 4])
            and not (len(text) == 4 and 1900 <= value <= 2100)
        )
        percent = after.startswith("%") or question[end : end + 8].lstrip().startswith("percent")
        numbers.append(_QuestionNumber(start, end, text, value, mutable, percent))
    return numbers


def _candidates(old: int, percent: bool) -> list[int]:
    """New values an input may take: same kind and magnitude, never itself."""
    if percent:
        candidates = list(range(5, 100, 5)) if old % 5 == 0 else list(range(1, 100))
    elif old <= 12:
        candidates = list(range(2, 13))
    else:
        # keep the magnitude and the roundness: 16 -> 8..25, 250 -> 120..380 in tens
        step = next(s for s in (1000, 500, 100, 50, 10, 5, 1) if old % s == 0 and old // s >= 2)
        units = old // step
        candidates = [step * u for u in range(max(1, units // 2), units * 3 // 2 + 2)]
    return [c for c in candidates if c != old and c >= 2]


def _draw_inputs(plan: _Plan, rng: random.Random) -> dict[Fraction, Fraction] | None:
    """New input values that keep the order of all the question's numbers (the unchanged
    ones included): "put in 4 gallons, the tank holds 12" must not become "put in 5
    gallons, the tank holds 3"."""
    new_inputs: dict[Fraction, Fraction] = {}
    previous: Fraction | None = None
    values = plan.question_values
    for index, value in enumerate(values):
        if value not in plan.inputs:
            previous = value
            continue
        ceiling = next((v for v in values[index + 1 :] if v not in plan.inputs), None)
        options = [
            c
            for c in _candidates(int(value), plan.inputs[value])
            if (previous is None or c > previous) and (ceiling is None or c < ceiling)
        ]
        if not options:
            return None
        previous = new_inputs[value] = Fraction(rng.choice(options))
    return new_inputs


def _format_like(value: Fraction, original: str) -> str | None:
    text = format_number(value)
    if text is None:
        return None
    if "," in original and value.denominator == 1:
        return f"{value.numerator:,}"
    return text


@dataclass(frozen=True)
class _Plan:
    """Where each number of the item comes from, so new values can be propagated."""

    inputs: dict[Fraction, bool]  # input value -> is a percentage
    fixed: set[Fraction]  # values that stay: fixed question numbers, implied constants
    annotations: list[tuple[str, Fraction]]  # (expression, stated result) in order
    final: Fraction
    question_values: tuple[Fraction, ...]  # every number in the question, ascending


def _plan(question: str, solution: str) -> _Plan | None:
    final_match = FINAL.search(solution)
    if not final_match:
        return None
    try:
        final = _parse_number(final_match.group(1).strip())
        annotations = [(e, _parse_number(r.strip())) for e, r in ANNOTATION.findall(solution)]
        if not annotations or any(evaluate(e) != r for e, r in annotations):
            return None  # no annotations, or one that does not check out
    except (ValueError, ArithmeticSyntaxError, ZeroDivisionError):
        return None
    numbers = _question_numbers(question)
    immutable = {n.value for n in numbers if not n.mutable}
    implied = implied_values(question)
    literals = {Fraction(t) for e, _ in annotations for t in NUMBER.findall(e)}
    # inputs: question numbers the annotations use, every occurrence of which may change;
    # the other question numbers stay as they are
    inputs = {
        n.value: n.percent
        for n in numbers
        if n.mutable and n.value not in immutable and n.value in literals
    }
    fixed_in_question = {n.value for n in numbers} - set(inputs)
    results = [r for _, r in annotations]
    if set(inputs) & (implied | set(results)):
        return None  # an input's value is also an implied constant or a result: ambiguous
    if set(results) & (fixed_in_question | implied):
        return None  # a result's value also stands for an unchanged number: ambiguous
    known = set(inputs) | fixed_in_question | implied
    for index, (expression, _) in enumerate(annotations):
        earlier = set(results[:index])
        if any(Fraction(t) not in known | earlier for t in NUMBER.findall(expression)):
            return None  # a number of unknown origin (mental arithmetic, a percentage...)
    prose = ANNOTATION.sub(" ", solution[: final_match.start()])
    if any(_parse_number(t) not in known | set(results) for t in _TEXT_NUMBER.findall(prose)):
        return None  # the text computes something the annotations do not
    if final not in results:
        return None
    if not inputs:
        return None
    # a solution that spells an input out ("in four hours") would contradict the new number
    spelled = {w for w, values in _IMPLIED_BY_WORD.items() if set(values) & set(inputs)}
    if spelled & (
        set(re.findall(r"[a-z]+", prose.lower())) - set(re.findall(r"[a-z]+", question.lower()))
    ):
        return None
    question_values = tuple(sorted({n.value for n in numbers}))
    return _Plan(inputs, fixed_in_question | implied, annotations, final, question_values)


def _propagate(
    plan: _Plan, new_inputs: dict[Fraction, Fraction]
) -> dict[Fraction, Fraction] | None:
    """Old value -> new value for every input and result, or None if the new numbers
    break the problem (negative, fractional where whole, inconsistent)."""
    # the question's numbers keep their order (see _draw_inputs)
    renumbered = [new_inputs.get(v, v) for v in plan.question_values]
    if any(a >= b for a, b in itertools.pairwise(renumbered)):
        return None
    mapping: dict[Fraction, Fraction] = dict(new_inputs)
    for expression, old_result in plan.annotations:
        new_expression = NUMBER.sub(lambda m: _literal(m.group(0), mapping), expression)
        try:
            new_result = evaluate(new_expression)
        except ZeroDivisionError:
            return None
        if new_result < 0 or (old_result.denominator == 1 and new_result.denominator != 1):
            return None
        if format_number(new_result) is None:
            return None
        if mapping.get(old_result, new_result) != new_result:
            return None  # two annotations had the same result, now they differ
        mapping[old_result] = new_result
    new_final = mapping[plan.final]
    if new_final.denominator != 1 or new_final == plan.final:
        return None
    return mapping


def _literal(text: str, mapping: dict[Fraction, Fraction]) -> str:
    value = Fraction(text)
    if value not in mapping:
        return text
    formatted = format_number(mapping[value])
    assert formatted is not None  # checked when the mapping was built
    return formatted


def _rewrite_text(text: str, mapping: dict[Fraction, Fraction], skip: set[tuple[int, int]]) -> str:
    def replace(match: re.Match[str]) -> str:
        if (match.start(), match.end()) in skip:
            return match.group(0)
        value = _parse_number(match.group(0))
        if value not in mapping:
            return match.group(0)
        return _format_like(mapping[value], match.group(0)) or match.group(0)

    return _TEXT_NUMBER.sub(replace, text)


def renumber(doc: Doc, rng: random.Random) -> Doc | None:
    question, solution = doc["question"], doc["answer"]
    plan = _plan(question, solution)
    if plan is None:
        return None
    new_inputs: dict[Fraction, Fraction] | None = None
    mapping: dict[Fraction, Fraction] | None = None
    for _ in range(ATTEMPTS):
        new_inputs = _draw_inputs(plan, rng)
        mapping = None if new_inputs is None else _propagate(plan, new_inputs)
        if mapping is not None:
            break
    if new_inputs is None or mapping is None:
        return None
    # question: only the mutable occurrences of input values change
    fixed_spans = {
        (n.start, n.end) for n in _question_numbers(question) if n.value not in plan.inputs
    }
    doc["question"] = _rewrite_text(question, new_inputs, fixed_spans)
    final_match = FINAL.search(solution)
    assert final_match is not None
    body = solution[: final_match.start()]
    parts: list[str] = []
    position = 0
    for match in ANNOTATION.finditer(body):
        parts.append(_rewrite_text(body[position : match.start()], mapping, set()))
        expression = NUMBER.sub(lambda m: _literal(m.group(0), mapping), match.group(1))
        result = format_number(mapping[_parse_number(match.group(2).strip())])
        parts.append(f"<<{expression}={result}>>")
        position = match.end()
    parts.append(_rewrite_text(body[position:], mapping, set()))
    final_text = _format_like(mapping[plan.final], final_match.group(1).strip())
    doc["answer"] = "".join(parts) + f"\n#### {final_text}"
    return doc


RENUMBERED = Variant(
    "renumbered",
    "gsm8k",
    on_a_copy(renumber),
    "recomputed",
    False,
    "The question's numbers are changed and the answer recomputed exactly from "
    "the solution's calculator annotations.",
    "the solution cannot be traced from its annotations, or no new numbers keep "
    "all results whole and non-negative",
    family="content",
    paired_fewshot=True,
)
"""GSM8K's ``renumbered`` (registered among GSM8K's variants in gsm8k.py)."""
