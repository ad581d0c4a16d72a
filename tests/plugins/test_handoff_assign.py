"""The handoff plugin's ``assign_to``: a hand-off really assigns the chat over REST.

Smartsupp's REST API assigns with ``PATCH /v2/conversations/{id}/assign {id}``
(VENDOR-SOURCES §3, S1), and the agent side hears ``chat.agent_assigned {assigned,
assignedBy}`` (S2 ``Events.ChatAgentAssigned``). The test runs the shipped harness: real
bot, in-process sandbox, and asserts on what the sandbox recorded and holds.
"""

from __future__ import annotations

import json

from agentbot.testing import HarnessFactory
from agentbot_plugins.handoff import Handoff

ASSIGN = "PATCH /v2/conversations/{id}/assign"


async def test_hand_off_assigns_the_chat_to_the_configured_agent(
    agentbot_harness: HarnessFactory,
) -> None:
    config = {"plugins": {"handoff": {"assign_to": "human-1"}}}
    async with agentbot_harness(plugins={"handoff": Handoff}, config=config) as harness:
        visitor = await harness.visitor(name="Ada", lang="en")
        await visitor.say("Can I talk to a human, please?")
        reply = await visitor.next_reply()
        assert "colleague" in reply.text
        await harness.settle()
        chat_id = visitor.chat_id
        assigns = [r for r in harness.app.state.rest.requests if r["operation"] == ASSIGN]
        assert [(r["path"].rsplit("/", 2)[-2], r["body"], r["status"]) for r in assigns] == [
            (chat_id, {"id": "human-1"}, 200)
        ]
        chat = harness.app.state.sandbox.state.chats[chat_id]
        assert "human-1" in chat.assigned_ids
        # The sandbox emitted an assignment (not a join): an agent_assign system message.
        assert "agent_assign" in json.dumps(harness.control.transcript(chat_id), default=str)


async def test_without_assign_to_nothing_is_assigned(agentbot_harness: HarnessFactory) -> None:
    async with agentbot_harness(plugins={"handoff": Handoff}) as harness:
        visitor = await harness.visitor(name="Ada", lang="en")
        await visitor.say("Can I talk to a human, please?")
        await visitor.next_reply()
        await harness.settle()
        assert not [r for r in harness.app.state.rest.requests if r["operation"] == ASSIGN]
