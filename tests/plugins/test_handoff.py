"""handoff: phrase detection (pure) and handing chats over on the sandbox.

The sandbox tests run the shipped harness (handoff from its entry point, options from a
bot.toml-shaped config). The wait before the bot comes back runs on the harness's virtual
clock, so each test says how much time passes.
"""

from __future__ import annotations

from typing import Any

import pytest

from agentbot.testing import BotHarness, HarnessFactory, SimulatedVisitor
from agentbot_plugins.handoff import DEFAULT_PHRASES, Handoff, PhraseMatcher

ONLINE = "Of course, I'm passing you to a colleague. Someone will be with you shortly."
OFFLINE = (
    "I've asked a colleague to take over, but to be honest nobody is online right now, so it "
    "may take a while."
)
COMEBACK = (
    "I'm sorry, no colleague could join yet. If you leave your e-mail address, we will get "
    "back to you as soon as we can."
)


# -- phrases ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("Can I talk to a HUMAN, please?", "human"),
        ("i want to speak to someone", "speak to someone"),
        ("Chci mluvit s operátorem!", "operatorem"),
        ("Můžu mluvit s živým člověkem?", "clovekem"),
        ("Ich möchte mit einem Mitarbeiter sprechen", "mitarbeiter"),
    ],
)
def test_requests_for_a_human_are_recognised(text: str, phrase: str) -> None:
    assert PhraseMatcher(DEFAULT_PHRASES).find(text) == phrase


@pytest.mark.parametrize(
    "text",
    ["humanity is great", "I don't need a human", "nechci operátora", "kein Mensch bitte", "hi"],
)
def test_other_messages_and_negations_are_not(text: str) -> None:
    assert PhraseMatcher(DEFAULT_PHRASES).find(text) is None


def test_configured_phrases_replace_a_languages_defaults() -> None:
    matcher = PhraseMatcher({**DEFAULT_PHRASES, "en": ["staff member"]})
    assert matcher.find("a staff member please") == "staff member"
    assert matcher.find("a human please") is None
    assert matcher.find("chci operátora") == "operatora"


# -- on the sandbox -------------------------------------------------------------------------

WALL_TIME = 1.79e9  # stamped on the leads
PACE = 20.0  # virtual seconds for the bot to send what it paced; shorter than the 60 s wait


def harness(factory: HarnessFactory, plugins: dict[str, dict[str, Any]]) -> Any:
    return factory(config={"plugins": plugins}, wall_time=WALL_TIME)


def outbox(h: BotHarness) -> list[dict[str, Any]]:
    store = h.plugin_storage("handoff")
    return [store.get(key)["payload"] for key in store.keys("outbox:")]


def texts(visitor: SimulatedVisitor) -> list[str]:
    return [reply.text for reply in visitor.replies()]


async def say(h: BotHarness, visitor: SimulatedVisitor, text: str) -> None:
    await visitor.say(text)
    await h.advance(PACE)


async def test_asking_for_a_human_hands_off_honestly_and_the_bot_goes_quiet(
    agentbot_harness: HarnessFactory,
) -> None:
    sections: dict[str, dict[str, Any]] = {"greeter": {}, "handoff": {"come_back": False}}
    async with harness(agentbot_harness, sections) as h:
        visitor = await h.visitor()
        await say(h, visitor, "hello")
        await say(h, visitor, "can I talk to a human?")
        await say(h, visitor, "hello??")
        messages = texts(visitor)
        quiet = h.bot.chats.is_quiet(visitor.chat_id)
        (note,) = outbox(h)
    assert messages == ["Hi! How can I help you today?", OFFLINE]
    assert quiet
    assert note["event"] == "handoff"
    assert note["reason"] == "asked"
    assert note["humans_online"] == 0
    assert note["messages"] == ["hello", "can I talk to a human?"]


async def test_with_a_human_online_the_message_says_so(agentbot_harness: HarnessFactory) -> None:
    async with harness(agentbot_harness, {"handoff": {"come_back": False}}) as h:
        await h.human_logs_in()
        assert h.bot.humans_online() == (h.human_id,)
        visitor = await h.visitor()
        await say(h, visitor, "operator please")
        messages = texts(visitor)
    assert messages == [ONLINE]


async def test_nobody_takes_it_so_the_bot_comes_back_once_and_takes_a_message(
    agentbot_harness: HarnessFactory,
) -> None:
    async with harness(agentbot_harness, {"handoff": {}}) as h:
        visitor = await h.visitor()
        await visitor.say("human please")
        await h.advance(120)  # the 60 s wait runs out
        assert len(texts(visitor)) == 2
        await say(h, visitor, "ada@example")
        await say(h, visitor, "ada@example.com")
        await say(h, visitor, "thanks")  # comes back only once
        messages = texts(visitor)
        notes = outbox(h)
    assert messages == [
        OFFLINE,
        COMEBACK,
        "Hmm, that does not look like an e-mail address. Could you check it?",
        "Thank you! We will write to ada@example.com as soon as we can.",
    ]
    assert sorted(n["event"] for n in notes) == ["handoff", "lead", "no_human_answered"]
    (lead,) = [n for n in notes if n["event"] == "lead"]
    assert lead["email"] == "ada@example.com"
    assert lead["source"] == "handoff"


async def test_a_human_joining_in_time_means_no_coming_back(
    agentbot_harness: HarnessFactory,
) -> None:
    async with harness(agentbot_harness, {"handoff": {}}) as h:
        plugin = h.plugin("handoff")
        assert isinstance(plugin, Handoff)
        visitor = await h.visitor()
        await visitor.say("human please")
        await h.settle()
        chat_id = visitor.chat_id
        assert chat_id is not None
        assert h.clock.sleeper_count >= 2  # paced message + the 60 s timer
        await h.advance(30)
        assert texts(visitor) == [OFFLINE]
        await h.human_joins(visitor)
        assert plugin.chats[chat_id].human_came
        await h.advance(1000)
        assert h.clock.sleeper_count == 0  # the timer ran and stayed quiet
        await visitor.say("hello?")
        await h.settle()
        assert "hello?" in plugin.chats[chat_id].messages
        await h.advance(1000)
        messages = texts(visitor)
    assert messages == [OFFLINE]


async def test_a_streak_of_unanswered_messages_proposes_the_hand_off(
    agentbot_harness: HarnessFactory,
) -> None:
    sections: dict[str, dict[str, Any]] = {"handoff": {"unanswered_streak": 2, "come_back": False}}
    async with harness(agentbot_harness, sections) as h:
        visitor = await h.visitor()
        await say(h, visitor, "blorp")
        await say(h, visitor, "flurb?")
        await say(h, visitor, "still there?")
        messages = texts(visitor)
        quiet = h.bot.chats.is_quiet(visitor.chat_id)
        (note,) = outbox(h)
    assert messages == [OFFLINE]
    assert quiet
    assert note["reason"] == "unanswered"


async def test_a_confident_answer_beats_the_streak(
    agentbot_harness: HarnessFactory, tmp_path: Any
) -> None:
    faq = tmp_path / "faq.toml"
    faq.write_text('[[entry]]\nquestion = "Do you ship abroad?"\nanswer = "Yes."\n', "utf-8")
    sections = {"faq": {"file": str(faq)}, "handoff": {"unanswered_streak": 2}}
    async with harness(agentbot_harness, sections) as h:
        visitor = await h.visitor()
        await say(h, visitor, "blorp")
        await say(h, visitor, "do you ship abroad?")
        messages = texts(visitor)
        quiet = h.bot.chats.is_quiet(visitor.chat_id)
    assert messages == ["Yes."]
    assert not quiet


async def test_the_come_back_timer_runs_on_the_runtime_clock(
    agentbot_harness: HarnessFactory,
) -> None:
    async with harness(agentbot_harness, {"handoff": {}}) as h:
        visitor = await h.visitor()
        await visitor.say("human please")
        await h.settle()
        assert h.clock.sleeper_count >= 2  # paced message + the 60 s timer
        await h.advance(30)
        assert texts(visitor) == [OFFLINE]
        await h.advance(29)  # 59 s after the hand-off: still waiting
        assert texts(visitor) == [OFFLINE]
        await h.advance(32)  # the timer fell due; the come-back message is paced (≤ 8 s)
        messages = texts(visitor)
    assert messages == [OFFLINE, COMEBACK]
