"""greeter: template rules (pure) and greeting real chats on the sandbox."""

from __future__ import annotations

import pytest

from agentbot import Visitor
from agentbot.testing import HarnessFactory
from agentbot_plugins._shared.templates import render, render_first, visitor_fields
from agentbot_plugins.greeter import GreeterConfig, choose_greeting

# -- templates --------------------------------------------------------------------------------


def test_render_fills_fields_and_fallbacks() -> None:
    assert render("Hi {name}!", {"name": "Ada"}) == "Hi Ada!"
    assert render("Hi {first_name|there}!", {}) == "Hi there!"
    assert render("{{literal}} {name}", {"name": "Bo"}) == "{literal} Bo"


@pytest.mark.parametrize("value", [None, "", "   ", False])
def test_a_missing_field_without_fallback_makes_the_template_unusable(value: object) -> None:
    assert render("Hi {name}!", {"name": value}) is None
    assert render_first(["Hi {name}!", "Hi!"], {"name": value}) == "Hi!"


@pytest.mark.parametrize("name", ["Visitor 123", "#4711", "12345", "guest"])
def test_widget_placeholder_names_are_not_names(name: str) -> None:
    fields = visitor_fields(Visitor(id="v", name=name))
    assert fields["name"] is None
    assert render_first(["Hi {first_name}!", "Hi!"], fields) == "Hi!"


def test_visitor_fields_include_first_name_and_variables() -> None:
    fields = visitor_fields(Visitor(id="v", name=" Ada Lovelace ", variables={"plan": "pro"}))
    assert fields["first_name"] == "Ada"
    assert render("{first_name} on {var.plan}", fields) == "Ada on pro"


# -- choosing a greeting ----------------------------------------------------------------------


def test_greeting_in_the_visitors_language_with_name() -> None:
    config = GreeterConfig()
    ada = Visitor(id="v", name="Ada", lang="en-GB")
    assert choose_greeting(config, ada, returning=False) == "Hi Ada! How can I help you today?"
    jana = Visitor(id="v", name="Jana", lang="cs")
    assert choose_greeting(config, jana, returning=False) == "Dobrý den! S čím vám mohu pomoci?"


def test_unknown_visitor_and_language_get_the_default_without_a_name() -> None:
    config = GreeterConfig()
    assert choose_greeting(config, None, returning=False) == "Hi! How can I help you today?"
    far = Visitor(id="v", name=None, lang="ja")
    assert choose_greeting(config, far, returning=False) == "Hi! How can I help you today?"


def test_returning_visitors_get_their_own_text_if_there_is_one() -> None:
    config = GreeterConfig(returning={"en": "Welcome back, {first_name|friend}!"})
    assert choose_greeting(config, None, returning=True) == "Welcome back, friend!"
    plain = GreeterConfig(returning={})
    assert choose_greeting(plain, None, returning=True) == "Hi! How can I help you today?"


def test_config_rejects_an_empty_template_list() -> None:
    with pytest.raises(ValueError, match=r"greetings\.en"):
        GreeterConfig(greetings={"en": []})


# -- on the sandbox ---------------------------------------------------------------------------
# The shipped harness, as a third-party plugin's tests use it: greeter loads from its entry
# point and its options come from a bot.toml-shaped config. ``PACE`` virtual seconds let the
# bot send whatever it paced (pacing caps one message at 8 s).

PACE = 30.0
TRACKING = {"track_visitors": True}


async def test_greets_once_per_chat_by_name_on_the_first_message(
    agentbot_harness: HarnessFactory,
) -> None:
    config = {"smartsupp": TRACKING, "plugins": {"greeter": {}}}
    async with agentbot_harness(config=config) as h:
        visitor = await h.visitor("Ada Lovelace", lang="en")
        await visitor.say("hello")
        await h.advance(PACE)
        await visitor.say("are you there?")
        await h.advance(PACE)
        assert [r.text for r in visitor.replies()] == ["Hi Ada! How can I help you today?"]


async def test_unknown_name_gets_a_greeting_without_one(agentbot_harness: HarnessFactory) -> None:
    async with agentbot_harness(config={"plugins": {"greeter": {}}}) as h:
        visitor = await h.visitor()
        await visitor.say("hi")
        await h.advance(PACE)
        assert [r.text for r in visitor.replies()] == ["Hi! How can I help you today?"]


async def test_greets_in_czech_for_a_czech_visitor(agentbot_harness: HarnessFactory) -> None:
    config = {"smartsupp": TRACKING, "plugins": {"greeter": {}}}
    async with agentbot_harness(config=config) as h:
        visitor = await h.visitor("Jana", lang="cs")
        await visitor.say("dobrý den")
        await h.advance(PACE)
        assert [r.text for r in visitor.replies()] == ["Dobrý den! S čím vám mohu pomoci?"]


async def test_silent_when_a_human_already_joined(agentbot_harness: HarnessFactory) -> None:
    async with agentbot_harness(config={"plugins": {"greeter": {"on": "chat_opened"}}}) as h:
        visitor = await h.visitor("Ada")
        await visitor.say("hello")  # the greeting is paced: virtual time has not moved yet
        await h.human_joins(visitor)
        await h.advance(60)
        assert visitor.replies() == []


async def test_greets_when_the_chat_opens_if_configured(agentbot_harness: HarnessFactory) -> None:
    options = {"on": "chat_opened", "greetings": {"en": "Hello!"}}
    async with agentbot_harness(config={"plugins": {"greeter": options}}) as h:
        visitor = await h.visitor("Ada")
        await visitor.say("hi")
        await h.advance(PACE)
        assert [r.text for r in visitor.replies()] == ["Hello!"]


async def test_a_returning_visitor_is_welcomed_back(agentbot_harness: HarnessFactory) -> None:
    async with agentbot_harness(config={"plugins": {"greeter": {}}}) as h:
        visitor = await h.visitor()
        await visitor.say("hi")
        await h.advance(PACE)
        first = visitor.chat_id
        await visitor.close_chat()
        await visitor.say("hi again")
        await h.advance(PACE)
        second = visitor.chat_id
        assert first != second
        replies = [r.text for r in visitor.replies() if r.chat_id == second]
        assert replies == ["Welcome back! How can I help?"]


async def test_bad_option_stops_the_bot_with_a_clear_error(
    agentbot_harness: HarnessFactory,
) -> None:
    from agentbot import ConfigError

    config = {"plugins": {"greeter": {"on": "sometimes"}}}
    with pytest.raises(ConfigError, match=r"\[plugins.greeter\] on: expected one of"):
        async with agentbot_harness(config=config):
            pass
