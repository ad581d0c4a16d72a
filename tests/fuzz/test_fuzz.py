"""Hostile input only ever gives events or typed errors (issue 16, defect 1).

Each property draws a seed and runs the shared generators (``generators.py``) through the
real parts (``harness.py``); a failure shrinks to the smallest failing seed, which
``python benchmarks/fuzz.py --seed N --inputs 1`` replays. Example counts are bounded so
the whole folder stays well under 30 s; the benchmark runs the same generators a million
times.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentbot.protocol import ProtocolVersion

from .generators import api_input, frames
from .harness import Escape, check_api, check_client, check_server, memory_ledger

SEEDS = st.integers(min_value=0, max_value=2**64 - 1)
VERSIONS = st.sampled_from(list(ProtocolVersion))
BOUNDED = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@BOUNDED
@given(SEEDS, VERSIONS)
def test_client_connection_gives_events_or_protocol_errors(
    seed: int, version: ProtocolVersion
) -> None:
    with memory_ledger() as ledger:
        check_client(version, frames(random.Random(seed), version), ledger)


@BOUNDED
@given(SEEDS, VERSIONS)
def test_server_connection_gives_events_or_protocol_errors(
    seed: int, version: ProtocolVersion
) -> None:
    check_server(version, frames(random.Random(seed), version))


@BOUNDED
@given(SEEDS)
def test_api_decoding_gives_events_or_decode_errors(seed: int) -> None:
    with memory_ledger() as ledger:
        name, args = api_input(random.Random(seed))
        check_api(name, args, ledger)


# -- the inputs issue 16 found, kept as plain regression tests ----------------------------------


@pytest.mark.parametrize("version", list(ProtocolVersion))
def test_a_400_digit_ping_interval_is_a_protocol_error(version: ProtocolVersion) -> None:
    # Was OverflowError from float() in agentbot/protocol/engineio.py.
    frame = '0{"sid":"s","upgrades":[],"pingInterval":' + "9" * 400 + ',"pingTimeout":5000}'
    with memory_ledger() as ledger:
        check_client(version, [frame], ledger)


def test_a_lone_surrogate_message_id_reaches_the_ledger_safely() -> None:
    # Was UnicodeEncodeError from sqlite3 in agentbot/runtime/storage.py during dispatch.
    frame = (
        '42["chat.message_received",{"chatId":"c1","message":{"id":"\\udc00x","type":"message",'
        '"subType":"contact","chatId":"c1","visitorId":"v1","createdAt":"2019-10-04T14:03:21Z",'
        '"content":{"type":"text","text":"hi"}}}]'
    )
    with memory_ledger() as ledger:
        check_client(
            ProtocolVersion.EIO3,
            ['0{"sid":"s","pingInterval":25000,"pingTimeout":5000}', "40", frame],
            ledger,
        )
        assert ledger.seen("\udc00x")  # it was taken in, exactly
        assert not ledger.seen("\udc01x")


def test_the_harness_can_fail() -> None:
    # Every test must be able to fail: a target that raises the wrong thing is an escape.
    with memory_ledger() as ledger, pytest.raises(Escape, match=r"api\.decode_events"):
        check_api(object(), object(), ledger)  # type: ignore[arg-type]
