"""Every model, event, request and reply round-trips through the converter (hypothesis).

``structure(unstructure(x)) == x`` through real JSON text, ``extra`` included, for every
class agentbot.api exports; and the fast structuring path and the cattrs converter that
explains failures accept and reject exactly the same data.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import agentbot.api as api
from agentbot.api import (
    AGENT_REQUESTS,
    EVENT_TYPES,
    VISITOR_REQUESTS,
    Account,
    AccountAgent,
    Agent,
    AgentConnectReply,
    Chat,
    Content,
    Group,
    Message,
    Rating,
    Request,
    Typing,
    Visitor,
    VisitorConnected,
    VisitorConnectReply,
    VisitorGet,
    VisitorValues,
    decode_event,
    decode_reply,
    decode_request,
    encode_event,
    encode_reply,
    encode_request,
)
from agentbot.api.contents import CONTENT_DATA_TYPES
from agentbot.api.converter import converter, unstructure
from agentbot.api.fastpath import fast_hook

from .examples import EVENTS
from .strategies import JSON_OBJECTS, JSON_VALUES, for_class, options_without_id

MODELS: list[type[Any]] = [
    *CONTENT_DATA_TYPES.values(),
    Group,
    AccountAgent,
    Agent,
    Account,
    Visitor,
    Content,
    Message,
    Rating,
    Typing,
    Chat,
    VisitorValues,
]
REPLIES: list[type[Any]] = [AgentConnectReply, VisitorConnectReply]
EVENTS_CLASSES = sorted(EVENT_TYPES.values(), key=lambda cl: cl.name)
REQUESTS = [*AGENT_REQUESTS.values(), *VISITOR_REQUESTS.values()]
ROUNDTRIP = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def through_json(value: Any) -> Any:
    return json.loads(json.dumps(value, ensure_ascii=False, allow_nan=False))


def strategy(cl: type[Any]) -> st.SearchStrategy[Any]:
    if cl is VisitorGet:
        return for_class(cl, options=options_without_id())
    if cl is VisitorConnected:
        # Wrapped ``{visitor, ...}`` is told from the flat visitor by its lack of ``id``.
        no_id = JSON_OBJECTS.map(lambda extra: {k: v for k, v in extra.items() if k != "id"})
        return for_class(cl, extra=no_id)
    return for_class(cl)


def test_every_exported_class_is_covered() -> None:
    exported = {
        value
        for value in (getattr(api, name) for name in api.__all__)
        if isinstance(value, type) and attrs.has(value)
    }
    covered = {*MODELS, *REPLIES, *EVENTS_CLASSES, *REQUESTS}
    assert exported - covered == {api.UnknownEvent, api.MalformedEvent, Request}


@pytest.mark.parametrize("cl", MODELS + REPLIES, ids=lambda cl: cl.__name__)
@given(data=st.data())
@ROUNDTRIP
def test_model_roundtrips_with_extra_kept(cl: type[Any], data: st.DataObject) -> None:
    original = data.draw(strategy(cl))
    wire = through_json(unstructure(original))
    assert fast_hook(cl)(wire, cl) == original
    assert converter.structure(wire, cl) == original
    if hasattr(original, "extra"):
        assert fast_hook(cl)(wire, cl).extra == original.extra


@pytest.mark.parametrize("cl", EVENTS_CLASSES, ids=lambda cl: cl.name)
@given(data=st.data())
@ROUNDTRIP
def test_event_roundtrips_through_encode_and_decode(cl: type[Any], data: st.DataObject) -> None:
    original = data.draw(strategy(cl))
    name, payload = encode_event(original)
    assert name == cl.name
    assert decode_event(name, through_json(payload)) == original


@pytest.mark.parametrize("cl", REQUESTS, ids=lambda cl: f"{cl.__name__}")
@given(data=st.data())
@ROUNDTRIP
def test_request_roundtrips_through_encode_and_strict_decode(
    cl: type[Any], data: st.DataObject
) -> None:
    original = data.draw(strategy(cl))
    name, args = encode_request(original)
    if AGENT_REQUESTS.get(cl.name) is cl:
        assert decode_request(name, through_json(args), side="agent") == original
    else:
        assert decode_request(name, through_json(args), side="visitor") == original


@pytest.mark.parametrize("cl", [*REPLIES, Message, Visitor], ids=lambda cl: cl.__name__)
@given(data=st.data())
@ROUNDTRIP
def test_reply_roundtrips_through_encode_reply_and_decode_reply(
    cl: type[Any], data: st.DataObject
) -> None:
    request = next(r for r in REQUESTS if r.reply_type is cl)
    original = data.draw(strategy(cl))
    args = through_json(encode_reply(original))
    assert decode_reply(attrs.evolve(data.draw(strategy(request))), args) == original


# --- the fast path and the explaining converter agree -------------------------------------


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path into a JSON value (dict keys and list indexes)."""
    found: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found.append((*prefix, key))
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.append((*prefix, index))
            found += paths(item, (*prefix, index))
    return found


def mutated(value: Any, path: tuple[Any, ...], replacement: Any, delete: bool) -> Any:
    """A deep copy of ``value`` with the item at ``path`` replaced or deleted."""
    copy = json.loads(json.dumps(value))
    parent = copy
    for step in path[:-1]:
        parent = parent[step]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = replacement
    return copy


@pytest.mark.parametrize("name", sorted(EVENTS))
@given(data=st.data())
@settings(max_examples=40, deadline=None)
def test_fast_and_detailed_paths_accept_and_reject_alike(name: str, data: st.DataObject) -> None:
    payload = EVENTS[name]
    cl = EVENT_TYPES[name]
    candidates = paths(payload)
    if candidates:
        path = data.draw(st.sampled_from(candidates))
        payload = mutated(payload, path, data.draw(JSON_VALUES), data.draw(st.booleans()))
    outcomes = [outcome(fast_hook(cl), payload, cl), outcome(converter.structure, payload, cl)]
    assert outcomes[0] == outcomes[1]


def outcome(structure: Callable[[Any, Any], Any], payload: Any, cl: type[Any]) -> tuple[str, Any]:
    try:
        return ("ok", structure(payload, cl))
    except Exception:
        return ("error", None)
