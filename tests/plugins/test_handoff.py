"""handoff: phrase detection (pure) and handing chats over on the sandbox.

The wait before the bot comes back runs on the runtime clock: autojumping (the wait is over
at once) unless a test moves a manual VirtualClock itself.
"""

from __future__ import annotations

from typing import Any

import pytest

from agentbot.runtime.clock import VirtualClock
from agentbot_plugins.handoff import DEFAULT_PHRASES, Handoff, PhraseMatcher

from .conftest import Harness, bot_with

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


def handoff_plugin() -> list[tuple[str, object]]:
    return [("handoff", Handoff(wall_clock=lambda: 1.79e9))]


def outbox(h: Harness) -> list[dict[str, Any]]:
    store = h.bot.plugin_storage("handoff")
    return [store.get(key)["payload"] for key in store.keys("outbox:")]


async def test_asking_for_a_human_hands_off_honestly_and_the_bot_goes_quiet() -> None:
    # come_back off: the autojumping clock would end the 60 s wait at once.
    sections: dict[str, dict[str, Any]] = {"greeter": {}, "handoff": {"come_back": False}}
    async with bot_with(sections, extra=handoff_plugin()) as h:
        chat_id = await h.say("hello", visitor="")
        await h.say("can I talk to a human?", visitor="")
        await h.say("hello??", visitor="")
        messages = h.bot_messages(chat_id)
        quiet = h.bot.chats.is_quiet(chat_id)
        (note,) = outbox(h)
    assert messages == ["Hi! How can I help you today?", OFFLINE]
    assert quiet
    assert note["event"] == "handoff"
    assert note["reason"] == "asked"
    assert note["humans_online"] == 0
    assert note["messages"] == ["hello", "can I talk to a human?"]


async def test_with_a_human_online_the_message_says_so() -> None:
    sections: dict[str, dict[str, Any]] = {"handoff": {"come_back": False}}
    async with bot_with(sections, extra=handoff_plugin(), human_online=True) as h:
        assert h.bot.humans_online() == (h.sandbox.config.human.id,)
        chat_id = await h.say("operator please", visitor="")
        messages = h.bot_messages(chat_id)
    assert messages == [ONLINE]


async def test_nobody_takes_it_so_the_bot_comes_back_once_and_takes_a_message() -> None:
    async with bot_with({"handoff": {}}, extra=handoff_plugin()) as h:
        chat_id = await h.say("human please", visitor="")
        await h.wait(lambda: len(h.bot_messages(chat_id)) == 2)  # the 60 s wait ran out
        await h.say("ada@example", visitor="")
        await h.say("ada@example.com", visitor="")
        await h.say("thanks", visitor="")  # comes back only once
        messages = h.bot_messages(chat_id)
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


async def test_a_human_joining_in_time_means_no_coming_back() -> None:
    clock = VirtualClock()  # manual: the human joins within the 60 s wait
    plugin = Handoff(wall_clock=lambda: 1.79e9)
    async with bot_with({"handoff": {}}, extra=[("handoff", plugin)], clock=clock) as h:
        chat_id = h.write("human please", visitor="")
        await h.wait_bot(lambda: clock.sleeper_count >= 2)  # paced message + the 60 s timer
        await clock.advance(30)
        await h.wait(lambda: h.bot_messages(chat_id) == [OFFLINE])
        h.control.agent_join(chat_id)
        await h.wait_bot(lambda: plugin.chats[chat_id].human_came)
        await clock.advance(1000)
        await h.wait_bot(lambda: clock.sleeper_count == 0)  # the timer ran and stayed quiet
        h.write("hello?", visitor="")
        await h.wait_bot(lambda: "hello?" in plugin.chats[chat_id].messages)
        await clock.advance(1000)
        messages = h.bot_messages(chat_id)
    assert messages == [OFFLINE]


async def test_a_streak_of_unanswered_messages_proposes_the_hand_off() -> None:
    sections: dict[str, dict[str, Any]] = {"handoff": {"unanswered_streak": 2, "come_back": False}}
    async with bot_with(sections, extra=handoff_plugin()) as h:
        chat_id = await h.say("blorp", visitor="")
        await h.say("flurb?", visitor="")
        await h.say("still there?", visitor="")
        messages = h.bot_messages(chat_id)
        quiet = h.bot.chats.is_quiet(chat_id)
        (note,) = outbox(h)
    assert messages == [OFFLINE]
    assert quiet
    assert note["reason"] == "unanswered"


async def test_a_confident_answer_beats_the_streak(tmp_path: Any) -> None:
    faq = tmp_path / "faq.toml"
    faq.write_text('[[entry]]\nquestion = "Do you ship abroad?"\nanswer = "Yes."\n', "utf-8")
    sections = {"faq": {"file": str(faq)}, "handoff": {"unanswered_streak": 2}}
    async with bot_with(sections, extra=handoff_plugin()) as h:
        chat_id = await h.say("blorp", visitor="")
        await h.say("do you ship abroad?", visitor="")
        messages = h.bot_messages(chat_id)
        quiet = h.bot.chats.is_quiet(chat_id)
    assert messages == ["Yes."]
    assert not quiet


async def test_the_come_back_timer_runs_on_the_runtime_clock() -> None:
    clock = VirtualClock()  # manual: pacing and the timer wait for the test
    plugin = Handoff(wall_clock=lambda: 1.79e9)
    async with bot_with({"handoff": {}}, extra=[("handoff", plugin)], clock=clock) as h:
        chat_id = h.write("human please", visitor="")
        await h.wait_bot(lambda: clock.sleeper_count >= 2)  # paced message + the 60 s timer
        await clock.advance(30)
        await h.wait(lambda: h.bot_messages(chat_id) == [OFFLINE])
        await clock.advance(31)  # 61 s after the hand-off
        await h.wait_bot(lambda: clock.sleeper_count >= 1)  # the come-back message, paced
        await clock.advance(30)
        await h.wait(lambda: len(h.bot_messages(chat_id)) == 2)
        messages = h.bot_messages(chat_id)
    assert messages == [OFFLINE, COMEBACK]
