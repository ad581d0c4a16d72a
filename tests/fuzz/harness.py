"""Feed generated input to the real parts and report anything but an event or a typed error.

One function per target; each returns normally when every input gave events or a typed
error, and raises :class:`Escape` (with the input that did it) otherwise. A
``chat.message_received`` that decodes is also taken in by a real
:class:`~agentbot.runtime.ledger.Ledger` on an in-memory store, as the runtime does at
dispatch (``Ledger.receive``): that is where a lone surrogate in a message id used to escape
as UnicodeEncodeError (issue 16).
"""

from __future__ import annotations

import contextlib
import typing
from collections.abc import Iterator, Sequence
from typing import Any

from agentbot.api import ChatMessageReceived, DecodeError, decode_event, decode_events
from agentbot.api import events as api_events
from agentbot.api.codec import decode_request
from agentbot.errors import ProtocolError, safe_snippet
from agentbot.protocol import ClientConnection, ProtocolVersion, ServerConnection
from agentbot.protocol import events as protocol_events
from agentbot.runtime.ledger import Ledger
from agentbot.runtime.storage import MEMORY, Storage

__all__ = ["Escape", "check_api", "check_client", "check_server", "memory_ledger"]

_PROTOCOL_EVENTS = typing.get_args(protocol_events.ProtocolEvent)
_SERVER_EVENTS = typing.get_args(api_events.ServerEvent)


class Escape(Exception):
    """An input made a part raise something other than its typed error, or return garbage."""

    def __init__(self, target: str, given: object, error: BaseException | str) -> None:
        self.target = target
        self.given = given
        self.error = error
        what = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        super().__init__(f"{target}: {safe_snippet(what, 200)} on input {safe_snippet(given)}")


@contextlib.contextmanager
def memory_ledger() -> Iterator[Ledger]:
    """Yield a real ledger on an in-memory SQLite store, closed afterwards."""
    with Storage(MEMORY) as storage:
        yield Ledger(storage, "fuzz", wall_clock=lambda: 0.0)


def check_api(name: Any, args: Sequence[Any], ledger: Ledger) -> None:
    """Decode one received event both ways (lenient and strict), as client and runtime do."""
    try:
        decoded = decode_events(name, args)
    except Exception as exc:
        raise Escape("api.decode_events", (name, args), exc) from exc
    for event in decoded:
        if not isinstance(event, _SERVER_EVENTS):
            raise Escape("api.decode_events", (name, args), f"returned {type(event).__name__}")
        if isinstance(event, ChatMessageReceived):
            try:
                message = event.message
                if ledger.receive(message.id, event.chat_id, message.text or ""):
                    ledger.seen(message.id)
            except Exception as exc:
                raise Escape("runtime.ledger", (name, args), exc) from exc
    if name == "bulk" or not isinstance(name, str):
        return
    try:
        decode_event(name, args[0] if len(args) == 1 else (list(args) or None))
    except DecodeError:
        pass
    except Exception as exc:
        raise Escape("api.decode_event", (name, args), exc) from exc


def check_client(version: ProtocolVersion, frames: Sequence[str], ledger: Ledger) -> None:
    """Feed ``frames`` to a ClientConnection (a fresh one after each ProtocolError)."""
    conn = ClientConnection(version)
    for step, frame in enumerate(frames):
        now = float(step)
        try:
            events = conn.receive_text(frame, now)
            conn.data_to_send()
            conn.tick(now)
        except ProtocolError:
            conn = ClientConnection(version)
            continue
        except Exception as exc:
            raise Escape("protocol.ClientConnection", frame, exc) from exc
        for event in events:
            if not isinstance(event, _PROTOCOL_EVENTS):
                raise Escape("protocol.ClientConnection", frame, f"gave {event!r}")
            if isinstance(event, protocol_events.Event):
                check_api(event.name, event.args, ledger)


def _server(version: ProtocolVersion) -> ServerConnection:
    conn = ServerConnection(version, sid="fuzz")
    conn.open(0.0)
    conn.data_to_send()
    return conn


def check_server(version: ProtocolVersion, frames: Sequence[str]) -> None:
    """Feed ``frames`` to a ServerConnection; decode requests as the sandbox does."""
    conn = _server(version)
    for step, frame in enumerate(frames):
        now = float(step)
        try:
            events = conn.receive_text(frame, now)
            for event in events:
                if isinstance(event, protocol_events.ConnectRequested):
                    conn.accept(event.namespace)
            conn.data_to_send()
            conn.tick(now)
        except ProtocolError:
            conn = _server(version)
            continue
        except Exception as exc:
            raise Escape("protocol.ServerConnection", frame, exc) from exc
        for event in events:
            if not isinstance(event, _PROTOCOL_EVENTS):
                raise Escape("protocol.ServerConnection", frame, f"gave {event!r}")
            if isinstance(event, protocol_events.Event):
                for side in ("agent", "visitor"):
                    try:
                        decode_request(event.name, event.args, side=side)
                    except DecodeError:
                        pass
                    except Exception as exc:
                        raise Escape("api.decode_request", frame, exc) from exc
