"""A small exact evaluator for GSM8K's calculator annotations (``<<16-3-4=9>>``).

Numbers become ``fractions.Fraction`` so results are exact; only + - * / ( ) and unary
minus are accepted (all that GSM8K's annotations use). Nothing is ever passed to
``eval``: anything else raises ``ArithmeticSyntaxError``.
"""

from __future__ import annotations

import re
from fractions import Fraction

NUMBER = re.compile(r"\d+(?:\.\d+)?|\.\d+")
_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?|\.\d+)|([-+*/()]))")


class ArithmeticSyntaxError(ValueError):
    """The expression is not plain arithmetic over numbers."""


def tokenize(expression: str) -> list[str]:
    tokens: list[str] = []
    position = 0
    expression = expression.rstrip()
    while position < len(expression):
        match = _TOKEN.match(expression, position)
        if not match:
            raise ArithmeticSyntaxError(f"unexpected {expression[position:]!r} in {expression!r}")
        tokens.append(match.group(1) or match.group(2))
        position = match.end()
    return tokens


def evaluate(expression: str) -> Fraction:
    """The exact value of ``expression``; ZeroDivisionError on division by zero."""
    tokens = tokenize(expression)
    value, position = _sum(tokens, 0)
    if position != len(tokens):
        raise ArithmeticSyntaxError(f"trailing {tokens[position:]} in {expression!r}")
    return value


# Recursive descent: sum := product (('+'|'-') product)*; product := unary (('*'|'/') unary)*;
# unary := '-' unary | '+' unary | atom; atom := NUMBER | '(' sum ')'.
def _sum(tokens: list[str], i: int) -> tuple[Fraction, int]:
    value, i = _product(tokens, i)
    while i < len(tokens) and tokens[i] in "+-":
        right, j = _product(tokens, i + 1)
        value = value + right if tokens[i] == "+" else value - right
        i = j
    return value, i


def _product(tokens: list[str], i: int) -> tuple[Fraction, int]:
    value, i = _unary(tokens, i)
    while i < len(tokens) and tokens[i] in "*/":
        right, j = _unary(tokens, i + 1)
        value = value * right if tokens[i] == "*" else value / right
        i = j
    return value, i


def _unary(tokens: list[str], i: int) -> tuple[Fraction, int]:
    if i < len(tokens) and tokens[i] in "+-":
        value, j = _unary(tokens, i + 1)
        return (-value if tokens[i] == "-" else value), j
    return _atom(tokens, i)


def _atom(tokens: list[str], i: int) -> tuple[Fraction, int]:
    if i >= len(tokens):
        raise ArithmeticSyntaxError("expression ends early")
    token = tokens[i]
    if token == "(":
        value, j = _sum(tokens, i + 1)
        if j >= len(tokens) or tokens[j] != ")":
            raise ArithmeticSyntaxError("unbalanced parenthesis")
        return value, j + 1
    if NUMBER.fullmatch(token):
        return Fraction(token), i + 1
    raise ArithmeticSyntaxError(f"unexpected token {token!r}")


def format_number(value: Fraction, max_decimals: int = 4) -> str | None:
    """``value`` as GSM8K writes numbers (``9``, ``0.2``, ``.5`` is not produced), or None
    if it has no terminating decimal form within ``max_decimals`` places."""
    if value.denominator == 1:
        return str(value.numerator)
    for decimals in range(1, max_decimals + 1):
        scaled = value * 10**decimals
        if scaled.denominator == 1:
            sign = "-" if scaled < 0 else ""
            digits = str(abs(scaled.numerator)).rjust(decimals + 1, "0")
            return f"{sign}{digits[:-decimals]}.{digits[-decimals:]}"
    return None
