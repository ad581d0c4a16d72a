"""The sandbox's control API: scripted visitors, human agents, recordings and faults.

:class:`SandboxControl` is the Python API (every method returns JSON-ready dicts);
:func:`control_routes` exposes the same operations over HTTP under ``/api`` for tests in
other languages, the web console and the CLI. Errors are our typed errors in Python and
``{"error": {"type", "message"}}`` with a 4xx status over HTTP.
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
from agentbot.sandbox import wire
from agentbot.sandbox.connections import Side
from agentbot.sandbox.faults import AckAction
from agentbot.sandbox.hub import Sandbox
from agentbot.sandbox.replies import not_found
from agentbot.sandbox.state import ChatRecord, VisitorRecord

__all__ = ["MAX_WAIT_SECONDS", "SandboxControl", "control_routes"]

MAX_WAIT_SECONDS = 30.0
"""The longest a long-polling control request may wait."""

_VISITOR_FIELDS = {
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


def bad_request(message: str) -> ApiError:
    """A control call with missing or wrong arguments."""
    return ApiError(message, type="bad_request", event="control")


class SandboxControl:
    """Drive a sandbox from a test or a script; every result is JSON-ready."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    # -- account ---------------------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        """The public side of the configuration (no auth tokens)."""
        config = self.sandbox.config
        return {
            "accountKey": config.account_key,
            "serverVersion": config.server_version,
            "agents": [
                {
                    "id": agent.id,
                    "role": agent.role,
                    "nickname": agent.nickname,
                    "fullname": agent.fullname,
                    "status": self.sandbox.agent_status(agent.id),
                }
                for agent in config.agents
            ],
            "groups": wire.groups(config),
        }

    def reset(self) -> dict[str, Any]:
        """Drop every socket and forget everything."""
        self.sandbox.reset()
        return {"ok": True}

    # -- visitors --------------------------------------------------------------------------

    def create_visitor(self, **fields: Any) -> dict[str, Any]:
        """Create a scripted visitor (no socket). Fields: name, email, phone, lang, group,
        page_url, page_title, referer, domain, variables, visits."""
        visitor = self.sandbox.state.create_visitor(fields)
        self.sandbox.to_agents_about(
            visitor, "visitor.connected", {"visitor": wire.visitor_for_agents(visitor)}
        )
        self.sandbox.notify()
        return {"visitor": wire.visitor_for_agents(visitor)}

    def visitors(self) -> dict[str, Any]:
        """Every visitor the account knows."""
        return {
            "visitors": [wire.visitor_for_agents(v) for v in self.sandbox.state.visitors.values()]
        }

    def visitor_message(self, visitor_id: str, text: str) -> dict[str, Any]:
        """Write as the visitor (the first message opens a chat)."""
        if not isinstance(text, str) or not text:
            raise bad_request("text must be a non-empty string")
        message, chat = self.sandbox.visitor_message(self._visitor(visitor_id), text)
        return {"message": wire.message(message), "chat": wire.chat_summary(chat)}

    def visitor_typing(
        self, visitor_id: str, is_typing: bool, text: str | None = None
    ) -> dict[str, Any]:
        """Show or hide the visitor's typing."""
        self.sandbox.visitor_typing(self._visitor(visitor_id), bool(is_typing), text)
        return {"ok": True}

    def visitor_read(self, visitor_id: str) -> dict[str, Any]:
        """Mark the visitor's chat as read by the visitor."""
        self.sandbox.visitor_read(self._visitor(visitor_id))
        return {"ok": True}

    # -- chats -----------------------------------------------------------------------------

    def chats(self, status: str | None = None) -> dict[str, Any]:
        """Every chat (optionally only those with ``status``), oldest first."""
        chats = self.sandbox.state.chats.values()
        return {
            "chats": [wire.chat_summary(c) for c in chats if status is None or c.status == status]
        }

    def chat(self, chat_id: str) -> dict[str, Any]:
        """One chat with its messages."""
        return {"chat": wire.chat_summary(self._chat(chat_id))}

    def transcript(self, chat_id: str, *, after: int = 0) -> dict[str, Any]:
        """The chat's transcript entries with ``seq`` > ``after``, in order."""
        self._chat(chat_id)
        entries = [e for e in self.sandbox.state.transcript_of(chat_id) if e["seq"] > after]
        return {"chatId": chat_id, "entries": entries}

    async def wait_transcript(self, chat_id: str, *, after: int = 0) -> list[dict[str, Any]]:
        """Wait for transcript entries with ``seq`` > ``after`` and return them (at least one).

        Waits as long as it takes: bound it with ``anyio.move_on_after``/``fail_after``.
        """

        def fresh() -> list[dict[str, Any]]:
            return cast("list[dict[str, Any]]", self.transcript(chat_id, after=after)["entries"])

        await self.sandbox.wait_until(lambda: bool(fresh()))
        return fresh()

    def close_chat(
        self, chat_id: str, *, by: str = "agent", agent_id: str | None = None
    ) -> dict[str, Any]:
        """Close a chat as the visitor or as an agent (default: the human agent)."""
        chat = self._chat(chat_id)
        if not chat.is_open:
            raise bad_request(f"chat {chat_id} is already closed")
        if by == "visitor":
            self.sandbox.close_chat(chat)
        elif by == "agent":
            self.sandbox.close_chat(chat, agent_id=self.sandbox.resolve_agent(agent_id).id)
        else:
            raise bad_request("by must be 'agent' or 'visitor'")
        return {"chat": wire.chat_summary(chat)}

    def rate_chat(
        self, chat_id: str, *, value: int | None, text: str | None = None
    ) -> dict[str, Any]:
        """Rate a chat as its visitor."""
        chat = self._chat(chat_id)
        self.sandbox.rate_chat(chat, value=value, text=text)
        return {"chat": wire.chat_summary(chat)}

    def agent_join(self, chat_id: str, *, agent_id: str | None = None) -> dict[str, Any]:
        """A (human) agent joins the chat."""
        chat = self._chat(chat_id)
        message = self.sandbox.agent_join(chat, self.sandbox.resolve_agent(agent_id))
        return {"chat": wire.chat_summary(chat), "message": message and wire.message(message)}

    def agent_leave(self, chat_id: str, *, agent_id: str | None = None) -> dict[str, Any]:
        """A (human) agent leaves the chat."""
        chat = self._chat(chat_id)
        message = self.sandbox.agent_leave(chat, self.sandbox.resolve_agent(agent_id))
        return {"chat": wire.chat_summary(chat), "message": message and wire.message(message)}

    def agent_message(
        self, chat_id: str, text: str, *, agent_id: str | None = None
    ) -> dict[str, Any]:
        """A (human) agent writes in the chat."""
        if not isinstance(text, str) or not text:
            raise bad_request("text must be a non-empty string")
        chat = self._chat(chat_id)
        agent = self.sandbox.resolve_agent(agent_id)
        return {"message": wire.message(self.sandbox.agent_message(chat, agent.id, text))}

    def agent_typing(
        self, chat_id: str, is_typing: bool, *, agent_id: str | None = None
    ) -> dict[str, Any]:
        """A (human) agent starts or stops typing."""
        chat = self._chat(chat_id)
        self.sandbox.agent_typing(chat, self.sandbox.resolve_agent(agent_id).id, bool(is_typing))
        return {"ok": True}

    # -- connections and recordings ---------------------------------------------------------

    def connections(
        self,
        *,
        side: Side | None = None,
        agent_id: str | None = None,
        visitor_id: str | None = None,
        is_open: bool | None = None,
    ) -> dict[str, Any]:
        """Every connection ever opened (since the last reset), in opening order."""
        return {
            "connections": [
                conn.to_json()
                for conn in self.sandbox.connections.values()
                if (side is None or conn.side == side)
                and (agent_id is None or conn.agent_id == agent_id)
                and (visitor_id is None or conn.visitor_id == visitor_id)
                and (is_open is None or conn.is_open == is_open)
            ]
        }

    def frames(self, conn_id: str, *, after: int = 0) -> dict[str, Any]:
        """Every frame received (``in``) and sent (``out``) on a connection, in order."""
        return {"frames": [f for f in self._conn(conn_id).frames if f["seq"] > after]}

    def requests(self, conn_id: str, *, after: int = 0) -> dict[str, Any]:
        """The Socket.IO events (requests) a connection received, decoded, in order."""
        return {"requests": [r for r in self._conn(conn_id).requests if r["seq"] > after]}

    def events(self, conn_id: str, *, after: int = 0) -> dict[str, Any]:
        """The Socket.IO events the sandbox sent on a connection, in order."""
        return {"events": [e for e in self._conn(conn_id).events if e["seq"] > after]}

    def agent_requests(self, agent_id: str, *, after: int = 0) -> dict[str, Any]:
        """Every request from every connection of one agent, in order, with ``connId``.

        A connection belongs to the agent from its ``agent.connect`` on, so the login request
        itself is included (with a failed login the connection stays anonymous).
        """
        items = [
            {**request, "connId": conn.id}
            for conn in self.sandbox.connections.values()
            if conn.agent_id == agent_id
            for request in conn.requests
            if request["seq"] > after
        ]
        items.sort(key=lambda item: cast(int, item["seq"]))
        return {"requests": items}

    # -- faults ----------------------------------------------------------------------------

    def drop(
        self,
        *,
        conn_id: str | None = None,
        side: Side | None = None,
        agent_id: str | None = None,
        visitor_id: str | None = None,
    ) -> dict[str, Any]:
        """Drop matching sockets (none given: all) without an Engine.IO close packet."""
        conns = self.sandbox.select(
            conn_id=conn_id, side=side, agent_id=agent_id, visitor_id=visitor_id
        )
        return {"dropped": self.sandbox.drop(conns)}

    def ack_fault(
        self,
        *,
        request: str,
        action: AckAction,
        delay_seconds: float = 0.0,
        count: int | None = None,
        agent_id: str | None = None,
    ) -> dict[str, Any]:
        """Delay or drop the acks of a request name (the next ``count`` ones, or all)."""
        if action not in ("delay", "drop"):
            raise bad_request("action must be 'delay' or 'drop'")
        if action == "delay" and not (0 < delay_seconds <= 3600):
            raise bad_request("delaySeconds must be > 0 (and at most 3600) for a delay")
        if count is not None and count < 1:
            raise bad_request("count must be >= 1")
        fault = self.sandbox.faults.add_ack_fault(
            request=request,
            action=action,
            delay_seconds=delay_seconds,
            count=count,
            agent_id=agent_id,
        )
        return {"fault": fault.to_json()}

    def heartbeat(
        self, *, stop: bool, conn_id: str | None = None, agent_id: str | None = None
    ) -> dict[str, Any]:
        """Stop (or resume) heartbeats so a client's dead-link detection can be tested."""
        conns = self.sandbox.select(conn_id=conn_id, agent_id=agent_id)
        return {"connIds": self.sandbox.set_heartbeat(conns, stop=stop, agent_id=agent_id)}

    def server_error(
        self,
        *,
        message: str,
        conn_id: str | None = None,
        agent_id: str | None = None,
        type: str | None = None,
        code: int | None = None,
        event: str | None = None,
    ) -> dict[str, Any]:
        """Emit ``server.error`` to matching agent connections (or one connection)."""
        payload: dict[str, Any] = {"message": message}
        for key, value in (("type", type), ("code", code), ("event", event)):
            if value is not None:
                payload[key] = value
        conns = self._targets(conn_id, agent_id)
        return {"connIds": self.sandbox.send_server_error(conns, payload)}

    def logout(self, *, conn_id: str | None = None, agent_id: str | None = None) -> dict[str, Any]:
        """Emit ``logout`` to matching agent connections (or one connection)."""
        return {"connIds": self.sandbox.send_logout(self._targets(conn_id, agent_id))}

    def malformed(
        self, *, conn_id: str | None = None, agent_id: str | None = None, frame: str | None = None
    ) -> dict[str, Any]:
        """Send a frame that is not valid Engine.IO / Socket.IO."""
        return {"connIds": self.sandbox.send_malformed(self._targets(conn_id, agent_id), frame)}

    def faults(self) -> dict[str, Any]:
        """The standing faults."""
        return {"faults": self.sandbox.faults.to_json()}

    def clear_faults(self) -> dict[str, Any]:
        """Remove standing faults and resume heartbeats everywhere."""
        self.sandbox.faults.clear()
        self.sandbox.set_heartbeat(list(self.sandbox.open_connections()), stop=False)
        return {"ok": True}

    # -- helpers -----------------------------------------------------------------------------

    def _visitor(self, visitor_id: str) -> VisitorRecord:
        visitor = self.sandbox.state.visitors.get(visitor_id)
        if visitor is None:
            raise not_found("Visitor", "control")
        return visitor

    def _chat(self, chat_id: str) -> ChatRecord:
        chat = self.sandbox.state.chats.get(chat_id)
        if chat is None:
            raise not_found("Chat", "control")
        return chat

    def _conn(self, conn_id: str) -> Any:
        conn = self.sandbox.connections.get(conn_id)
        if conn is None:
            raise not_found("Connection", "control")
        return conn

    def _targets(self, conn_id: str | None, agent_id: str | None) -> list[Any]:
        if conn_id is not None:
            return self.sandbox.select(conn_id=conn_id)
        return [
            conn
            for conn in self.sandbox.agent_connections()
            if agent_id is None or conn.agent_id == agent_id
        ]


# -- HTTP ------------------------------------------------------------------------------------

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
                **{_VISITOR_FIELDS[k]: v for k, v in b.items() if k in _VISITOR_FIELDS}
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
