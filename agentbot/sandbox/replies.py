"""Reply values and error objects shared by the agent side and the visitor side."""

from __future__ import annotations

from typing import Final

from agentbot.errors import ApiError, NotAuthenticated, NotFound, safe_snippet

__all__ = [
    "NOT_AUTHENTICATED_CODE",
    "NO_REPLY",
    "NoReply",
    "not_authenticated",
    "not_found",
    "unknown_request",
]

NOT_AUTHENTICATED_CODE: Final = 403
NOT_AUTHENTICATED_MESSAGE: Final = "Connection is not authenticated"


class NoReply:
    """Marker a handler returns for a request that has no reply (the ack, if asked, is null)."""

    def __repr__(self) -> str:
        return "NO_REPLY"


NO_REPLY: Final = NoReply()


def not_authenticated(name: str) -> NotAuthenticated:
    """``auth_error`` code 403: a request before the connection authenticated (PROTOCOL.md §2)."""
    return NotAuthenticated(
        NOT_AUTHENTICATED_MESSAGE, type="auth_error", event=name, code=NOT_AUTHENTICATED_CODE
    )


def not_found(what: str, name: str) -> NotFound:
    """``not_found`` for a request naming something the sandbox does not know."""
    return NotFound(f"{what} not found", type="not_found", event=name)


def unknown_request(name: str) -> ApiError:
    """``unknown_request``: a request name this side of the API does not have."""
    return ApiError(f"Unknown request {safe_snippet(name, 60)}", type="unknown_request", event=name)
