"""Microseconds per event for the api/ part alone: JSON already parsed → typed event.

Run it as a script: ``python benchmarks/api_decode.py`` (about a second). Not a test: nothing
here asserts on speed. ``benchmarks/codec.py`` measures the whole frame pipeline.

Every line decodes the same ~250-byte ``chat.message_received`` payloads (64 variants), in
interleaved rounds timed in this thread's CPU time; the median round is reported:

- ``api.decode_events``: the hot path (generated structure functions, agentbot/api/fastpath.py);
- cattrs converter: the same rules through cattrs' generated functions with detailed
  validation, which api/ only uses to explain a failed decode;
- attrs ``__init__`` only: building the same three objects by calling the classes with
  already-known values — no checks, no dict lookups — the floor for any decoder that ends in
  a call to a frozen, slotted attrs class (as cattrs' generated functions do);
- ``json.loads`` of the payload: a reference point for scale.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from agentbot.api import ChatMessageReceived, Content, Message, decode_events
from agentbot.api.converter import converter

VARIANTS = 64
ROUNDS = 9
BATCH = 2_000


def make_payloads() -> list[dict[str, Any]]:
    """Build the payload variants: same shape, different ids and texts."""
    return [
        {
            "chatId": f"co2wgL{i:02x}",
            "message": {
                "id": f"msgK4x{i:02x}",
                "type": "message",
                "subType": "contact",
                "chatId": f"co2wgL{i:02x}",
                "visitorId": f"viJqfK{i:02x}",
                "createdAt": f"2024-05-14T09:21:{i % 60:02d}.412Z",
                "content": {"type": "text", "text": f"Has order #44{i:02d} shipped?"},
            },
        }
        for i in range(VARIANTS)
    ]


def pipelines(payloads: Sequence[dict[str, Any]]) -> dict[str, Callable[[], Any]]:
    """Name → a function decoding one batch of payloads."""
    batch = [payloads[i % len(payloads)] for i in range(BATCH)]
    texts = [json.dumps(p, separators=(",", ":")) for p in batch]

    def fast() -> Any:
        for payload in batch:
            result = decode_events("chat.message_received", [payload])
        return result

    def cattrs_detailed() -> Any:
        structure = converter.structure
        for payload in batch:
            result = structure(payload, ChatMessageReceived)
        return result

    def init_only() -> Any:
        for p in batch:
            m = p["message"]
            c = m["content"]
            result = ChatMessageReceived(
                chat_id=p["chatId"],
                message=Message(
                    id=m["id"],
                    type=m["type"],
                    sub_type=m["subType"],
                    chat_id=m["chatId"],
                    visitor_id=m["visitorId"],
                    created_at=m["createdAt"],
                    content=Content(type=c["type"], text=c["text"]),
                ),
            )
        return result

    def loads() -> Any:
        for text in texts:
            result = json.loads(text)
        return result

    return {
        "api.decode_events (fast path)": fast,
        "cattrs converter (detailed validation)": cattrs_detailed,
        "attrs __init__ only (no checks)": init_only,
        "reference: json.loads of the payload": loads,
    }


def main() -> None:
    """Print the median µs per event of every pipeline."""
    payloads = make_payloads()
    size = statistics.median(len(json.dumps(p, separators=(",", ":"))) for p in payloads)
    runs = pipelines(payloads)
    expected = runs["api.decode_events (fast path)"]()[0]
    assert runs["cattrs converter (detailed validation)"]() == expected  # same result
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(ROUNDS):
        for name, run in runs.items():
            start = time.thread_time()
            run()
            times[name].append((time.thread_time() - start) / BATCH)
    print(
        f"payload: chat.message_received, ~{size:.0f} bytes of JSON; median of {ROUNDS} "
        f"rounds of {BATCH}; Python {sys.version.split()[0]}"
    )
    base = statistics.median(times["api.decode_events (fast path)"])
    for name, samples in times.items():
        per_event = statistics.median(samples)
        print(f"  {name:<42} {per_event * 1e6:6.2f} µs/event  {per_event / base:5.2f}x fast path")


if __name__ == "__main__":
    main()
