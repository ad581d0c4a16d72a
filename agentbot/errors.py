"""The exception tree every layer raises.

Standard library only, so that the sans-IO protocol core can raise these without importing
anything above it. Every error carries its data as attributes; messages name what failed
and never contain secrets (use :func:`safe_snippet` for anything echoed from the wire).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "SNIPPET_MAX_CHARS",
    "ActionUnsupported",
    "AgentbotError",
    "ApiError",
    "AuthFailure",
    "ConfigError",
    "ConnectionLost",
    "DecodeError",
    "LocalProtocolError",
    "NotAuthenticated",
    "NotFound",
    "OutcomeUnknown",
    "PluginError",
    "ProtocolError",
    "RemoteProtocolError",
    "RequestTimeout",
    "RestAuthError",
    "RestError",
    "safe_snippet",
]

SNIPPET_MAX_CHARS = 120


def safe_snippet(text: object, max_chars: int = SNIPPET_MAX_CHARS) -> str:
    """Return ``repr(text)`` cut to ``max_chars`` so hostile input cannot flood a log line."""
    shown = repr(text)
    if len(shown) <= max_chars:
        return shown
    return f"{shown[: max_chars - 1]}… ({len(shown)} chars)"


class AgentbotError(Exception):
    """Root of every error agentbot raises on purpose."""


class ProtocolError(AgentbotError):
    """An Engine.IO / Socket.IO framing rule was broken; the connection is unusable after it."""

    def __init__(self, message: str, *, frame: str | None = None) -> None:
        self.frame = frame
        if frame is not None:
            message = f"{message}: {safe_snippet(frame)}"
        super().__init__(message)


class RemoteProtocolError(ProtocolError):
    """The peer sent something that is not valid Engine.IO / Socket.IO."""


class LocalProtocolError(ProtocolError):
    """We tried to do something the protocol (or the connection's state) does not allow."""


class DecodeError(AgentbotError):
    """A well-framed event or reply does not fit the shape the API expects.

    ``event`` is the event or request name, ``field`` the dotted path of the offending field
    when one can be named. The connection carries on after it.
    """

    def __init__(self, message: str, *, event: str | None = None, field: str | None = None) -> None:
        self.event = event
        self.field = field
        super().__init__(message)


class ApiError(AgentbotError):
    """The server answered a request with an error object ``{message, event, type[, code]}``."""

    def __init__(
        self,
        message: str,
        *,
        type: str | None = None,
        event: str | None = None,
        code: int | None = None,
        raw: Any = None,
    ) -> None:
        self.message = message
        self.type = type
        self.event = event
        self.code = code
        self.raw = raw
        parts = [message]
        if event:
            parts.append(f"event={event}")
        if type:
            parts.append(f"type={type}")
        if code is not None:
            parts.append(f"code={code}")
        super().__init__(" ".join([parts[0], *(f"({p})" for p in parts[1:])]) if parts else "")


class AuthFailure(ApiError):
    """``auth_failure``: wrong agent id, key or auth token. Final: never retried."""


class NotFound(ApiError):
    """``not_found``: the server does not know the thing the request named."""


class NotAuthenticated(ApiError):
    """``auth_error`` (code 403): a request arrived before ``agent.connect`` succeeded."""


class RestError(ApiError):
    """The REST API answered with an error status and (usually) ``{code, message}``.

    ``status`` is the HTTP status, ``error_code`` the payload's ``code`` (e.g.
    ``"not_found"``), ``operation`` the method and path template (``"PATCH
    /v2/conversations/{id}/close"``), never the credential. ``ApiError.type`` carries
    ``error_code`` and ``ApiError.code`` the status, so handlers of ``ApiError`` see both.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        error_code: str | None = None,
        operation: str | None = None,
        raw: Any = None,
    ) -> None:
        self.status = status
        self.error_code = error_code
        self.operation = operation
        super().__init__(message, type=error_code, event=operation, code=status, raw=raw)


class RestAuthError(RestError):
    """401/403 from the REST API: wrong, expired or under-privileged token. Final, never retried."""


class OutcomeUnknown(AgentbotError):
    """A non-idempotent request may or may not have taken effect, and nothing was resent.

    Raised when the request left but no trustworthy answer came back: a timeout after
    sending, a connection dropped mid-response, a 5xx. Check (e.g. the chat's history) before
    trying again: blindly resending could post a message twice.
    """

    def __init__(self, message: str, *, operation: str | None = None) -> None:
        self.operation = operation
        super().__init__(message)


class ActionUnsupported(AgentbotError):
    """The chat action cannot be done with this API or this configuration; ``reason`` says why."""

    def __init__(self, action: str, reason: str) -> None:
        self.action = action
        self.reason = reason
        super().__init__(f"{action} is not supported: {reason}")


class RequestTimeout(AgentbotError):
    """No reply to a request arrived within its timeout."""

    def __init__(self, message: str, *, event: str | None = None, timeout: float | None = None):
        self.event = event
        self.timeout = timeout
        super().__init__(message)


class ConnectionLost(AgentbotError):
    """The link dropped while a request waited; the request was not (and will not be) resent."""

    def __init__(self, message: str, *, event: str | None = None) -> None:
        self.event = event
        super().__init__(message)


class LinkChanged(ConnectionLost):
    """A request bound to one link (``on_link``) was not sent: that link is gone. Surely not
    sent, unlike a plain :class:`ConnectionLost` after writing."""


class ConfigError(AgentbotError):
    """The configuration is wrong; the message names the file, section and key."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        section: str | None = None,
        key: str | None = None,
    ) -> None:
        self.path = path
        self.section = section
        self.key = key
        super().__init__(message)


class PluginError(AgentbotError):
    """A plugin failed to load, raised or ran past its time budget."""

    def __init__(self, message: str, *, plugin: str | None = None, hook: str | None = None):
        self.plugin = plugin
        self.hook = hook
        super().__init__(message)
