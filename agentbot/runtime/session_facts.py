"""The facts of the bot's session that plugins and runtime parts read off the ``Bot``.

Why a separate class: these properties only forward to the account state, the config and the
live client (``bot.agent_id``, ``bot.session``, ``bot.humans_online()``, …), and many parts read
them off the Bot (``PluginBot``, the speaker, outbound, the resync). Keeping them in a mixin
keeps their names where callers expect them while ``bot.py`` stays about running the bot.
"""

from __future__ import annotations

import logging

from agentbot.api import AccountAgent, AgentConnectReply
from agentbot.runtime.account import AccountState
from agentbot.runtime.config import BotConfig
from agentbot.runtime.ports import AgentClientLike

__all__ = ["SessionFacts"]

logger = logging.getLogger(__name__)


class SessionFacts:
    """The session-derived facts of a :class:`~agentbot.runtime.bot.Bot` (mixed into it)."""

    config: BotConfig
    account: AccountState
    _client: AgentClientLike | None
    _track_visitors: bool

    @property
    def agent_id(self) -> str:
        """The bot's own agent id."""
        if self.account.session is not None:
            return self.account.session.agent.id
        return self.config.smartsupp.agent_id

    @property
    def client(self) -> AgentClientLike | None:
        """The live socket client, or None while not logged in (for an ``Outbound``)."""
        return self._client

    @property
    def session(self) -> AgentConnectReply | None:
        """The current session, or None while not connected."""
        return self.account.session

    @property
    def agents(self) -> tuple[AccountAgent, ...]:
        """The account's agents from the session."""
        return self.account.agents

    def humans_online(self) -> tuple[str, ...]:
        """Return the ids of other agents whose last known status is online."""
        return self.account.humans_online(self.agent_id)

    @property
    def track_visitors(self) -> bool:
        """The wanted ``agent.track_visitors`` value; the client applies it on every connection."""
        return self._track_visitors

    @track_visitors.setter
    def track_visitors(self, enabled: bool) -> None:
        enabled = bool(enabled)
        if enabled != self._track_visitors:
            logger.info("track_visitors set to %s", enabled)
        self._track_visitors = enabled
        if self._client is not None:
            self._client.set_track_visitors(enabled)
