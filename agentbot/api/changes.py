"""Apply an ``*.updated`` event's ``changes`` to a model (``visitor.updated``, ``agent.updated``).

``changes`` uses wire names and raw values (S2 ``Events.VisitorUpdated {id, changes:
Partial<Visitor>}``), so merging them means going through the wire form: this is the one place
that does it, with the same checks as decoding.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from agentbot.api.converter import structure, unstructure

__all__ = ["apply_changes"]

T = TypeVar("T")


def apply_changes(obj: T, changes: Mapping[str, Any], *, event: str) -> T:
    """Return a copy of ``obj`` with the wire-named ``changes`` applied.

    Unknown keys land in ``extra`` as on decoding. Raises :class:`~agentbot.errors.DecodeError`
    naming ``event`` and the field when the result does not fit (``{"visits": "many"}``).
    """
    wire = unstructure(obj)
    if not isinstance(wire, dict):
        raise TypeError(f"{type(obj).__name__} is not a JSON object on the wire")
    merged: T = structure({**wire, **changes}, type(obj), event=event)
    return merged
