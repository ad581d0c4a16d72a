"""ProtocolVersion: the one switch between EIO 3 + SIO 4 and EIO 4 + SIO 5."""

from __future__ import annotations

import pytest

from agentbot.errors import LocalProtocolError
from agentbot.protocol import ProtocolVersion


@pytest.mark.parametrize(
    ("eio", "version"),
    [
        (3, ProtocolVersion.EIO3),
        ("3", ProtocolVersion.EIO3),
        (4, ProtocolVersion.EIO4),
        (" 4", ProtocolVersion.EIO4),
    ],
)
def test_from_eio_accepts_the_query_value(eio: int | str, version: ProtocolVersion) -> None:
    assert ProtocolVersion.from_eio(eio) is version


@pytest.mark.parametrize("eio", [2, 5, "", "four", True, 3.0, None, "3.0"])
def test_from_eio_refuses_anything_else(eio: object) -> None:
    with pytest.raises(LocalProtocolError, match=r"Engine\.IO version"):
        ProtocolVersion.from_eio(eio)  # type: ignore[arg-type]


def test_versions_travel_in_pairs() -> None:
    assert (ProtocolVersion.EIO3.engineio, ProtocolVersion.EIO3.socketio) == (3, 4)
    assert (ProtocolVersion.EIO4.engineio, ProtocolVersion.EIO4.socketio) == (4, 5)
