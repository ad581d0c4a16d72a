"""Configuration of a sandbox Smartsupp account: who may log in, timing, limits, clocks.

Everything here is plain data, validated once at construction so a wrong sandbox set-up fails
with a :class:`~agentbot.errors.ConfigError` before any socket opens.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal

import attrs

from agentbot.errors import ConfigError

__all__ = [
    "DEFAULT_ACCOUNT_KEY",
    "DEFAULT_BOT_AGENT_ID",
    "DEFAULT_BOT_AUTH_TOKEN",
    "DEFAULT_HUMAN_AGENT_ID",
    "DEFAULT_HUMAN_AUTH_TOKEN",
    "AgentRole",
    "SandboxAgent",
    "SandboxConfig",
    "SandboxGroup",
    "default_agents",
]

AgentRole = Literal["bot", "human"]

DEFAULT_ACCOUNT_KEY = "sandbox-key"
DEFAULT_BOT_AGENT_ID = "bot-1"
DEFAULT_BOT_AUTH_TOKEN = "bot-token"
DEFAULT_HUMAN_AGENT_ID = "human-1"
DEFAULT_HUMAN_AUTH_TOKEN = "human-token"
DEFAULT_SERVER_VERSION = 3  # what the vendor's documented agent.connect reply shows
DEFAULT_PING_INTERVAL_SECONDS = 25.0
DEFAULT_PING_TIMEOUT_SECONDS = 20.0
DEFAULT_MAX_PAYLOAD_BYTES = 1_000_000
DEFAULT_OUTGOING_QUEUE_FRAMES = 1000
DEFAULT_MAX_RECORDED_FRAMES = 10_000


@attrs.frozen(kw_only=True)
class SandboxGroup:
    """A group of agents (Smartsupp "department"), shown to agents and visitors."""

    key: str
    name: str


@attrs.frozen(kw_only=True)
class SandboxAgent:
    """An agent who may log in with ``agent.connect``; the auth token is never shown."""

    id: str
    auth_token: str = attrs.field(repr=False)
    role: AgentRole = "human"
    nickname: str = ""
    fullname: str = ""
    email: str | None = None
    description: str = ""
    avatar: str = ""
    groups: tuple[str, ...] = ()


def default_agents() -> tuple[SandboxAgent, ...]:
    """Return the default account staff: one bot and one human agent."""
    return (
        SandboxAgent(
            id=DEFAULT_BOT_AGENT_ID,
            auth_token=DEFAULT_BOT_AUTH_TOKEN,
            role="bot",
            nickname="bot",
            fullname="Sandbox Bot",
            email="bot@sandbox.invalid",
            description="Answers while the humans are away.",
        ),
        SandboxAgent(
            id=DEFAULT_HUMAN_AGENT_ID,
            auth_token=DEFAULT_HUMAN_AUTH_TOKEN,
            role="human",
            nickname="alice",
            fullname="Alice Human",
            email="alice@sandbox.invalid",
            description="A person at the agent console.",
        ),
    )


def _default_groups() -> tuple[SandboxGroup, ...]:
    return (SandboxGroup(key="support", name="Support"),)


def _check_positive(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value > 0:
        raise ConfigError(
            f"sandbox {attribute.name} must be > 0, got {value!r}", key=attribute.name
        )


def _check_agents(
    instance: object, attribute: attrs.Attribute[tuple[SandboxAgent, ...]], value: object
) -> None:
    if not isinstance(value, tuple) or not value:
        raise ConfigError("sandbox agents must be a non-empty tuple", key="agents")
    seen: set[str] = set()
    for agent in value:
        if not isinstance(agent, SandboxAgent):
            raise ConfigError("sandbox agents must be SandboxAgent objects", key="agents")
        if agent.role not in ("bot", "human"):
            raise ConfigError(
                f"agent {agent.id!r}: role must be 'bot' or 'human', got {agent.role!r}",
                key="agents",
            )
        if not agent.id or agent.id in seen:
            raise ConfigError(f"agent ids must be unique and non-empty: {agent.id!r}", key="agents")
        seen.add(agent.id)


@attrs.frozen(kw_only=True)
class SandboxConfig:
    """How a sandbox account behaves.

    ``clock`` stamps transcripts and recordings and drives Engine.IO heartbeats (it is the
    sandbox's own I/O layer, so the monotonic clock is right by default); ``wall_clock`` gives
    the epoch seconds behind the ISO ``createdAt`` strings on the wire.
    """

    account_key: str = DEFAULT_ACCOUNT_KEY
    agents: tuple[SandboxAgent, ...] = attrs.field(factory=default_agents, validator=_check_agents)
    groups: tuple[SandboxGroup, ...] = attrs.field(factory=_default_groups)
    server_version: int = DEFAULT_SERVER_VERSION
    ping_interval_seconds: float = attrs.field(
        default=DEFAULT_PING_INTERVAL_SECONDS, validator=_check_positive
    )
    ping_timeout_seconds: float = attrs.field(
        default=DEFAULT_PING_TIMEOUT_SECONDS, validator=_check_positive
    )
    max_payload_bytes: int = attrs.field(
        default=DEFAULT_MAX_PAYLOAD_BYTES, validator=_check_positive
    )
    outgoing_queue_frames: int = attrs.field(
        default=DEFAULT_OUTGOING_QUEUE_FRAMES, validator=_check_positive
    )
    max_recorded_frames: int = attrs.field(
        default=DEFAULT_MAX_RECORDED_FRAMES, validator=_check_positive
    )
    clock: Callable[[], float] = attrs.field(default=time.monotonic, repr=False)
    wall_clock: Callable[[], float] = attrs.field(default=time.time, repr=False)

    def agent(self, agent_id: str) -> SandboxAgent | None:
        """Return the configured agent with this id, or None."""
        for agent in self.agents:
            if agent.id == agent_id:
                return agent
        return None

    @property
    def bot(self) -> SandboxAgent:
        """The first agent with role "bot" (what `agentbot demo` logs in as)."""
        return self._first("bot")

    @property
    def human(self) -> SandboxAgent:
        """The first agent with role "human" (what the control API joins chats as)."""
        return self._first("human")

    def _first(self, role: AgentRole) -> SandboxAgent:
        for agent in self.agents:
            if agent.role == role:
                return agent
        raise ConfigError(f"the sandbox config has no agent with role {role!r}", key="agents")
