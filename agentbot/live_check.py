"""``agentbot check --live``: which transports work with a real account, in one command.

The bot's outgoing path rests on the vendor's documentation, not on a session with the
real service (issue 11). This check logs in as the configured agent, says what the server
reported (its version, the account's agents and groups), watches a few events for a few
seconds, then tries each configured transport in a way that cannot bother a visitor:

- REST: a conversations search (``POST /v2/conversations/search``, a read), which proves
  the token and the auth scheme (a 401/403 row names the scheme that was refused);
- socket: ``visitor.get`` for a visitor seen in the events or the search, if any;
- only when ``--chat ID`` names a test chat: an internal note over REST and a test message
  over the configured ``send_via`` transport. Without it nothing is written anywhere.

Each step is a :class:`CheckRow` (check / result / detail); a failing step does not stop
the next ones, so the table tells the whole story. Secrets never appear in a row: errors
are summarised by their type and status, which carry no credential.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import anyio
import attrs

from agentbot.api import Request, VisitorGet
from agentbot.api.assumed import ChatMessage
from agentbot.client import AgentClient
from agentbot.client.rest import RestApi
from agentbot.errors import AgentbotError, RestAuthError, RestError
from agentbot.runtime.clock import Clock, RealClock
from agentbot.runtime.config import SmartsuppSettings
from agentbot.runtime.wiring import agent_client_for

__all__ = [
    "DEFAULT_MAX_EVENTS",
    "DEFAULT_WATCH_SECONDS",
    "TEST_MESSAGE",
    "TEST_NOTE",
    "CheckRow",
    "format_table",
    "live_check",
]

DEFAULT_WATCH_SECONDS = 5.0
"""How long the check listens for events after logging in."""
DEFAULT_MAX_EVENTS = 10
"""The watch ends early once this many events arrived (a busy account needs no 5 s)."""
TEST_NOTE = "agentbot check --live: test note (internal, not shown to the visitor)"
TEST_MESSAGE = "agentbot check --live: test message"

Result = Literal["ok", "FAIL", "skipped"]


@attrs.frozen
class CheckRow:
    """One line of the report: what was tried, how it went, and what was seen."""

    check: str
    result: Result
    detail: str


def format_table(rows: Sequence[CheckRow]) -> str:
    """Render ``rows`` as an aligned plain-text table (fits a terminal and a bug report)."""
    header = CheckRow("check", "ok", "detail")
    width_check = max(len(r.check) for r in (header, *rows))
    width_result = max(len(r.result) for r in (*rows, CheckRow("", "skipped", "")))
    lines = [f"{'check':<{width_check}}  {'result':<{width_result}}  detail"]
    lines.append(f"{'-' * width_check}  {'-' * width_result}  {'-' * 6}")
    lines += [f"{r.check:<{width_check}}  {r.result:<{width_result}}  {r.detail}" for r in rows]
    return "\n".join(lines)


def _why(exc: BaseException) -> str:
    """Describe an error without anything the request carried (no token, no payload)."""
    if isinstance(exc, RestError):
        return f"HTTP {exc.status} {exc.error_code or ''}: {exc.message}".replace("  ", " ")
    if isinstance(exc, AgentbotError):
        return f"{type(exc).__name__}: {exc}"
    return type(exc).__name__


def _visitor_of(event: Any) -> str | None:
    """The visitor an event names, if any (``visitorId``, ``chat.visitorId``, ``visitor.id``)."""
    for candidate in (
        getattr(event, "visitor_id", None),
        getattr(getattr(event, "chat", None), "visitor_id", None),
        getattr(getattr(event, "visitor", None), "id", None),
        getattr(getattr(event, "message", None), "visitor_id", None),
    ):
        if isinstance(candidate, str) and candidate:
            return candidate
    return None


async def live_check(
    settings: SmartsuppSettings,
    *,
    chat_id: str | None = None,
    watch_seconds: float = DEFAULT_WATCH_SECONDS,
    max_events: int = DEFAULT_MAX_EVENTS,
    clock: Clock | None = None,
    asgi_app: Any = None,
    echo: Callable[[str], None] | None = None,
) -> list[CheckRow]:
    """Run the live check with ``settings``; return the rows (also passed to ``echo``).

    ``clock`` times the event watch (default: the real clock); ``asgi_app`` runs both the
    socket and REST in-process against an ASGI app (the sandbox), which is what tests use.
    Never raises for a failed step: it becomes a ``FAIL`` row. A failed login ends the
    check (nothing else can be tried without it) after the REST row.
    """
    clock = clock or RealClock()
    rows: list[CheckRow] = []

    def add(check: str, result: Result, detail: str) -> None:
        row = CheckRow(check, result, detail)
        rows.append(row)
        if echo is not None:
            echo(f"{row.check}: {row.result} - {row.detail}")

    visitors: list[str] = []
    client = agent_client_for(settings, asgi_app=asgi_app)
    rest = (
        RestApi(
            base_url=settings.api_url,
            token=settings.api_token,
            auth=settings.api_auth,  # type: ignore[arg-type]  # validated by the config
            timeout_seconds=settings.api_timeout_seconds,
            retries=0,
            asgi_app=asgi_app,
        )
        if settings.api_token
        else None
    )
    logged_in = False
    try:
        async with client:
            logged_in = True
            session = client.session
            name = session.agent.nickname or session.agent.fullname or session.agent.id
            add(
                "login",
                "ok",
                f"{settings.url} (Engine.IO {settings.eio}) as agent {session.agent.id} "
                f"({name}); server version {session.server_version}",
            )
            agents = tuple(session.account.agents)
            online = sum(1 for agent in agents if agent.status == "online")
            add(
                "account",
                "ok",
                f"{len(agents)} agent(s), {online} online, {len(session.account.groups)} group(s)",
            )
            seen = await _watch(client, clock, watch_seconds, max_events, visitors)
            add(
                "events",
                "ok",
                f"{len(seen)} in {watch_seconds:g} s" + (f": {', '.join(seen)}" if seen else ""),
            )
            await _check_rest(rest, settings, add, visitors)
            await _check_visitor_get(client, add, visitors)
            await _check_writes(client, rest, settings, chat_id, add)
    except Exception as exc:
        if logged_in:
            raise
        # Nothing on the socket can be tried without a session; REST still can.
        add("login", "FAIL", f"{settings.url} as agent {settings.agent_id}: {_why(exc)}")
        await _check_rest(rest, settings, add, visitors)
    finally:
        if rest is not None:
            with anyio.CancelScope(shield=True):
                await rest.aclose()
    return rows


async def _watch(
    client: AgentClient, clock: Clock, seconds: float, max_events: int, visitors: list[str]
) -> list[str]:
    """Collect event names for ``seconds`` on ``clock`` or until ``max_events`` arrived."""
    seen: list[str] = []
    async with anyio.create_task_group() as tg:

        async def deadline() -> None:
            await clock.sleep_until(clock.now() + seconds)
            tg.cancel_scope.cancel()

        tg.start_soon(deadline)
        async for event in client.events():
            seen.append(str(getattr(event, "name", type(event).__name__)))
            visitor = _visitor_of(event)
            if visitor is not None and visitor not in visitors:
                visitors.append(visitor)
            if len(seen) >= max_events:
                break
        tg.cancel_scope.cancel()
    return seen


async def _check_rest(
    rest: RestApi | None,
    settings: SmartsuppSettings,
    add: Callable[[str, Result, str], None],
    visitors: list[str],
) -> None:
    if rest is None:
        add("rest", "skipped", "no api_token configured (AGENTBOT_API_TOKEN)")
        return
    where = f"{settings.api_url}, auth {settings.api_auth}"
    try:
        page = await rest.search_conversations(size=5)
    except RestAuthError as exc:
        add("rest", "FAIL", f"{where}: token or auth scheme refused ({_why(exc)})")
        return
    except Exception as exc:
        add("rest", "FAIL", f"{where}: {_why(exc)}")
        return
    for chat in page.items:
        if chat.visitor_id and chat.visitor_id not in visitors:
            visitors.append(chat.visitor_id)
    total = page.total if page.total is not None else len(page.items)
    add("rest", "ok", f"{where}: conversations search answered ({total} conversation(s))")


async def _check_visitor_get(
    client: AgentClient, add: Callable[[str, Result, str], None], visitors: list[str]
) -> None:
    if not visitors:
        add("socket visitor.get", "skipped", "no visitor seen in the events or the search")
        return
    try:
        visitor = await client.request(VisitorGet(id=visitors[0]))
    except Exception as exc:
        add("socket visitor.get", "FAIL", f"visitor {visitors[0]}: {_why(exc)}")
        return
    add("socket visitor.get", "ok", f"visitor {visitor.id} ({visitor.status or 'no status'})")


async def _check_writes(
    client: AgentClient,
    rest: RestApi | None,
    settings: SmartsuppSettings,
    chat_id: str | None,
    add: Callable[[str, Result, str], None],
) -> None:
    if chat_id is None:
        why = "pass --chat ID of a test chat to post a note and a message"
        add("rest note", "skipped", why)
        add(f"send message ({settings.send_via})", "skipped", why)
        return
    if rest is None:
        add("rest note", "skipped", "no api_token configured")
    else:
        try:
            note = await rest.send_message(chat_id, TEST_NOTE, type="note")
            add("rest note", "ok", f"chat {chat_id}: note {note.id} stored")
        except Exception as exc:
            add("rest note", "FAIL", f"chat {chat_id}: {_why(exc)}")
    check = f"send message ({settings.send_via})"
    try:
        if settings.send_via == "rest":
            if rest is None:
                add(check, "FAIL", "send_via is rest but no api_token is configured")
                return
            message = await rest.send_message(chat_id, TEST_MESSAGE)
        else:
            visitor_id = await _chat_visitor(rest, chat_id)
            request: Request = ChatMessage(
                chat_id=chat_id, visitor_id=visitor_id, text=TEST_MESSAGE
            )
            message = await client.request(request)
    except Exception as exc:
        add(check, "FAIL", f"chat {chat_id}: {_why(exc)}")
        return
    add(check, "ok", f"chat {chat_id}: message {message.id} stored")


async def _chat_visitor(rest: RestApi | None, chat_id: str) -> str:
    """The socket ``chat.message`` names the visitor: ask REST for it when it is configured."""
    if rest is None:
        raise AgentbotError("the socket chat.message needs the chat's visitor: set api_token")
    chat = await rest.get_conversation(chat_id)
    if not chat.visitor_id:
        raise AgentbotError(f"chat {chat_id} has no visitor")
    return chat.visitor_id
