"""Log formatting for ``agentbot run``: readable lines on a terminal, JSON lines for machines.

Only ``cli.py`` installs handlers (STYLE.md §9); this module provides the formatters and the
redaction. Secrets are masked twice:

* :func:`install_redaction` makes every log record redacted when it is created (a
  :func:`logging.setLogRecordFactory` hook), so whatever handler prints it — ours, pytest's,
  one a library adds — and whoever logged it — agentbot, a plugin, httpx's ``HTTP Request:
  POST https://…/hooks/<token>`` INFO line (issue 16, defect 3) — never sees the secret;
* the formatters redact the final line again, tracebacks and JSON extras included.

The secrets are the account key and auth token, and every plugin option declared secret:
an attrs field with ``metadata={"secret": True}`` (see :func:`secret_values`). For a URL the
path and query are masked, since that is where hook URLs (Slack, Zapier) keep their token.

A process running several bots (:mod:`agentbot.runtime.fleet`) names the bot in each line:
:data:`BOT_NAME` is set in each bot's task (tasks it starts inherit it) and
:class:`BotField`, a handler filter, copies it onto the record as ``bot`` — a JSON field,
and ``[name]`` in a text line. The same way each chat actor's task sets :data:`CHAT_ID` and
the plugin host sets :data:`PLUGIN_NAME` around each hook call; the formatters read all
three (:func:`context_fields`): JSON fields ``bot``, ``chat``, ``plugin``, and
``[bot chat=… plugin=…]`` in a text line.
"""

from __future__ import annotations

import datetime
import json
import logging
import traceback
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal

import attrs

__all__ = [
    "BOT_NAME",
    "CHAT_ID",
    "PLUGIN_NAME",
    "SECRET",
    "BotField",
    "LogFormat",
    "Redactor",
    "context_fields",
    "formatter",
    "install_redaction",
    "plugin_field",
    "secret_values",
    "uninstall_redaction",
]

LogFormat = Literal["text", "json"]

#: Field metadata marking a plugin option as secret: ``attrs.field(metadata=SECRET)``.
SECRET: Mapping[str, Any] = {"secret": True}

_MASK = "***"
_MIN_SECRET_CHARS = 4
_MIN_URL_PATH_CHARS = 8  # a shorter path ("/api") is no secret; the whole URL still is
_STANDARD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
) | {"message", "asctime"}


class Redactor:
    """Replace every known secret in a string by ``***``; more can be added later."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str | None]) -> None:
        """Learn more secret values (too short ones are ignored: they would mask words)."""
        known = set(self._secrets)
        known.update(s for s in secrets if s and len(s) >= _MIN_SECRET_CHARS)
        # Longest first, so a secret containing another is masked whole.
        self._secrets = sorted(known, key=len, reverse=True)

    def add_url(self, url: str) -> None:
        """Learn a secret URL: the whole of it, and its path and query wherever they appear."""
        self.add(_url_forms(url))

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, _MASK)
        return text


def _url_forms(url: str) -> list[str]:
    forms = [url]  # too short a path to tell: the whole URL
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return forms
    tail = parts.path.lstrip("/") + (f"?{parts.query}" if parts.query else "")
    if len(tail) >= _MIN_URL_PATH_CHARS:
        # Mask the path and query only, so the host stays readable: as written, and as an
        # HTTP client percent-encodes it on the request line.
        return [
            tail,
            urllib.parse.quote(tail, safe="/?&=%:@!$'()*+,;~"),
            urllib.parse.unquote(tail),
        ]
    return forms


def secret_values(obj: Any) -> list[str]:
    """Return the values of ``obj``'s fields marked :data:`SECRET`, nested attrs included.

    A secret string counts whole (a URL also by its path and query); a secret mapping by its
    values (header names are not secret, their values are); a secret list by its items.
    """
    found: list[str] = []
    _collect(obj, found, depth=0)
    return found


def _collect(obj: Any, found: list[str], *, depth: int) -> None:
    if depth > 8 or not attrs.has(type(obj)):
        return
    for field in attrs.fields(type(obj)):
        value = getattr(obj, field.name, None)
        if field.metadata.get("secret"):
            _add_secret(value, found)
        elif attrs.has(type(value)):
            _collect(value, found, depth=depth + 1)
        elif isinstance(value, list | tuple):
            for item in value:
                _collect(item, found, depth=depth + 1)


def _add_secret(value: Any, found: list[str]) -> None:
    if isinstance(value, str):
        found.extend(_url_forms(value) if "://" in value else [value])
    elif isinstance(value, Mapping):
        found.extend(v for v in value.values() if isinstance(v, str))
    elif isinstance(value, list | tuple | set | frozenset):
        found.extend(v for v in value if isinstance(v, str))


# -- redaction at the source: every record, every handler ----------------------------------------

_active: Redactor | None = None
_base_factory: Any = None


def install_redaction(secrets: Iterable[str | None] = ()) -> Redactor:
    """Redact ``secrets`` from every log record from now on; return the redactor to extend.

    Installs a log record factory (once; calling again returns the same redactor with the
    new secrets added). The rendered message replaces ``msg``/``args`` only when it held a
    secret, and a traceback holding one is pre-rendered redacted into ``exc_text``.
    """
    global _active, _base_factory
    if _active is None:
        _active = Redactor()
        _base_factory = logging.getLogRecordFactory()
        logging.setLogRecordFactory(_redacting_factory)
    _active.add(secrets)
    return _active


def uninstall_redaction() -> None:
    """Undo :func:`install_redaction` (tests; a process normally keeps it to the end)."""
    global _active, _base_factory
    if _active is not None:
        logging.setLogRecordFactory(_base_factory)
        _active = _base_factory = None


def _redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record: logging.LogRecord = _base_factory(*args, **kwargs)
    redact = _active
    if redact:
        assert redact is not None
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: the handler reports it as usual
            return record
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[0] is not None:
            text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            cleaned = redact(text)
            if cleaned != text:
                record.exc_text = cleaned
    return record


BOT_NAME: ContextVar[str | None] = ContextVar("agentbot_bot_name", default=None)
"""The name of the bot whose task is running (set per bot by the fleet; None: one bot)."""
CHAT_ID: ContextVar[str | None] = ContextVar("agentbot_chat_id", default=None)
"""The chat whose actor is running (set in each chat actor's task; None: account-wide)."""
PLUGIN_NAME: ContextVar[str | None] = ContextVar("agentbot_plugin_name", default=None)
"""The plugin whose hook is running (set by the plugin host around each call)."""

_CONTEXT_FIELDS: tuple[tuple[str, ContextVar[str | None]], ...] = (
    ("bot", BOT_NAME),
    ("chat", CHAT_ID),
    ("plugin", PLUGIN_NAME),
)


@contextmanager
def plugin_field(name: str) -> Iterator[None]:
    """Name plugin ``name`` in every log line written while the block runs (this task)."""
    token = PLUGIN_NAME.set(name)
    try:
        yield
    finally:
        PLUGIN_NAME.reset(token)


def context_fields(record: logging.LogRecord) -> dict[str, str]:
    """Return the record's ``bot``, ``chat`` and ``plugin``: its own, else the context's.

    Read when the line is formatted, which happens in the logging call's own context (a
    chat actor's task, a plugin's hook, the worker thread of a sync hook: anyio copies the
    context there). Only ids and names: never a message text or a secret.
    """
    found: dict[str, str] = {}
    for key, var in _CONTEXT_FIELDS:
        value = getattr(record, key, None)
        if value is None:
            value = var.get()
        if value is not None:
            found[key] = str(value)
    return found


class BotField(logging.Filter):
    """Add ``bot`` (from :data:`BOT_NAME`) to each record logged inside a bot's task."""

    def filter(self, record: logging.LogRecord) -> bool:
        name = BOT_NAME.get()
        if name is not None and not hasattr(record, "bot"):
            record.bot = name
        return True


class _TextFormatter(logging.Formatter):
    """``12:00:01 INFO    [bot-a chat=c1 plugin=faq] agentbot.x: …`` (the bracket only when
    one of them is known; the bot name bare, the others named)."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
        self._with_context = logging.Formatter(
            "%(asctime)s %(levelname)-7s [%(agentbot_context)s] %(name)s: %(message)s",
            "%H:%M:%S",
        )
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        fields = context_fields(record)
        if not fields:
            return self._redact(super().format(record))
        parts = [fields["bot"]] if "bot" in fields else []
        parts += [f"{key}={value}" for key, value in fields.items() if key != "bot"]
        record.agentbot_context = " ".join(parts)
        try:
            return self._redact(self._with_context.format(record))
        finally:
            delattr(record, "agentbot_context")


class _JsonFormatter(logging.Formatter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(context_fields(record))
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value if isinstance(value, str | int | float | bool) else repr(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return self._redact(json.dumps(entry, ensure_ascii=False))


def formatter(
    log_format: LogFormat,
    *,
    secrets: Iterable[str | None] = (),
    redactor: Redactor | None = None,
) -> logging.Formatter:
    """Return the formatter for ``--log-format`` with ``secrets`` redacted from every line.

    Pass ``redactor`` (from :func:`install_redaction`) to share secrets learnt later, such
    as plugin options known only once the plugins are loaded.
    """
    redact = redactor if redactor is not None else Redactor()
    redact.add(secrets)
    if log_format == "json":
        return _JsonFormatter(redact)
    if log_format == "text":
        return _TextFormatter(redact)
    raise ValueError(f"unknown log format {log_format!r}")
