"""``agentbot demo``: a sandbox, a bot and a scripted visitor in one process.

The wiring lives here, outside ``sandbox/`` (which must never import the bot runtime), so
the demo can start the real :class:`agentbot.runtime.bot.Bot` with the built-in plugins
against the sandbox it serves. It prints the scripted conversation as a live transcript with
timings, then stays up so a person can chat with the bot in a browser.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import anyio
import anyio.abc

from agentbot.errors import AgentbotError
from agentbot.runtime.bot import Bot
from agentbot.runtime.config import BotConfig, PluginSection, RuntimeSettings, SmartsuppSettings
from agentbot.sandbox import SandboxConfig, SandboxControl, running_server
from agentbot.sandbox.player import TranscriptFollower, TranscriptLine, play_scenario
from agentbot.sandbox.rest_api import REST_PREFIX, api_token_for
from agentbot.sandbox.scenario import Scenario
from agentbot.sandbox.site import SiteUrls, build_site, describe_site

__all__ = ["BUILTIN_DEMO_PLUGINS", "NO_BOT_REPLY_TIMEOUT_SECONDS", "run_demo"]

logger = logging.getLogger(__name__)

BUILTIN_DEMO_PLUGINS = ("greeter", "faq", "handoff")
"""The built-in plugins the demo bot runs, in this order."""

NO_BOT_REPLY_TIMEOUT_SECONDS = 3.0
"""How long the scripted visitor waits for a reply when the bot could not start."""

BOT_LOGIN_TIMEOUT_SECONDS = 15.0

# Options for the built-in plugins in the demo, keyed by plugin name. Empty: the plugins'
# own defaults. Kept here so the demo's FAQ can be tuned to demo.toml's questions.
DEMO_PLUGIN_OPTIONS: dict[str, dict[str, Any]] = {}


def _demo_options(name: str) -> dict[str, Any]:
    """Return the demo's options for a built-in plugin (faq: the example FAQ it ships)."""
    options = dict(DEMO_PLUGIN_OPTIONS.get(name, {}))
    if name == "faq" and "file" not in options:
        options["file"] = str(resources.files("agentbot_plugins.faq") / "example.toml")
    return options


Echo = Callable[[str], None]


def _bot_config(config: SandboxConfig, urls: SiteUrls, storage: Path) -> BotConfig:
    """Return a BotConfig logging in as the sandbox's bot agent with the demo's plugins."""
    bot = config.bot
    return BotConfig(
        path=None,
        smartsupp=SmartsuppSettings(
            url=urls.base,
            agent_id=bot.id,
            key=config.account_key,
            auth_token=bot.auth_token,
            eio=urls.eio,
            api_url=f"{urls.base}{REST_PREFIX}",
            api_token=api_token_for(bot),
        ),
        runtime=RuntimeSettings(storage_path=storage),
        plugins=tuple(
            PluginSection(name=name, options=_demo_options(name), position=index)
            for index, name in enumerate(BUILTIN_DEMO_PLUGINS)
        ),
    )


async def run_demo(
    *,
    echo: Echo,
    scenario: Scenario,
    host: str = "127.0.0.1",
    port: int = 0,
    eio: int = 3,
    stay_up: bool = True,
) -> None:
    """Serve the sandbox, start the bot, play ``scenario``, then stay up.

    Every line meant for the person goes through ``echo``. Returns after the scenario when
    ``stay_up`` is false; otherwise runs until cancelled (Ctrl-C), printing the transcript of
    any chat a person starts in the browser.
    """
    config = SandboxConfig()
    app = build_site(config)
    control: SandboxControl = app.state.control
    names = {agent.id: agent.nickname or agent.id for agent in config.agents}

    with tempfile.TemporaryDirectory(prefix="agentbot-demo-") as storage:
        async with (
            running_server(app, host=host, port=port) as base_url,
            anyio.create_task_group() as tg,
        ):
            urls = SiteUrls.from_base_url(base_url, eio=eio)
            echo(f"agentbot demo: a sandbox Smartsupp at {urls.base}")
            bot_running = await _start_bot(
                tg, echo, _bot_config(config, urls, Path(storage) / "demo.sqlite3")
            )
            if not bot_running:
                echo("Running the sandbox and the scripted visitor only: nobody will answer.")
                echo(f"Each wait for a reply gives up after {NO_BOT_REPLY_TIMEOUT_SECONDS:g}s.")
            about = f" — {scenario.description}" if scenario.description else ""
            echo("")
            echo(f"Scripted visitor: {scenario.name}{about}")
            result = await play_scenario(
                control,
                scenario,
                on_line=lambda line: echo(line.format()),
                agent_names=names,
                reply_timeout_cap_seconds=None if bot_running else NO_BOT_REPLY_TIMEOUT_SECONDS,
                clock=config.clock,
            )
            replies = "reply" if result.replies == 1 else "replies"
            echo(
                f"Scripted conversation done: {result.replies} {replies} received, "
                f"{len(result.unanswered_steps)} unanswered."
            )
            if not stay_up:
                tg.cancel_scope.cancel()
                return
            echo("")
            echo("Now chat with the bot yourself:")
            for line in describe_site(config, urls, run_command=False)[:2]:
                echo(line)
            echo("New chats are printed here as they happen. Ctrl-C stops.")
            follower = TranscriptFollower(control, start=config.clock(), names=names)
            follower.skip_existing()
            exclude = {result.chat_id} if result.chat_id else set()
            tg.start_soon(follower.follow, _printer(echo, exclude))
            await anyio.sleep_forever()


async def _start_bot(tg: anyio.abc.TaskGroup, echo: Echo, bot_config: BotConfig) -> bool:
    """Start the bot in ``tg`` and wait until it is logged in; say why not if it cannot."""
    bot = Bot(bot_config)
    try:
        with anyio.fail_after(BOT_LOGIN_TIMEOUT_SECONDS):
            await tg.start(bot.run)
    except (AgentbotError, TimeoutError) as exc:
        echo(f"The bot could not start: {exc}")
        return False
    shown = ", ".join(BUILTIN_DEMO_PLUGINS)
    echo(f"The bot is logged in as agent {bot_config.smartsupp.agent_id} ({shown}).")
    return True


def _printer(echo: Echo, exclude: set[str]) -> Callable[[TranscriptLine], None]:
    def on_line(line: TranscriptLine) -> None:
        if line.chat_id in exclude:
            return
        echo(f"[{line.chat_id}] {line.format()}")

    return on_line
