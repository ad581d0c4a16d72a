"""The ``ServerEvent`` union and ``EVENT_TYPES`` name the same events.

A class added to one and not the other is either never decoded (missing from the table) or
never expected by type-checked code (missing from the union); both fail silently otherwise.
"""

from __future__ import annotations

import typing

from agentbot.api import EVENT_TYPES, MalformedEvent, ServerEvent, UnknownEvent


def test_the_server_event_union_and_the_event_table_agree() -> None:
    union = set(typing.get_args(ServerEvent))
    # The two catch-alls are what decoding gives for names or payloads outside the table.
    assert union - set(EVENT_TYPES.values()) == {UnknownEvent, MalformedEvent}
    assert set(EVENT_TYPES.values()) <= union
    for name, cls in EVENT_TYPES.items():
        assert cls.name == name
