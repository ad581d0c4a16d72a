"""After every login: learn what happened while the bot was away, before it speaks again.

Why: while the link was down (or the process was dead) a chat may have closed, a human may
have joined, a visitor may have written. Sending a pending reply into such a chat, or never
answering that visitor, is exactly what a careful colleague would not do. So after each login
the bot is *not synced* (actors hold their messages, :meth:`Speaker.wait_ready`) until
this module has:

1. (first login of the process only) **recovered the ledger**: outbox entries left planned or
   sending by the previous run go back to their chats' actors (which confirm a ``sending`` one
   against the server before sending it again), unless they became wrong meanwhile — chat
   closed, human present, handed off, superseded by a newer visitor message, or older than
   ``[runtime] missed_message_max_age_seconds`` — which are dropped with a log line; visitor
   messages taken in but never decided about (the process died while the plugins thought) are
   handled again, once, if still the chat's latest and recent enough;
2. **reconciled with the server** (when REST is configured; the socket's login reply lists no
   chats): the open conversations say which known chats closed while away and which have other
   agents in them; the latest messages of each open chat bring visitor messages the bot missed
   (each answered at most once — the inbox dedups — and only if recent enough) and humans who
   wrote meanwhile.

It is bounded (``RESYNC_TIMEOUT_SECONDS``, ``MAX_RESYNC_CHATS``) and never fatal: a failure is
logged and the bot goes on with what it knows.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import anyio

from agentbot.api import ChatMessageReceived, Content, Message
from agentbot.errors import AgentbotError

if TYPE_CHECKING:
    from agentbot.runtime.bot import Bot

__all__ = ["MAX_RESYNC_CHATS", "RESYNC_TIMEOUT_SECONDS", "resync"]

logger = logging.getLogger(__name__)

RESYNC_TIMEOUT_SECONDS = 20.0
"""The longest a resync may hold the bot's messages back."""

MAX_RESYNC_CHATS = 200
"""Open chats whose recent messages are read at one login (the most recently active)."""

HISTORY_PAGE = 10
"""Messages read per open chat (newest first)."""

HISTORY_CONCURRENCY = 8
"""Open chats whose latest messages are read at the same time during a resync."""


async def resync(bot: Bot, *, first: bool) -> None:
    """Recover (``first``) and reconcile, then let the actors speak. Never raises."""
    try:
        with anyio.move_on_after(RESYNC_TIMEOUT_SECONDS) as scope:
            if first:
                recover(bot)
            await reconcile(bot)
        if scope.cancelled_caught:
            logger.warning("resync after login took over %.0f s; going on", RESYNC_TIMEOUT_SECONDS)
    except AgentbotError as exc:
        logger.warning("resync after login failed: %s; going on with what the bot knows", exc)
    finally:
        bot.speaker.mark_synced()


def recover(bot: Bot) -> None:
    """Hand the previous run's unsettled outbox and undecided messages back to the actors."""
    ledger = bot.ledger
    max_age = bot.config.runtime.missed_message_max_age_seconds
    now = bot.wall_clock()
    planned_for: set[str] = set()
    by_chat: dict[str, list[Any]] = {}
    for entry in ledger.unsettled():
        by_chat.setdefault(entry.chat_id, []).append(entry)
        if entry.answers:
            planned_for.add(entry.answers)
    for chat_id, entries in by_chat.items():
        actor = bot.chats.actor(chat_id)
        state = actor.state
        keep = []
        for entry in entries:
            why = None
            if not state.may_send():
                why = state.quiet_reason
            elif entry.answers and state.last_visitor_message_id not in (None, entry.answers):
                why = "the visitor wrote again"
            elif now - entry.created_at > max_age:
                why = "too old"
            if why is None:
                keep.append(entry)
            else:
                ledger.drop(entry.entry_id)
                bot.stats["dropped_after_restart"] += 1
                logger.info(
                    "chat %s: not sending a message from before the restart (%s)", chat_id, why
                )
        if keep:
            bot.chats.resume_entries(actor, keep)
    undecided = ledger.undecided()  # oldest first
    newest = {received.chat_id: received.message_id for received in undecided}
    for received in undecided:
        if received.message_id in planned_for:
            ledger.decide(received.message_id, "answered")
            continue
        actor = bot.chats.actor(received.chat_id)
        state = actor.state
        # The chat's latest visitor line: as the stored facts say, or newer than what they
        # say (the process died between taking the message in and storing the chat's facts).
        latest = newest[received.chat_id] == received.message_id and (
            state.last_visitor_message_id == received.message_id
            or state.last_visitor_at is None
            or received.received_at >= state.last_visitor_at
        )
        if state.may_send() and latest and now - received.received_at <= max_age:
            logger.info(
                "chat %s: answering a message the bot was handling when it stopped",
                received.chat_id,
            )
            bot.stats["recovered"] += 1
            state.last_visitor_message_id = received.message_id
            bot.chats.replay(
                _message(received.message_id, received.chat_id, state.visitor_id, received.text)
            )
        else:
            ledger.decide(received.message_id, "dropped")


async def reconcile(bot: Bot) -> None:
    """Compare what the bot knows with the server's open chats and their latest messages."""
    outbound = bot.outbound
    if not outbound.can_confirm:
        return
    chats = await outbound.open_chats()
    open_ids = {chat.id for chat in chats}
    for chat_id in [*bot.chats.known_open()]:
        if chat_id not in open_ids:
            bot.chats.learn(chat_id, closed=True)
    for chat in chats[:MAX_RESYNC_CHATS]:
        humans = set(chat.assigned_ids)
        agent_ids = chat.extra.get("agentIds") if isinstance(chat.extra, dict) else None
        if isinstance(agent_ids, list):
            humans |= {str(a) for a in agent_ids}
        bot.chats.learn(chat.id, closed=False, humans=humans, visitor_id=chat.visitor_id)
    talking = [chat.id for chat in chats[:MAX_RESYNC_CHATS] if bot.chats.actor(chat.id).may_send()]
    pages: dict[str, list[Message]] = {}
    failures: list[AgentbotError] = []

    async def read(chat_id: str, limiter: anyio.CapacityLimiter) -> None:
        async with limiter:
            try:
                page = await outbound.history(chat_id, size=HISTORY_PAGE, order="desc")
            except AgentbotError as exc:
                failures.append(exc)
                return
        pages[chat_id] = list(page.items)

    # Read concurrently: one by one, eight open chats held the bot's replies back for up to
    # 0.8 s after each login, more than a link that flaps every second has to spare.
    limiter = anyio.CapacityLimiter(HISTORY_CONCURRENCY)
    async with anyio.create_task_group() as tg:
        for chat_id in talking:
            tg.start_soon(read, chat_id, limiter)
    if failures:
        logger.warning(
            "resync: could not read the latest messages of %d of %d open chat(s): %s",
            len(failures),
            len(talking),
            failures[0],
        )
    for chat_id in talking:  # in the server's order, whatever order the reads ended in
        if chat_id in pages:
            await _missed(bot, chat_id, pages[chat_id])


async def _missed(bot: Bot, chat_id: str, newest_first: list[Message]) -> None:
    """Learn from a chat's latest messages: humans who wrote, the visitor's unanswered line."""
    max_age = bot.config.runtime.missed_message_max_age_seconds
    for message in newest_first:
        if message.is_from_agent:
            if bot.speaker.is_own(message):
                return  # the bot spoke last: nothing missed
            if message.agent_id:
                bot.chats.learn(chat_id, humans={message.agent_id})
            return
        if message.is_from_visitor:
            if bot.ledger.seen(message.id):
                return
            age = _age(bot, message)
            if age is not None and age > max_age:
                return
            logger.info("chat %s: answering a message that arrived while the bot was away", chat_id)
            bot.stats["missed_answered"] += 1
            bot.chats.replay(message, fresh=True)
            return


def _age(bot: Bot, message: Message) -> float | None:
    from datetime import datetime

    if not message.created_at:
        return None
    try:
        stamp = datetime.fromisoformat(message.created_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    return bot.wall_clock() - stamp.timestamp()


def _message(message_id: str, chat_id: str, visitor_id: str | None, text: str) -> Message:
    return Message(
        id=message_id,
        type="message",
        sub_type="contact",
        chat_id=chat_id,
        visitor_id=visitor_id,
        content=Content(type="text", text=text),
    )


def replay_event(message: Message) -> ChatMessageReceived:
    """The event a replayed visitor message is handled as (hooks see it like the original)."""
    return ChatMessageReceived(chat_id=message.chat_id or "", message=message)
