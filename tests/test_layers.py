"""Enforce the import direction between agentbot's layers (docs/ARCHITECTURE.md, STYLE §1).

Every module under agentbot/, plugins/ (shipped as ``agentbot_plugins``) and examples/ is
parsed with ``ast``; every import counts, wherever it is written: at the top, inside a
function, under ``if TYPE_CHECKING:``, or as ``importlib.import_module("literal")``. Only
modules that exist are checked, so the rules hold from the first commit of each layer.

The rules are the table ``RULES``. Changing a rule means changing that row and saying why in
the same commit. Each row carries an example that breaks it; the checker must catch every
example, so a rule that stops working fails this file.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

STDLIB = "<stdlib>"
"""Stands for every module of the standard library in a rule's ``allowed`` list."""

EXACT = "="
"""A module prefix written ``=name`` matches ``name`` itself only, not its submodules."""

# Where modules live, and the top-level name each folder is imported as.
SOURCE_ROOTS: dict[str, str] = {
    "agentbot": "agentbot",
    "plugins": "agentbot_plugins",  # hatch_build.py ships plugins/ as agentbot_plugins
    "examples": "examples",
}
FIRST_PARTY = ("agentbot", "agentbot_plugins", "examples")

# Public code (plugins, examples) may use only the names agentbot/__init__.py re-exports.
PUBLIC_CODE = ("agentbot_plugins", "examples")


@dataclass(frozen=True)
class Rule:
    """One import rule: which modules it governs, and what they may or may not import.

    ``applies_to`` and ``exempt`` are module prefixes (``agentbot.api`` covers
    ``agentbot.api`` and ``agentbot.api.models``; ``=agentbot`` covers only ``agentbot``).
    ``forbidden`` lists module prefixes the governed modules must not import. ``allowed``,
    when set, is the complete list of what they may import (``STDLIB`` for the standard
    library); with ``first_party_only`` it restricts only imports of our own packages and
    leaves third-party libraries alone.
    ``example`` is a module (path relative to the repo root, source) that breaks the rule.
    """

    name: str
    why: str
    applies_to: tuple[str, ...]
    example: tuple[str, str]
    forbidden: tuple[str, ...] = ()
    allowed: tuple[str, ...] | None = None
    first_party_only: bool = False
    exempt: tuple[str, ...] = ()


RULES: tuple[Rule, ...] = (
    Rule(
        name="errors-is-a-stdlib-leaf",
        why="every layer, protocol/ included, raises from agentbot/errors.py",
        applies_to=("agentbot.errors",),
        allowed=(STDLIB, "agentbot.errors"),
        example=("agentbot/errors.py", "import attrs\n"),
    ),
    Rule(
        name="protocol-is-sans-io",
        why="protocol/ is sans-IO: standard library and agentbot.errors only",
        applies_to=("agentbot.protocol",),
        allowed=(STDLIB, "agentbot.errors", "agentbot.protocol"),
        example=("agentbot/protocol/engineio.py", "from agentbot.api import models\n"),
    ),
    Rule(
        name="protocol-has-no-io-clock-or-logging",
        why="protocol/ never touches sockets, event loops, clocks or logging: callers do",
        applies_to=("agentbot.protocol",),
        forbidden=(
            "anyio",
            "asyncio",
            "httpx",
            "httpx_ws",
            "logging",
            "selectors",
            "socket",
            "ssl",
            "time",
            "trio",
        ),
        example=(
            "agentbot/protocol/socketio.py",
            "def now() -> float:\n    import time\n\n    return time.monotonic()\n",
        ),
    ),
    Rule(
        name="api-sits-below-client-runtime-sandbox",
        why="api/ (models, requests, events) is used by the client and the sandbox alike",
        applies_to=("agentbot.api",),
        forbidden=("agentbot.client", "agentbot.runtime", "agentbot.sandbox", "agentbot_plugins"),
        example=(
            "agentbot/api/events.py",
            "from typing import TYPE_CHECKING\n\n"
            "if TYPE_CHECKING:\n    from agentbot.client import AgentClient\n",
        ),
    ),
    Rule(
        name="only-api-imports-cattrs",
        why="one converter in api/ owns every wire-name mapping",
        applies_to=FIRST_PARTY,
        exempt=("agentbot.api",),
        forbidden=("cattrs",),
        example=("agentbot/runtime/config.py", "import cattrs\n"),
    ),
    Rule(
        name="only-client-imports-httpx",
        why="client.py owns the HTTP/WebSocket stack; the sandbox serves with starlette/uvicorn",
        applies_to=FIRST_PARTY,
        # Plugins are not a layer of the framework: like any third-party plugin, the
        # built-ins POST their own webhooks (after_hours leads, handoff notifications), and
        # the example plugins call their own services (order_status asks a shop's API).
        exempt=("agentbot.client", "agentbot_plugins", "examples"),
        forbidden=("httpx", "httpx_ws"),
        example=("agentbot/sandbox/app.py", "from httpx_ws import aconnect_ws\n"),
    ),
    Rule(
        name="client-sits-below-runtime-and-sandbox",
        why="a lower layer never imports a higher one",
        applies_to=("agentbot.client",),
        forbidden=("agentbot.runtime", "agentbot.sandbox", "agentbot_plugins"),
        example=("agentbot/client.py", "from agentbot.runtime import Bot\n"),
    ),
    Rule(
        name="sandbox-uses-protocol-and-api-only",
        why="the sandbox shares framing with the client, never the client itself",
        applies_to=("agentbot.sandbox",),
        allowed=("agentbot.protocol", "agentbot.api", "agentbot.errors", "agentbot.sandbox"),
        first_party_only=True,
        example=("agentbot/sandbox/server.py", "from agentbot import client\n"),
    ),
    Rule(
        name="runtime-never-imports-sandbox-or-cli",
        why="the bot runs against any server; only cli.py and testing.py wire in the sandbox",
        applies_to=("agentbot.runtime",),
        forbidden=("agentbot.sandbox", "agentbot.cli", "agentbot_plugins"),
        example=("agentbot/runtime/bot.py", "from ..sandbox import create_app\n"),
    ),
    Rule(
        name="cli-and-testing-are-leaves",
        why="cli.py and testing.py are entry points (console script, pytest plugin)",
        applies_to=("agentbot",),
        exempt=("agentbot.cli", "agentbot.testing", "agentbot.__main__"),
        forbidden=("agentbot.cli", "agentbot.testing"),
        example=("agentbot/runtime/bot.py", "import agentbot.cli\n"),
    ),
    Rule(
        name="the-package-never-imports-tools",
        why="tools/ (docs generator, SDK build) serves the repository and is not shipped",
        applies_to=("agentbot", "agentbot_plugins"),
        forbidden=("tools",),
        example=("agentbot/cli.py", "from tools import docs_gen\n"),
    ),
    Rule(
        name="public-code-uses-the-public-api",
        why="plugins and examples prove the public API: agentbot's re-exported names only",
        applies_to=PUBLIC_CODE,
        # agentbot.testing only in test files, and only re-exported names from agentbot:
        # both checked by public_api_violations().
        allowed=("=agentbot", "agentbot.testing", "agentbot_plugins", "examples"),
        first_party_only=True,
        example=("plugins/greeter.py", "from agentbot.runtime.bot import Bot\n"),
    ),
)


@dataclass(frozen=True)
class Import:
    """One imported module (absolute), where it was written, and the names taken from it."""

    module: str
    line: int
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Violation:
    """A module that breaks a rule (or the public-API rule), with where and why."""

    rule: str
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: [{self.rule}] {self.message}"


def iter_modules(root: Path) -> Iterator[tuple[Path, str]]:
    """Yield (file, dotted module name) for every Python file under the source roots."""
    for folder, package in SOURCE_ROOTS.items():
        base = root / folder
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*.py")):
            parts = path.relative_to(base).with_suffix("").parts
            if any(part.startswith(".") or part == "node_modules" for part in parts):
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield path, ".".join((package, *parts))


def is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def module_file(root: Path, module: str) -> Path | None:
    """Return the folder or file that holds ``module`` under the source roots, if any."""
    top, _, rest = module.partition(".")
    for folder, package in SOURCE_ROOTS.items():
        if package == top:
            base = root / folder / rest.replace(".", "/") if rest else root / folder
            if base.is_dir():
                return base
            if base.with_suffix(".py").is_file():
                return base.with_suffix(".py")
    return None


def resolve_relative(module: str, is_pkg: bool, level: int, target: str | None) -> str:
    """Turn ``from ..x import y`` in ``module`` into the absolute module it names."""
    package = module.split(".") if is_pkg else module.split(".")[:-1]
    if level - 1 > len(package) - 1:
        # Beyond the top-level package: report it as written; no rule will allow it.
        return "." * level + (target or "")
    base = package[: len(package) - (level - 1)]
    return ".".join([*base, target] if target else base)


def imports_of(path: Path, module: str, root: Path) -> list[Import]:
    """Return every module ``path`` imports, resolved to absolute names."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(Import(alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            source = node.module
            if node.level:
                source = resolve_relative(module, is_package(path), node.level, node.module)
            assert source is not None
            names = tuple(alias.name for alias in node.names)
            # `from agentbot import client` imports the submodule agentbot.client.
            submodules = [n for n in names if module_file(root, f"{source}.{n}") is not None]
            found.extend(Import(f"{source}.{n}", node.lineno) for n in submodules)
            rest = tuple(n for n in names if n not in submodules)
            if rest or not submodules:
                found.append(Import(source, node.lineno, rest))
        elif isinstance(node, ast.Call) and (target := dynamic_import(node)):
            found.append(Import(target, node.lineno))
    return found


def dynamic_import(call: ast.Call) -> str | None:
    """The module of ``importlib.import_module("x")`` or ``__import__("x")``, if literal."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name not in {"import_module", "__import__"} or not call.args:
        return None
    first = call.args[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value if not first.value.startswith(".") else None
    return None


def matches(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(
        module == p.removeprefix(EXACT)
        if p.startswith(EXACT)
        else (module == p or module.startswith(p + "."))
        for p in prefixes
    )


def is_stdlib(module: str) -> bool:
    return module.partition(".")[0] in sys.stdlib_module_names or module == "__future__"


def is_first_party(module: str) -> bool:
    return matches(module, FIRST_PARTY)


def allowed_by(rule: Rule, module: str) -> bool:
    assert rule.allowed is not None
    if rule.first_party_only and not is_first_party(module):
        return True
    return (STDLIB in rule.allowed and is_stdlib(module)) or matches(module, rule.allowed)


def public_names(root: Path) -> set[str]:
    """The names agentbot/__init__.py lists in ``__all__`` (read with ast, not imported)."""
    init = root / "agentbot" / "__init__.py"
    if not init.is_file():
        return set()
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return {str(name) for name in ast.literal_eval(node.value)}
    return set()


def is_test_file(relative: str) -> bool:
    parts = relative.split("/")
    return parts[-1].startswith("test_") or parts[-1] == "conftest.py" or "tests" in parts[:-1]


def check(root: Path, rules: tuple[Rule, ...] = RULES) -> tuple[list[Violation], int]:
    """Check every module under ``root``; return the violations and how many modules were read."""
    exported = public_names(root)
    violations: list[Violation] = []
    count = 0
    for path, module in iter_modules(root):
        count += 1
        shown = path.relative_to(root).as_posix()
        for imported in imports_of(path, module, root):
            target = imported.module
            for rule in rules:
                if not matches(module, rule.applies_to) or matches(module, rule.exempt):
                    continue
                if matches(target, rule.forbidden) or (
                    rule.allowed is not None and not allowed_by(rule, target)
                ):
                    message = f"{module} imports {target}: {rule.why}"
                    violations.append(Violation(rule.name, shown, imported.line, message))
            if matches(module, PUBLIC_CODE):
                violations.extend(public_api_violations(shown, imported, exported))
    return violations, count


def public_api_violations(shown: str, imported: Import, exported: set[str]) -> list[Violation]:
    """Plugins/examples: ``agentbot`` names must be re-exported; testing only in tests."""
    rule = "public-code-uses-the-public-api"
    target = imported.module
    if matches(target, ("agentbot.testing",)):
        if is_test_file(shown):
            return []
        return [Violation(rule, shown, imported.line, f"{target} is for tests only")]
    if target != "agentbot":
        return []  # other first-party modules are the table's business
    unknown = sorted(set(imported.names) - exported - {"*"})
    return [
        Violation(rule, shown, imported.line, f"agentbot does not re-export {name!r}")
        for name in unknown
    ]


# ---------------------------------------------------------------------------------------------
# The real tree


def test_layer_rules_hold() -> None:
    violations, count = check(REPO_ROOT)
    assert count >= 3, "the checker read almost nothing: are the source roots right?"
    assert not violations, "import rules broken:\n" + "\n".join(map(str, violations))


def test_public_api_names_are_found() -> None:
    # If __all__ could not be read, the public-API rule would reject every name.
    assert "AgentbotError" in public_names(REPO_ROOT)


# ---------------------------------------------------------------------------------------------
# The checker itself, on synthetic trees


def write(root: Path, relative: str, source: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    for parent in path.relative_to(root).parents:
        if parent.parts and parent.parts[0] == "agentbot":
            (root / parent / "__init__.py").touch()
    path.write_text(source, encoding="utf-8")


def synthetic_tree(root: Path) -> None:
    """A small tree that keeps every rule, with each layer present."""
    write(root, "agentbot/__init__.py", '__all__ = ["Bot", "Reply"]\nfrom .runtime import Bot\n')
    write(root, "agentbot/errors.py", "from typing import Any\n")
    write(root, "agentbot/protocol/engineio.py", "import json\nfrom agentbot.errors import X\n")
    write(root, "agentbot/api/models.py", "import attrs\nimport cattrs\nfrom ..protocol import y\n")
    write(root, "agentbot/client.py", "import anyio\nimport httpx_ws\nfrom agentbot.api import z\n")
    write(root, "agentbot/runtime/__init__.py", "import pluggy\nfrom agentbot.client import C\n")
    write(root, "agentbot/sandbox/app.py", "import starlette\nfrom agentbot.api import models\n")
    write(root, "agentbot/cli.py", "from agentbot.sandbox import app\nfrom agentbot import Bot\n")
    write(root, "agentbot/testing.py", "from agentbot.runtime import Bot\n")
    write(root, "plugins/greeter.py", "import re\nfrom agentbot import Bot, Reply\n")
    write(root, "plugins/tests/test_greeter.py", "from agentbot.testing import harness\n")


def test_checker_passes_a_tree_that_keeps_the_rules(tmp_path: Path) -> None:
    synthetic_tree(tmp_path)
    violations, count = check(tmp_path)
    assert count == 14  # the 11 files written plus 3 package __init__.py files
    assert violations == []


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.name)
def test_checker_catches_a_module_that_breaks_the_rule(tmp_path: Path, rule: Rule) -> None:
    synthetic_tree(tmp_path)
    relative, source = rule.example
    write(tmp_path, relative, source)
    violations, _ = check(tmp_path)
    assert rule.name in {v.rule for v in violations}, violations
    assert all(v.path == relative for v in violations), violations


@pytest.mark.parametrize(
    ("relative", "source", "rule"),
    [
        pytest.param(
            "agentbot/protocol/x.py",
            "import typing\nif typing.TYPE_CHECKING:\n    import anyio\n",
            "protocol-has-no-io-clock-or-logging",
            id="type-checking-block",
        ),
        pytest.param(
            "agentbot/protocol/x.py",
            "class C:\n    def f(self):\n        from logging import getLogger\n",
            "protocol-has-no-io-clock-or-logging",
            id="import-inside-a-method",
        ),
        pytest.param(
            "agentbot/protocol/x.py",
            "import importlib\nimportlib.import_module('agentbot.api.models')\n",
            "protocol-is-sans-io",
            id="import-module-literal",
        ),
        pytest.param(
            "agentbot/sandbox/sub/deep.py",
            "from ...runtime import bot\n",
            "sandbox-uses-protocol-and-api-only",
            id="relative-import-three-dots",
        ),
        pytest.param(
            "agentbot/sandbox/__init__.py",
            "from .. import client\n",
            "sandbox-uses-protocol-and-api-only",
            id="relative-import-from-package-init",
        ),
        pytest.param(
            "agentbot/api/x.py",
            "import agentbot.sandbox.app as app\n",
            "api-sits-below-client-runtime-sandbox",
            id="import-as",
        ),
        pytest.param(
            "plugins/faq.py",
            "from agentbot import Bot, AgentClient\n",
            "public-code-uses-the-public-api",
            id="name-not-re-exported",
        ),
        pytest.param(
            "plugins/faq.py",
            "from agentbot.testing import harness\n",
            "public-code-uses-the-public-api",
            id="testing-outside-tests",
        ),
        pytest.param(
            "examples/echo.py",
            "from agentbot.client import AgentClient\n",
            "public-code-uses-the-public-api",
            id="example-uses-internals",
        ),
    ],
)
def test_checker_sees_every_form_of_import(
    tmp_path: Path, relative: str, source: str, rule: str
) -> None:
    synthetic_tree(tmp_path)
    write(tmp_path, relative, source)
    violations, _ = check(tmp_path)
    assert rule in {v.rule for v in violations}, violations


def test_violation_names_file_line_and_reason(tmp_path: Path) -> None:
    synthetic_tree(tmp_path)
    write(tmp_path, "agentbot/protocol/x.py", '"""Doc."""\n\nimport socket\n')
    violations, _ = check(tmp_path)
    assert [str(v) for v in violations] == [
        "agentbot/protocol/x.py:3: [protocol-has-no-io-clock-or-logging] agentbot.protocol.x "
        "imports socket: protocol/ never touches sockets, event loops, clocks or logging: "
        "callers do"
    ]
