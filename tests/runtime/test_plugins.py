"""Plugin loading (entry points, files, modules), start-up checks, and safe hook calls."""

from __future__ import annotations

import importlib.metadata
import logging
import textwrap
from pathlib import Path
from typing import Any

import anyio
import attrs
import pytest

from agentbot import Reply, hookimpl
from agentbot.errors import ConfigError, PluginError
from agentbot.runtime.config import BotConfig, load_config
from agentbot.runtime.plugins import HOOK_NAMES, PluginHost

from .conftest import RunningBot
from .fakes import visitor_message

BASE = '[smartsupp]\nagent_id = "1"\nkey = "k"\n'


def config_file(tmp_path: Path, plugins: str) -> BotConfig:
    path = tmp_path / "bot.toml"
    path.write_text(BASE + textwrap.dedent(plugins), encoding="utf-8")
    return load_config(path, env={})


def write_plugin(tmp_path: Path, name: str, source: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def entry_point(name: str, value: str) -> importlib.metadata.EntryPoint:
    return importlib.metadata.EntryPoint(name=name, value=value, group="agentbot")


GREETER = """
import attrs
import agentbot

@attrs.frozen(kw_only=True)
class Options:
    greeting: str = "Hi"
    times: int = 1

@agentbot.hookimpl
def register_config(register):
    register(Options)

@agentbot.hookimpl
def on_visitor_message(bot):
    return agentbot.Reply(bot.config.greeting * bot.config.times)
"""


def test_hook_names_are_discovered_from_the_spec_module() -> None:
    assert HOOK_NAMES[0] == "register_config"
    assert "on_visitor_message" in HOOK_NAMES
    assert all(name.startswith(("on_", "register_")) for name in HOOK_NAMES)


def test_plugin_from_a_file_relative_to_bot_toml(tmp_path: Path) -> None:
    write_plugin(tmp_path, "greeter_file.py", GREETER)
    config = config_file(
        tmp_path, '[plugins.greet]\npath = "greeter_file.py"\ngreeting = "Hello"\n'
    )
    host = PluginHost(config, entry_points={})
    (plugin,) = host.load()
    host.validate_configs(lambda p: None)
    assert plugin.name == "greet"
    assert plugin.source.startswith("file ")
    assert plugin.config.greeting == "Hello"
    assert plugin.hooks == ("register_config", "on_visitor_message")


def test_plugin_from_an_entry_point_and_from_a_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_plugin(tmp_path, "ep_plugin_mod.py", GREETER)
    write_plugin(
        tmp_path,
        "class_plugin_mod.py",
        """
        import agentbot

        class Plugin:
            @agentbot.hookimpl
            def on_start(self):
                pass
        """,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    config = config_file(
        tmp_path,
        """
        [plugins.greeter]
        times = 2
        [plugins.cls]
        path = "class_plugin_mod:Plugin"
        """,
    )
    host = PluginHost(config, entry_points={"greeter": entry_point("greeter", "ep_plugin_mod")})
    greeter, cls = host.load()
    host.validate_configs(lambda p: None)
    assert greeter.source == "entry point ep_plugin_mod"
    assert greeter.config.times == 2
    assert cls.source == "module class_plugin_mod:Plugin"
    assert type(cls.plugin).__name__ == "Plugin"  # a class is instantiated


def test_installed_plugin_without_a_section_does_not_run(tmp_path: Path) -> None:
    config = config_file(tmp_path, "")
    host = PluginHost(config, entry_points={"greeter": entry_point("greeter", "nowhere")})
    assert host.load() == ()


def test_disabled_plugin_is_not_even_imported(tmp_path: Path) -> None:
    config = config_file(tmp_path, '[plugins.broken]\npath = "missing.py"\nenabled = false\n')
    assert PluginHost(config, entry_points={}).load() == ()


def test_unknown_plugin_name_suggests_an_installed_one(tmp_path: Path) -> None:
    config = config_file(tmp_path, "[plugins.greter]\n")
    host = PluginHost(config, entry_points={"greeter": entry_point("greeter", "x")})
    message = r"\[plugins.greter\]: no installed plugin named 'greter'"
    with pytest.raises(ConfigError, match=message + r" \(did you mean 'greeter'\?\)"):
        host.load()


def test_plugin_that_fails_to_import_is_named(tmp_path: Path) -> None:
    write_plugin(tmp_path, "bad.py", "raise RuntimeError('boom at import')\n")
    config = config_file(tmp_path, '[plugins.bad]\npath = "bad.py"\n')
    with pytest.raises(
        PluginError,
        match=r"\[plugins.bad\] path: cannot load plugin 'bad': RuntimeError: boom at import",
    ) as info:
        PluginHost(config, entry_points={}).load()
    assert info.value.plugin == "bad"


def test_missing_plugin_file_is_named(tmp_path: Path) -> None:
    config = config_file(tmp_path, '[plugins.gone]\npath = "gone.py"\n')
    with pytest.raises(PluginError, match=r"cannot load plugin 'gone': FileNotFoundError"):
        PluginHost(config, entry_points={}).load()


def test_misspelt_hook_is_an_error_naming_the_plugin(tmp_path: Path) -> None:
    class Typo:
        @hookimpl
        def on_visitor_mesage(self) -> None:
            pass

    host = PluginHost(config_file(tmp_path, ""), extra=[("typo", Typo())], entry_points={})
    message = r"plugin 'typo' implements 'on_visitor_mesage', which is not an agentbot hook"
    with pytest.raises(
        PluginError, match=message + r" \(did you mean 'on_visitor_message'\?\)"
    ) as info:
        host.load()
    assert (info.value.plugin, info.value.hook) == ("typo", "on_visitor_mesage")


def test_unmarked_on_function_counts_as_an_implementation(tmp_path: Path) -> None:
    class Unmarked:
        def on_chat_opend(self) -> None:
            pass

    host = PluginHost(config_file(tmp_path, ""), extra=[("u", Unmarked())], entry_points={})
    with pytest.raises(PluginError, match="on_chat_opend"):
        host.load()


def test_parameter_the_hook_does_not_offer_is_an_error(tmp_path: Path) -> None:
    class Wrong:
        @hookimpl
        def on_visitor_message(self, txt: str) -> None:
            pass

    host = PluginHost(config_file(tmp_path, ""), extra=[("wrong", Wrong())], entry_points={})
    message = r"plugin 'wrong': on_visitor_message\(\) takes 'txt', which the hook does not offer"
    with pytest.raises(PluginError, match=message + r" \(did you mean 'text'\?\)"):
        host.load()


@pytest.mark.parametrize("option", ["tryfirst", "trylast", "wrapper", "hookwrapper"])
def test_hookimpl_options_the_runtime_would_ignore_are_refused(tmp_path: Path, option: str) -> None:
    # wrapper=True hooks used to never run, and nothing said so.
    class Optioned:
        @hookimpl(**{option: True})
        def on_visitor_message(self, text: str) -> Any:
            yield  # a generator, as pluggy wants of wrappers

    host = PluginHost(config_file(tmp_path, ""), extra=[("opt", Optioned())], entry_points={})
    with pytest.raises(PluginError) as info:
        host.load()
    assert str(info.value).startswith(
        f"plugin 'opt': on_visitor_message uses hookimpl({option}=True), which agentbot does "
        "not support ("
    )
    assert (info.value.plugin, info.value.hook) == ("opt", "on_visitor_message")


def test_specname_hookimpl_option_still_works(tmp_path: Path) -> None:
    class Renamed:
        @hookimpl(specname="on_visitor_message")
        def answer(self, text: str) -> None:
            pass

    host = PluginHost(config_file(tmp_path, ""), extra=[("r", Renamed())], entry_points={})
    (loaded,) = host.load()
    assert loaded.hooks == ("on_visitor_message",)


def test_order_then_position_decides_the_plugin_order(tmp_path: Path) -> None:
    class P:
        @hookimpl
        def on_start(self) -> None:
            pass

    config = config_file(tmp_path, "[plugins.a]\norder = 5\n[plugins.b]\n[plugins.c]\norder = -1\n")
    host = PluginHost(
        config, extra=[("a", P()), ("b", P()), ("c", P()), ("d", P())], entry_points={}
    )
    assert [p.name for p in host.load()] == ["c", "b", "d", "a"]


@attrs.frozen(kw_only=True)
class Options:
    limit: int
    token: str = attrs.field(default="", repr=False)


class Configured:
    @hookimpl
    def register_config(self, register: Any) -> None:
        register(Options)


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("limt = 3\n", r"\[plugins.cfg\] limt: unknown key \(did you mean 'limit'\?\)"),
        ("", r"\[plugins.cfg\] limit: missing required key"),
        ('limit = "3"\n', r"\[plugins.cfg\] limit: expected an integer, got '3'"),
        ("limit = 1\ntoken = 12345\n", r"\[plugins.cfg\] token: expected a string$"),
    ],
)
def test_plugin_options_are_validated_naming_file_section_key(
    tmp_path: Path, section: str, message: str
) -> None:
    config = config_file(tmp_path, "[plugins.cfg]\n" + section)
    host = PluginHost(config, extra=[("cfg", Configured())], entry_points={})
    host.load()
    with pytest.raises(ConfigError, match=message) as info:
        host.validate_configs(lambda p: None)
    assert info.value.path == str(tmp_path / "bot.toml")
    assert info.value.section == "plugins.cfg"


def test_options_for_a_plugin_without_config_class_are_an_error(tmp_path: Path) -> None:
    class Plain:
        @hookimpl
        def on_start(self) -> None:
            pass

    config = config_file(tmp_path, "[plugins.plain]\ncolour = 'red'\n")
    host = PluginHost(config, extra=[("plain", Plain())], entry_points={})
    host.load()
    with pytest.raises(
        ConfigError,
        match=r"\[plugins.plain\] colour: unknown key \(plugin 'plain' takes no options\)",
    ):
        host.validate_configs(lambda p: None)


def test_async_register_config_is_an_error(tmp_path: Path) -> None:
    class AsyncRegister:
        @hookimpl
        async def register_config(self, register: Any) -> None:
            register(Options)

    host = PluginHost(config_file(tmp_path, ""), extra=[("a", AsyncRegister())], entry_points={})
    host.load()
    with pytest.raises(PluginError, match="register_config must not be async"):
        host.validate_configs(lambda p: None)


# -- calling hooks ---------------------------------------------------------------------------


class Answer:
    def __init__(self, text: str, confidence: float = 1.0) -> None:
        self.reply = Reply(text, confidence)

    @hookimpl
    async def on_visitor_message(self) -> Reply:
        await anyio.lowlevel.checkpoint()
        return self.reply


class Raises:
    @hookimpl
    def on_visitor_message(self) -> Reply:
        raise RuntimeError("plugin bug")


class Hangs:
    @hookimpl
    async def on_visitor_message(self) -> Reply:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")


class AsyncRaises:
    @hookimpl
    async def on_visitor_message(self) -> Reply:
        await anyio.lowlevel.checkpoint()
        raise ValueError("async plugin bug")


class WrongType:
    @hookimpl
    def on_visitor_message(self) -> str:
        return "a bare string is not a Reply"


async def test_plugin_that_raises_or_hangs_does_not_stop_the_others(
    running_bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    plugins = {
        "raises": Raises(),
        "hangs": Hangs(),
        "async_raises": AsyncRaises(),
        "wrong": WrongType(),
        "good": Answer("still here", 0.1),
    }
    async with running_bot(named=plugins, runtime={"hook_timeout_seconds": 0.05}) as (bot, client):
        await client.feed(visitor_message("c1", "hello"))
        await client.wait_calls(3)
        assert client.messages() == ["still here"]
        assert bot.host.failures == {"raises": 1, "async_raises": 1, "wrong": 1}
        assert bot.host.timeouts == {"hangs": 1}
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert {r.getMessage().split(":")[0] for r in errors} >= {
        "plugin raises",
        "plugin hangs",
        "plugin async_raises",
        "plugin wrong",
    }
    raised = next(r for r in errors if r.getMessage().startswith("plugin raises"))
    assert raised.exc_info is not None  # the traceback is logged


async def test_trace_switch_logs_every_hook_call(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    host = PluginHost(
        config_file(tmp_path, ""), extra=[("a", Answer("hi"))], entry_points={}, trace=True
    )
    host.load()
    with caplog.at_level(logging.INFO, logger="agentbot.hooks"):
        results = await host.call(
            "on_visitor_message", lambda p: None, chat_id="c1", message=None, text="x", event=None
        )
    assert [r.value.text for r in results] == ["hi"]
    lines = [r.getMessage() for r in caplog.records if r.name == "agentbot.hooks"]
    assert lines[0] == "hook on_visitor_message → a()"
    assert lines[1].startswith("hook on_visitor_message ← a: Reply(text='hi'")


def test_trace_switch_is_read_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTBOT_TRACE_HOOKS", "1")
    assert PluginHost(config_file(tmp_path, ""), entry_points={}).trace is True
    monkeypatch.setenv("AGENTBOT_TRACE_HOOKS", "0")
    assert PluginHost(config_file(tmp_path, ""), entry_points={}).trace is False


async def test_async_implementations_run_concurrently_within_one_budget(tmp_path: Path) -> None:
    started: list[str] = []
    both = anyio.Event()

    class Waits:
        def __init__(self, name: str) -> None:
            self.name = name

        @hookimpl
        async def on_visitor_message(self) -> Reply:
            started.append(self.name)
            if len(started) == 2:
                both.set()
            await both.wait()  # deadlocks unless the two run at the same time
            return Reply(self.name)

    host = PluginHost(
        config_file(tmp_path, ""), extra=[("a", Waits("a")), ("b", Waits("b"))], entry_points={}
    )
    host.load()
    with anyio.fail_after(5):
        results = await host.call(
            "on_visitor_message", lambda p: None, chat_id="c", message=None, text="", event=None
        )
    assert [r.plugin.name for r in results] == ["a", "b"]


def test_entry_point_that_fails_to_import_names_the_entry_point(tmp_path: Path) -> None:
    config = config_file(tmp_path, "[plugins.ghost]\n")
    host = PluginHost(config, entry_points={"ghost": entry_point("ghost", "no_such_module_xyz")})
    message = (
        r"\[plugins.ghost\] \(entry point no_such_module_xyz\): cannot load plugin 'ghost': "
        r"ModuleNotFoundError"
    )
    with pytest.raises(PluginError, match=message):
        host.load()
