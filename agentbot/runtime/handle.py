"""``bot``: what a plugin receives in every hook, bound to that plugin.

Plugins act only through this object and the values they return, never through the network
client (STYLE.md §6). Each plugin gets its own instance, so ``bot.config``, ``bot.storage``
and ``bot.logger`` are that plugin's; the actions (``say``, ``hand_off``, ``track_visitors``)
go to the one shared runtime, which applies its rules (pacing, human first, loop guard, rate
limit) to them like to any answer.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from agentbot.runtime.storage import KeyValueStore

if TYPE_CHECKING:
    from agentbot.api import AccountAgent, AgentConnectReply
    from agentbot.runtime.bot import Bot
    from agentbot.runtime.plugins import LoadedPlugin

__all__ = ["PluginBot"]


class PluginBot:
    """The ``bot`` argument of every hook: one plugin's view of the running bot."""

    __slots__ = ("_bot", "_plugin", "_storage", "logger")

    def __init__(self, bot: Bot, plugin: LoadedPlugin) -> None:
        self._bot = bot
        self._plugin = plugin
        self._storage: KeyValueStore | None = None
        self.logger = logging.getLogger(f"agentbot.plugins.{plugin.name}")
        """A logger named ``agentbot.plugins.<plugin name>``."""

    @property
    def name(self) -> str:
        """The plugin's name (its entry-point name or ``[plugins.NAME]`` section)."""
        return self._plugin.name

    @property
    def config(self) -> Any:
        """The plugin's validated config object (see ``register_config``), or None."""
        return self._plugin.config

    @property
    def storage(self) -> KeyValueStore:
        """The plugin's private key-value store, kept across restarts (SQLite by default)."""
        if self._storage is None:
            self._storage = self._bot.plugin_storage(self._plugin.name)
        return self._storage

    # -- who we are, who else is here -------------------------------------------------------

    @property
    def agent_id(self) -> str:
        """The bot's own agent id."""
        return self._bot.agent_id

    @property
    def session(self) -> AgentConnectReply | None:
        """The current session (``agent.connect`` reply), or None while not connected."""
        return self._bot.session

    @property
    def agents(self) -> tuple[AccountAgent, ...]:
        """Every agent of the account, from the session (the bot's own agent included)."""
        return self._bot.agents

    def humans_online(self) -> tuple[str, ...]:
        """Return the ids of other agents currently online: is a human around to take over?"""
        return self._bot.humans_online()

    # -- actions ---------------------------------------------------------------------------

    def say(self, chat_id: str, text: str) -> bool:
        """Queue ``text`` to be sent into ``chat_id``, paced and wrapped in typing like a reply.

        Returns False (and sends nothing) when the bot is not running, the chat is unknown,
        closed, handled by a human, or was handed off. Messages a plugin says go out after
        the answer the chat is waiting for, in order.
        """
        return self._bot.say(chat_id, text, plugin=self._plugin.name)

    def hand_off(self, chat_id: str, *, message: str | None = None) -> bool:
        """Stop answering in ``chat_id``: cancel the pending answer and stay quiet there.

        ``message`` (optional) is sent first, paced, as the bot's last words (e.g. "A
        colleague will take over"). Returns False if the chat is unknown or already closed.
        """
        return self._bot.hand_off(chat_id, message=message, plugin=self._plugin.name)

    def is_quiet(self, chat_id: str) -> bool:
        """Return whether the bot stays quiet in ``chat_id`` (closed, human, or handed off)."""
        return self._bot.is_quiet(chat_id)

    @property
    def track_visitors(self) -> bool:
        """Whether the bot wants visitor events for every visitor (``agent.track_visitors``)."""
        return self._bot.track_visitors

    @track_visitors.setter
    def track_visitors(self, enabled: bool) -> None:
        self._bot.track_visitors = enabled

    def __repr__(self) -> str:
        return f"PluginBot(plugin={self._plugin.name!r})"
