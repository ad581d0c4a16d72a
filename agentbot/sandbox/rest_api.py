"""The sandbox's REST API: the ``/rest/v2/conversations/...`` operations a bot uses.

Shapes follow Smartsupp's own REST spec (VENDOR-SOURCES §3, "Smartsupp Core API", S1): a
message posted with ``POST /v2/conversations/{id}`` ``{type: "message"|"note", content:
{type: "text", text}}`` answers the stored message (spelled as the spec spells it,
``sub_type``); actions answer ``{ok: true}``; errors are ``{code, message}`` with the HTTP
status. A message posted here goes through the hub's agent path, so the visitor page, the
agent console and every agent socket see it exactly like a socket ``chat.message``
(``chat.message_received``); a note reaches agent sockets only, never the visitor.

Auth: every agent has an API token (:func:`api_token_for`), accepted in any of the three
ways a client may send it — ``Authorization: Bearer``, an ``apiKey`` header, or the spec's
``jwt_access_token`` cookie. No token or a wrong one is a 401, as the public docs describe.

Standing REST faults (:class:`~agentbot.sandbox.faults.RestFault`) apply here; every request
is recorded (:attr:`RestService.requests`) without its credential.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from agentbot.errors import ApiError
from agentbot.sandbox import wire
from agentbot.sandbox.config import SandboxAgent
from agentbot.sandbox.faults import RestFault
from agentbot.sandbox.hub import Sandbox
from agentbot.sandbox.state import ChatRecord, MessageRecord

__all__ = ["REST_PREFIX", "RestService", "api_token_for", "rest_message"]

logger = logging.getLogger(__name__)

REST_PREFIX = "/rest"
"""Where the REST API lives: the spec's server is ``http(s)://<app host>/rest``."""

UNAUTHORIZED_MESSAGE = "The API Key was not authorised (or no API Key was found)"
"""The public docs' wording for a 401 (S5 ``docs.smartsupp.com/rest-api/overview``)."""

_JWT_COOKIE = "jwt_access_token"
_DEFAULT_PAGE_SIZE = 50
_MAX_PAGE_SIZE = 500


def api_token_for(agent: SandboxAgent) -> str:
    """Return the REST API token the sandbox issues to ``agent`` (printed with its URL)."""
    return f"api-{agent.auth_token}"


def rest_message(record: MessageRecord) -> dict[str, Any]:
    """A message as the REST API spells it (S1 ``message``: ``sub_type``, not ``subType``)."""
    data = wire.message(record)
    data["sub_type"] = data.pop("subType")
    data.update({"deliveryTo": None, "deliveryStatus": None, "deliveryFailReason": None})
    data["deliveredAt"] = None
    return data


class _Fail(Exception):
    """An error answer ``{code, message}`` with an HTTP status."""

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status = status
        self.code = code
        self.message = message


class _TruncatedResponse(Response):
    """Headers promising the whole body, then only half of it: a dropped response."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": self.status_code,
                "headers": self.raw_headers,
            }
        )
        await send({"type": "http.response.body", "body": self.body[: len(self.body) // 2]})


class RestService:
    """The REST endpoints of one sandbox, its per-chat REST fields and its request log."""

    def __init__(self, sandbox: Sandbox, *, max_recorded: int | None = None) -> None:
        self.sandbox = sandbox
        self.requests: deque[dict[str, Any]] = deque(
            maxlen=max_recorded or sandbox.config.max_recorded_frames
        )
        """Every REST request: ``{seq, method, operation, path, agentId, body, status}``."""
        self.tags: dict[str, list[str]] = {}
        self.important: dict[str, bool] = {}

    # -- tokens ------------------------------------------------------------------------------

    def tokens(self) -> dict[str, str]:
        """Agent id → its API token (for printing and for the test harness)."""
        return {agent.id: api_token_for(agent) for agent in self.sandbox.config.agents}

    def _agent_for(self, request: Request) -> SandboxAgent | None:
        offered: list[str] = []
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            offered.append(header[7:].strip())
        if "apikey" in request.headers:
            offered.append(request.headers["apikey"].strip())
        cookie = request.cookies.get(_JWT_COOKIE)
        if cookie:
            offered.append(cookie)
        for agent in self.sandbox.config.agents:
            if api_token_for(agent) in offered:
                return agent
        return None

    # -- routes ------------------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        """The starlette routes, under :data:`REST_PREFIX`."""
        table: list[tuple[str, str, Callable[..., Any]]] = [
            ("POST", "/v2/conversations/search", self._search),
            ("POST", "/v2/conversations/{id}", self._post_message),
            ("GET", "/v2/conversations/{id}", self._get_conversation),
            ("PATCH", "/v2/conversations/{id}", self._patch_conversation),
            ("GET", "/v2/conversations/{id}/messages", self._messages),
            ("PATCH", "/v2/conversations/{id}/close", self._close),
            ("PATCH", "/v2/conversations/{id}/assign", self._assign),
            ("PATCH", "/v2/conversations/{id}/unassign", self._unassign),
            ("PATCH", "/v2/conversations/{id}/join", self._join),
            ("PATCH", "/v2/conversations/{id}/leave", self._leave),
        ]
        by_path: dict[str, dict[str, Callable[..., Any]]] = {}
        for method, template, handler in table:
            by_path.setdefault(template, {})[method] = handler
        return [
            Route(
                REST_PREFIX + template, self._endpoint(template, handlers), methods=list(handlers)
            )
            for template, handlers in by_path.items()
        ]

    def _endpoint(
        self, template: str, handlers: Mapping[str, Callable[..., Any]]
    ) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            operation = f"{request.method} {template}"
            agent = self._agent_for(request)
            entry: dict[str, Any] = {
                "seq": self.sandbox.state.next_seq(),
                "method": request.method,
                "operation": operation,
                "path": request.url.path,
                "agentId": agent.id if agent is not None else None,
            }
            self.requests.append(entry)
            response = await self._serve(request, operation, agent, handlers[request.method], entry)
            entry["status"] = response.status_code
            self.sandbox.notify()
            return response

        return endpoint

    async def _serve(
        self,
        request: Request,
        operation: str,
        agent: SandboxAgent | None,
        handler: Callable[..., Any],
        entry: dict[str, Any],
    ) -> Response:
        fault = self.sandbox.faults.take_rest_fault(operation, agent.id if agent else None)
        if fault is not None and fault.action == "error":
            return _error(fault.status, "internal_error", "Sandbox fault: server error")
        if agent is None or (fault is not None and fault.action == "unauthorized"):
            return _error(401, "unauthorized", UNAUTHORIZED_MESSAGE)
        try:
            body = await _json_body(request) if request.method in ("POST", "PATCH") else {}
            entry["body"] = body  # recorded like the socket's requests, for tests
            result = handler(agent, request, body)
        except _Fail as exc:
            return _error(exc.status, exc.code, exc.message)
        except ApiError as exc:
            return _error(400, exc.type or "bad_request", exc.message)
        return await _deliver(result, fault)

    # -- handlers (synchronous: state changes happen without awaits, like the sockets') ------

    def _chat(self, request: Request) -> ChatRecord:
        chat = self.sandbox.state.chats.get(request.path_params["id"])
        if chat is None:
            raise _Fail(404, "not_found", "Conversation not found")
        return chat

    def _post_message(
        self, agent: SandboxAgent, request: Request, body: dict[str, Any]
    ) -> dict[str, Any]:
        chat = self._chat(request)
        kind = body.get("type", "message")
        content = body.get("content")
        if kind not in ("message", "note"):
            raise _Fail(400, "bad_request", "type must be 'message' or 'note'")
        if not isinstance(content, dict) or content.get("type") != "text":
            raise _Fail(400, "bad_request", "content must be {type: 'text', text}")
        text = content.get("text")
        if not isinstance(text, str) or not text:
            raise _Fail(400, "bad_request", "content.text must be a non-empty string")
        unknown = set(body) - {"type", "content", "channel", "attachments"}
        if unknown:
            raise _Fail(400, "bad_request", f"unknown fields: {', '.join(sorted(unknown))}")
        if not chat.is_open:
            raise _Fail(400, "conversation_closed", "Conversation is closed")
        if kind == "note":
            record = self.sandbox.state.add_message(
                chat, sub_type="agent", text=text, agent_id=agent.id, type="note"
            )
            # A note is internal: agents hear of it, the visitor never does.
            self.sandbox.to_agents(
                "chat.message_received", {"chatId": chat.id, "message": wire.message(record)}
            )
        else:
            record = self.sandbox.agent_message(chat, agent.id, text)
        return rest_message(record)

    def _get_conversation(
        self, agent: SandboxAgent, request: Request, body: dict[str, Any]
    ) -> dict[str, Any]:
        return self.conversation(self._chat(request))

    def _patch_conversation(
        self, agent: SandboxAgent, request: Request, body: dict[str, Any]
    ) -> dict[str, Any]:
        chat = self._chat(request)
        unknown = set(body) - {"tags", "important"}
        if unknown:
            raise _Fail(400, "bad_request", f"unknown fields: {', '.join(sorted(unknown))}")
        if "tags" in body:
            tags = body["tags"]
            if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
                raise _Fail(400, "bad_request", "tags must be a list of strings")
            self.tags[chat.id] = list(tags)
        if "important" in body:
            if not isinstance(body["important"], bool):
                raise _Fail(400, "bad_request", "important must be a boolean")
            self.important[chat.id] = body["important"]
        self.sandbox.to_agents(
            "chat.updated",
            {
                "chatId": chat.id,
                "changes": {k: body[k] for k in ("tags", "important") if k in body},
            },
        )
        return self.conversation(chat)

    def _messages(
        self, agent: SandboxAgent, request: Request, body: dict[str, Any]
    ) -> dict[str, Any]:
        chat = self._chat(request)
        params = request.query_params
        size = _int_param(params.get("size"), _DEFAULT_PAGE_SIZE, "size")
        start = _int_param(params.get("after"), 0, "after")
        order = params.get("order", "asc")
        if order not in ("asc", "desc"):
            raise _Fail(400, "bad_request", "order must be 'asc' or 'desc'")
        messages = list(chat.messages)
        if order == "desc":
            messages.reverse()
        page = messages[start : start + min(size, _MAX_PAGE_SIZE)]
        end = start + len(page)
        return {
            "items": [rest_message(m) for m in page],
            "after": str(end) if end < len(messages) else None,
            "total": len(messages),
        }

    def _search(
        self, agent: SandboxAgent, request: Request, body: dict[str, Any]
    ) -> dict[str, Any]:
        chats = list(self.sandbox.state.chats.values())
        for clause in body.get("query") or []:
            if not isinstance(clause, dict) or "field" not in clause:
                raise _Fail(400, "bad_request", "query items are {field, value, op?}")
            field, value = clause["field"], clause.get("value")
            negate = clause.get("op") == "must_not"
            if field == "status":
                chats = [c for c in chats if (_status(c) == value) != negate]
            elif field == "agentIds":
                chats = [c for c in chats if (value in c.assigned_ids) != negate]
            else:
                raise _Fail(400, "bad_request", f"unsupported query field {field!r}")
        size = _int_param(body.get("size"), _DEFAULT_PAGE_SIZE, "size")
        start = _int_param(body.get("after"), 0, "after")
        page = chats[start : start + min(size, _MAX_PAGE_SIZE)]
        end = start + len(page)
        return {
            "items": [self.conversation(c) for c in page],
            "after": str(end) if end < len(chats) else None,
            "total": len(chats),
        }

    def _close(self, agent: SandboxAgent, request: Request, body: dict[str, Any]) -> Any:
        chat = self._chat(request)
        if chat.is_open:
            self.sandbox.close_chat(chat, agent_id=agent.id)
        return {"ok": True}

    def _target(self, body: dict[str, Any]) -> SandboxAgent:
        agent_id = body.get("id")
        if not isinstance(agent_id, str | int) or isinstance(agent_id, bool):
            raise _Fail(400, "bad_request", "id (the agent id) is required")
        target = self.sandbox.config.agent(str(agent_id))
        if target is None:
            raise _Fail(404, "not_found", "Agent not found")
        return target

    def _assign(self, agent: SandboxAgent, request: Request, body: dict[str, Any]) -> Any:
        # An assignment, not a join: ``chat.agent_assigned`` with who assigned (S2).
        self.sandbox.agent_assign(self._chat(request), self._target(body), by=agent)
        return {"ok": True}

    def _unassign(self, agent: SandboxAgent, request: Request, body: dict[str, Any]) -> Any:
        self.sandbox.agent_unassign(self._chat(request), self._target(body), by=agent)
        return {"ok": True}

    def _join(self, agent: SandboxAgent, request: Request, body: dict[str, Any]) -> Any:
        self.sandbox.agent_join(self._chat(request), agent)
        return {"ok": True}

    def _leave(self, agent: SandboxAgent, request: Request, body: dict[str, Any]) -> Any:
        self.sandbox.agent_leave(self._chat(request), agent)
        return {"ok": True}

    # -- shapes ------------------------------------------------------------------------------

    def conversation(self, chat: ChatRecord) -> dict[str, Any]:
        """A chat as the REST API's ``conversation`` (S1; the fields the sandbox can fill)."""
        status = _status(chat)
        return {
            "id": chat.id,
            "type": "chat",
            "status": status,
            "channel": {"type": "default", "id": None},
            "contactId": None,
            "visitorId": chat.visitor_id,
            "createdAt": chat.created_at,
            "updatedAt": chat.messages[-1].created_at if chat.messages else chat.created_at,
            "finishedAt": chat.closed_at,
            "agentIds": list(chat.assigned_ids),
            "assignedIds": list(chat.assigned_ids),
            "groupId": chat.group_id,
            "rating": wire.rating(chat),
            "tags": list(self.tags.get(chat.id, [])),
            "variables": {},
            "important": self.important.get(chat.id, False),
            "isClosed": not chat.is_open,
            "isOffline": False,
            "isServed": bool(chat.assigned_ids),
        }


def _status(chat: ChatRecord) -> str:
    return str(chat.status)


def _int_param(value: Any, default: int, name: str) -> int:
    if value is None:
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _Fail(400, "bad_request", f"{name} must be an integer") from None
    if number < 0:
        raise _Fail(400, "bad_request", f"{name} must be >= 0")
    return number


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise _Fail(400, "bad_request", "the body is not JSON") from None
    if not isinstance(body, dict):
        raise _Fail(400, "bad_request", "the body must be a JSON object")
    return body


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message}, status_code=status)


async def _deliver(result: Any, fault: RestFault | None) -> Response:
    if fault is not None and fault.action == "slow":
        await anyio.sleep(fault.delay_seconds)
    if fault is not None and fault.action == "drop":
        response = JSONResponse(result)
        return _TruncatedResponse(
            content=response.body, status_code=200, media_type="application/json"
        )
    return JSONResponse(result)
