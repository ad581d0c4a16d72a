"""Hypothesis strategies that build any API object from its attrs field types.

Every field gets values of its declared type (``None`` included where optional); ``extra``
gets JSON values under keys the class does not know, so round trips prove extras survive.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any

import attrs
from hypothesis import strategies as st

from agentbot.api.rules import (
    fields,
    is_api_class,
    is_homogeneous_tuple,
    is_literal,
    is_mapping,
    is_optional,
    optional_inner,
    wire_names,
)

JSON_SCALARS: st.SearchStrategy[Any] = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
JSON_VALUES: st.SearchStrategy[Any] = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
JSON_OBJECTS: st.SearchStrategy[dict[str, Any]] = st.dictionaries(
    st.text(max_size=8), JSON_VALUES, max_size=3
)


def for_type(t: Any) -> st.SearchStrategy[Any]:
    """Return a strategy for values of the field type ``t``."""
    if t is Any:
        return JSON_VALUES
    if t is str:
        return st.text(max_size=16)
    if t is bool:
        return st.booleans()
    if t is int:
        return st.integers(min_value=-(2**53), max_value=2**53)
    if t is float:
        return st.floats(allow_nan=False, allow_infinity=False)
    if is_optional(t):
        return st.none() | for_type(optional_inner(t))
    if is_homogeneous_tuple(t):
        return st.lists(for_type(typing.get_args(t)[0]), max_size=3).map(tuple)
    if is_mapping(t):
        return JSON_OBJECTS
    if is_literal(t):
        return st.sampled_from(typing.get_args(t))
    if is_api_class(t):
        return for_class(t)
    raise TypeError(f"no strategy for {t!r}")


def for_class(cl: type[Any], **overrides: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Return a strategy building ``cl`` with every field drawn (``overrides`` win)."""
    attrs.resolve_types(cl)
    known = set(wire_names(cl).values())
    kwargs: dict[str, st.SearchStrategy[Any]] = {}
    for a in fields(cl):
        if a.name == "extra":
            kwargs["extra"] = st.dictionaries(
                st.text(max_size=8).filter(lambda key: key not in known), JSON_VALUES, max_size=3
            )
        else:
            kwargs[a.name] = for_type(a.type)
    kwargs.update(overrides)
    return st.fixed_dictionaries(kwargs).map(lambda values: cl(**values))


def options_without_id() -> st.SearchStrategy[Mapping[str, Any]]:
    """``visitor.get`` options: any JSON object but one whose keys include ``id``."""
    return st.dictionaries(st.text(max_size=8).filter(lambda k: k != "id"), JSON_VALUES, max_size=3)
