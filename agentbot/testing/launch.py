"""Start a harness: build the bot's config and plugin list, the sandbox, the client, the bot."""

from __future__ import annotations

import datetime
import importlib.metadata
import inspect
import logging
import os
import re
import time
import types
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import anyio
import attrs

from agentbot.testing.harness import DEFAULT_WAIT_SECONDS, SANDBOX_URL, BotHarness, FailureLog

if TYPE_CHECKING:
    from agentbot.runtime.config import BotConfig
    from agentbot.sandbox import SandboxConfig

__all__ = ["PluginSpec", "bot_harness"]

_HEARTBEAT_SECONDS = 2e6  # virtual time: out of reach, below the 2**31-1 ms handshake limit
_FINAL_SETTLE_SECONDS = 2.0  # real seconds the harness gives the bot to settle on exit

PluginSpec = object | str | tuple[str, object]
"""A plugin for the harness: an object or module, an installed entry-point name, or
``(name, object)``."""


# ---------------------------------------------------------------------------------------------
# Building the config and the plugin list
# ---------------------------------------------------------------------------------------------


_SECTIONS = ("smartsupp", "pacing", "runtime", "plugins")


def _sandbox_credentials(sandbox_config: SandboxConfig, eio: int | None) -> dict[str, str]:
    from agentbot.sandbox.rest_api import REST_PREFIX, api_token_for

    env = {
        "AGENTBOT_URL": SANDBOX_URL,
        "AGENTBOT_AGENT_ID": sandbox_config.bot.id,
        "AGENTBOT_KEY": sandbox_config.account_key,
        "AGENTBOT_AUTH_TOKEN": sandbox_config.bot.auth_token,
        # The sandbox serves the REST API too, so the default send_via = "rest" works.
        "AGENTBOT_API_URL": f"{SANDBOX_URL}{REST_PREFIX}",
        "AGENTBOT_API_TOKEN": api_token_for(sandbox_config.bot),
    }
    if eio is not None:
        env["AGENTBOT_EIO"] = str(eio)
    return env


def _config_from_mapping(data: Mapping[str, Any], env: Mapping[str, str]) -> BotConfig:
    """Validate a bot.toml-shaped mapping like ``load_config`` does (sandbox credentials)."""
    from agentbot.errors import ConfigError
    from agentbot.runtime.config import (
        ENV_OVERRIDES,
        BotConfig,
        RuntimeSettings,
        SmartsuppSettings,
        plugin_sections,
    )
    from agentbot.runtime.pacing import PacingSettings
    from agentbot.runtime.sections import did_you_mean, structure_section

    where = "harness config"
    for name in data:
        if name not in _SECTIONS:
            raise ConfigError(
                f"{where}: unknown section [{name}]{did_you_mean(name, _SECTIONS)}",
                path=where,
                section=name,
            )
    smartsupp = dict(data.get("smartsupp", {}))
    for variable, key in ENV_OVERRIDES.items():
        if variable in env:
            smartsupp[key] = int(env[variable]) if key == "eio" else env[variable]
    return BotConfig(
        path=None,
        smartsupp=structure_section(SmartsuppSettings, smartsupp, path=where, section="smartsupp"),
        pacing=structure_section(
            PacingSettings, dict(data.get("pacing", {})), path=where, section="pacing"
        ),
        runtime=structure_section(
            RuntimeSettings, dict(data.get("runtime", {})), path=where, section="runtime"
        ),
        plugins=plugin_sections(dict(data.get("plugins", {})), where),
    )


def _build_config(
    config: str | os.PathLike[str] | Mapping[str, Any] | BotConfig | None,
    env: Mapping[str, str],
) -> BotConfig:
    from agentbot.runtime.config import BotConfig, load_config

    if config is None:
        return _config_from_mapping({}, env)
    if isinstance(config, BotConfig):
        overrides = {key: value for key, value in env.items() if key != "AGENTBOT_EIO"}
        rebuilt = _config_from_mapping({"smartsupp": {}}, overrides)
        smartsupp = attrs.evolve(
            config.smartsupp,
            url=rebuilt.smartsupp.url,
            agent_id=rebuilt.smartsupp.agent_id,
            key=rebuilt.smartsupp.key,
            auth_token=rebuilt.smartsupp.auth_token,
        )
        if "AGENTBOT_EIO" in env:
            smartsupp = attrs.evolve(smartsupp, eio=int(env["AGENTBOT_EIO"]))
        return attrs.evolve(config, smartsupp=smartsupp)
    if isinstance(config, str | os.PathLike):
        # The file's [smartsupp] is replaced through the documented environment overrides.
        return load_config(Path(config), env=env)
    return _config_from_mapping(config, env)


def _snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _entry_point_name(obj: object) -> str | None:
    """Return the name of the installed ``agentbot`` entry point that points at ``obj``."""
    if isinstance(obj, types.ModuleType):
        module, attr = obj.__name__, None
    else:
        cls = obj if inspect.isclass(obj) else type(obj)
        module, attr = cls.__module__, cls.__qualname__
    for entry_point in importlib.metadata.entry_points(group="agentbot"):
        if entry_point.module == module and (entry_point.attr or None) == attr:
            return entry_point.name
    return None


def _plugin_name(obj: object) -> str:
    """Name a plugin given as an object: its entry point's name, else its module or class."""
    name = _entry_point_name(obj)
    if name is not None:
        return name
    if isinstance(obj, types.ModuleType):
        return obj.__name__.rpartition(".")[2]
    cls = obj if inspect.isclass(obj) else type(obj)
    return _snake_case(cls.__name__)


def _plugin_list(
    plugins: Sequence[PluginSpec] | Mapping[str, object], config: BotConfig
) -> tuple[list[tuple[str, object]], BotConfig]:
    """Split the plugins into objects for the Bot and entry-point names for the config."""
    from agentbot.runtime.config import PluginSection

    items: list[tuple[str | None, object]]
    if isinstance(plugins, Mapping):
        items = list(plugins.items())
    else:
        items = []
        for spec in plugins:
            if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], str):
                items.append((spec[0], spec[1]))
            else:
                items.append((None, spec))
    objects: list[tuple[str, object]] = []
    sections = list(config.plugins)
    for given_name, obj in items:
        if isinstance(obj, str):
            name = given_name or obj
            if config.plugin(name) is None:
                sections.append(PluginSection(name=name, position=len(sections)))
            continue
        if inspect.isclass(obj):
            obj = obj()
        name = given_name or _plugin_name(obj)
        if any(existing == name for existing, _ in objects):
            raise ValueError(f"two plugins are named {name!r}: pass a dict to name them")
        objects.append((name, obj))
    return objects, attrs.evolve(config, plugins=tuple(sections))


# ---------------------------------------------------------------------------------------------
# Starting it
# ---------------------------------------------------------------------------------------------


@asynccontextmanager
async def bot_harness(
    *,
    plugins: Sequence[PluginSpec] | Mapping[str, object] = (),
    config: str | os.PathLike[str] | Mapping[str, Any] | BotConfig | None = None,
    eio: Literal[3, 4] | None = None,
    storage: str | os.PathLike[str] | None = None,
    entry_points: Mapping[str, Any] | None = None,
    sandbox_config: SandboxConfig | None = None,
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
    strict: bool = True,
    wall_time: float | datetime.datetime | None = None,
) -> AsyncIterator[BotHarness]:
    """Run a bot with ``plugins`` against an in-process sandbox; yield the harness.

    - ``plugins``: objects or modules (named after their entry point if one points at them,
      else after their module or class), ``(name, object)`` pairs or a ``{name: object}``
      dict, and installed plugins by entry-point name (``"greeter"``). A class is
      instantiated without arguments.
    - ``config``: a bot.toml path, a mapping of the same shape (``{"pacing": {...},
      "plugins": {"greeter": {"greeting": "Hi"}}}``) or a ``BotConfig``. Its plugin sections
      configure the plugins; its connection settings are replaced by the sandbox's (only
      ``eio`` and ``track_visitors`` are kept). Pacing keeps the real defaults: the virtual
      clock makes them free.
    - ``eio``: force Engine.IO 3 or 4 (default: the config's, which defaults to 3).
    - ``storage``: an SQLite file to keep plugin storage in (default: in memory), e.g. to
      share it between two harness runs.
    - ``entry_points``: replace the installed ``agentbot`` entry points (name → entry point).
    - ``sandbox_config``: a custom sandbox account (its clock and heartbeat are replaced).
    - ``wait_seconds``: the real-time bound of every wait (a hang fails, a pace never does).
    - ``strict``: on a clean exit, raise :class:`PluginFailed` if a plugin failed.
    - ``wall_time``: the wall-clock moment (epoch seconds or an aware ``datetime``) at
      virtual time 0; wall time then moves with the virtual clock (``harness.wall_time()``).
      The sandbox stamps ``createdAt`` with it, and the bot gets it as its wall clock when
      the runtime takes one. Default: the real time when the harness starts.

    Leaving the block stops the bot as SIGTERM would (pending replies cancelled, typing
    off, ``on_stop``).
    """
    from agentbot.client import AgentClient, ReconnectPolicy
    from agentbot.runtime.bot import Bot
    from agentbot.runtime.clock import VirtualClock
    from agentbot.runtime.outbound import Outbound
    from agentbot.runtime.storage import MEMORY, Storage
    from agentbot.sandbox import SandboxConfig, create_app

    clock = VirtualClock()
    if isinstance(wall_time, datetime.datetime):
        if wall_time.tzinfo is None:
            raise ValueError("wall_time must be an aware datetime (with a tzinfo)")
        wall_time = wall_time.timestamp()
    epoch = time.time() if wall_time is None else float(wall_time)

    def wall_clock() -> float:
        return epoch + clock.now()

    sandbox_config = attrs.evolve(
        sandbox_config if sandbox_config is not None else SandboxConfig(),
        clock=clock.now,
        wall_clock=wall_clock,
        ping_interval_seconds=_HEARTBEAT_SECONDS,
        ping_timeout_seconds=_HEARTBEAT_SECONDS,
    )
    app = create_app(sandbox_config, pages=False)
    bot_config = _build_config(config, _sandbox_credentials(sandbox_config, eio))
    objects, bot_config = _plugin_list(plugins, bot_config)
    reconnect = ReconnectPolicy(initial_delay_seconds=0.01, max_delay_seconds=0.05)
    failure_log = FailureLog()
    plugin_logger = logging.getLogger("agentbot.runtime.plugins")
    actor_logger = logging.getLogger("agentbot.runtime.bot")

    with Storage(MEMORY if storage is None else os.fspath(storage)) as store:

        def connect() -> AgentClient:
            settings = bot_config.smartsupp
            return AgentClient(
                settings.url,
                agent_id=settings.agent_id,
                key=settings.key,
                auth_token=settings.auth_token,
                eio=settings.eio,
                track_visitors=harness.bot.track_visitors,
                reconnect=reconnect,
                asgi_app=app,
            )

        extra: dict[str, Any] = {"wall_clock": wall_clock}

        def make_outbound(bot: Bot) -> Outbound:
            # As the Bot builds it, but the REST client talks to the in-process sandbox.
            return Outbound(
                bot.config.smartsupp,
                lambda: bot._client,
                agent_id=lambda: bot.agent_id,
                sleep=lambda seconds: bot.clock.sleep_until(bot.clock.now() + seconds),
                wall_clock=bot.wall_clock,
                asgi_app=app,
            )

        if "outbound" in inspect.signature(Bot).parameters:
            extra["outbound"] = make_outbound

        def make_bot() -> Bot:
            return Bot(
                bot_config,
                plugins=objects,
                connect=connect,
                clock=clock,
                storage=store,
                entry_points=entry_points,
                **extra,
            )

        harness = BotHarness(
            app=app,
            config=bot_config,
            make_bot=make_bot,
            clock=clock,
            storage=store,
            wait_seconds=wait_seconds,
            failure_log=failure_log,
            wall_clock=wall_clock,
        )
        plugin_logger.addHandler(failure_log)
        actor_logger.addHandler(failure_log)
        body_error: BaseException | None = None
        try:
            harness.bot.prepare()  # config and plugin errors surface here, unwrapped
            async with anyio.create_task_group() as tg:
                harness._tg = tg
                tg.start_soon(harness._watch_changes, name="agentbot harness: change counter")
                try:
                    await harness._start_bot()  # a start that never settles: unwrapped too
                    yield harness
                    # Let late plugin failures surface for the strict check; a bot that is
                    # stuck was already reported by the wait that found it stuck.
                    with anyio.move_on_after(min(wait_seconds, _FINAL_SETTLE_SECONDS)):
                        await harness._settle()
                except BaseException as exc:
                    body_error = exc
                    raise
                finally:
                    with anyio.CancelScope(shield=True):
                        await harness._stop_bot()
                    tg.cancel_scope.cancel()
        except BaseExceptionGroup as group:
            # The test's own failure (an assert in the block) surfaces as itself, not wrapped
            # in the task group's ExceptionGroup.
            if body_error is not None and _only(group, body_error):
                raise body_error from None
            raise
        finally:
            plugin_logger.removeHandler(failure_log)
            actor_logger.removeHandler(failure_log)
        if strict:
            harness.check_plugins()


def _only(group: BaseExceptionGroup[BaseException], error: BaseException) -> bool:
    """Whether ``error`` is the one leaf of ``group`` (nested groups flattened)."""
    leaves: list[BaseException] = []

    def walk(exc: BaseException) -> None:
        if isinstance(exc, BaseExceptionGroup):
            for inner in exc.exceptions:
                walk(inner)
        else:
            leaves.append(exc)

    walk(group)
    return len(leaves) == 1 and leaves[0] is error
