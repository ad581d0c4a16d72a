"""Frames per second for decoding a typical chat.message_received frame, next to python-socketio.

Run it as a script: ``python benchmarks/codec.py`` (about 10 s, never much past 12 s of
rounds) or ``--quick`` (about 1.5 s).
It is not a test: tests never assert on speed.

Every pipeline decodes the same ~250-byte ``42["chat.message_received",{...}]`` frames (64
variants, so no pipeline benefits from a single hot string) in the same run. Rounds of all
pipelines are interleaved, so a noisy neighbour on a shared machine hurts them alike, and the
median round is reported. Rounds are timed in CPU time of this thread (``time.thread_time``):
frames per second of one core, even while other processes share it. Pipelines:

- agentbot codec: ``decode_engine_packet`` + ``decode_socket_packet`` (a SocketPacket);
- python-socketio: ``engineio.packet.Packet`` + ``socketio.packet.Packet(encoded_packet=...)``,
  what python-socketio's own client does per frame (same output: packet type, namespace,
  ack id, decoded JSON);
- agentbot connection: ``ClientConnection.receive_text`` (an Event, state checks included);
- with ``agentbot.api.decode_events`` when that exists: all the way to typed event objects;
- bare ``json.loads`` of the payload: a reference point (the codec reads the JSON in place
  with ``raw_decode``, which skips json.loads's copy and whitespace regexes, so it can beat it).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from agentbot.protocol import (
    ClientConnection,
    ProtocolVersion,
    ServerConnection,
    decode_engine_packet,
    decode_socket_packet,
)

VERSION = ProtocolVersion.EIO3  # Smartsupp's default; the decode path is the same for EIO4
VARIANTS = 64
MIN_ROUNDS = 3


def make_frames() -> list[str]:
    """Build the 64 frame variants: same shape, different ids and texts."""
    frames = []
    for i in range(VARIANTS):
        payload = {
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
        frames.append("42" + json.dumps(["chat.message_received", payload], separators=(",", ":")))
    return frames


def pipelines() -> dict[str, Callable[[Sequence[str]], Any]]:
    """Name -> a function that decodes every frame of a batch (and keeps the last result)."""
    result: dict[str, Callable[[Sequence[str]], Any]] = {}

    def agentbot_codec(frames: Sequence[str]) -> Any:
        packet = None
        for frame in frames:
            _, data = decode_engine_packet(frame)
            packet = decode_socket_packet(data, VERSION)
        return packet

    result["agentbot codec (engine + socket packet)"] = agentbot_codec

    try:
        import engineio.packet
        import socketio.packet
    except ImportError:
        pass
    else:

        def python_socketio(frames: Sequence[str]) -> Any:
            packet = None
            for frame in frames:
                engine = engineio.packet.Packet(encoded_packet=frame)
                packet = socketio.packet.Packet(encoded_packet=engine.data)
            return packet

        result["python-socketio (engineio + socketio Packet)"] = python_socketio

    connection = connected_client()

    def agentbot_connection(frames: Sequence[str]) -> Any:
        receive = connection.receive_text
        events = None
        for frame in frames:
            events = receive(frame, 0.0)
        return events

    result["agentbot ClientConnection.receive_text"] = agentbot_connection

    decode_events = _api_decode_events()
    if decode_events is not None:

        def agentbot_typed(frames: Sequence[str]) -> Any:
            typed = None
            for frame in frames:
                _, data = decode_engine_packet(frame)
                packet = decode_socket_packet(data, VERSION)
                typed = decode_events(packet.data[0], packet.data[1:])
            return typed

        result["agentbot codec + api.decode_events (typed)"] = agentbot_typed

        typed_connection = connected_client()

        def agentbot_connection_typed(frames: Sequence[str]) -> Any:
            receive = typed_connection.receive_text
            typed = None
            for frame in frames:
                for event in receive(frame, 0.0):
                    typed = decode_events(event.name, event.args)  # type: ignore[union-attr]
            return typed

        result["agentbot receive_text + api.decode_events (typed)"] = agentbot_connection_typed

    def bare_json(frames: Sequence[str]) -> Any:
        loads = json.loads
        value = None
        for frame in frames:
            value = loads(frame[2:])
        return value

    result["reference: json.loads of the payload only"] = bare_json
    return result


def _api_decode_events() -> Callable[[str, Sequence[Any]], list[Any]] | None:
    """agentbot.api.decode_events, if that layer exists and works in this checkout."""
    try:
        from agentbot.api import decode_events
    except Exception:  # the api layer is optional here: report without it
        return None
    return decode_events


def connected_client() -> ClientConnection:
    """A client connection that went through a real handshake with a server connection."""
    server = ServerConnection(VERSION, sid="bench")
    client = ClientConnection(VERSION)
    server.open(0.0)
    for frame in server.data_to_send():
        client.receive_text(frame, 0.0)
    return client


def measure(
    funcs: dict[str, Callable[[Sequence[str]], Any]],
    frames: list[str],
    *,
    rounds: int,
    round_seconds: float,
    budget_seconds: float,
) -> dict[str, list[float]]:
    """Frames/s per round for each pipeline, rounds interleaved across pipelines."""
    batches: dict[str, list[str]] = {}
    for name, func in funcs.items():
        # Calibrate: pick a batch size that takes about round_seconds.
        batch = frames * 16
        start = time.thread_time()
        func(batch)
        elapsed = max(time.thread_time() - start, 1e-6)
        repeats = max(1, round(round_seconds / elapsed * 16))
        batches[name] = (frames * repeats)[: max(len(frames), int(len(frames) * repeats))]
    rates: dict[str, list[float]] = {name: [] for name in funcs}
    started = time.perf_counter()
    for done in range(rounds):
        if done >= MIN_ROUNDS and time.perf_counter() - started > budget_seconds:
            break  # a busy machine: keep the run bounded, report the rounds we have
        for name, func in funcs.items():
            batch = batches[name]
            start = time.thread_time()
            func(batch)
            elapsed = time.thread_time() - start
            rates[name].append(len(batch) / elapsed)
    return rates


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 short rounds (about 1.5 s)")
    args = parser.parse_args(argv)
    rounds, round_seconds, budget = (5, 0.05, 2.0) if args.quick else (9, 0.15, 12.0)

    frames = make_frames()
    funcs = pipelines()
    # Sanity: every pipeline decodes the frames to the right thing before it is timed.
    for name, func in funcs.items():
        if func(frames[:1]) is None:
            raise SystemExit(f"{name} decoded nothing")

    started = time.perf_counter()
    rates = measure(
        funcs, frames, rounds=rounds, round_seconds=round_seconds, budget_seconds=budget
    )
    wall = time.perf_counter() - started

    sizes = sorted(len(f.encode()) for f in frames)
    print(
        f"frame: chat.message_received, {sizes[0]}-{sizes[-1]} bytes, {VARIANTS} variants; "
        f"median of {len(next(iter(rates.values())))} rounds; Python {sys.version.split()[0]}"
    )
    medians = {name: statistics.median(r) for name, r in rates.items()}
    peer = medians.get("python-socketio (engineio + socketio Packet)")
    width = max(len(name) for name in medians)
    for name, rate in medians.items():
        line = f"  {name:<{width}}  {rate / 1000:8.1f}k frames/s  {1e6 / rate:6.2f} µs/frame"
        if peer is not None:
            line += f"  {rate / peer:5.2f}x python-socketio"
        print(line)
    print(f"(measured in {wall:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
