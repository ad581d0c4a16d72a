"""The one switch between the two protocol generations agentbot speaks (PROTOCOL.md §1).

Engine.IO and Socket.IO versions travel in pairs: socket.io 2.x (Smartsupp's own SDK) is
Engine.IO 3 + Socket.IO 4, socket.io 3.x/4.x is Engine.IO 4 + Socket.IO 5. Every rule that
differs between them branches on :class:`ProtocolVersion`, never on a loose boolean.
"""

from __future__ import annotations

import enum

from agentbot.errors import LocalProtocolError

__all__ = ["ProtocolVersion"]


class ProtocolVersion(enum.Enum):
    """A matched Engine.IO + Socket.IO protocol pair, named by its Engine.IO revision."""

    EIO3 = 3
    """Engine.IO 3 + Socket.IO 4: socket.io 2.x servers and clients (the Smartsupp default)."""
    EIO4 = 4
    """Engine.IO 4 + Socket.IO 5: socket.io 3.x and 4.x."""

    @classmethod
    def from_eio(cls, eio: int | str) -> ProtocolVersion:
        """Return the version for an ``EIO=`` query value such as ``3`` or ``"4"``.

        Raises LocalProtocolError for anything else (a configuration or caller mistake).
        """
        if isinstance(eio, bool):  # bool is an int; True must not mean anything here
            raise LocalProtocolError("unsupported Engine.IO version", frame=repr(eio))
        if isinstance(eio, str):
            version = _BY_TEXT.get(eio.strip())
        elif isinstance(eio, int):
            version = _BY_NUMBER.get(eio)
        else:
            version = None
        if version is None:
            raise LocalProtocolError(
                "unsupported Engine.IO version (expected 3 or 4)", frame=repr(eio)
            )
        return version

    @property
    def engineio(self) -> int:
        """The Engine.IO protocol revision (3 or 4), as sent in the ``EIO=`` query."""
        return self.value

    @property
    def socketio(self) -> int:
        """The Socket.IO protocol revision carried on top (4 or 5)."""
        return self.value + 1


_BY_NUMBER: dict[int, ProtocolVersion] = {v.value: v for v in ProtocolVersion}
_BY_TEXT: dict[str, ProtocolVersion] = {str(v.value): v for v in ProtocolVersion}
