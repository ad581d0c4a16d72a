"""The environment of an ``agentbot run`` / ``check`` child process started by a test.

One rule for every test that starts the CLI: the test's own ``AGENTBOT_*`` variables never leak
into the child (a developer's real credentials must not meet the sandbox), and the sandbox's
credentials go in as the environment a user would set.
"""

from __future__ import annotations

import os

from agentbot.sandbox import SandboxConfig
from agentbot.sandbox.rest_api import api_token_for


def child_env(sandbox: SandboxConfig | None = None, *, rest: bool = False) -> dict[str, str]:
    """``os.environ`` without ``AGENTBOT_*``, plus the sandbox bot's key and auth token
    (and, with ``rest``, its REST API token)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTBOT_")}
    if sandbox is not None:
        env["AGENTBOT_AUTH_TOKEN"] = sandbox.bot.auth_token
        env["AGENTBOT_KEY"] = sandbox.account_key
        if rest:
            env["AGENTBOT_API_TOKEN"] = api_token_for(sandbox.bot)
    return env
