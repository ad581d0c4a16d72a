"""Fill message templates with visitor fields, never producing "Hi None".

Syntax: ``{field}`` or ``{field|fallback}``. Fields are looked up in a mapping; a value that
is missing, None, blank, or looks like a placeholder the widget invented (``"Visitor 123"``,
``"#4711"``) counts as missing. A missing field with a fallback renders the fallback
(``"Hi {first_name|there}!"`` → ``"Hi there!"``); a missing field without one makes the
whole template unusable, so the caller moves on to its next template (``"Hi {name}!"``,
then ``"Hi!"``). Unknown syntax is left as written. ``{{`` and ``}}`` are literal braces.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["PLACEHOLDER_NAMES", "render", "render_first", "visitor_fields"]

_FIELD = re.compile(r"\{\{|\}\}|\{([a-zA-Z_][\w.]*)(?:\|([^{}]*))?\}")
PLACEHOLDER_NAMES = re.compile(r"^(?:#?\d+|(?:visitor|guest|návštěvník|besucher)\s*#?\d*)$", re.I)
"""Names that are not a person's name: widget-generated ``Visitor 123``, ``#4711``, digits."""


class _Missing(Exception):
    pass


def _clean(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    return text or None


def render(template: str, fields: Mapping[str, Any]) -> str | None:
    """Fill ``template`` from ``fields``; None if a field without a fallback is missing."""

    def substitute(match: re.Match[str]) -> str:
        whole = match.group(0)
        if whole == "{{":
            return "{"
        if whole == "}}":
            return "}"
        value = _clean(fields.get(match.group(1)))
        if value is not None:
            return value
        if match.group(2) is not None:
            return match.group(2)
        raise _Missing(match.group(1))

    try:
        return _FIELD.sub(substitute, template)
    except _Missing:
        return None


def render_first(templates: Iterable[str], fields: Mapping[str, Any]) -> str | None:
    """Return the first of ``templates`` that renders completely, or None."""
    for template in templates:
        text = render(template, fields)
        if text is not None and text.strip():
            return text
    return None


def visitor_fields(visitor: Any) -> dict[str, Any]:
    """Return the template fields of a visitor (``agentbot.Visitor`` or None).

    ``name``, ``first_name``, ``email``, ``lang``, ``page_title``, ``page_url``, ``visits``,
    and ``var.<name>`` for each custom variable. A placeholder-looking name is left out.
    """
    if visitor is None:
        return {}
    name = _clean(getattr(visitor, "name", None))
    if name is not None and PLACEHOLDER_NAMES.match(name):
        name = None
    fields: dict[str, Any] = {
        "name": name,
        "first_name": name.split()[0] if name else None,
        "email": getattr(visitor, "email", None),
        "lang": getattr(visitor, "lang", None),
        "page_title": getattr(visitor, "page_title", None),
        "page_url": getattr(visitor, "page_url", None),
        "visits": getattr(visitor, "visit_count", None),
    }
    variables = getattr(visitor, "variables", None) or {}
    for key, value in dict(variables).items():
        fields[f"var.{key}"] = value
    return fields
