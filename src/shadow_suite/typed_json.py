"""Parsed JSON into typed dataclasses, strictly: the one reader behind every document the
project writes and reads back (the card, ``spectra.json``).

:func:`from_json` walks a dataclass's type hints and checks every value as it goes. A missing
field (without a default), a value of the wrong type or a word outside a ``Literal`` is a
:class:`~shadow_suite.errors.ShadowSuiteError` whose one line names the file and the field
(``card.json: gap.headline.verdict_class: missing``). Fields with defaults may be absent
(added after a version was first written); unknown fields are ignored.

Supported: dataclasses, ``X | None`` and other unions, ``Literal``, ``list``, ``tuple[X, ...]``,
``dict``/``Mapping`` (keys checked against a ``Literal`` key type), ``float`` (ints accepted),
``int``, ``bool``, ``str`` and ``Any``. A dataclass field whose metadata holds :data:`FLATTEN`
is a mapping spread into the enclosing object (its keys are the object's other keys).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, TypeVar

from shadow_suite.errors import ShadowSuiteError

FLATTEN = "flatten"
"""Field metadata key: the field's mapping is spread into the enclosing JSON object."""

_T = TypeVar("_T")


def from_json(tp: type[_T], value: Any, source: str) -> _T:
    """``value`` (parsed JSON) as a ``tp``; ``source`` names the file in errors."""
    built: _T = _build(tp, value, "", source)
    return built


def _fail(source: str, where: str, what: str) -> ShadowSuiteError:
    return ShadowSuiteError(f"{source}: {where or 'document'}: {what}")


def _build(tp: Any, value: Any, where: str, source: str) -> Any:
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if origin is Literal:
        allowed = typing.get_args(tp)
        if value not in allowed:
            words = ", ".join(repr(a) for a in allowed)
            raise _fail(source, where, f"{value!r} is not one of {words}")
        return value
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            if len(args) < len(typing.get_args(tp)):
                return None
            raise _fail(source, where, "unexpected null")
        last: ShadowSuiteError | None = None
        for arg in args:
            try:
                return _build(arg, value, where, source)
            except ShadowSuiteError as err:
                last = err
        raise last or _fail(source, where, "no type fits")
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _build_record(tp, value, where, source)
    if origin in (list, tuple):
        if not isinstance(value, list):
            raise _fail(source, where, "expected a list")
        item = typing.get_args(tp)[0]
        items = [_build(item, v, f"{where}[{i}]", source) for i, v in enumerate(value)]
        return items if origin is list else tuple(items)
    if origin in (Mapping, dict):
        if not isinstance(value, dict):
            raise _fail(source, where, "expected an object")
        key_type, item = typing.get_args(tp)
        out = {}
        for k, v in value.items():
            inner = f"{where}.{k}" if where else str(k)
            if typing.get_origin(key_type) is Literal and k not in typing.get_args(key_type):
                raise ShadowSuiteError(f"{source}: {inner}: not a metric of this schema")
            out[str(k)] = _build(item, v, inner, source)
        return out
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _fail(source, where, "expected a number")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(source, where, "expected an integer")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise _fail(source, where, "expected true or false")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise _fail(source, where, "expected a string")
        return value
    raise TypeError(f"unsupported type {tp!r} at {where}")


def _build_record(cls: type[Any], value: Any, where: str, source: str) -> Any:
    if not isinstance(value, dict):
        raise _fail(source, where, "expected an object")
    hints = typing.get_type_hints(cls)
    fields = dataclasses.fields(cls)
    named = {f.name for f in fields if not f.metadata.get(FLATTEN)}
    kwargs: dict[str, Any] = {}
    for f in fields:
        inner = f"{where}.{f.name}" if where else f.name
        if f.metadata.get(FLATTEN):
            rest = {k: v for k, v in value.items() if k not in named}
            kwargs[f.name] = _build(hints[f.name], rest, where, source)
        elif f.name in value:
            kwargs[f.name] = _build(hints[f.name], value[f.name], inner, source)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ShadowSuiteError(f"{source}: {inner}: missing")
    return cls(**kwargs)
