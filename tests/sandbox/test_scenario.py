"""The scenario format: the packaged demo loads, and every mistake names file, step and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentbot.errors import ConfigError
from agentbot.sandbox.scenario import (
    DEFAULT_REPLY_TIMEOUT_SECONDS,
    Say,
    ScenarioError,
    Typing,
    VisitorProfile,
    Wait,
    WaitForReply,
    load_packaged_scenario,
    load_scenario,
    packaged_scenarios,
    parse_scenario,
)


def test_packaged_demo_greets_asks_a_question_and_asks_for_a_human() -> None:
    assert "demo" in packaged_scenarios()
    scenario = load_packaged_scenario("demo")
    said = [step.text for step in scenario.steps if isinstance(step, Say)]
    assert len(said) == 3
    assert "human" in said[-1].lower()
    assert sum(isinstance(step, WaitForReply) for step in scenario.steps) == 3
    assert scenario.visitor.name
    assert scenario.source == "demo.toml"


def test_every_step_kind_and_option_is_parsed() -> None:
    scenario = parse_scenario(
        """
        name = "all"
        description = "every step"
        reply_timeout_seconds = 7

        [visitor]
        name = "Bo"
        email = "bo@example.com"
        lang = "cs"
        page = "https://example.com/p"
        title = "P"

        [[steps]]
        typing = true
        [[steps]]
        say = "Ahoj"
        typing_seconds = 0.5
        [[steps]]
        wait = 2
        [[steps]]
        wait_for_reply = true
        [[steps]]
        wait_for_reply = 3.5
        [[steps]]
        typing = false
        """,
        source="all.toml",
    )
    assert scenario.name == "all"
    assert scenario.description == "every step"
    assert scenario.visitor == VisitorProfile(
        name="Bo",
        email="bo@example.com",
        lang="cs",
        page_url="https://example.com/p",
        page_title="P",
    )
    assert scenario.steps == (
        Typing(is_typing=True),
        Say(text="Ahoj", typing_seconds=0.5),
        Wait(seconds=2.0),
        WaitForReply(timeout_seconds=7.0),
        WaitForReply(timeout_seconds=3.5),
        Typing(is_typing=False),
    )


def test_name_defaults_to_the_file_stem_and_timeout_to_the_default(tmp_path: Path) -> None:
    path = tmp_path / "hello.toml"
    path.write_text('[[steps]]\nsay = "Hi"\n[[steps]]\nwait_for_reply = true\n')
    scenario = load_scenario(path)
    assert scenario.name == "hello"
    assert scenario.steps[1] == WaitForReply(timeout_seconds=DEFAULT_REPLY_TIMEOUT_SECONDS)


@pytest.mark.parametrize(
    ("toml", "step", "key", "words"),
    [
        ('[[steps]]\nsay = "Hi"\nwait = 1\n', 1, None, "exactly one of"),
        ("[[steps]]\nnothing = 1\n", 1, None, "found none"),
        ('[[steps]]\nsay = "ok"\n[[steps]]\nwait = "soon"\n', 2, "wait", "number of seconds"),
        ('[[steps]]\nsay = "ok"\n[[steps]]\nwait = -1\n', 2, "wait", "0 or more"),
        ("[[steps]]\nwait = true\n", 1, "wait", "number of seconds"),
        ("[[steps]]\nwait = 1e9\n", 1, "wait", "at most"),
        ("[[steps]]\nwait = nan\n", 1, "wait", "0 or more"),
        ("[[steps]]\nsay = 5\n", 1, "say", "must be a string"),
        ('[[steps]]\nsay = "   "\n', 1, "say", "empty"),
        ('[[steps]]\nsay = "hi"\ntyping_seconds = "x"\n', 1, "typing_seconds", "seconds"),
        ("[[steps]]\nwait = 1\ntyping_seconds = 1\n", 1, "typing_seconds", "does not belong"),
        ("[[steps]]\nwait_for_reply = false\n", 1, "wait_for_reply", "true or a timeout"),
        ("[[steps]]\nwait_for_reply = 0\n", 1, "wait_for_reply", "greater than 0"),
        ('[[steps]]\ntyping = "yes"\n', 1, "typing", "true or false"),
    ],
)
def test_a_bad_step_is_reported_with_file_step_and_key(
    toml: str, step: int, key: str | None, words: str
) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(toml, source="bad.toml")
    error = caught.value
    assert isinstance(error, ConfigError)
    assert error.path == "bad.toml"
    assert error.step == step
    assert error.key == key
    message = str(error)
    assert message.startswith(f"bad.toml, step {step}")
    assert words in message


@pytest.mark.parametrize(
    ("toml", "key", "words"),
    [
        ("steps = []\n", "steps", "at least one"),
        ('name = "x"\n', "steps", "at least one"),
        ("steps = 3\n", "steps", "at least one"),
        ("[[steps]]\nwait = 1\n[extra]\n", "extra", "unknown top-level key"),
        ('visitor = "Ann"\n[[steps]]\nwait = 1\n', "visitor", "must be a table"),
        ('[visitor]\nnick = "A"\n[[steps]]\nwait = 1\n', "visitor.nick", "unknown key"),
        ("[visitor]\nname = 1\n[[steps]]\nwait = 1\n", "visitor.name", "must be a string"),
        ("reply_timeout_seconds = 0\n[[steps]]\nwait = 1\n", "reply_timeout_seconds", "> 0"),
        ("name = 3\n[[steps]]\nwait = 1\n", "name", "must be a string"),
    ],
)
def test_a_bad_top_level_value_is_reported_with_file_and_key(
    toml: str, key: str, words: str
) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(toml, source="bad.toml")
    assert caught.value.key == key
    assert caught.value.step is None
    assert str(caught.value).startswith(f"bad.toml, key {key!r}")
    assert words.replace("> 0", "greater than 0") in str(caught.value)


def test_invalid_toml_names_the_file() -> None:
    with pytest.raises(ScenarioError, match=r"^broken\.toml: not valid TOML"):
        parse_scenario("[[steps]\nsay = ", source="broken.toml")


def test_a_step_that_is_not_a_table_is_reported() -> None:
    with pytest.raises(ScenarioError, match=r"^x\.toml, step 2: each step must be a table"):
        parse_scenario('steps = [{say = "hi"}, "wait"]\n', source="x.toml")


def test_a_missing_file_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ScenarioError, match=r"nope\.toml: cannot read the file"):
        load_scenario(missing)


def test_an_unknown_packaged_scenario_lists_the_known_ones() -> None:
    with pytest.raises(ScenarioError, match=r"known: .*demo"):
        load_packaged_scenario("no-such-scenario")


def test_hostile_input_is_cut_in_the_message() -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(f'[[steps]]\nwait = "{"x" * 5000}"\n', source="long.toml")
    assert len(str(caught.value)) < 300
