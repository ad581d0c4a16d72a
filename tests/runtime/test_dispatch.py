"""The event → hook table (``agentbot.runtime.dispatch``) against the hookspecs.

Why: the table replaced two ``isinstance`` ladders that drifted apart (issue 12). A new event
class without a row, a class listed twice, or a row whose arguments no longer match its
hookspec's parameters would only show up as a plugin silently not being called (pluggy drops
unknown keyword arguments and fills missing ones with nothing). Every row is exercised with a
sample event decoded from the wire examples in ``tests/api/examples.py``.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from agentbot.api import EVENT_TYPES, MalformedEvent, UnknownEvent, decode_event
from agentbot.client import ConnectionDropped, Reconnected
from agentbot.runtime import hookspecs
from agentbot.runtime.dispatch import ON_EVENT_ONLY, ROUTES, SessionStarted, route_for
from tests.api.examples import AGENT_ID, EVENTS

OWN_AGENT = "bot-own-id"
"""Not the sample events' agent: a human's join is routed (the bot's own is skipped)."""


def sample(cls: type[Any]) -> Any:
    """An instance of ``cls`` as the client would deliver it."""
    if cls is SessionStarted:
        return SessionStarted(session=object())
    if cls is Reconnected:
        return Reconnected(attempt=1, downtime_seconds=0.5, session=object())
    if cls is ConnectionDropped:
        return ConnectionDropped(reason="link lost")
    event = decode_event(cls.name, EVENTS[cls.name])
    assert type(event) is cls, (cls, event)
    return event


def test_every_event_class_has_exactly_one_place() -> None:
    for cls in EVENT_TYPES.values():
        in_routes = cls in ROUTES
        in_only = cls in ON_EVENT_ONLY
        assert in_routes != in_only, f"{cls.__name__}: routes={in_routes} on_event_only={in_only}"


def test_the_table_names_no_class_the_client_cannot_deliver() -> None:
    deliverable = set(EVENT_TYPES.values()) | {SessionStarted, Reconnected, ConnectionDropped}
    deliverable |= {MalformedEvent, UnknownEvent}
    assert set(ROUTES) <= deliverable
    assert set(ON_EVENT_ONLY) <= deliverable


@pytest.mark.parametrize("cls", list(ROUTES), ids=lambda cls: cls.__name__)
def test_each_route_builds_exactly_its_hookspec_arguments(cls: type[Any]) -> None:
    route = ROUTES[cls]
    spec = getattr(hookspecs, route.hook)
    expected = set(inspect.signature(spec).parameters) - {"bot"}
    if route.chat_scoped:
        assert "chat_id" in expected, f"{route.hook} takes no chat_id but the row adds one"
        expected -= {"chat_id"}
    else:
        assert "chat_id" not in expected, f"{route.hook} needs chat_id but the row gives none"
    event = sample(cls)
    assert route_for(event) is route
    arguments = route.arguments(event, OWN_AGENT)
    assert arguments is not None
    assert set(arguments) == expected


@pytest.mark.parametrize("name", ["chat.agent_joined", "chat.agent_left"])
def test_the_bots_own_join_and_leave_call_no_hook(name: str) -> None:
    event = decode_event(name, EVENTS[name])
    route = route_for(event)
    assert route is not None
    assert route.arguments(event, AGENT_ID) is None
    assert route.arguments(event, OWN_AGENT) is not None
