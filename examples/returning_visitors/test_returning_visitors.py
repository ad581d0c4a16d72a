"""The returning-visitors example, run from its bot.toml in the harness."""

from __future__ import annotations

from pathlib import Path

from agentbot.testing import HarnessFactory

BOT_TOML = Path(__file__).resolve().parent / "bot.toml"


async def test_a_returning_visitor_is_welcomed_back_once_per_chat(
    agentbot_harness: HarnessFactory, tmp_path: Path
) -> None:
    async with agentbot_harness(config=BOT_TOML, storage=tmp_path / "bot.sqlite3") as harness:
        ada = await harness.visitor("Ada")
        await ada.say("Hi, just looking around")
        await ada.expect_no_reply()  # a first visit: nothing to say
        await ada.close_chat()

        await ada.say("Hello again!")
        reply = await ada.next_reply()
        assert reply.text == "Welcome back, Ada! Good to see you again. How can I help today?"
        await ada.say("Do you ship to Austria?")
        await ada.expect_no_reply()  # once per chat
        assert harness.plugin_storage("returning_visitors").get(f"visitor:{ada.id}") == {
            "name": "Ada",
            "chats": 2,
            "greeted_chat": ada.chat_id,
        }


async def test_the_memory_survives_a_restart(
    agentbot_harness: HarnessFactory, tmp_path: Path
) -> None:
    async with agentbot_harness(config=BOT_TOML, storage=tmp_path / "bot.sqlite3") as harness:
        visitor = await harness.visitor()  # no name given
        await visitor.say("Hi")
        await visitor.expect_no_reply()
        await visitor.close_chat()
        await harness.restart()
        await visitor.say("Me again")
        assert (await visitor.next_reply()).text.startswith("Welcome back! Good to see you")
