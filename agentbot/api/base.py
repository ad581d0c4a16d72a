"""The base class of every request, apart so that ``requests`` and ``assumed`` can share it."""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

__all__ = ["Request"]


@attrs.frozen(kw_only=True)
class Request:
    """A request a client sends: one Socket.IO EVENT (PROTOCOL.md §2 agent side, §4 visitor).

    Each subclass names its wire event (``name``), whether the server answers it with an ack
    (``expects_ack``) and the type that answer decodes to (``reply_type``; ``None`` keeps the
    raw result). ``agentbot.api.encode_request`` builds the frame's arguments.
    """

    name: ClassVar[str]
    expects_ack: ClassVar[bool]
    reply_type: ClassVar[type[Any] | None]
