"""The error tree (re-exported from ``agentbot.errors``) and the wire's error objects.

A request's ack carries ``[error, result]`` with ``error`` either ``null`` or
``{message, event, type[, code]}`` (PROTOCOL.md §2). :func:`api_error_from_wire` turns such an
object into the matching exception; :func:`api_error_to_wire` is its inverse, for the sandbox.
"""

from __future__ import annotations

from typing import Any

from agentbot.errors import (
    SNIPPET_MAX_CHARS,
    AgentbotError,
    ApiError,
    AuthFailure,
    ConfigError,
    ConnectionLost,
    DecodeError,
    LocalProtocolError,
    NotAuthenticated,
    NotFound,
    PluginError,
    ProtocolError,
    RemoteProtocolError,
    RequestTimeout,
    safe_snippet,
)

__all__ = [
    "ERROR_CLASSES",
    "NOT_AUTHENTICATED_CODE",
    "SNIPPET_MAX_CHARS",
    "AgentbotError",
    "ApiError",
    "AuthFailure",
    "ConfigError",
    "ConnectionLost",
    "DecodeError",
    "LocalProtocolError",
    "NotAuthenticated",
    "NotFound",
    "PluginError",
    "ProtocolError",
    "RemoteProtocolError",
    "RequestTimeout",
    "api_error_from_wire",
    "api_error_to_wire",
    "safe_snippet",
]

ERROR_CLASSES: dict[str, type[ApiError]] = {
    "auth_failure": AuthFailure,
    "not_found": NotFound,
    "auth_error": NotAuthenticated,
}
"""Wire error ``type`` → exception class (PROTOCOL.md §2); any other type is a plain ApiError."""

NOT_AUTHENTICATED_CODE = 403
"""The ``code`` of ``auth_error``: a request before ``agent.connect`` succeeded."""

_WIRE_TYPES: dict[type[ApiError], str] = {cls: name for name, cls in ERROR_CLASSES.items()}
_MESSAGE_MAX_CHARS = 500


def _wire_code(value: Any) -> int | None:
    # Codes are numbers in the seed; accept a numeric string too rather than lose the 403.
    if type(value) is int:
        return value
    if isinstance(value, str) and value.isdecimal() and len(value) < 10:
        return int(value)
    return None


def _wire_text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def api_error_from_wire(obj: Any) -> ApiError:
    """Return the exception for a wire error object (the first element of an error ack).

    ``type`` picks the class: ``auth_failure`` → :class:`AuthFailure`, ``not_found`` →
    :class:`NotFound`, ``auth_error`` (or ``code`` 403) → :class:`NotAuthenticated`, anything
    else → :class:`ApiError`. Never raises: a malformed error object becomes an ApiError whose
    message shows a safe snippet of it; ``raw`` keeps the object as received.
    """
    if not isinstance(obj, dict):
        return ApiError(f"server error {safe_snippet(obj)}", raw=obj)
    message = obj.get("message")
    if isinstance(message, str):
        if len(message) > _MESSAGE_MAX_CHARS:
            message = message[:_MESSAGE_MAX_CHARS] + "…"
    else:
        message = f"server error {safe_snippet(obj)}"
    type_ = _wire_text(obj.get("type"))
    code = _wire_code(obj.get("code"))
    cls = ERROR_CLASSES.get(type_ or "", ApiError)
    if cls is ApiError and code == NOT_AUTHENTICATED_CODE:
        cls = NotAuthenticated
    return cls(message, type=type_, event=_wire_text(obj.get("event")), code=code, raw=obj)


def api_error_to_wire(error: ApiError) -> dict[str, Any]:
    """Return the wire object ``{message, event, type[, code]}`` for ``error`` (sandbox side).

    A missing ``type`` is filled in from the class (``AuthFailure`` → ``auth_failure`` …), and
    :class:`NotAuthenticated` gets code 403 unless it has one, so the client maps it back to
    the same class. ``event`` and ``type`` are left out when unknown; ``code`` when ``None``.
    """
    wire: dict[str, Any] = {"message": error.message}
    if error.event is not None:
        wire["event"] = error.event
    type_ = error.type or _WIRE_TYPES.get(type(error))
    if type_ is not None:
        wire["type"] = type_
    code = error.code
    if code is None and isinstance(error, NotAuthenticated):
        code = NOT_AUTHENTICATED_CODE
    if code is not None:
        wire["code"] = code
    return wire
