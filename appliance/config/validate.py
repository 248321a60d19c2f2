"""Turn parsed TOML into typed, frozen dataclasses, collecting every error.

A section is a frozen dataclass whose fields are declared with :func:`setting`
(default, documentation and limits). Supported field types: ``bool``, ``int``,
``float``, ``str``, ``Literal[...]``, ``X | None``, ``list[X]``,
``dict[str, X]``, ``Any`` (taken as is) and nested section dataclasses.
Unknown keys, wrong types and values out of range are reported with the key
path; nothing stops at the first error. Numbers must be finite (TOML v1.0.0
allows ``nan`` and ``inf``, which pass every range check and then make
timers spin or comparisons never hold), and no string is longer than
:data:`MAX_TEXT` (``max_length`` sets a tighter bound).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

T = TypeVar("T")
KeyPath = tuple[str | int, ...]
Check = Callable[[Any], str | None]


class Problem(typing.NamedTuple):
    path: KeyPath
    message: str


MISSING: Any = dataclasses.MISSING
MAX_TEXT = 4096  # PATH_MAX on Linux: the longest sensible path, command word or pattern


def setting(
    default: Any = MISSING,
    *,
    doc: str,
    default_factory: Callable[[], Any] | None = None,
    ge: float | None = None,
    le: float | None = None,
    gt: float | None = None,
    pattern: str | None = None,
    max_length: int | None = None,
    check: Check | None = None,
) -> Any:
    """Declare a configuration field with its documentation and limits."""
    metadata = {
        "doc": doc, "ge": ge, "le": le, "gt": gt, "pattern": pattern,
        "max_length": max_length, "check": check,
    }
    if default_factory is not None:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    if default is MISSING:
        return dataclasses.field(metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def dotted(path: KeyPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


_TYPE_NAMES = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}


def _type_name(tp: Any) -> str:
    if tp in _TYPE_NAMES:
        return _TYPE_NAMES[tp]
    origin = get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    if origin in (Union, types.UnionType):
        options = [_type_name(a) for a in get_args(tp) if a is not type(None)]
        return " or ".join(options) + (" (optional)" if type(None) in get_args(tp) else "")
    if tp is Any:
        return "any value"
    if origin is list:
        return "an array"
    if origin is dict or dataclasses.is_dataclass(tp):
        return "a table"
    return str(tp)


def _toml_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "table"
    return type(value).__name__


def _convert(tp: Any, value: Any, path: KeyPath, problems: list[Problem]) -> Any:
    if tp is Any:  # free-form values (e.g. a simulator's own options), checked by their user
        return value
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(tp) if a is not type(None)]
        if value is None:
            return None
        if len(options) == 1:
            return _convert(options[0], value, path, problems)
        trial: list[Problem] = []
        for option in options:
            trial.clear()
            result = _convert(option, value, path, trial)
            if not trial:
                return result
        problems.append(
            Problem(path, f"expected one of {', '.join(_type_name(o) for o in options)}")
        )
        return None
    if origin is Literal:
        allowed = get_args(tp)
        if value not in allowed or type(value) is not type(allowed[0]):
            choices = ", ".join(repr(a) for a in allowed)
            problems.append(Problem(path, f"{value!r} is not allowed; choose one of {choices}"))
            return None
        return value
    if origin is list:
        (item_type,) = get_args(tp)
        if not isinstance(value, list):
            problems.append(Problem(path, f"expected an array, got {_toml_type(value)}"))
            return None
        return [_convert(item_type, item, (*path, i), problems) for i, item in enumerate(value)]
    if origin is dict:
        _, item_type = get_args(tp)
        if not isinstance(value, dict):
            problems.append(Problem(path, f"expected a table, got {_toml_type(value)}"))
            return None
        return {k: _convert(item_type, v, (*path, k), problems) for k, v in value.items()}
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            problems.append(Problem(path, f"expected a table, got {_toml_type(value)}"))
            return None
        return build(typing.cast(type, tp), value, path, problems)
    if tp is bool:
        if not isinstance(value, bool):
            problems.append(Problem(path, f"expected a boolean, got {_toml_type(value)}"))
            return None
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(Problem(path, f"expected an integer, got {_toml_type(value)}"))
            return None
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(Problem(path, f"expected a number, got {_toml_type(value)}"))
            return None
        if not math.isfinite(value):
            problems.append(Problem(path, "must be a finite number"))
            return None
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            problems.append(Problem(path, f"expected a string, got {_toml_type(value)}"))
            return None
        if len(value) > MAX_TEXT:
            problems.append(Problem(path, f"longer than {MAX_TEXT} characters"))
            return None
        return value
    raise TypeError(f"unsupported configuration type {tp!r} at {dotted(path)}")


def _check_limits(field: dataclasses.Field[Any], value: Any, path: KeyPath) -> list[Problem]:
    meta: Mapping[str, Any] = field.metadata
    out: list[Problem] = []
    if isinstance(value, int | float) and not isinstance(value, bool):
        if meta.get("ge") is not None and value < meta["ge"]:
            out.append(Problem(path, f"{value} is below the minimum {meta['ge']}"))
        if meta.get("gt") is not None and value <= meta["gt"]:
            out.append(Problem(path, f"{value} must be greater than {meta['gt']}"))
        if meta.get("le") is not None and value > meta["le"]:
            out.append(Problem(path, f"{value} is above the maximum {meta['le']}"))
    limit = meta.get("max_length")
    if isinstance(value, str) and limit is not None and len(value) > limit:
        out.append(Problem(path, f"longer than {limit} characters"))
    elif (
        isinstance(value, str) and meta.get("pattern") and not re.fullmatch(meta["pattern"], value)
    ):
        out.append(Problem(path, f"{value!r} does not match the form {meta['pattern']}"))
    check: Check | None = meta.get("check")
    if check is not None and value is not None:
        message = check(value)
        if message:
            out.append(Problem(path, message))
    return out


def build(cls: type[T], data: Mapping[str, Any], path: KeyPath, problems: list[Problem]) -> T:
    """Build section ``cls`` from ``data``; append every problem found to ``problems``.

    When a field is wrong its default is used so validation can go on and
    report the rest; callers must not use the result if ``problems`` grew.
    """
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    for key in data:
        if key not in fields:
            near = difflib.get_close_matches(key, list(fields), n=1)
            hint = f"; did you mean '{near[0]}'?" if near else f"; known keys: {', '.join(fields)}"
            problems.append(Problem((*path, key), f"unknown key{hint}"))
    kwargs: dict[str, Any] = {}
    for name, field in fields.items():
        if name not in data:
            if field.default is MISSING and field.default_factory is MISSING:
                problems.append(Problem((*path, name), "required key is missing"))
            continue
        before = len(problems)
        value = _convert(hints[name], data[name], (*path, name), problems)
        if len(problems) == before:
            problems.extend(_check_limits(field, value, (*path, name)))
        if len(problems) == before:
            kwargs[name] = value
    try:
        return cls(**kwargs)
    except TypeError:
        # a required field was missing or invalid: fill with a placeholder so that
        # the other sections can still be validated (the result is discarded)
        for name in fields:
            kwargs.setdefault(name, None)
        return cls(**kwargs)


def section_doc(cls: type) -> list[tuple[str, str, str]]:
    """(key, type, doc) rows for a section, for documentation and ``config show``."""
    hints = get_type_hints(cls)
    return [
        (f.name, _type_name(hints[f.name]), str(f.metadata.get("doc", "")))
        for f in dataclasses.fields(cls)
    ]


def to_plain(obj: Any) -> Any:
    """A dataclass tree as plain dicts and lists (TOML/JSON-ready)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, list):
        return [to_plain(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_plain(v) for k, v in obj.items()}
    return obj
