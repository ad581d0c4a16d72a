"""chat_metrics counts a day in the chats, and never says a word."""

from __future__ import annotations

import chat_metrics

from agentbot.testing import HarnessFactory


async def test_a_day_in_the_chats_is_counted(agentbot_harness: HarnessFactory) -> None:
    async with agentbot_harness(plugins={"chat_metrics": chat_metrics}) as harness:
        ada = await harness.visitor("Ada")
        await ada.say("Hello, anyone?")
        await ada.typing(True)
        await ada.expect_no_reply()  # a listener: it answers nothing
        await harness.human_joins(ada)
        await harness.human_says(ada, "Hi Ada, Petra here.")
        await harness.human_leaves(ada)
        await ada.rate(5, "Quick and kind")
        await ada.close_chat()

        bob = await harness.visitor("Bob")
        await bob.say("Hi")
        await bob.rate(3)
        await harness.human_closes(bob)

        await harness.drop_connection()
        await harness.server_error("Too many requests", type="rate_limited")

        metrics = chat_metrics.read_metrics(harness.plugin_storage("chat_metrics"))
    assert metrics["sessions"] == 1
    assert metrics["reconnects"] == 1
    assert metrics["disconnects"] == 1
    assert metrics["visitor_typing"] == 1
    assert metrics["human_joined"] == 1
    assert metrics["human_left"] == 1
    assert (metrics["ratings"], metrics["rating_points"]) == (2, 8)
    assert metrics["chats_closed.visitor_close"] == 1
    assert metrics["chats_closed.agent_close"] == 1
    assert metrics["server_error.rate_limited"] == 1
    assert metrics["event.ChatOpened"] == 2
    assert metrics["event.ChatMessageReceived"] == 3  # two visitors' lines and Petra's
