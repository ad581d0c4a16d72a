"""The bot's mouth: typing and messages on the wire, each message sent exactly once.

Two rules live here and nowhere else:

* **Typing on the same connection as the message.** Every message goes out while the bot shows
  itself typing *on the link that is current when the message leaves*. The link is counted
  (:attr:`Speaker.link`): ``chat.typing`` true sent on link 3 means nothing on link 4, so after
  a reconnect a pending reply shows typing again on the new link and waits a short human pause
  (``[pacing] retype_seconds``) before the message (:meth:`ChatActor._send_head` asks
  :meth:`typing_current`). Typing false is owed only on the link that saw typing true.
* **Exactly once.** A message is recorded in the outbox (:mod:`agentbot.runtime.ledger`) before
  it is sent, marked ``sending`` with the attempt's time just before the request leaves, and
  ``sent`` on the server's acknowledgement. When the outcome is unknown (the link dropped before
  the ack, a REST timeout or 5xx), :meth:`deliver` does not resend blindly: it first asks
  whether the message was stored (:meth:`confirm`: the echo ``chat.message_received`` with the
  bot's agent id, or the chat's history over REST), and sends again only if it was not.

The transport (socket ``chat.message`` or REST ``POST /v2/conversations/{id}``) is
:class:`agentbot.runtime.outbound.Outbound`'s business; this module only uses it.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import anyio
import attrs

from agentbot.api import ChatTyping, Message
from agentbot.errors import AgentbotError, ApiError, LinkChanged, OutcomeUnknown, RestAuthError
from agentbot.runtime.outbound import CLOCK_SKEW_SECONDS

if TYPE_CHECKING:
    from agentbot.runtime.ledger import Ledger
    from agentbot.runtime.outbound import Outbound
    from agentbot.runtime.ports import AgentClientLike

__all__ = ["Delivery", "Speaker"]

logger = logging.getLogger(__name__)

_NO_COUNT = object()

_ECHO_MEMORY = 4096
"""How many of the bot's own messages (ids, and texts per chat) are remembered for echoes."""


@attrs.frozen
class Delivery:
    """How one send ended: ``"sent"``, ``"confirmed"`` (stored before, not resent),
    ``"retry"`` (outcome unknown and not confirmable yet: try again once the link is back),
    ``"relink"`` (not sent: the link its typing was shown on is gone; type again first) or
    ``"failed"`` (the server refused it: it will not be sent)."""

    outcome: str
    message: Message | None = None
    attempted_at: float | None = None
    """When the attempt left (for a ``"retry"``: confirm against the server since then)."""


class Speaker:
    """Typing and messages for one bot: link counting, echo memory, outbox marking."""

    def __init__(
        self,
        *,
        client: Callable[[], AgentClientLike | None],
        outbound: Callable[[], Outbound],
        ledger: Callable[[], Ledger],
        agent_id: Callable[[], str],
        stats: collections.Counter[str],
        wall_clock: Callable[[], float],
        on_auth_failure: Callable[[AgentbotError], None],
    ) -> None:
        self._client = client
        self._outbound = outbound
        self._ledger = ledger
        self._agent_id = agent_id
        self._stats = stats
        self._wall_clock = wall_clock
        self._on_auth_failure = on_auth_failure
        self.link = 0
        """Counts sessions: 1 for the first login, +1 per reconnect."""
        self.link_up = False
        self.synced = False
        """Whether the resync after the latest login is done (nothing is sent before)."""
        self._link_changed = anyio.Event()
        self._own_ids: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._own_texts: collections.OrderedDict[tuple[str, str], float] = collections.OrderedDict()

    # -- links -------------------------------------------------------------------------------

    def session_started(self) -> None:
        """A session is up (first login or reconnect): a new link, not yet synced."""
        self.link += 1
        self.link_up = True
        self.synced = False
        self._notify()

    def mark_synced(self) -> None:
        """The resync after the login is done (:mod:`agentbot.runtime.resync`)."""
        self.synced = True
        self._notify()

    @property
    def ready(self) -> bool:
        """Whether messages may go out: a session is up and its resync is done."""
        return self.link_up and self.synced

    async def wait_ready(self) -> None:
        """Wait until :attr:`ready`."""
        while not self.ready:
            await self._link_changed.wait()

    def link_lost(self) -> None:
        """The link dropped: typing shown on it is gone with it."""
        self.link_up = False
        self._notify()

    def _notify(self) -> None:
        self._link_changed.set()
        self._link_changed = anyio.Event()

    def current_link(self) -> int | None:
        """The link a request would go out on now, or None while none is up.

        The client's own count when it has one (``AgentClient.link_generation``): it knows of a
        new link before its ``Reconnected`` event reaches the dispatcher, and typing shown on
        the old link must not count in that gap. Else the sessions counted here.
        """
        client = self._client()
        generation = getattr(client, "link_generation", _NO_COUNT)
        if generation is not _NO_COUNT:
            return generation if isinstance(generation, int) else None
        return self.link if self.link_up else None

    # -- typing ------------------------------------------------------------------------------

    async def send_typing(self, chat_id: str, visitor_id: str | None, on: bool) -> int | None:
        """Send ``chat.typing``; return the link it went out on (None if it could not).

        Best effort: errors are logged and counted, never raised.
        """
        client = self._client()
        if client is None or visitor_id is None or not self.link_up:
            return None
        link = self.current_link()
        try:
            await client.send(ChatTyping(chat_id=chat_id, visitor_id=visitor_id, is_typing=on))
            if on:
                # The message may follow over REST, another connection: typing must be
                # on the wire first.
                await client.flush()
        except AgentbotError as exc:
            self._stats["typing_failed"] += 1
            logger.warning("chat %s: could not send typing %s: %s", chat_id, on, exc)
            return None
        return link if link is not None and link == self.current_link() else None

    # -- messages ----------------------------------------------------------------------------

    def is_own(self, message: Message) -> bool:
        """Whether ``message`` is the bot's own (by agent id, or an id it was given)."""
        return message.agent_id == self._agent_id() or message.id in self._own_ids

    def echoed(self, chat_id: str, message: Message) -> None:
        """Remember the echo of one of the bot's messages (confirms a send)."""
        text = message.text
        if text is not None:
            self._remember_text(chat_id, text)

    def _remember_text(self, chat_id: str, text: str) -> None:
        self._own_texts[(chat_id, text)] = self._wall_clock()
        self._own_texts.move_to_end((chat_id, text))
        while len(self._own_texts) > _ECHO_MEMORY:
            self._own_texts.popitem(last=False)

    async def confirm(self, chat_id: str, text: str, *, since: float) -> Message | bool | None:
        """Was a message with ``text`` from the bot stored in ``chat_id`` since ``since``?

        Returns the stored message (REST history), True (seen its echo), False (the history
        says no) or None (nobody can tell: no REST history and no echo).
        """
        seen_at = self._own_texts.get((chat_id, text))
        if seen_at is not None and seen_at >= since - 1.0:
            return True
        outbound = self._outbound()
        if not outbound.can_confirm:
            return None
        try:
            found = await outbound.find_sent(chat_id, text, since_epoch=since)
        except AgentbotError as exc:
            logger.warning("chat %s: cannot check whether a message was stored: %s", chat_id, exc)
            return None
        return found if found is not None else False

    async def deliver(
        self,
        entry_id: str,
        chat_id: str,
        visitor_id: str | None,
        text: str,
        *,
        attempted_at: float | None,
        link: int | None = None,
    ) -> Delivery:
        """Send one outbox entry exactly once (see the module docstring).

        ``attempted_at`` is the time of an earlier attempt whose outcome is unknown (None for a
        first attempt): the entry is then confirmed before anything is resent.
        """
        ledger = self._ledger()
        if attempted_at is not None:
            # The server stamps the message with its own clock (to the millisecond): look
            # back past our attempt's time by the skew margin, or a stored message reads as
            # "older than the attempt" and is sent a second time.
            known = await self.confirm(chat_id, text, since=attempted_at - CLOCK_SKEW_SECONDS)
            if known is True or isinstance(known, Message):
                ledger.sent(entry_id, known.id if isinstance(known, Message) else None)
                self._stats["confirmed"] += 1
                logger.info(
                    "chat %s: a message whose ack was lost was stored; not resending", chat_id
                )
                return Delivery("confirmed", known if isinstance(known, Message) else None)
            if known is None:
                self._stats["resent_unconfirmed"] += 1
                logger.warning(
                    "chat %s: cannot tell whether a message whose ack was lost was stored "
                    "(no REST history configured); sending it again",
                    chat_id,
                )
        attempted = ledger.attempt(entry_id)
        try:
            stored = await self._outbound().send_message(chat_id, visitor_id, text, link=link)
        except LinkChanged:
            # Surely not sent: the connection its typing was shown on is gone. Typing again on
            # the new one, then the message (the wire rule), not a failure.
            self._stats["relinked"] += 1
            return Delivery("relink")
        except OutcomeUnknown as exc:
            self._stats["send_unknown"] += 1
            logger.warning(
                "chat %s: message outcome unknown (%s); will check before resending", chat_id, exc
            )
            return Delivery("retry", attempted_at=attempted)
        except RestAuthError as exc:
            self._stats["send_failed"] += 1
            self._on_auth_failure(exc)
            return Delivery("failed")
        except ApiError as exc:
            self._stats["send_failed"] += 1
            logger.warning("chat %s: message refused by the server: %s", chat_id, exc)
            ledger.drop(entry_id)
            return Delivery("failed")
        except AgentbotError as exc:
            # The socket: ConnectionLost or RequestTimeout after the frame may have left.
            self._stats["send_unknown"] += 1
            logger.warning(
                "chat %s: message not acknowledged (%s); will check before resending", chat_id, exc
            )
            return Delivery("retry", attempted_at=attempted)
        message = stored if isinstance(stored, Message) else None
        if message is not None:
            self._own_ids[message.id] = None
            if len(self._own_ids) > _ECHO_MEMORY:
                self._own_ids.popitem(last=False)
        self._remember_text(chat_id, text)
        ledger.sent(entry_id, message.id if message is not None else None)
        self._stats["sent"] += 1
        return Delivery("sent", message)
