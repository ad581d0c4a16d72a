"""bot.toml: one file configures the connection, the pacing, the runtime and the plugins.

::

    [smartsupp]
    url = "https://websocket.smartsupp.com"   # default
    agent_id = "345111"
    key = "d57ad4…"                            # secret: never logged or echoed
    auth_token = "6d267d…"                     # secret, optional
    eio = 3                                    # 3 (Smartsupp, socket.io 2.x) or 4
    track_visitors = false                     # wanted agent.track_visitors value
    max_frame_bytes = 1048576                  # larger server messages close the link
    send_via = "rest"                          # "rest" (documented) or "socket" (assumed)
    api_url = "https://app.smartsupp.com/rest" # default; assumed, unverified
    api_token = "…"                            # secret: the REST credential
    api_auth = "bearer"                        # "bearer" | "apikey" | "cookie"
    api_timeout_seconds = 10.0                 # per REST request

    [pacing]                                   # see agentbot.runtime.pacing
    time_scale = 1.0                           # the speed factor; 0 = no waiting

    [runtime]
    hook_timeout_seconds = 5.0                 # time budget of one plugin's hook call
    max_replies_per_chat_per_minute = 8        # loop guard
    max_messages_per_second = 10.0             # global outgoing rate limit ...
    message_burst = 20                         # ... as a token bucket
    human_first = true                         # a human in a chat silences the bot there
    resume_after_human_leaves = false
    storage_path = "bot.sqlite3"               # default: the platform's user data dir
    storage_url = "postgresql://…"             # instead: PostgreSQL, for replicas (secret)
    on_storage_error = "memory"                # or "stop": when that file cannot be used

    [server]
    listen = "127.0.0.1:9108"                  # /metrics, /healthz, /readyz; default: off

    [plugins.greeter]                          # an installed plugin (entry point "greeter")
    order = 10                                 # lower runs first and wins confidence ties
    greeting = "Hi!"                           # the plugin's own options
    [plugins.mine]
    path = "my_plugin.py"                      # a file (relative to bot.toml) or a module
    enabled = false

A plugin runs when its ``[plugins.NAME]`` section exists and does not say
``enabled = false``; installed plugins without a section are listed by ``agentbot plugins``
but not run (the built-ins ship in the same wheel, so installing is not opting in).

Environment variables override the file: ``AGENTBOT_URL``, ``AGENTBOT_AGENT_ID``,
``AGENTBOT_KEY``, ``AGENTBOT_AUTH_TOKEN``, ``AGENTBOT_EIO``, ``AGENTBOT_API_URL``,
``AGENTBOT_API_TOKEN``; with all required ones set, no
file is needed at all. Every error is a :class:`ConfigError` naming the file, the section and
the key, with a "did you mean" hint for a typo; secret values never appear in it.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import attrs
import platformdirs

from agentbot.errors import ConfigError
from agentbot.runtime.pacing import PacingSettings
from agentbot.runtime.sections import did_you_mean, location, structure_section

__all__ = [
    "API_AUTH",
    "DEFAULT_API_TIMEOUT_SECONDS",
    "DEFAULT_API_URL",
    "DEFAULT_STORAGE_FILENAME",
    "DEFAULT_URL",
    "ENV_OVERRIDES",
    "PLUGIN_RESERVED_KEYS",
    "SEND_VIA",
    "BotConfig",
    "PluginSection",
    "RuntimeSettings",
    "ServerSettings",
    "SmartsuppSettings",
    "default_storage_path",
    "load_config",
]

DEFAULT_URL = "https://websocket.smartsupp.com"
DEFAULT_API_URL = "https://app.smartsupp.com/rest"
"""Assumed production REST base (the spec names only a developer host); unverified."""
DEFAULT_API_TIMEOUT_SECONDS = 10.0
SEND_VIA = ("rest", "socket")
API_AUTH = ("bearer", "apikey", "cookie")
DEFAULT_STORAGE_FILENAME = "agentbot.sqlite3"

#: Environment variable → key of ``[smartsupp]`` it overrides.
ENV_OVERRIDES: Mapping[str, str] = {
    "AGENTBOT_URL": "url",
    "AGENTBOT_AGENT_ID": "agent_id",
    "AGENTBOT_KEY": "key",
    "AGENTBOT_AUTH_TOKEN": "auth_token",
    "AGENTBOT_EIO": "eio",
    "AGENTBOT_API_URL": "api_url",
    "AGENTBOT_API_TOKEN": "api_token",
}

_ENV_FOR_KEY = {key: variable for variable, key in ENV_OVERRIDES.items()}

#: Keys of a ``[plugins.NAME]`` section that the runtime reads; the rest is the plugin's.
PLUGIN_RESERVED_KEYS = frozenset({"enabled", "order", "path"})

_SECTIONS = ("smartsupp", "pacing", "runtime", "server", "plugins")


def _eio_version(_instance: object, _attribute: attrs.Attribute[int], value: int) -> None:
    if value not in (3, 4):
        raise ValueError(f"eio must be 3 or 4, got {value!r}")


def _url(_instance: object, _attribute: attrs.Attribute[str], value: str) -> None:
    if not value.startswith(("http://", "https://", "ws://", "wss://")):
        raise ValueError(f"url must start with http://, https://, ws:// or wss://: {value!r}")


def _one_of(choices: tuple[str, ...]) -> Any:
    def check(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
        if value not in choices:
            listed = ", ".join(repr(c) for c in choices)
            raise ValueError(f"{attribute.name} must be one of {listed}, got {value!r}")

    return check


def _http_url(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not value.startswith(("http://", "https://")):
        raise ValueError(f"{attribute.name} must start with http:// or https://: {value!r}")


def _not_blank(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not value.strip():
        raise ValueError(f"{attribute.name} must not be empty")


def _positive(_instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value > 0:
        raise ValueError(f"{attribute.name} must be > 0, got {value!r}")


def _non_negative(_instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value >= 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value!r}")


def _confidence(_instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0 <= value <= 1:
        raise ValueError(f"{attribute.name} must be between 0 and 1, got {value!r}")


def _storage_url(_instance: object, _attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and not value.startswith(("postgresql://", "postgres://")):
        raise ValueError("storage_url must start with postgresql:// (the URL is not shown)")


def _listen(_instance: object, _attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is None:
        return
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"listen must be HOST:PORT (port 0: any free one), got {value[:60]!r}")


@attrs.frozen(kw_only=True)
class SmartsuppSettings:
    """``[smartsupp]``: where and as whom the bot logs in."""

    url: str = attrs.field(default=DEFAULT_URL, validator=_url)
    agent_id: str = attrs.field(validator=_not_blank)
    key: str = attrs.field(repr=False, validator=_not_blank)
    auth_token: str | None = attrs.field(default=None, repr=False)
    eio: int = attrs.field(default=3, validator=_eio_version)
    track_visitors: bool = False
    max_frame_bytes: int = attrs.field(default=1_048_576, validator=_positive)
    """Largest WebSocket message accepted from the server; a larger one closes the link
    ("message too big", code 1009) and the client reconnects."""
    send_via: str = attrs.field(default="rest", validator=_one_of(SEND_VIA))
    """How replies leave: ``"rest"`` (``POST /v2/conversations/{id}``, the documented way)
    or ``"socket"`` (a ``chat.message`` request, which no vendor source shows). Typing always
    goes over the socket."""
    api_url: str = attrs.field(default=DEFAULT_API_URL, validator=_http_url)
    """The REST base URL; the default is assumed (unverified)."""
    api_token: str | None = attrs.field(default=None, repr=False)
    """The REST credential (secret). Needed with ``send_via = "rest"`` (the bot refuses to
    start without it); without it (socket mode) chat actions such as close or assign are
    unavailable."""
    api_auth: str = attrs.field(default="bearer", validator=_one_of(API_AUTH))
    """How the token travels: ``Authorization: Bearer`` (default, assumed), an ``apiKey``
    header, or the ``jwt_access_token`` cookie the vendor's spec names."""
    api_timeout_seconds: float = attrs.field(
        default=DEFAULT_API_TIMEOUT_SECONDS, validator=_positive
    )
    """Time limit of one REST request."""


@attrs.frozen(kw_only=True)
class RuntimeSettings:
    """``[runtime]``: budgets, limits and manners of the bot."""

    hook_timeout_seconds: float = attrs.field(default=5.0, validator=_positive)
    """Time budget of one plugin's hook call; past it the call is abandoned and counted."""
    max_replies_per_chat_per_minute: int = attrs.field(default=8, validator=_positive)
    """Loop guard: more bot messages than this in one chat within 60 s are dropped."""
    max_messages_per_second: float = attrs.field(default=10.0, validator=_positive)
    """Global rate limit on outgoing chat messages (token bucket refill rate)."""
    message_burst: int = attrs.field(default=20, validator=_positive)
    """Token bucket size: how many messages may leave back to back."""
    human_first: bool = True
    """A human agent joining, being assigned or writing in a chat silences the bot there."""
    resume_after_human_leaves: bool = False
    """When the last human leaves a chat, let the bot answer there again."""
    min_confidence: float = attrs.field(default=0.0, validator=_confidence)
    """Candidate replies below this confidence are never sent."""
    storage_path: Path | None = None
    """SQLite file for plugin storage and the ledger (chat facts, inbox, outbox); default in the
    user data dir."""
    storage_url: str | None = attrs.field(default=None, repr=False, validator=_storage_url)
    """``postgresql://…``: keep state in PostgreSQL (replicas) instead of SQLite; secret."""
    storage_namespace: str | None = None
    """This bot's rows in a shared database; default ``<agent id>@<digest of url and key>``."""
    lease_ttl_seconds: float = attrs.field(default=10.0, validator=_positive)
    """With storage_url: a dead active replica is replaced within this plus a third."""
    seen_retention_days: float = attrs.field(default=30.0, validator=_positive)
    """How long answered message ids and the outbox are remembered (to never answer twice)."""
    lead_retention_days: float = attrs.field(default=365.0, validator=_positive)
    """How long a delivered lead (after_hours) is kept; pending ones stay until delivered."""
    handoff_note_retention_days: float = attrs.field(default=90.0, validator=_positive)
    """How long a delivered hand-off note (handoff) is kept."""
    question_retention_days: float = attrs.field(default=180.0, validator=_positive)
    """How long stored visitor questions (faq gaps and feedback) are kept."""
    chat_state_retention_days: float = attrs.field(default=2.0, validator=_positive)
    """How long a closed chat's facts are kept (a late event for it is still understood)."""
    missed_message_max_age_seconds: float = attrs.field(default=900.0, validator=_positive)
    """A visitor message missed while the bot was away (or a reply cut off by a restart) is
    answered after the next login only if it is at most this old."""
    sync_hooks: str = attrs.field(
        default="auto", validator=attrs.validators.in_(("auto", "thread", "inline"))
    )
    """Where plain (not async) hook functions run. ``"auto"``: on the event loop until one call
    blocks it (> 50 ms), then that hook in a worker thread, within ``hook_timeout_seconds``;
    ``"thread"``: always in a worker thread; ``"inline"``: always on the loop."""
    chat_queue_size: int = attrs.field(default=64, validator=_positive)
    """Events waiting for one chat's actor; past it new events for that chat are dropped."""
    shutdown_grace_seconds: float = attrs.field(default=1.5, validator=_non_negative)
    """On SIGINT/SIGTERM, time allowed for typing-false, on_stop hooks and closing."""
    on_storage_error: Literal["memory", "stop"] = "memory"
    """When the storage file cannot be used: "memory" keeps answering (state not kept across
    a restart), "stop" ends the bot with one error line."""


@attrs.frozen(kw_only=True)
class ServerSettings:
    """``[server]``: the operations endpoint (/metrics, /healthz, /readyz); off by default."""

    listen: str | None = attrs.field(default=None, validator=_listen)
    """``HOST:PORT`` to serve on, e.g. ``127.0.0.1:9108``; None (the default) serves nothing."""


@attrs.frozen(kw_only=True)
class PluginSection:
    """One ``[plugins.NAME]`` table: how to find the plugin and its raw options."""

    name: str
    enabled: bool = True
    order: int | None = None
    path: str | None = None
    """A ``.py`` file (relative to bot.toml) or a dotted module name; None = entry point."""
    options: Mapping[str, Any] = attrs.field(factory=dict)
    position: int = 0
    """Position of the section in the file: the tie-breaker for ``order``."""


@attrs.frozen(kw_only=True)
class BotConfig:
    """Everything bot.toml (plus the environment) says, validated."""

    path: Path | None
    smartsupp: SmartsuppSettings
    pacing: PacingSettings = attrs.field(factory=PacingSettings)
    runtime: RuntimeSettings = attrs.field(factory=RuntimeSettings)
    server: ServerSettings = attrs.field(factory=ServerSettings)
    plugins: tuple[PluginSection, ...] = ()

    @property
    def source(self) -> str:
        """Return the config file's name for messages, or ``"environment"``."""
        return str(self.path) if self.path is not None else "environment"

    def resolved_storage_path(self) -> Path:
        """Return the SQLite path: the configured one (relative to bot.toml) or the default."""
        configured = self.runtime.storage_path
        if configured is None:
            return default_storage_path()
        configured = configured.expanduser()
        if not configured.is_absolute() and self.path is not None:
            return self.path.parent / configured
        return configured

    def plugin(self, name: str) -> PluginSection | None:
        """Return the section for plugin ``name``, if bot.toml has one."""
        return next((section for section in self.plugins if section.name == name), None)


def default_storage_path() -> Path:
    """Return ``<user data dir>/agentbot/agentbot.sqlite3`` (platformdirs)."""
    return platformdirs.user_data_path("agentbot", appauthor=False) / DEFAULT_STORAGE_FILENAME


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file", path=str(path)) from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a TOML file", path=str(path)) from None
    except PermissionError:
        raise ConfigError(f"{path}: permission denied", path=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}", path=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}", path=str(path)) from None


def _table(data: Mapping[str, Any], name: str, where: str) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(
            f"{location(where, None, name)}: expected a [{name}] table", path=where, key=name
        )
    return value


def plugin_sections(raw: Mapping[str, Any], where: str) -> tuple[PluginSection, ...]:
    """Return the ``[plugins.*]`` tables as sections (bot.toml's, or the test harness's)."""
    sections = []
    for position, (name, table) in enumerate(raw.items()):
        section = f"plugins.{name}"
        if not isinstance(table, dict):
            raise ConfigError(
                f"{location(where, 'plugins', name)}: expected a [plugins.{name}] table",
                path=where,
                section="plugins",
                key=name,
            )
        reserved = structure_section(
            _PluginReserved,
            {key: value for key, value in table.items() if key in PLUGIN_RESERVED_KEYS},
            path=where,
            section=section,
        )
        sections.append(
            PluginSection(
                name=name,
                enabled=reserved.enabled,
                order=reserved.order,
                path=reserved.path,
                options={k: v for k, v in table.items() if k not in PLUGIN_RESERVED_KEYS},
                position=position,
            )
        )
    return tuple(sections)


@attrs.frozen(kw_only=True)
class _PluginReserved:
    enabled: bool = True
    order: int | None = None
    path: str | None = None


def load_config(
    path: str | os.PathLike[str] | None,
    *,
    env: Mapping[str, str] | None = None,
) -> BotConfig:
    """Read, merge and validate bot.toml and the ``AGENTBOT_*`` environment variables.

    ``path=None`` reads no file (everything from the environment). ``env`` defaults to
    ``os.environ``. Raises :class:`ConfigError` naming file, section and key on any problem.
    Plugin options are only checked here for shape; each plugin's own config class validates
    them when the plugins load (:mod:`agentbot.runtime.plugins`).
    """
    environ = os.environ if env is None else env
    file_path = Path(path) if path is not None else None
    where = str(file_path) if file_path is not None else "environment"
    data = _read_toml(file_path) if file_path is not None else {}
    for name in data:
        if name not in _SECTIONS:
            hint = did_you_mean(name, _SECTIONS)
            raise ConfigError(f"{where}: unknown section [{name}]{hint}", path=where, section=name)
    smartsupp = dict(_table(data, "smartsupp", where))
    for variable, key in ENV_OVERRIDES.items():
        value = environ.get(variable)
        if value is None or value == "":
            continue
        if key == "eio":
            try:
                smartsupp[key] = int(value)
            except ValueError:
                raise ConfigError(
                    f"{variable}: expected 3 or 4, got {value[:20]!r}", section="smartsupp", key=key
                ) from None
        else:
            smartsupp[key] = value
    try:
        smartsupp_settings = structure_section(
            SmartsuppSettings, smartsupp, path=where, section="smartsupp"
        )
    except ConfigError as exc:
        env_name = _ENV_FOR_KEY.get(exc.key or "")
        if env_name is None or "missing required key" not in str(exc):
            raise
        raise ConfigError(
            f"{exc} (or set {env_name})", path=exc.path, section=exc.section, key=exc.key
        ) from None
    return BotConfig(
        path=file_path,
        smartsupp=smartsupp_settings,
        pacing=structure_section(
            PacingSettings, _table(data, "pacing", where), path=where, section="pacing"
        ),
        runtime=structure_section(
            RuntimeSettings, _table(data, "runtime", where), path=where, section="runtime"
        ),
        server=structure_section(
            ServerSettings, _table(data, "server", where), path=where, section="server"
        ),
        plugins=plugin_sections(_table(data, "plugins", where), where),
    )
