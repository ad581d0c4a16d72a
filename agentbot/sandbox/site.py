"""The sandbox as a person uses it: the app with its pages, and where to point things at it.

``agentbot sandbox`` and ``agentbot demo`` both serve :func:`build_site` and print
:func:`describe_site`, so the two commands show the same URLs and credentials.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import attrs
from starlette.applications import Starlette

from agentbot.sandbox.app import create_app
from agentbot.sandbox.config import SandboxConfig
from agentbot.sandbox.rest_api import REST_PREFIX, api_token_for

__all__ = ["SiteUrls", "build_site", "describe_site"]

# Hosts a server listens on that no browser can open: show loopback instead.
_WILDCARD_HOSTS = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "[::]": "[::1]"}


def build_site(config: SandboxConfig) -> Starlette:
    """Return the sandbox app with the chat page at ``/`` and the console at ``/console``."""
    return create_app(config, pages=True)


@attrs.frozen(kw_only=True)
class SiteUrls:
    """Every address of a running sandbox, derived from its base URL."""

    base: str
    eio: int = 3

    @classmethod
    def from_base_url(cls, base_url: str, *, eio: int = 3) -> SiteUrls:
        """Build from the served base URL, replacing a wildcard host by loopback."""
        parts = urlsplit(base_url)
        host = parts.hostname or "127.0.0.1"
        shown = _WILDCARD_HOSTS.get(host, f"[{host}]" if ":" in host else host)
        netloc = f"{shown}:{parts.port}" if parts.port else shown
        return cls(base=urlunsplit((parts.scheme, netloc, "", "", "")), eio=eio)

    @property
    def chat_page(self) -> str:
        """The visitor chat page."""
        return f"{self.base}/"

    @property
    def console(self) -> str:
        """The agent console."""
        return f"{self.base}/console"

    @property
    def socket(self) -> str:
        """The WebSocket URL a Socket.IO client connects to (PROTOCOL.md §1)."""
        scheme = "wss" if self.base.startswith("https:") else "ws"
        host = self.base.split("://", 1)[1]
        return f"{scheme}://{host}/socket/?EIO={self.eio}&transport=websocket"

    @property
    def control_api(self) -> str:
        """The control API's entry point."""
        return f"{self.base}/api/config"


def describe_site(config: SandboxConfig, urls: SiteUrls, *, run_command: bool) -> list[str]:
    """Return the lines that tell a person where everything is and how a bot logs in.

    The credentials are the sandbox's own well-known development values, printed on purpose;
    a real account's are never known here. ``run_command`` adds the one-line ``agentbot run``
    invocation (only where that command exists).
    """
    bot = config.bot
    human = config.human
    lines = [
        f"  Chat page (visitor)  {urls.chat_page}",
        f"  Agent console        {urls.console}",
        f"  Socket URL           {urls.socket}",
        f"  Control API          {urls.control_api}",
        f"  REST API             {urls.base}{REST_PREFIX}",
        "",
        "Bot agent credentials (bot.toml):",
        "  [smartsupp]",
        f'  url = "{urls.base}"',
        f'  agent_id = "{bot.id}"',
        f'  key = "{config.account_key}"',
        f'  auth_token = "{bot.auth_token}"',
        f"  eio = {urls.eio}",
        f'  api_url = "{urls.base}{REST_PREFIX}"',
        f'  api_token = "{api_token_for(bot)}"',
    ]
    if run_command:
        lines += [
            "",
            "or in the environment:",
            f"  AGENTBOT_URL={urls.base} AGENTBOT_AGENT_ID={bot.id} "
            f"AGENTBOT_KEY={config.account_key} AGENTBOT_AUTH_TOKEN={bot.auth_token} "
            f"AGENTBOT_EIO={urls.eio} AGENTBOT_API_URL={urls.base}{REST_PREFIX} "
            f"AGENTBOT_API_TOKEN={api_token_for(bot)} agentbot run",
        ]
    lines += [
        "",
        f"Human agent (the console logs in as): {human.id} / {human.auth_token}",
    ]
    return lines
