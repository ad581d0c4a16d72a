"""The control API over HTTP: JSON routes under ``/api`` for tests, the console and the CLI.

Each route calls one :class:`~agentbot.sandbox.control.SandboxControl` method and answers
with its dict; errors are ``{"error": {"type", "message"}}`` with 404 (not found) or 400.
List routes of recordings and transcripts long-poll with ``?after=&min=&wait=``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from agentbot.errors import ApiError, NotFound, safe_snippet
from agentbot.sandbox.connections import Side
from agentbot.sandbox.control import SandboxControl, bad_request
from agentbot.sandbox.faults import AckAction, RestAction

__all__ = ["MAX_WAIT_SECONDS", "control_routes"]

MAX_WAIT_SECONDS = 30.0
"""The longest a long-polling control request may wait."""

# POST /api/visitors body (wire camelCase) -> SandboxControl.create_visitor keywords.
VISITOR_FIELDS = {
    "name": "name",
    "email": "email",
    "phone": "phone",
    "lang": "lang",
    "group": "group",
    "pageUrl": "page_url",
    "pageTitle": "page_title",
    "referer": "referer",
    "domain": "domain",
    "variables": "variables",
    "visits": "visits",
}

_Handler = Callable[
    [SandboxControl, Request, dict[str, Any]], Awaitable[dict[str, Any]] | dict[str, Any]
]


def _error_response(error: ApiError) -> JSONResponse:
    status = 404 if isinstance(error, NotFound) else 400
    return JSONResponse(
        {"error": {"type": error.type, "message": error.message}}, status_code=status
    )


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise bad_request(f"the body is not JSON: {safe_snippet(raw)}") from None
    if not isinstance(body, dict):
        raise bad_request("the body must be a JSON object")
    return body


def _endpoint(
    control: SandboxControl, handler: _Handler
) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def endpoint(request: Request) -> JSONResponse:
        try:
            body = await _body(request) if request.method in ("POST", "PUT") else {}
            result = handler(control, request, body)
            if not isinstance(result, dict):
                result = await result
        except ApiError as exc:
            return _error_response(exc)
        except (TypeError, ValueError, KeyError) as exc:  # wrong argument types in the body
            return _error_response(bad_request(f"bad arguments: {safe_snippet(str(exc))}"))
        return JSONResponse(result)

    return endpoint


def _str(body: Mapping[str, Any], key: str, *, required: bool = False) -> str | None:
    value = body.get(key)
    if value is None:
        if required:
            raise bad_request(f"{key} is required")
        return None
    if not isinstance(value, str):
        raise bad_request(f"{key} must be a string")
    return value


def _query_int(request: Request, key: str, default: int) -> int:
    value = request.query_params.get(key)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise bad_request(f"{key} must be an integer") from None


def _query_float(request: Request, key: str, default: float) -> float:
    value = request.query_params.get(key)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise bad_request(f"{key} must be a number") from None
    if not math.isfinite(number) or number < 0:
        raise bad_request(f"{key} must be a non-negative number")
    return min(number, MAX_WAIT_SECONDS)


def _query_bool(request: Request, key: str) -> bool | None:
    value = request.query_params.get(key)
    if value is None:
        return None
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise bad_request(f"{key} must be true or false")


def _query_side(request: Request) -> Side | None:
    value = request.query_params.get("side")
    if value not in (None, "agent", "visitor"):
        raise bad_request("side must be 'agent' or 'visitor'")
    return cast("Side | None", value)


def _long_poll(
    key: str, fetch: Callable[[SandboxControl, Request, int], dict[str, Any]]
) -> _Handler:
    """Wrap a list endpoint in ``?after=&min=&wait=`` long polling (re-checked on every change)."""

    async def handler(
        control: SandboxControl, request: Request, body: dict[str, Any]
    ) -> dict[str, Any]:
        after = _query_int(request, "after", 0)
        wait = _query_float(request, "wait", 0.0)
        minimum = _query_int(request, "min", 1 if wait > 0 else 0)

        def ready() -> bool:
            return len(fetch(control, request, after)[key]) >= minimum

        timed_out = False
        if wait > 0 and not ready():
            with anyio.move_on_after(wait) as scope:
                await control.sandbox.wait_until(ready)
            timed_out = scope.cancelled_caught
        return {**fetch(control, request, after), "timedOut": timed_out}

    return handler


def _p(request: Request, name: str) -> str:
    return str(request.path_params[name])


def control_routes(control: SandboxControl) -> list[BaseRoute]:
    """The ``/api/...`` routes (see the module docstring and notes for shapes)."""
    table: list[tuple[str, str, _Handler]] = [
        ("GET", "/api/health", lambda c, r, b: {"ok": True}),
        ("GET", "/api/config", lambda c, r, b: c.config()),
        ("POST", "/api/reset", lambda c, r, b: c.reset()),
        ("GET", "/api/visitors", lambda c, r, b: c.visitors()),
        (
            "POST",
            "/api/visitors",
            lambda c, r, b: c.create_visitor(
                **{VISITOR_FIELDS[k]: v for k, v in b.items() if k in VISITOR_FIELDS}
            ),
        ),
        (
            "POST",
            "/api/visitors/{visitor_id}/messages",
            lambda c, r, b: c.visitor_message(
                _p(r, "visitor_id"), cast(str, _str(b, "text", required=True))
            ),
        ),
        (
            "POST",
            "/api/visitors/{visitor_id}/typing",
            lambda c, r, b: c.visitor_typing(
                _p(r, "visitor_id"), bool(b.get("is")), _str(b, "text")
            ),
        ),
        (
            "POST",
            "/api/visitors/{visitor_id}/read",
            lambda c, r, b: c.visitor_read(_p(r, "visitor_id")),
        ),
        ("GET", "/api/chats", lambda c, r, b: c.chats(r.query_params.get("status"))),
        ("GET", "/api/chats/{chat_id}", lambda c, r, b: c.chat(_p(r, "chat_id"))),
        (
            "GET",
            "/api/chats/{chat_id}/transcript",
            _long_poll("entries", lambda c, r, after: c.transcript(_p(r, "chat_id"), after=after)),
        ),
        (
            "POST",
            "/api/chats/{chat_id}/close",
            lambda c, r, b: c.close_chat(
                _p(r, "chat_id"), by=_str(b, "by") or "agent", agent_id=_str(b, "agentId")
            ),
        ),
        (
            "POST",
            "/api/chats/{chat_id}/rate",
            lambda c, r, b: c.rate_chat(
                _p(r, "chat_id"), value=b.get("value"), text=_str(b, "text")
            ),
        ),
        (
            "POST",
            "/api/chats/{chat_id}/join",
            lambda c, r, b: c.agent_join(_p(r, "chat_id"), agent_id=_str(b, "agentId")),
        ),
        (
            "POST",
            "/api/chats/{chat_id}/leave",
            lambda c, r, b: c.agent_leave(_p(r, "chat_id"), agent_id=_str(b, "agentId")),
        ),
        (
            "POST",
            "/api/chats/{chat_id}/messages",
            lambda c, r, b: c.agent_message(
                _p(r, "chat_id"),
                cast(str, _str(b, "text", required=True)),
                agent_id=_str(b, "agentId"),
            ),
        ),
        (
            "POST",
            "/api/chats/{chat_id}/typing",
            lambda c, r, b: c.agent_typing(
                _p(r, "chat_id"), bool(b.get("is")), agent_id=_str(b, "agentId")
            ),
        ),
        (
            "GET",
            "/api/connections",
            lambda c, r, b: c.connections(
                side=_query_side(r),
                agent_id=r.query_params.get("agentId"),
                visitor_id=r.query_params.get("visitorId"),
                is_open=_query_bool(r, "open"),
            ),
        ),
        (
            "GET",
            "/api/connections/{conn_id}/frames",
            _long_poll("frames", lambda c, r, after: c.frames(_p(r, "conn_id"), after=after)),
        ),
        (
            "GET",
            "/api/connections/{conn_id}/requests",
            _long_poll("requests", lambda c, r, after: c.requests(_p(r, "conn_id"), after=after)),
        ),
        (
            "GET",
            "/api/connections/{conn_id}/events",
            _long_poll("events", lambda c, r, after: c.events(_p(r, "conn_id"), after=after)),
        ),
        (
            "GET",
            "/api/agents/{agent_id}/requests",
            _long_poll(
                "requests", lambda c, r, after: c.agent_requests(_p(r, "agent_id"), after=after)
            ),
        ),
        (
            "POST",
            "/api/faults/drop",
            lambda c, r, b: c.drop(
                conn_id=_str(b, "connId"),
                side=cast("Side | None", _str(b, "side")),
                agent_id=_str(b, "agentId"),
                visitor_id=_str(b, "visitorId"),
            ),
        ),
        (
            "POST",
            "/api/faults/ack",
            lambda c, r, b: c.ack_fault(
                request=cast(str, _str(b, "request", required=True)),
                action=cast(AckAction, _str(b, "action", required=True)),
                delay_seconds=float(b.get("delaySeconds") or 0.0),
                count=None if b.get("count") is None else int(b["count"]),
                agent_id=_str(b, "agentId"),
            ),
        ),
        (
            "POST",
            "/api/faults/rest",
            lambda c, r, b: c.rest_fault(
                action=cast("RestAction", _str(b, "action", required=True)),
                operation=_str(b, "operation"),
                status=int(b.get("status") or 503),
                delay_seconds=float(b.get("delaySeconds") or 0.0),
                count=None if b.get("count") is None else int(b["count"]),
                agent_id=_str(b, "agentId"),
            ),
        ),
        (
            "POST",
            "/api/faults/heartbeat",
            lambda c, r, b: c.heartbeat(
                stop=bool(b.get("stop", True)),
                conn_id=_str(b, "connId"),
                agent_id=_str(b, "agentId"),
            ),
        ),
        (
            "POST",
            "/api/faults/server-error",
            lambda c, r, b: c.server_error(
                message=_str(b, "message") or "Sandbox server error",
                conn_id=_str(b, "connId"),
                agent_id=_str(b, "agentId"),
                type=_str(b, "type"),
                code=None if b.get("code") is None else int(b["code"]),
                event=_str(b, "event"),
            ),
        ),
        (
            "POST",
            "/api/faults/logout",
            lambda c, r, b: c.logout(conn_id=_str(b, "connId"), agent_id=_str(b, "agentId")),
        ),
        (
            "POST",
            "/api/faults/malformed",
            lambda c, r, b: c.malformed(
                conn_id=_str(b, "connId"), agent_id=_str(b, "agentId"), frame=_str(b, "frame")
            ),
        ),
        ("GET", "/api/faults", lambda c, r, b: c.faults()),
        ("DELETE", "/api/faults", lambda c, r, b: c.clear_faults()),
    ]
    routes: dict[str, dict[str, _Handler]] = {}
    for method, path, handler in table:
        routes.setdefault(path, {})[method] = handler
    result: list[BaseRoute] = []
    for path, by_method in routes.items():
        result.append(Route(path, _dispatch(control, by_method), methods=list(by_method)))
    return result


def _dispatch(
    control: SandboxControl, by_method: dict[str, _Handler]
) -> Callable[[Request], Awaitable[JSONResponse]]:
    endpoints = {method: _endpoint(control, handler) for method, handler in by_method.items()}

    async def endpoint(request: Request) -> JSONResponse:
        method = "GET" if request.method == "HEAD" else request.method
        return await endpoints[method](request)

    return endpoint
