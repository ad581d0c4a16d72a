"""Recovery at the first login: what a killed process left half done is finished once.

Found by the PostgreSQL failover test under load: the process died after taking a visitor's
message in (the inbox row was stored) but before the chat's facts were stored, so the facts
still named the previous message as the latest; recovery dropped the new one as stale and the
resync skipped it as "seen" — the visitor never got an answer.
"""

from __future__ import annotations

import time

from agentbot import Reply, hookimpl
from agentbot.runtime.chat_state import ChatState
from agentbot.runtime.ledger import Ledger
from agentbot.runtime.storage import MEMORY, Storage
from agentbot.runtime.wiring import bot_namespace

from .conftest import RunningBot, make_config


class Echo:
    @hookimpl
    def on_visitor_message(self, text: str) -> Reply:
        return Reply(f"echo: {text}")


def _left_behind(storage: Storage, *, facts_stored: bool) -> None:
    """What a process killed while taking in message m2 leaves in its store."""
    ledger = Ledger(storage, bot_namespace(make_config()), wall_clock=time.time)
    state = ChatState(chat_id="c1", visitor_id="v1", last_visitor_message_id="m1")
    state.last_visitor_at = time.time() - 5
    ledger.receive("m1", "c1", "first")
    ledger.decide("m1", "answered")
    ledger.receive("m2", "c1", "second")  # taken in, never decided
    if facts_stored:
        state.last_visitor_message_id = "m2"
        state.last_visitor_at = time.time()
    ledger.save_chat(state)


async def test_a_message_taken_in_before_the_facts_were_stored_is_answered_once(
    running_bot: RunningBot,
) -> None:
    with Storage(MEMORY) as storage:
        _left_behind(storage, facts_stored=False)
        async with running_bot(Echo(), storage=storage) as (bot, client):
            await client.wait_for(lambda calls: len(client.messages()) == 1)
            assert bot.stats["recovered"] == 1
    assert client.messages() == ["echo: second"]


async def test_a_message_taken_in_with_its_facts_stored_is_answered_once(
    running_bot: RunningBot,
) -> None:
    with Storage(MEMORY) as storage:
        _left_behind(storage, facts_stored=True)
        async with running_bot(Echo(), storage=storage) as (_bot, client):
            await client.wait_for(lambda calls: len(client.messages()) == 1)
    assert client.messages() == ["echo: second"]
