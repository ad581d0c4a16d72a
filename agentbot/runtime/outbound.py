"""``Outbound``: the runtime's one way to speak and to act on chats.

Replies go over the transport ``[smartsupp] send_via`` names: ``"rest"`` (the default:
``POST /v2/conversations/{id}``, the only documented way, VENDOR-SOURCES §3) or ``"socket"``
(an acked ``chat.message`` request, which no vendor source shows). Typing is not here: it is
documented on the socket only, so the runtime sends ``chat.typing`` itself in both modes.

Chat actions (close, tag, mark important, assign, notes, history, the list of open chats)
exist only in the REST API, so they need ``api_token`` even with ``send_via = "socket"``;
without it they raise :class:`~agentbot.errors.ActionUnsupported`. Transferring a chat to a
*group* has no operation in any vendor source, so :meth:`Outbound.transfer_to_group` always
raises that error, with the reason.

Nothing here resends a message on its own: an ambiguous failure is
:class:`~agentbot.errors.OutcomeUnknown`. :meth:`Outbound.send_message_once` is the safe
retry: after an ambiguous failure it looks in the chat's history (:meth:`find_sent`) and
resends only when the message is provably not there.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal

import anyio

from agentbot.api import Chat, ChatMessage, Message, parse_timestamp
from agentbot.client.rest import ConversationPage, MessagePage, RestApi
from agentbot.errors import (
    ActionUnsupported,
    AgentbotError,
    ConfigError,
    ConnectionLost,
    LinkChanged,
    OutcomeUnknown,
    RequestTimeout,
)
from agentbot.runtime.config import SmartsuppSettings
from agentbot.runtime.ports import AgentClientLike

__all__ = [
    "CLOCK_SKEW_SECONDS",
    "DEFAULT_SOCKET_SEND_TIMEOUT_SECONDS",
    "NO_GROUP_TRANSFER",
    "Outbound",
]

logger = logging.getLogger(__name__)

DEFAULT_SOCKET_SEND_TIMEOUT_SECONDS = 10.0
CLOCK_SKEW_SECONDS = 120.0
"""How far the server's clock may be behind ours when :meth:`Outbound.send_message_once`
looks for a message it may have stored (its ``createdAt`` against our wall clock)."""
_HISTORY_PAGE = 50
_HISTORY_PAGES = 4
_OPEN_CHATS_MAX_PAGES = 20
_RETRY_BASE_SECONDS = 0.5
_RETRY_MAX_SECONDS = 8.0

NO_GROUP_TRANSFER = (
    "Smartsupp's REST API has no operation to transfer a chat to a group (VENDOR-SOURCES §3 "
    "lists assign/unassign to an agent only); assign an agent of that group instead"
)

Sleep = Callable[[float], Awaitable[None]]
ClientGetter = Callable[[], AgentClientLike | None]


class Outbound:
    """Send messages and chat actions over the configured transport.

    Parameters:

    - ``settings``: the ``[smartsupp]`` settings (``send_via``, ``api_url``, ``api_token``,
      ``api_auth``, ``api_timeout_seconds``, ``agent_id``).
    - ``client``: returns the live socket client, or None while disconnected (socket mode
      sends ``chat.message`` through it).
    - ``agent_id``: returns the bot's agent id as the server spells it (default: the
      configured one); :meth:`find_sent` matches stored messages against it.
    - ``sleep``: waits between retries (the runtime clock's sleep; default ``anyio.sleep``).
    - ``wall_clock``: epoch seconds, to compare with the server's ``createdAt``.
    - ``rest``: a ready :class:`RestApi` (tests, the harness); default: built from settings.
    - ``asgi_app``: build the REST client against an in-process ASGI app (the sandbox).

    Raises :class:`ConfigError` when ``send_via = "rest"`` and no ``api_token`` is set.
    """

    def __init__(
        self,
        settings: SmartsuppSettings,
        client: ClientGetter,
        *,
        agent_id: Callable[[], str] | None = None,
        sleep: Sleep | None = None,
        wall_clock: Callable[[], float] = time.time,
        rest: RestApi | None = None,
        asgi_app: Any = None,
        rng: random.Random | None = None,
    ) -> None:
        self.send_via: Literal["rest", "socket"] = (
            "socket" if settings.send_via == "socket" else "rest"
        )
        self._client = client
        self._agent_id = agent_id or (lambda: settings.agent_id)
        self._sleep: Sleep = sleep or anyio.sleep
        self._wall_clock = wall_clock
        self._rng = rng or random.Random()
        token = (settings.api_token or "").strip()
        if rest is None and token:
            rest = RestApi(
                base_url=settings.api_url,
                token=token,
                auth=settings.api_auth,  # type: ignore[arg-type]  # validated by config
                timeout_seconds=settings.api_timeout_seconds,
                sleep=self._sleep,
                asgi_app=asgi_app,
            )
        if rest is None and self.send_via == "rest":
            raise ConfigError(
                '[smartsupp] send_via = "rest" needs api_token (or set AGENTBOT_API_TOKEN); '
                'or choose send_via = "socket"',
                section="smartsupp",
                key="api_token",
            )
        self.rest = rest
        """The REST client, or None when no ``api_token`` is configured (socket mode)."""

    @property
    def can_confirm(self) -> bool:
        """Whether :meth:`find_sent` can look (the REST history is available)."""
        return self.rest is not None

    def __repr__(self) -> str:
        return f"Outbound(send_via={self.send_via!r}, rest={self.rest is not None})"

    async def aclose(self) -> None:
        """Close the REST client's connections."""
        if self.rest is not None:
            await self.rest.aclose()

    # -- messages ----------------------------------------------------------------------------

    async def send_message(
        self, chat_id: str, visitor_id: str | None, text: str, *, link: int | None = None
    ) -> Message:
        """Send one message as the bot; return the stored message. Never resends.

        REST: ``POST /v2/conversations/{id}``. Socket: an acked ``chat.message`` (needs
        ``visitor_id`` and a live connection). Raises :class:`OutcomeUnknown` when the
        message may or may not have been stored (timeout, link lost after writing, 5xx),
        :class:`ConnectionLost` when it surely was not sent (:class:`LinkChanged`: ``link``,
        the connection its typing went out on, is gone — socket only), and the typed API errors
        (:class:`~agentbot.errors.RestAuthError` is final) otherwise.
        """
        if self.send_via == "rest":
            return await self._need_rest("send_message").send_message(chat_id, text)
        client = self._client()
        if client is None:
            raise ConnectionLost("not connected; the message was not sent", event="chat.message")
        if visitor_id is None:
            raise ActionUnsupported(
                "send_message", "a socket chat.message needs the chat's visitor id"
            )
        request = ChatMessage(chat_id=chat_id, visitor_id=visitor_id, text=text)
        try:
            reply = await client.request(
                request, timeout=DEFAULT_SOCKET_SEND_TIMEOUT_SECONDS, on_link=link
            )
        except LinkChanged:
            raise  # surely not sent: the actor shows typing on the new link first
        except RequestTimeout as exc:
            raise OutcomeUnknown(
                f"chat.message: {exc}; it may have been stored", operation="chat.message"
            ) from exc
        except ConnectionLost as exc:
            raise OutcomeUnknown(
                f"chat.message: {exc}; it may have been stored", operation="chat.message"
            ) from exc
        if not isinstance(reply, Message):
            raise OutcomeUnknown(
                "chat.message: the reply is not the stored message", operation="chat.message"
            )
        return reply

    async def find_sent(self, chat_id: str, text: str, *, since_epoch: float) -> Message | None:
        """Return our stored message with exactly ``text`` created since ``since_epoch``, if any.

        Reads the chat's REST history, newest first (a few pages at most). None when it is
        not there *or* when that cannot be known (no REST token, an error): callers that
        must not duplicate should treat None after an error as "unknown", as
        :meth:`send_message_once` does.
        """
        found, _checked = await self._lookup(chat_id, text, since_epoch)
        return found

    async def send_message_once(
        self, chat_id: str, visitor_id: str | None, text: str, *, attempts: int = 3
    ) -> Message:
        """Send ``text`` exactly once, retrying ambiguous failures only after checking.

        After an :class:`OutcomeUnknown`, :meth:`find_sent` looks in the history: found, it
        is returned (no second copy); provably absent, the message is sent again after a
        jittered backoff, up to ``attempts`` sends in all; when the history cannot be read,
        the :class:`OutcomeUnknown` is raised rather than risking a duplicate. Other errors
        (auth, bad request, closed chat) are raised at once.
        """
        since = self._wall_clock() - CLOCK_SKEW_SECONDS
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self.send_message(chat_id, visitor_id, text)
            except OutcomeUnknown as exc:
                found, checked = await self._lookup(chat_id, text, since)
                if found is not None:
                    logger.info("chat %s: the message was stored after all (%s)", chat_id, exc)
                    return found
                if not checked or attempt >= attempts:
                    raise
                logger.info("chat %s: not stored (%s); sending again", chat_id, exc)
            delay = self._rng.uniform(
                0.0, min(_RETRY_MAX_SECONDS, _RETRY_BASE_SECONDS * 2 ** (attempt - 1))
            )
            await self._sleep(delay)

    async def _lookup(
        self, chat_id: str, text: str, since_epoch: float
    ) -> tuple[Message | None, bool]:
        rest = self.rest
        if rest is None:
            return None, False
        me = str(self._agent_id())
        after: str | None = None
        try:
            for _ in range(_HISTORY_PAGES):
                page = await rest.history(chat_id, size=_HISTORY_PAGE, after=after, order="desc")
                for message in page.items:
                    created = _epoch(message.created_at)
                    if created is not None and created < since_epoch:
                        return None, True
                    if (
                        message.sub_type == "agent"
                        and message.type == "message"
                        and str(message.agent_id) == me
                        and message.text == text
                    ):
                        return message, True
                if page.after is None:
                    return None, True
                after = page.after
        except AgentbotError as exc:
            logger.warning("chat %s: cannot read the history to confirm a send: %s", chat_id, exc)
            return None, False
        return None, False  # older pages not read: unknown

    # -- chat actions (REST only) ------------------------------------------------------------

    async def note(self, chat_id: str, text: str) -> Message:
        """Post an internal note (never shown to the visitor)."""
        return await self._need_rest("note").send_message(chat_id, text, type="note")

    async def close_chat(self, chat_id: str) -> None:
        """Close the chat."""
        await self._need_rest("close_chat").close_chat(chat_id)

    async def tag_chat(self, chat_id: str, tags: Sequence[str]) -> Chat:
        """Set the chat's tags (the whole list); return the updated chat."""
        return await self._need_rest("tag_chat").tag_chat(chat_id, list(tags))

    async def mark_important(self, chat_id: str, important: bool = True) -> Chat:
        """Mark the chat important (or not); return the updated chat."""
        return await self._need_rest("mark_important").set_important(chat_id, important)

    async def assign(self, chat_id: str, agent_id: str) -> None:
        """Assign an agent to the chat."""
        await self._need_rest("assign").assign(chat_id, agent_id)

    async def unassign(self, chat_id: str, agent_id: str | None = None) -> None:
        """Unassign an agent (default: the bot itself) from the chat."""
        target = agent_id if agent_id is not None else str(self._agent_id())
        await self._need_rest("unassign").unassign(chat_id, target)

    async def transfer_to_group(self, chat_id: str, group: str) -> None:
        """Always raises :class:`ActionUnsupported`: the API has no group transfer."""
        raise ActionUnsupported("transfer_to_group", NO_GROUP_TRANSFER)

    async def history(
        self,
        chat_id: str,
        *,
        size: int | None = None,
        after: str | None = None,
        order: Literal["asc", "desc"] | None = None,
    ) -> MessagePage:
        """Return one page of the chat's messages (``page.after`` fetches the next)."""
        return await self._need_rest("history").history(
            chat_id, size=size, after=after, order=order
        )

    async def open_chats(self) -> list[Chat]:
        """Return the chats that are not closed (for a resync at login), oldest first."""
        rest = self._need_rest("open_chats")
        chats: list[Chat] = []
        after: str | None = None
        for _ in range(_OPEN_CHATS_MAX_PAGES):
            page: ConversationPage = await rest.search_conversations(
                query=[{"field": "status", "value": "closed", "op": "must_not"}],
                size=_HISTORY_PAGE,
                after=after,
            )
            chats.extend(page.items)
            if page.after is None:
                break
            after = page.after
        return chats

    def _need_rest(self, action: str) -> RestApi:
        if self.rest is None:
            raise ActionUnsupported(
                action, "it needs the REST API: set [smartsupp] api_token (AGENTBOT_API_TOKEN)"
            )
        return self.rest


def _epoch(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        moment = parse_timestamp(value)
    except (ValueError, TypeError):
        return None
    return moment.timestamp()
