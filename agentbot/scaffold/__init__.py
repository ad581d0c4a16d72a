"""``agentbot new-plugin NAME``: write a pip-installable plugin project that works at once.

The project it writes is the shortest path from an idea to a tested plugin: a package with
one hook and an attrs config class, registered under the ``agentbot`` entry-point group (the
way the built-in plugins are), a test that runs it in the harness (:mod:`agentbot.testing`)
and a README that says how to install, enable and test it. Its tests pass as generated:
tests/test_scaffold.py generates one and runs them in CI.

Names: ``NAME`` may be written ``order-status``, ``order_status`` or ``Order-Status``; the
project folder and distribution are ``order-status``, the import package and the plugin's
name in bot.toml (``[plugins.order_status]``) are ``order_status``.
"""

from __future__ import annotations

import importlib.metadata
import keyword
import re
import string
import sys
from importlib import resources
from pathlib import Path

import attrs

from agentbot.__about__ import __version__
from agentbot.errors import AgentbotError

__all__ = ["PluginNames", "ScaffoldError", "generate_plugin", "plugin_names"]

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
_TAKEN = frozenset({"agentbot", "agentbot_plugins", "plugins", "tests", "test", "src"})

# Template file (under templates/plugin/) → path in the generated project ("$package" and
# "$dist" are replaced). Templates are not named .py so tools never import or lint them as
# they are; the test lints what they generate.
_FILES = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "gitignore.tmpl": ".gitignore",
    "plugin.py.tmpl": "src/$package/plugin.py",
    "init.py.tmpl": "src/$package/__init__.py",
    "py.typed.tmpl": "src/$package/py.typed",
    "test_plugin.py.tmpl": "tests/test_plugin.py",
}


class ScaffoldError(AgentbotError):
    """The plugin project cannot be written: a bad name or an existing folder."""


@attrs.frozen
class PluginNames:
    """The spellings of one plugin name in the places it appears."""

    package: str
    """Import package and bot.toml section name: ``order_status``."""
    dist: str
    """Distribution and project folder name: ``order-status``."""
    title: str
    """Human-readable: ``Order status``."""


def plugin_names(name: str) -> PluginNames:
    """Derive the names from what the user typed; :class:`ScaffoldError` if it cannot be one.

    A name starts with a letter, holds letters, digits, ``-`` and ``_``, and must not shadow
    a standard-library module, a Python keyword, agentbot itself or an installed plugin
    (an ``agentbot`` entry point such as the built-in ``greeter``): bot.toml's
    ``[plugins.NAME]`` would then load the installed one, not the new project.
    """
    if not _NAME.fullmatch(name):
        raise ScaffoldError(
            f"{name[:40]!r} is not a plugin name: start with a letter, then letters, digits, "
            "'-' or '_' (at most 64 characters)"
        )
    package = name.lower().replace("-", "_")
    if keyword.iskeyword(package) or package in sys.stdlib_module_names or package in _TAKEN:
        raise ScaffoldError(
            f"{package!r} would shadow a Python keyword, a standard-library module or "
            "agentbot's own names; choose another name (e.g. 'my_" + package + "')"
        )
    installed = {entry.name for entry in importlib.metadata.entry_points(group="agentbot")}
    if package in installed:
        raise ScaffoldError(
            f"{package!r} is an installed plugin's name ([plugins.{package}] would load that "
            "one); choose another name (e.g. 'my_" + package + "')"
        )
    words = package.replace("_", " ").strip()
    return PluginNames(
        package=package, dist=package.replace("_", "-"), title=words[:1].upper() + words[1:]
    )


def _render(template: str, names: PluginNames) -> str:
    text = (resources.files(__package__) / "templates" / "plugin" / template).read_text(
        encoding="utf-8"
    )
    major, minor, *_ = __version__.split(".")
    return string.Template(text).substitute(
        package=names.package,
        dist=names.dist,
        title=names.title,
        agentbot_requirement=f"agentbot>={major}.{minor}",
    )


def generate_plugin(name: str, directory: str | Path = ".") -> Path:
    """Write the project for plugin ``name`` into ``directory/<dist name>``; return its path.

    Raises :class:`ScaffoldError` for a bad name or when the folder exists already (nothing
    is overwritten).
    """
    names = plugin_names(name)
    root = Path(directory) / names.dist
    if root.exists():
        raise ScaffoldError(f"{root} exists already; choose another name or folder")
    for template, relative in _FILES.items():
        target = root / string.Template(relative).substitute(package=names.package, dist=names.dist)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_render(template, names), encoding="utf-8")
    return root
