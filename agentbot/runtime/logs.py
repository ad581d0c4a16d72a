"""Log formatting for ``agentbot run``: readable lines on a terminal, JSON lines for machines.

Only ``cli.py`` installs handlers (STYLE.md §9); this module just provides the formatters.
Both redact secrets: whatever the code logs, the account key and auth token given to
:func:`formatter` are replaced by ``***`` in the final line, tracebacks included — a second
line of defence behind the rule that secrets are never logged in the first place.
"""

from __future__ import annotations

import datetime
import json
import logging
from collections.abc import Iterable
from typing import Any, Literal

__all__ = ["LogFormat", "Redactor", "formatter"]

LogFormat = Literal["text", "json"]

_MASK = "***"
_MIN_SECRET_CHARS = 4
_STANDARD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
) | {"message", "asctime"}


class Redactor:
    """Replace every known secret in a string by ``***``."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        # Longest first, so a secret containing another is masked whole.
        self._secrets = sorted(
            {s for s in secrets if s and len(s) >= _MIN_SECRET_CHARS}, key=len, reverse=True
        )

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, _MASK)
        return text


class _TextFormatter(logging.Formatter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        return self._redact(super().format(record))


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
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value if isinstance(value, str | int | float | bool) else repr(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return self._redact(json.dumps(entry, ensure_ascii=False))


def formatter(log_format: LogFormat, *, secrets: Iterable[str | None] = ()) -> logging.Formatter:
    """Return the formatter for ``--log-format`` with ``secrets`` redacted from every line."""
    redact = Redactor(secrets)
    if log_format == "json":
        return _JsonFormatter(redact)
    if log_format == "text":
        return _TextFormatter(redact)
    raise ValueError(f"unknown log format {log_format!r}")
