"""A plugin author finds every type the hooks and ``bot`` use in ``agentbot`` itself.

Plugins use only names re-exported from agentbot/__init__.py (STYLE.md §1), so every class
named in a hook's signature or in a public ``PluginBot`` member must be among them.
"""

from __future__ import annotations

import inspect
import re

import agentbot
from agentbot.runtime import hookspecs
from agentbot.runtime.handle import PluginBot
from agentbot.runtime.plugins import HOOK_NAMES

STDLIB = {"Any", "Awaitable", "Callable", "Literal", "Mapping", "None", "Path", "Sequence"}
"""Names from the standard library (``typing``, ``collections.abc``, ``pathlib``)."""

THIRD_PARTY = {"Event", "Group"}
"""``click.Group`` (register_commands): a plugin with commands imports click itself;
``anyio.Event`` (``bot.wait_for``): plugins are async on anyio already."""


def class_names(annotation: object) -> set[str]:
    return set(re.findall(r"\b[A-Z][A-Za-z]+\b", str(annotation))) - STDLIB - THIRD_PARTY


def annotations_of(function: object) -> set[str]:
    signature = inspect.signature(function)  # type: ignore[arg-type]
    names = class_names(signature.return_annotation)
    for parameter in signature.parameters.values():
        names |= class_names(parameter.annotation)
    return names


def test_every_type_in_a_hook_signature_is_exported() -> None:
    missing = {
        f"{hook}: {name}"
        for hook in HOOK_NAMES
        for name in annotations_of(getattr(hookspecs, hook))
        if name not in agentbot.__all__
    }
    assert not missing


def test_every_type_in_the_plugin_bot_api_is_exported() -> None:
    missing = set()
    for name, member in vars(PluginBot).items():
        if name.startswith("_"):
            continue
        function = member.fget if isinstance(member, property) else member
        if not callable(function):
            continue
        missing |= {
            f"PluginBot.{name}: {n}" for n in annotations_of(function) if n not in agentbot.__all__
        }
    assert not missing


def test_the_names_a_plugin_needs_from_the_runtime_are_exported() -> None:
    for name in ("hookimpl", "Reply", "PluginBot", "KeyValueStore", "PluginError"):
        assert getattr(agentbot, name) is not None
        assert name in agentbot.__all__
