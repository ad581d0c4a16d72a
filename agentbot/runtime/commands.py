"""What a plugin's ``register_commands`` hook gets besides the click group: bot.toml access.

A plugin's own commands (``agentbot faq test …``) read the same bot.toml as ``agentbot run``
and must find it the same way, validate the plugin's section with the same class and open
the same storage. Plugins may import only agentbot's public names, so this object hands
them those steps instead of the plugin reaching into the runtime.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import attrs
import click

from agentbot.errors import ConfigError
from agentbot.runtime.config import BotConfig, load_config
from agentbot.runtime.sections import structure_section
from agentbot.runtime.storage import KeyValueStore, Storage

__all__ = ["DEFAULT_CONFIG_FILE", "CommandTools", "add_plugin_commands", "find_config"]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_CONFIG_FILE = "bot.toml"

_NO_LOGIN_PLACEHOLDERS: Mapping[str, str] = {
    "AGENTBOT_AGENT_ID": "not-logging-in",
    "AGENTBOT_KEY": "not-logging-in",
}
"""Credentials that stand in when a command only reads plugin options and never logs in."""


def find_config(config_path: str | None) -> str | None:
    """Return ``config_path``, else ./bot.toml if present, else None (environment only)."""
    if config_path is None and os.path.isfile(DEFAULT_CONFIG_FILE):
        return DEFAULT_CONFIG_FILE
    return config_path


@attrs.frozen
class CommandTools:
    """bot.toml for a plugin's commands: found, read and validated as ``agentbot run`` does.

    Every method raises an :class:`~agentbot.AgentbotError` with a one-line message; a
    command turns it into ``click.ClickException(str(exc))``.
    """

    def config_option(self) -> Callable[[F], F]:
        """The ``-c/--config FILE`` option of the bot's own commands (``config_path``)."""
        return click.option(
            "-c",
            "--config",
            "config_path",
            metavar="FILE",
            default=None,
            help="The bot.toml to read (default: ./bot.toml if present).",
        )

    def bot_config(self, config_path: str | None, *, login: bool = True) -> BotConfig:
        """Read bot.toml; ``login=False`` does not require the Smartsupp credentials."""
        environ: Mapping[str, str] = os.environ
        if not login:
            environ = {**os.environ, **_NO_LOGIN_PLACEHOLDERS}
        return load_config(find_config(config_path), env=environ)

    def plugin_config(self, config_path: str | None, name: str, config_class: type[T]) -> T:
        """Validate ``[plugins.NAME]`` against ``config_class`` (no credentials needed)."""
        config = self.bot_config(config_path, login=False)
        section = config.plugin(name)
        if section is None:
            raise ConfigError(f"{config.source}: no [plugins.{name}] section", section=name)
        return structure_section(
            config_class, section.options, path=config.source, section=f"plugins.{name}"
        )

    def config_dir(self, config_path: str | None) -> Path | None:
        """The folder relative paths in bot.toml are read from (None: the working folder)."""
        found = find_config(config_path)
        return Path(found).resolve().parent if found is not None else None

    def plugin_store(self, config_path: str | None, name: str) -> KeyValueStore:
        """Open plugin ``name``'s storage from the bot's configured store."""
        config = self.bot_config(config_path)
        return Storage(config.resolved_storage_path()).plugin_store(name)


def add_plugin_commands(cli: click.Group, *, warn: Callable[[str], None]) -> None:
    """Call every installed plugin's ``register_commands(cli, tools)``.

    A plugin that cannot load, is refused by pluggy, or whose implementation raises is one
    ``warn`` line: the command line must stay usable (``agentbot plugins`` says what is wrong).
    """
    import inspect

    import pluggy

    from agentbot.runtime import hookspecs
    from agentbot.runtime.plugins import _entry_points, _instantiate, _Manager

    tools = CommandTools()
    for name, entry_point in sorted(_entry_points().items()):
        manager = _Manager(hookspecs.PROJECT_NAME)
        manager.add_hookspecs(hookspecs)
        try:
            manager.register(_instantiate(entry_point.load()), name=name)
            results = manager.hook.register_commands(cli=cli, tools=tools)
        except (Exception, pluggy.PluginValidationError) as exc:
            warn(f"plugin {name!r} ({entry_point.value}): no commands: {exc}")
            continue
        for result in results:
            if inspect.iscoroutine(result):
                result.close()
                warn(f"plugin {name!r}: register_commands must be synchronous")
