"""A note is never visitor input: the real bot against the sandbox never answers one.

S1 (the REST spec) has message ``type: "note"``, an agent's internal note. Notes reach every
agent through ``chat.message_received`` like any other message; ``Message.is_from_visitor``
(one rule, in api/) must keep them from ``on_visitor_message`` whatever ``subType`` they
carry, while the visitor's real messages still get there.
"""

from __future__ import annotations

from typing import Any

from agentbot import PluginBot, hookimpl
from agentbot.sandbox import wire


class Recorder:
    """Records every text ``on_visitor_message`` sees; never answers."""

    def __init__(self) -> None:
        self.texts: list[str | None] = []

    @hookimpl
    def on_visitor_message(self, bot: PluginBot, message: Any) -> None:
        self.texts.append(message.text)


async def test_a_note_never_reaches_on_visitor_message(agentbot_harness: Any) -> None:
    recorder = Recorder()
    async with agentbot_harness(plugins={"recorder": recorder}) as harness:
        visitor = await harness.visitor("Ada")
        await visitor.say("hello")
        await harness.settle()
        sandbox = harness.sandbox
        chat = sandbox.state.chats[visitor.chat_id]
        # A note naming the visitor as its author is the worst case. (An agent's note counts
        # as a human writing in the chat, so the bot would step back: not what this tests.)
        for sub_type in ("contact", "system"):
            note = sandbox.state.add_message(chat, sub_type=sub_type, text=f"note by {sub_type}")
            note.type = "note"
            payload = {"chatId": chat.id, "message": wire.message(note)}
            sandbox.to_agents("chat.message_received", payload)
        sandbox.notify()
        await harness.settle()
        await visitor.say("still there?")
        await harness.settle()
    assert recorder.texts == ["hello", "still there?"]
