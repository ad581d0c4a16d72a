"""The runtime's calls into plugins for one chat's events: event hooks and the reply choice.

Called by the chat's actor, in order, one event at a time. Which hook an event calls comes
from the dispatch table (:mod:`agentbot.runtime.dispatch`); a visitor message asks every
plugin for a candidate, the best one wins (highest confidence, then plugin order:
:func:`agentbot.runtime.replies.choose_reply`), and every plugin hears the choice
(``on_reply_chosen``) unless the chat went quiet meanwhile.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from agentbot.api import Chat, ChatOpened, Message
from agentbot.runtime.dispatch import is_client_event, route_for
from agentbot.runtime.identifiers import extract_identifiers
from agentbot.runtime.replies import Candidate, Reply, choose_reply

if TYPE_CHECKING:
    from agentbot.runtime.actors import ChatActor
    from agentbot.runtime.bot import Bot

__all__ = ["choose_answer", "run_event_hooks"]

logger = logging.getLogger(__name__)


def _as_reply(value: Any) -> Reply:
    if isinstance(value, Reply):
        return value
    raise TypeError(f"expected agentbot.Reply or None, got {type(value).__name__}")


async def run_event_hooks(bot: Bot, actor: ChatActor, event: Any) -> None:
    """Run ``on_event`` (server events only) and the event's own hook from the table."""
    if not is_client_event(event):
        await bot.host.call("on_event", bot.handle_for, event=event, chat_id=actor.chat_id)
    route = route_for(event)
    if route is None:
        return
    arguments = route.arguments(event, bot.agent_id)
    if arguments is None:
        return
    if route.chat_scoped:
        arguments = {**arguments, "chat_id": actor.chat_id}
    if isinstance(event, ChatOpened) and arguments.get("chat") is None:
        # A bare {chatId}: hooks still get a Chat, with what the bot knows of it.
        arguments = {
            **arguments,
            "chat": Chat(id=actor.chat_id or "", visitor_id=actor.state.visitor_id),
        }
    await bot.host.call(route.hook, bot.handle_for, **arguments)


async def choose_answer(
    bot: Bot, actor: ChatActor, message: Message, text: str, event: Any
) -> Candidate | None:
    """Ask every plugin for a reply to ``message``; return the best candidate, if any."""
    results = await bot.host.call(
        "on_visitor_message",
        bot.handle_for,
        validate=_as_reply,
        chat_id=actor.chat_id,
        message=message,
        text=text,
        identifiers=extract_identifiers(text),
        event=event,
    )
    candidates = [Candidate(r.plugin.name, r.plugin.rank, r.value) for r in results]
    chosen = choose_reply(candidates, min_confidence=bot.config.runtime.min_confidence)
    if chosen is not None:
        logger.debug(
            "chat %s: answering message %s with %s's reply (confidence %.2f, %d candidate(s))",
            actor.chat_id,
            message.id,
            chosen.plugin,
            chosen.reply.confidence,
            len(candidates),
        )
    else:
        logger.debug("chat %s: no plugin answered message %s", actor.chat_id, message.id)
    if actor.may_send():
        await bot.host.call(
            "on_reply_chosen",
            bot.handle_for,
            chat_id=actor.chat_id,
            message=message,
            text=text,
            reply=chosen.reply if chosen is not None else None,
            plugin=chosen.plugin if chosen is not None else None,
        )
    return chosen
