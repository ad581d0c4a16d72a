"""What the bot knows about its account: the session and who of the other agents is online.

One owner for the account-wide facts: the login reply (``session``) and each agent's last known
status, kept up to date from ``agent.connected``/``agent.disconnected``/``agent.updated``
(PROTOCOL.md §3). Plugins ask through ``bot.humans_online()`` (after-hours coverage, honest
hand-off messages). Pure: no I/O.
"""

from __future__ import annotations

from typing import Any

from agentbot.api import (
    AccountAgent,
    AgentConnected,
    AgentConnectReply,
    AgentDisconnected,
    AgentUpdated,
)

__all__ = ["AccountState"]


class AccountState:
    """The session and the agents' statuses."""

    def __init__(self) -> None:
        self.session: AgentConnectReply | None = None
        self._status: dict[str, str | None] = {}

    def set_session(self, session: AgentConnectReply | None) -> None:
        """A login (or re-login): the reply lists every agent with its status."""
        self.session = session
        if session is not None:
            self._status = {agent.id: agent.status for agent in session.account.agents}

    def apply(self, event: Any) -> None:
        """Follow an agent's status from an account-wide event (others are ignored)."""
        if isinstance(event, AgentConnected) and event.id:
            self._status[event.id] = "online"
        elif isinstance(event, AgentDisconnected) and event.id:
            self._status[event.id] = "offline"
        elif isinstance(event, AgentUpdated) and "status" in event.changes:
            status = event.changes["status"]
            self._status[event.id] = status if isinstance(status, str) else None

    @property
    def agents(self) -> tuple[AccountAgent, ...]:
        """The account's agents from the session."""
        return tuple(self.session.account.agents) if self.session is not None else ()

    def humans_online(self, own_id: str) -> tuple[str, ...]:
        """Return the ids of the other agents whose last known status is online."""
        return tuple(
            agent_id
            for agent_id, status in self._status.items()
            if status == "online" and agent_id != own_id
        )
