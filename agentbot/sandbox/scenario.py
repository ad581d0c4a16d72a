"""Scripted visitors: the TOML scenario format and its loader.

A scenario is what a person would do on a website: open a page, say something, wait for the
agent's answer, type for a while, ask for a human. ``agentbot demo`` plays the packaged
``demo.toml``; tests and plugin authors write their own. The format::

    name = "Pricing question"            # optional, defaults to the file name
    description = "..."                  # optional
    reply_timeout_seconds = 20           # optional default for wait_for_reply = true

    [visitor]                            # optional; every key optional
    name = "Alice"
    email = "alice@example.com"
    lang = "en"
    page = "https://shop.example/pricing"   # the page the visitor is on (pageUrl)
    title = "Pricing"                        # its title (pageTitle)

    [[steps]]
    say = "Hi!"
    typing_seconds = 1.5                 # optional: type this long before sending

    [[steps]]
    wait_for_reply = true                # or a number: the timeout in seconds

    [[steps]]
    wait = 2                             # seconds

    [[steps]]
    typing = true                        # visitor starts (true) or stops (false) typing

Each step is a table with exactly one action key (``say``, ``wait``, ``wait_for_reply``,
``typing``); a mistake raises :class:`ScenarioError` naming the file, the step (counted
from 1, as a person reads the file) and the key.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

from agentbot.errors import ConfigError, safe_snippet

__all__ = [
    "DEFAULT_REPLY_TIMEOUT_SECONDS",
    "MAX_STEP_SECONDS",
    "MAX_TEXT_CHARS",
    "Say",
    "Scenario",
    "ScenarioError",
    "Step",
    "Typing",
    "VisitorProfile",
    "Wait",
    "WaitForReply",
    "load_packaged_scenario",
    "load_scenario",
    "packaged_scenarios",
    "parse_scenario",
]

DEFAULT_REPLY_TIMEOUT_SECONDS = 30.0
# A scripted visitor is a demo or a test: an hour-long wait is a typo, not a plan.
MAX_STEP_SECONDS = 600.0
MAX_TEXT_CHARS = 10_000

_ACTIONS = ("say", "wait", "wait_for_reply", "typing")
_STEP_OPTIONS = {"say": {"typing_seconds"}}
_VISITOR_KEYS = {
    "name": "name",
    "email": "email",
    "lang": "lang",
    "page": "page_url",
    "title": "page_title",
}
_TOP_KEYS = {"name", "description", "reply_timeout_seconds", "visitor", "steps"}


class ScenarioError(ConfigError):
    """A scenario file is malformed; ``path``, ``step`` (1-based) and ``key`` say where."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        step: int | None = None,
        key: str | None = None,
    ) -> None:
        self.step = step
        where = path or "<scenario>"
        if step is not None:
            where += f", step {step}"
        if key is not None:
            where += f", key {key!r}"
        super().__init__(
            f"{where}: {message}",
            path=path,
            section=f"steps[{step}]" if step is not None else None,
            key=key,
        )


# Builds the error for one place in one file: fail(message, step=..., key=...).
_Fail = Callable[..., "ScenarioError"]


@attrs.frozen(kw_only=True)
class VisitorProfile:
    """Who the scripted visitor is, sent in ``visitor.connect``."""

    name: str | None = None
    email: str | None = None
    lang: str | None = None
    page_url: str | None = None
    page_title: str | None = None


@attrs.frozen(kw_only=True)
class Say:
    """Send a chat message, optionally after typing for ``typing_seconds``."""

    text: str
    typing_seconds: float = 0.0


@attrs.frozen(kw_only=True)
class Wait:
    """Do nothing for ``seconds``."""

    seconds: float


@attrs.frozen(kw_only=True)
class WaitForReply:
    """Wait until an agent (or the bot) answers the visitor's latest message."""

    timeout_seconds: float


@attrs.frozen(kw_only=True)
class Typing:
    """Start (``is_typing=True``) or stop showing the visitor as typing."""

    is_typing: bool


Step = Say | Wait | WaitForReply | Typing


@attrs.frozen(kw_only=True)
class Scenario:
    """A parsed scenario: a visitor and the steps it plays, in order."""

    name: str
    description: str = ""
    visitor: VisitorProfile = VisitorProfile()
    steps: tuple[Step, ...]
    source: str = "<scenario>"


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate the scenario file at ``path``.

    Raises :class:`ScenarioError` for a missing or unreadable file, invalid TOML or a step
    that does not fit the format; the message names the file and the step.
    """
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"cannot read the file ({exc})", path=source, key=None) from exc
    return parse_scenario(text, source=source, default_name=Path(path).stem)


def packaged_scenarios() -> list[str]:
    """Name the scenarios shipped inside agentbot (``demo``, ...), sorted."""
    folder = resources.files("agentbot.sandbox") / "scenarios"
    return sorted(
        entry.name.removesuffix(".toml")
        for entry in folder.iterdir()
        if entry.name.endswith(".toml")
    )


def load_packaged_scenario(name: str = "demo") -> Scenario:
    """Load a scenario shipped inside agentbot by name (``agentbot demo`` plays ``demo``)."""
    if name not in packaged_scenarios():
        raise ScenarioError(
            f"no packaged scenario {name!r}; known: {', '.join(packaged_scenarios())}",
            path=None,
            key=None,
        )
    entry = resources.files("agentbot.sandbox") / "scenarios" / f"{name}.toml"
    return parse_scenario(
        entry.read_text(encoding="utf-8"), source=f"{name}.toml", default_name=name
    )


def parse_scenario(text: str, *, source: str = "<scenario>", default_name: str = "") -> Scenario:
    """Validate scenario TOML ``text``; ``source`` names it in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"not valid TOML: {exc}", path=source, key=None) from exc

    def fail(message: str, *, step: int | None = None, key: str | None = None) -> ScenarioError:
        return ScenarioError(message, path=source, step=step, key=key)

    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise fail(f"unknown top-level key (known: {', '.join(sorted(_TOP_KEYS))})", key=unknown[0])
    name = _text(data.get("name", default_name or source), fail, key="name")
    description = _text(data.get("description", ""), fail, key="description")
    reply_timeout = _seconds(
        data.get("reply_timeout_seconds", DEFAULT_REPLY_TIMEOUT_SECONDS),
        fail,
        key="reply_timeout_seconds",
        positive=True,
    )
    visitor = _visitor(data.get("visitor", {}), fail)
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise fail("a scenario needs at least one [[steps]] table", key="steps")
    steps = tuple(
        _step(raw, fail, number=number, reply_timeout=reply_timeout)
        for number, raw in enumerate(raw_steps, start=1)
    )
    return Scenario(name=name, description=description, visitor=visitor, steps=steps, source=source)


def _visitor(raw: Any, fail: _Fail) -> VisitorProfile:
    if not isinstance(raw, Mapping):
        raise fail("[visitor] must be a table", key="visitor")
    values: dict[str, str] = {}
    for key, value in raw.items():
        if key not in _VISITOR_KEYS:
            raise fail(
                f"unknown key in [visitor] (known: {', '.join(_VISITOR_KEYS)})",
                key=f"visitor.{key}",
            )
        values[_VISITOR_KEYS[key]] = _text(value, fail, key=f"visitor.{key}")
    return VisitorProfile(**values)


def _step(raw: Any, fail: _Fail, *, number: int, reply_timeout: float) -> Step:
    if not isinstance(raw, Mapping):
        raise fail('each step must be a table like {say = "Hi"}', step=number)
    actions = [key for key in _ACTIONS if key in raw]
    if len(actions) != 1:
        found = f"found {', '.join(actions)}" if actions else "found none"
        raise fail(f"a step needs exactly one of {', '.join(_ACTIONS)} ({found})", step=number)
    action = actions[0]
    allowed = {action} | _STEP_OPTIONS.get(action, set())
    extra = sorted(set(raw) - allowed)
    if extra:
        raise fail(f"this key does not belong in a {action!r} step", step=number, key=extra[0])
    value = raw[action]
    if action == "say":
        text = _text(value, fail, key="say", step=number)
        if not text.strip():
            raise fail("the message is empty", step=number, key="say")
        if len(text) > MAX_TEXT_CHARS:
            raise fail(
                f"the message is longer than {MAX_TEXT_CHARS} characters", step=number, key="say"
            )
        typing_seconds = _seconds(
            raw.get("typing_seconds", 0.0), fail, key="typing_seconds", step=number
        )
        return Say(text=text, typing_seconds=typing_seconds)
    if action == "wait":
        return Wait(seconds=_seconds(value, fail, key="wait", step=number))
    if action == "wait_for_reply":
        if value is True:
            return WaitForReply(timeout_seconds=reply_timeout)
        if value is False:
            raise fail(
                "use true or a timeout in seconds (false waits for nothing)",
                step=number,
                key="wait_for_reply",
            )
        timeout = _seconds(value, fail, key="wait_for_reply", step=number, positive=True)
        return WaitForReply(timeout_seconds=timeout)
    if not isinstance(value, bool):
        raise fail(f"must be true or false, got {safe_snippet(value)}", step=number, key="typing")
    return Typing(is_typing=value)


def _text(value: Any, fail: _Fail, *, key: str, step: int | None = None) -> str:
    if not isinstance(value, str):
        raise fail(f"must be a string, got {safe_snippet(value)}", step=step, key=key)
    return value


def _seconds(
    value: Any, fail: _Fail, *, key: str, step: int | None = None, positive: bool = False
) -> float:
    # bool is an int subclass in Python: `wait = true` is a mistake, not one second.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail(f"must be a number of seconds, got {safe_snippet(value)}", step=step, key=key)
    seconds = float(value)
    if not math.isfinite(seconds) or seconds < 0 or (positive and seconds == 0):
        bound = "greater than 0" if positive else "0 or more"
        raise fail(f"must be {bound} seconds, got {value}", step=step, key=key)
    if seconds > MAX_STEP_SECONDS:
        raise fail(f"must be at most {MAX_STEP_SECONDS:g} seconds, got {value}", step=step, key=key)
    return seconds
