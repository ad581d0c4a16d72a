"""The Smartsupp REST API (v2) the bot uses to speak and to act on chats.

Smartsupp's own agent client sends no socket ``chat.message``; the only documented way for an
agent to post is ``POST /v2/conversations/{id}`` (VENDOR-SOURCES §3, the "Smartsupp Core API"
spec S1). Closing, tagging, assigning and reading history exist only here. This module is
the one place that speaks that API: one :class:`httpx.AsyncClient` per bot, TLS verified,
every request time-limited, typed errors out.

Retries: a request is retried with capped, jittered backoff only when doing it twice cannot
do harm — the idempotent ones (GET, PATCH, the read-only search) — or when it provably never
reached the server (the connection could not be opened). A message post is never retried
here: if its outcome is unknown the caller gets :class:`~agentbot.errors.OutcomeUnknown` and
decides (``Outbound.send_message_once`` checks the history first). 401/403 is
:class:`~agentbot.errors.RestAuthError`: final, not retried.

The credential never appears in a log line, a repr or an error: errors name the operation by
its path template.
"""

from __future__ import annotations

import functools
import logging
import random
import ssl
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal
from urllib.parse import quote

import anyio
import attrs
import httpx

from agentbot.api import Chat, ChatMessageReceived, ChatOpened, Message, decode_event
from agentbot.errors import (
    AgentbotError,
    ConnectionLost,
    DecodeError,
    OutcomeUnknown,
    RestAuthError,
    RestError,
    safe_snippet,
)

__all__ = [
    "API_AUTH_SCHEMES",
    "DEFAULT_API_URL",
    "DEFAULT_REST_TIMEOUT_SECONDS",
    "AuthScheme",
    "ConversationPage",
    "MessagePage",
    "RestApi",
    "auth_headers",
    "normalise_rest_message",
    "shared_ssl_context",
]

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://app.smartsupp.com/rest"
"""**Assumed** production base: the spec's only server is a developer host
(``http://app.smartsupp.loc/rest``), so by analogy ``/rest`` on the app host. Unverified."""

DEFAULT_REST_TIMEOUT_SECONDS = 10.0
DEFAULT_RETRIES = 2
DEFAULT_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 8.0
JWT_COOKIE = "jwt_access_token"
"""The cookie the spec's ``securitySchemes.cookieAuth`` names (S1)."""

AuthScheme = Literal["bearer", "apikey", "cookie"]
API_AUTH_SCHEMES: tuple[AuthScheme, ...] = ("bearer", "apikey", "cookie")

Sleep = Callable[[float], Awaitable[None]]


def auth_headers(scheme: AuthScheme, token: str) -> dict[str, str]:
    """Return the headers that carry ``token`` in ``scheme`` (bearer, ``apiKey``, cookie)."""
    if scheme == "bearer":
        return {"Authorization": f"Bearer {token}"}
    if scheme == "apikey":
        return {"apiKey": token}
    if scheme == "cookie":
        return {"Cookie": f"{JWT_COOKIE}={token}"}
    raise ValueError(f"unknown auth scheme {scheme!r}; use one of {', '.join(API_AUTH_SCHEMES)}")


def normalise_rest_message(data: Any) -> Any:
    """Return a REST message with the socket's key spelling (``sub_type`` → ``subType``).

    The REST spec (S1) spells the key ``sub_type``, the socket (S2) ``subType``; the api/
    decoder is the socket's. This is the one place the REST spelling is mapped, so it can go
    once api/ accepts both.
    """
    if isinstance(data, Mapping) and "sub_type" in data and "subType" not in data:
        fixed = {k: v for k, v in data.items() if k != "sub_type"}
        fixed["subType"] = data["sub_type"]
        return fixed
    return data


def _decode_message(data: Any, operation: str) -> Message:
    data = normalise_rest_message(data)
    chat_id = data.get("chatId") if isinstance(data, Mapping) else None
    event = decode_event("chat.message_received", {"chatId": chat_id, "message": data})
    if not isinstance(event, ChatMessageReceived):
        raise DecodeError(f"{operation}: not a message: {safe_snippet(data)}", event=operation)
    return event.message


def _decode_conversation(data: Any, operation: str) -> Chat:
    if isinstance(data, Mapping) and isinstance(data.get("messages"), list):
        data = {**data, "messages": [normalise_rest_message(m) for m in data["messages"]]}
    event = decode_event("chat.opened", {"chat": data})
    if not isinstance(event, ChatOpened) or event.chat is None:
        raise DecodeError(f"{operation}: not a conversation: {safe_snippet(data)}", event=operation)
    return event.chat


@attrs.frozen(kw_only=True)
class MessagePage:
    """One page of a chat's history: ``items`` in the order asked for, ``after`` the cursor
    of the next page (None on the last), ``total`` the server's count (None if not given)."""

    items: tuple[Message, ...]
    after: str | None = None
    total: int | None = None


@attrs.frozen(kw_only=True)
class ConversationPage:
    """One page of ``POST /v2/conversations/search``: like :class:`MessagePage`, of chats."""

    items: tuple[Chat, ...]
    after: str | None = None
    total: int | None = None


def _cursor(value: Any) -> str | None:
    return None if value is None else str(value)


def _total(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """The process's one verifying TLS context (httpx's default: certifi, or SSL_CERT_FILE).

    Building one loads the whole CA bundle: about 0.8 MB and 18 ms of CPU. Every client
    making its own (httpx's default) cost a fleet of 1,000 bots 0.8 GB, and its logins, all
    at once, blocked the event loop for tens of seconds, past the login timeouts. A context
    is safe to share between connections; every client of this package uses this one.
    """
    return httpx.create_ssl_context()


class RestApi:
    """The REST calls an agent bot makes, over one :class:`httpx.AsyncClient`.

    Parameters (keyword-only): ``base_url`` (e.g. :data:`DEFAULT_API_URL`), ``token`` (the
    secret), ``auth`` (how it travels: ``"bearer"`` header — the default —, ``"apikey"``
    header, or the spec's ``jwt_access_token`` cookie), ``timeout_seconds`` per request,
    ``retries`` for idempotent requests, ``sleep`` for backoff waits (the runtime's clock;
    default :func:`anyio.sleep`), ``asgi_app`` to talk to an in-process ASGI app (the
    sandbox) instead of the network, ``verify`` TLS (on by default; a path to a CA bundle is
    accepted). Use ``async with`` or call :meth:`aclose`.
    """

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        auth: AuthScheme = "bearer",
        timeout_seconds: float = DEFAULT_REST_TIMEOUT_SECONDS,
        retries: int = DEFAULT_RETRIES,
        sleep: Sleep | None = None,
        asgi_app: Any = None,
        verify: bool | str = True,
        rng: random.Random | None = None,
    ) -> None:
        if not timeout_seconds > 0:
            raise ValueError(f"timeout_seconds must be > 0, got {timeout_seconds!r}")
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.timeout_seconds = timeout_seconds
        self.retries = max(0, retries)
        self._sleep: Sleep = sleep or anyio.sleep
        self._rng = rng or random.Random()
        self._asgi_app = asgi_app
        self._verify = verify
        self._headers = {**auth_headers(auth, token), "Accept": "application/json"}
        self._client: httpx.AsyncClient | None = None

    @property
    def _http(self) -> httpx.AsyncClient:
        """The HTTP client, made at the first request: a bot that never calls REST (socket
        mode with a token for history) holds no connection pool (a fleet has hundreds)."""
        if self._client is None:
            app = self._asgi_app
            self._client = httpx.AsyncClient(
                base_url=self.base_url,
                headers=self._headers,
                timeout=httpx.Timeout(self.timeout_seconds),
                transport=httpx.ASGITransport(app=app) if app is not None else None,
                verify=shared_ssl_context() if self._verify is True else self._verify,
                follow_redirects=False,
            )
        return self._client

    def __repr__(self) -> str:
        return f"RestApi(base_url={self.base_url!r}, auth={self.auth!r})"

    async def __aenter__(self) -> RestApi:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        if self._client is not None:
            await self._client.aclose()

    # -- messages ----------------------------------------------------------------------------

    async def send_message(
        self, chat_id: str, text: str, *, type: Literal["message", "note"] = "message"
    ) -> Message:
        """Post ``text`` into the chat (``POST /v2/conversations/{id}``); return the stored message.

        ``type="note"`` posts an internal note, which the visitor never sees. Never retried
        once the request may have left: raises :class:`OutcomeUnknown` on a timeout, a
        dropped response or a 5xx, :class:`RestAuthError` on 401/403, :class:`RestError`
        on any other error status.
        """
        body = {"type": type, "content": {"type": "text", "text": text}}
        data = await self._call(
            "POST", "/v2/conversations/{id}", chat_id, json=body, idempotent=False
        )
        return _decode_message(data, "POST /v2/conversations/{id}")

    async def history(
        self,
        chat_id: str,
        *,
        size: int | None = None,
        after: str | None = None,
        order: Literal["asc", "desc"] | None = None,
    ) -> MessagePage:
        """Return one page of the chat's messages (``GET /v2/conversations/{id}/messages``)."""
        params: dict[str, str] = {}
        if size is not None:
            params["size"] = str(size)
        if after is not None:
            params["after"] = after
        if order is not None:
            params["order"] = order
        operation = "GET /v2/conversations/{id}/messages"
        data = await self._call("GET", "/v2/conversations/{id}/messages", chat_id, params=params)
        if not isinstance(data, Mapping) or not isinstance(data.get("items"), list):
            raise DecodeError(f"{operation}: expected {{items, after, total}}", event=operation)
        return MessagePage(
            items=tuple(_decode_message(item, operation) for item in data["items"]),
            after=_cursor(data.get("after")),
            total=_total(data.get("total")),
        )

    # -- conversations -----------------------------------------------------------------------

    async def get_conversation(self, chat_id: str) -> Chat:
        """Return the chat (``GET /v2/conversations/{id}``); REST-only fields are in ``extra``."""
        data = await self._call("GET", "/v2/conversations/{id}", chat_id)
        return _decode_conversation(data, "GET /v2/conversations/{id}")

    async def search_conversations(
        self,
        *,
        query: Sequence[Mapping[str, Any]] = (),
        size: int | None = None,
        after: str | None = None,
    ) -> ConversationPage:
        """Search chats (``POST /v2/conversations/search``), e.g. ``query=[{"field": "status",
        "value": "open"}]``. A read, so retried like GET."""
        body: dict[str, Any] = {}
        if query:
            body["query"] = [dict(q) for q in query]
        if size is not None:
            body["size"] = size
        if after is not None:
            body["after"] = after
        operation = "POST /v2/conversations/search"
        data = await self._call("POST", "/v2/conversations/search", None, json=body)
        if not isinstance(data, Mapping) or not isinstance(data.get("items"), list):
            raise DecodeError(f"{operation}: expected {{items, after, total}}", event=operation)
        return ConversationPage(
            items=tuple(_decode_conversation(item, operation) for item in data["items"]),
            after=_cursor(data.get("after")),
            total=_total(data.get("total")),
        )

    async def close_chat(self, chat_id: str) -> None:
        """Close the chat (``PATCH /v2/conversations/{id}/close``)."""
        await self._call("PATCH", "/v2/conversations/{id}/close", chat_id)

    async def update_conversation(
        self, chat_id: str, *, tags: Sequence[str] | None = None, important: bool | None = None
    ) -> Chat:
        """Set the chat's tags and/or important flag (``PATCH /v2/conversations/{id}``)."""
        body: dict[str, Any] = {}
        if tags is not None:
            body["tags"] = list(tags)
        if important is not None:
            body["important"] = important
        data = await self._call("PATCH", "/v2/conversations/{id}", chat_id, json=body)
        return _decode_conversation(data, "PATCH /v2/conversations/{id}")

    async def tag_chat(self, chat_id: str, tags: Sequence[str]) -> Chat:
        """Replace the chat's tags (the API sets the whole list)."""
        return await self.update_conversation(chat_id, tags=tags)

    async def set_important(self, chat_id: str, important: bool = True) -> Chat:
        """Mark the chat important (or not)."""
        return await self.update_conversation(chat_id, important=important)

    async def assign(self, chat_id: str, agent_id: str) -> None:
        """Assign an agent to the chat (``PATCH /v2/conversations/{id}/assign {id}``)."""
        await self._call(
            "PATCH", "/v2/conversations/{id}/assign", chat_id, json={"id": str(agent_id)}
        )

    async def unassign(self, chat_id: str, agent_id: str) -> None:
        """Unassign an agent (``PATCH /v2/conversations/{id}/unassign {id}``)."""
        await self._call(
            "PATCH", "/v2/conversations/{id}/unassign", chat_id, json={"id": str(agent_id)}
        )

    async def join(self, chat_id: str) -> None:
        """Join the chat as the token's agent (``PATCH /v2/conversations/{id}/join``)."""
        await self._call("PATCH", "/v2/conversations/{id}/join", chat_id)

    async def leave(self, chat_id: str) -> None:
        """Leave the chat (``PATCH /v2/conversations/{id}/leave``)."""
        await self._call("PATCH", "/v2/conversations/{id}/leave", chat_id)

    # -- the one request path ----------------------------------------------------------------

    async def _call(
        self,
        method: str,
        template: str,
        chat_id: str | None,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        idempotent: bool = True,
    ) -> Any:
        operation = f"{method} {template}"
        path = template if chat_id is None else template.replace("{id}", _segment(chat_id))
        attempt = 0
        while True:
            try:
                return await self._once(method, path, operation, json=json, params=params)
            except _NotSent as exc:
                # The connection never opened: the server cannot have seen the request.
                failure: AgentbotError = ConnectionLost(
                    f"{operation}: cannot connect ({exc.detail}); nothing was sent",
                    event=operation,
                )
                retryable = True
            except _Ambiguous as exc:
                failure = OutcomeUnknown(
                    f"{operation}: {exc.detail}"
                    + ("" if idempotent else "; it may have taken effect, not resent"),
                    operation=operation,
                )
                retryable = idempotent
            except RestAuthError:
                raise
            except RestError as exc:
                failure = exc
                if exc.status >= 500 and not idempotent:
                    raise OutcomeUnknown(
                        f"{operation}: server error {exc.status}; it may have taken effect, "
                        "not resent",
                        operation=operation,
                    ) from exc
                retryable = idempotent and (exc.status >= 500 or exc.status == 429)
            if not retryable or attempt >= self.retries:
                raise failure
            attempt += 1
            delay = self._rng.uniform(
                0.0, min(MAX_BACKOFF_SECONDS, DEFAULT_BACKOFF_SECONDS * 2 ** (attempt - 1))
            )
            logger.info("%s failed (%s); retry %d in %.2f s", operation, failure, attempt, delay)
            await self._sleep(delay)

    async def _once(
        self,
        method: str,
        path: str,
        operation: str,
        *,
        json: Any,
        params: Mapping[str, str] | None,
    ) -> Any:
        try:
            # The cancel scope also bounds transports that ignore httpx's timeouts (ASGI).
            with anyio.fail_after(self.timeout_seconds):
                response = await self._http.request(method, path, json=json, params=params)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise _NotSent(type(exc).__name__) from None
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise _Ambiguous(
                f"no answer within {self.timeout_seconds:g} s ({type(exc).__name__})"
            ) from None
        except httpx.TransportError as exc:
            raise _Ambiguous(f"connection failed mid-request ({type(exc).__name__})") from None
        return _result(response, operation)


def _segment(value: str) -> str:
    # Ids are opaque: quote them so one can never change the path.
    return quote(value, safe="")


class _NotSent(Exception):
    def __init__(self, detail: str) -> None:
        self.detail = detail


class _Ambiguous(Exception):
    def __init__(self, detail: str) -> None:
        self.detail = detail


def _result(response: httpx.Response, operation: str) -> Any:
    status = response.status_code
    try:
        data = response.json() if response.content else None
    except ValueError:
        data = None
    if 200 <= status < 300:
        if data is None and response.content:
            # A success whose body is cut short or unreadable: the request took effect (a
            # message was stored) but we cannot know what it returned.
            raise _Ambiguous("the answer was cut short or is not JSON")
        return data
    code = data.get("code") if isinstance(data, Mapping) else None
    message = data.get("message") if isinstance(data, Mapping) else None
    text = str(message) if message else (response.reason_phrase or f"HTTP {status}")
    text = f"{operation}: {status} {text[:200]}"
    error_code = str(code) if code is not None else None
    cls = RestAuthError if status in (401, 403) else RestError
    raise cls(text, status=status, error_code=error_code, operation=operation, raw=data)
