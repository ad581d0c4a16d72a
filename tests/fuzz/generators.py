"""Fast, seeded generators of hostile input for the protocol and api layers (issue 16).

Shared by the hypothesis properties in this folder (which draw a seed, so a failure shrinks
to one reproducible seed) and by ``benchmarks/fuzz.py`` (which runs the same generators for
a million inputs): ``random.Random`` is about a hundred times cheaper per input than drawing
the same structure from hypothesis strategies, and that is what makes 1,000,000 affordable.

Three kinds of input, mixed:

* arbitrary text, with a bias towards the characters Engine.IO/Socket.IO frames are made of;
* structured-but-wrong frames: valid handshakes and events (the payloads of
  ``tests/api/examples.py``, shaped as PROTOCOL.md describes them) with one part mutated —
  a field of the wrong type, a huge integer, a lone surrogate, deep nesting, a truncation;
* ``bulk`` events mixing good items with garbage.
"""

from __future__ import annotations

import copy
import json
import random
from typing import Any

from agentbot.protocol import ProtocolVersion
from tests.api.examples import EVENTS

__all__ = ["FRAME_KINDS", "api_input", "frames", "mutate"]

EVENT_NAMES = sorted(EVENTS)
WIRE_CHARS = '0123456789[]{}",:/-?ntrufalse ,.eE+-\\'
WEIRD_STRINGS = ["", "\udc00x", "\ud800", "\udfff\ud800", "\x00", "é" * 3, "/", "🙂", "\\u0000"]
WEIRD_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    2**63,
    10**400,  # OverflowError bait (float(10**400)); issue 16, defect 1
    -(10**400),
    1e308,
    -0.0,
    0.5,
    [],
    {},
    [None],
    {"": None},
]


def _weird(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.45:
        return copy.copy(rng.choice(WEIRD_VALUES))
    if roll < 0.8:
        return rng.choice(WEIRD_STRINGS) + rng.choice(("", "x", "m1aB3"))
    if roll < 0.9:
        return "x" * rng.choice((1, 255, 4096))
    nested: Any = rng.choice(([], {}))
    for _ in range(rng.randint(1, 60)):  # deep, not recursion-deep
        nested = [nested] if rng.random() < 0.5 else {"a": nested}
    return nested


def mutate(value: Any, rng: random.Random, *, depth: int = 0) -> Any:
    """Return ``value`` (JSON-like) with one random part replaced, removed or added."""
    if depth > 6 or not isinstance(value, dict | list) or not value or rng.random() < 0.25:
        return _weird(rng)
    if isinstance(value, dict):
        value = dict(value)
        key = rng.choice(list(value))
        roll = rng.random()
        if roll < 0.15:
            del value[key]
        elif roll < 0.25:
            value[rng.choice(WEIRD_STRINGS) + "k"] = _weird(rng)
        else:
            value[key] = mutate(value[key], rng, depth=depth + 1)
        return value
    value = list(value)
    index = rng.randrange(len(value))
    value[index] = mutate(value[index], rng, depth=depth + 1)
    return value


def _dumps(value: Any) -> str:
    # ensure_ascii=False keeps lone surrogates as such; JSON.stringify peers write them so.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _event_payload(rng: random.Random) -> tuple[str, Any]:
    name = rng.choice(EVENT_NAMES)
    payload: Any = EVENTS[name]  # not copied: mutate() copies what it changes
    if rng.random() < 0.85:
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            payload = mutate(payload, rng)
    return name, payload


def _bulk(rng: random.Random) -> Any:
    items: list[Any] = []
    for _ in range(rng.randint(0, 6)):
        roll = rng.random()
        if roll < 0.5:
            name = rng.choice(EVENT_NAMES)
            items.append({"name": name, "data": EVENTS[name]})
        elif roll < 0.8:
            name, payload = _event_payload(rng)
            items.append({"name": name, "data": payload})
        else:
            items.append(_weird(rng))
    return items


def api_input(rng: random.Random) -> tuple[str, list[Any]]:
    """Return one received event as ``(name, args)``, mostly structured-but-wrong."""
    roll = rng.random()
    if roll < 0.15:
        return "bulk", [_bulk(rng)]
    if roll < 0.2:
        return rng.choice(WEIRD_STRINGS + EVENT_NAMES), [_weird(rng)]
    name, payload = _event_payload(rng)
    args: list[Any] = [payload]
    if rng.random() < 0.05:
        args = [] if rng.random() < 0.5 else [payload, _weird(rng)]
    return name, args


def _open_frame(rng: random.Random, version: ProtocolVersion) -> str:
    body: dict[str, Any] = {
        "sid": "s1",
        "upgrades": [],
        "pingInterval": 25000,
        "pingTimeout": 5000,
    }
    if version is ProtocolVersion.EIO4:
        body["maxPayload"] = 1_000_000
    if rng.random() < 0.5:
        body = mutate(body, rng)
    return "0" + _dumps(body)


def _connect_frame(rng: random.Random, version: ProtocolVersion) -> str:
    if version is ProtocolVersion.EIO4:
        return "40" + _dumps({"sid": "n1"} if rng.random() < 0.8 else mutate({"sid": "n1"}, rng))
    return "40"


def _socket_frame(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.55:
        name, args = api_input(rng)
        ack = str(rng.randrange(10**6)) if rng.random() < 0.1 else ""
        return "42" + ack + _dumps([name, *args])
    if roll < 0.7:
        return "43" + str(rng.choice((0, 1, 2, 10**30))) + _dumps([_weird(rng)])
    if roll < 0.8:
        return "44" + _dumps(_weird(rng))
    if roll < 0.9:
        return rng.choice(("41", "2", "3", "6", "1", "5", "2probe", "3probe", "40/x,"))
    return "4" + rng.choice("0123456789") + _dumps(_weird(rng))


def _text(rng: random.Random) -> str:
    size = rng.choice((0, 1, 2, 3, 8, 40, 300))
    if rng.random() < 0.6:
        return "".join(rng.choice(WIRE_CHARS) for _ in range(size))
    return "".join(
        chr(rng.choice((rng.randrange(32, 127), rng.randrange(0x110000)))) for _ in range(size)
    )


def _damage(frame: str, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.4 or not frame:
        return frame
    index = rng.randrange(len(frame))
    if roll < 0.6:
        return frame[:index]  # truncated
    if roll < 0.8:
        return frame[:index] + rng.choice(WIRE_CHARS + "\udc00") + frame[index + 1 :]
    return frame[:index] + _text(rng) + frame[index:]


FRAME_KINDS = ("handshake-then-frames", "frames-only", "text")


def frames(rng: random.Random, version: ProtocolVersion) -> list[str]:
    """Return a short sequence of received frames for one connection."""
    kind = rng.random()
    out: list[str] = []
    if kind < 0.7:
        out.append(_open_frame(rng, version))
        out.append(_connect_frame(rng, version))
    for _ in range(rng.randint(1, 6)):
        roll = rng.random()
        if roll < 0.15:
            out.append(_text(rng))
        elif roll < 0.2:
            out.append(_open_frame(rng, version))
        else:
            out.append(
                _damage(_socket_frame(rng), rng) if rng.random() < 0.3 else _socket_frame(rng)
            )
    return out
