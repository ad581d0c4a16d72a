"""greeter: template rules (pure) and greeting real chats on the sandbox."""

from __future__ import annotations

import pytest

from agentbot import Visitor
from agentbot.runtime.clock import VirtualClock
from agentbot_plugins._shared.templates import render, render_first, visitor_fields
from agentbot_plugins.greeter import GreeterConfig, choose_greeting

from .conftest import bot_with, prepare

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


async def test_greets_once_per_chat_by_name_on_the_first_message() -> None:
    async with bot_with({"greeter": {}}, track_visitors=True) as h:
        h.visitor("Ada Lovelace", lang="en")
        chat_id = await h.say("hello")
        await h.say("are you there?")
        assert h.bot_messages(chat_id) == ["Hi Ada! How can I help you today?"]


async def test_unknown_name_gets_a_greeting_without_one() -> None:
    async with bot_with({"greeter": {}}) as h:
        chat_id = await h.say("hi", visitor="")
        assert h.bot_messages(chat_id) == ["Hi! How can I help you today?"]


async def test_greets_in_czech_for_a_czech_visitor() -> None:
    async with bot_with({"greeter": {}}, track_visitors=True) as h:
        h.visitor("Jana", lang="cs")
        chat_id = await h.say("dobrý den", visitor="Jana")
        assert h.bot_messages(chat_id) == ["Dobrý den! S čím vám mohu pomoci?"]


async def test_silent_when_a_human_already_joined() -> None:
    clock = VirtualClock()
    async with bot_with({"greeter": {"on": "chat_opened"}}, clock=clock) as h:
        chat_id = h.write("hello")
        h.control.agent_join(chat_id)
        await h.settle()
        await clock.advance(60)
        await h.settle()
        assert h.bot_messages(chat_id) == []


async def test_greets_when_the_chat_opens_if_configured() -> None:
    async with bot_with({"greeter": {"on": "chat_opened", "greetings": {"en": "Hello!"}}}) as h:
        chat_id = await h.say("hi")
        assert h.bot_messages(chat_id) == ["Hello!"]


async def test_a_returning_visitor_is_welcomed_back() -> None:
    async with bot_with({"greeter": {}}) as h:
        first = await h.say("hi", visitor="")
        h.control.close_chat(first, by="visitor")
        await h.settle()
        second = await h.say("hi again", visitor="")
        assert first != second
        assert h.bot_messages(second) == ["Welcome back! How can I help?"]


def test_bad_option_stops_the_bot_with_a_clear_error() -> None:
    from agentbot import ConfigError

    with pytest.raises(ConfigError, match=r"\[plugins.greeter\] on: expected one of"):
        prepare({"greeter": {"on": "sometimes"}})
