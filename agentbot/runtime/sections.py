"""Turn one TOML table into an attrs instance, with errors that name file, section and key.

The runtime validates ``[smartsupp]``, ``[pacing]``, ``[runtime]`` and every plugin's own
``[plugins.NAME]`` options with this one function. It is small on purpose: cattrs stays the
private business of ``api/`` (STYLE.md §1, §5), and configuration needs only what TOML can
express — str, int, float, bool, lists, tables, ``X | None``, ``Literal``, nested attrs
classes and ``pathlib.Path``.

Error messages read ``bot.toml: [pacing] jitter: expected a number, got 'lots'`` and suggest
the nearest known key for a typo. A field declared ``repr=False`` is a secret: its value is
never echoed, and any attrs validator message that happens to contain it is scrubbed.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar, Union

import attrs

from agentbot.errors import ConfigError, safe_snippet

__all__ = ["did_you_mean", "location", "structure_section"]

T = TypeVar("T")

_SECRET_MASK = "***"


def did_you_mean(word: str, candidates: typing.Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest candidate, or ``""``."""
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {matches[0]!r}?)" if matches else ""


def location(path: str | None, section: str | None, key: str | None = None) -> str:
    """Format ``file: [section] key`` for the start of an error message."""
    parts = []
    if path:
        parts.append(f"{path}:")
    if section:
        parts.append(f"[{section}]")
    if key:
        parts.append(key)
    return " ".join(parts)


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if tp is bool:
        return "a boolean"
    if tp is int:
        return "an integer"
    if tp is float:
        return "a number"
    if tp is str:
        return "a string"
    if tp is Path:
        return "a path (string)"
    if origin in (list, tuple) or tp in (list, tuple):
        return "an array"
    if origin is dict or tp is dict or attrs.has(tp):
        return "a table"
    if origin is Literal:
        return "one of " + ", ".join(repr(arg) for arg in typing.get_args(tp))
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(arg) for arg in typing.get_args(tp) if arg is not type(None))
    return getattr(tp, "__name__", str(tp))


class _Mismatch(Exception):
    """Internal: a value does not fit a type; carries the dotted sub-path and expectation."""

    def __init__(self, expected: str, subpath: str = "", *, value: Any = None) -> None:
        self.expected = expected
        self.subpath = subpath
        self.value = value
        super().__init__(expected)


def _convert(value: Any, tp: Any, *, path: str | None, section: str) -> Any:
    """Convert one TOML value to ``tp`` or raise :class:`_Mismatch` carrying the bad value."""
    try:
        return _convert_value(value, tp, path=path, section=section)
    except _Mismatch as exc:
        if not exc.subpath:
            exc.value = value
        raise


def _convert_value(value: Any, tp: Any, *, path: str | None, section: str) -> Any:
    if tp is Any or tp is object:
        return value
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(value, arg, path=path, section=section)
            except _Mismatch:
                continue
        raise _Mismatch(_type_name(tp))
    if origin is Literal:
        if value in typing.get_args(tp) and not isinstance(value, bool | dict | list):
            return value
        raise _Mismatch(_type_name(tp))
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise _Mismatch("a boolean (true or false)")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise _Mismatch("an integer")
    if tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise _Mismatch("a number")
    if tp is str:
        if isinstance(value, str):
            return value
        raise _Mismatch("a string")
    if tp is Path:
        if isinstance(value, str):
            return Path(value)
        raise _Mismatch("a path (string)")
    if origin in (list, tuple) or tp in (list, tuple):
        if not isinstance(value, list):
            raise _Mismatch(_type_name(tp))
        args = typing.get_args(tp)
        if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
            raise _Mismatch("a fixed-length tuple (not supported in config)")
        item_type = args[0] if args else Any
        items = []
        for index, item in enumerate(value):
            try:
                items.append(_convert(item, item_type, path=path, section=section))
            except _Mismatch as exc:
                raise _Mismatch(exc.expected, f"[{index}]{exc.subpath}", value=exc.value) from None
        return tuple(items) if (origin is tuple or tp is tuple) else items
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise _Mismatch("a table")
        args = typing.get_args(tp)
        value_type = args[1] if len(args) == 2 else Any
        out = {}
        for key, item in value.items():
            try:
                out[key] = _convert(item, value_type, path=path, section=section)
            except _Mismatch as exc:
                raise _Mismatch(exc.expected, f".{key}{exc.subpath}", value=exc.value) from None
        return out
    if attrs.has(tp):
        if not isinstance(value, dict):
            raise _Mismatch("a table")
        return structure_section(tp, value, path=path, section=section)
    raise _Mismatch(f"a value of unsupported type {_type_name(tp)}")


def structure_section(
    cls: type[T],
    data: Mapping[str, Any],
    *,
    path: str | None,
    section: str,
    ignore: typing.Container[str] = (),
) -> T:
    """Validate ``data`` (one TOML table) against the attrs class ``cls`` and build it.

    ``ignore`` lists keys that belong to the runtime rather than to ``cls`` (for a plugin
    section: ``enabled``, ``order``, ``path``). Raises :class:`ConfigError` (with ``path``,
    ``section`` and ``key`` set) for an unknown key, a missing required key, a value of the
    wrong type, or a value the class's own validators reject.
    """
    factory: Callable[..., T] = cls  # kept before attrs.has() narrows the type of cls
    if not attrs.has(cls):
        raise TypeError(f"{cls!r} is not an attrs class")
    try:
        hints = typing.get_type_hints(cls)
    except Exception as exc:  # a plugin's annotations may not resolve
        raise ConfigError(
            f"{location(path, section)}: cannot read the types of {cls.__qualname__}: {exc}",
            path=path,
            section=section,
        ) from None
    fields = {f.name: f for f in attrs.fields(cls) if f.init}
    # attrs strips a leading underscore for the __init__ argument name.
    by_key = {(f.alias or f.name): f for f in fields.values()}
    secrets = {key for key, f in by_key.items() if not f.repr}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key in ignore:
            continue
        field = by_key.get(key)
        if field is None:
            hint = did_you_mean(key, by_key)
            raise ConfigError(
                f"{location(path, section, key)}: unknown key{hint}",
                path=path,
                section=section,
                key=key,
            )
        tp = hints.get(field.name, Any)
        try:
            kwargs[key] = _convert(value, tp, path=path, section=f"{section}.{key}")
        except _Mismatch as exc:
            offending = exc.value if exc.subpath else value
            shown = "" if key in secrets else f", got {safe_snippet(offending)}"
            raise ConfigError(
                f"{location(path, section, key + exc.subpath)}: expected {exc.expected}{shown}",
                path=path,
                section=section,
                key=key,
            ) from None
    missing = [
        key for key, field in by_key.items() if field.default is attrs.NOTHING and key not in kwargs
    ]
    if missing:
        key = missing[0]
        raise ConfigError(
            f"{location(path, section, key)}: missing required key",
            path=path,
            section=section,
            key=key,
        )
    try:
        return factory(**kwargs)
    except (ValueError, TypeError) as exc:
        message = str(exc)
        for key in secrets:
            secret = kwargs.get(key)
            if isinstance(secret, str) and secret:
                message = message.replace(secret, _SECRET_MASK)
        bad_key = next(
            (key for key in by_key if re.search(rf"\b{re.escape(key)}\b", message)), None
        )
        raise ConfigError(
            f"{location(path, section, bad_key)}: {message}",
            path=path,
            section=section,
            key=bad_key,
        ) from None
