"""The documentation stays true: generated hook reference, every hook tested, links that work.

docs/hooks.md is generated from the hookspec docstrings (``python tools/docs_gen.py``);
these tests fail when it is stale, when a hook has no section or no ``test_hook_<name>``, when
configuration.md misses a setting, and when a relative link in the docs points nowhere.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest

from agentbot.runtime.config import (
    ENV_OVERRIDES,
    PLUGIN_RESERVED_KEYS,
    RuntimeSettings,
    SmartsuppSettings,
)
from agentbot.runtime.pacing import PacingSettings
from agentbot.runtime.plugins import HOOK_NAMES

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
DOCS = REPO_ROOT / "docs"


def _load_docs_gen() -> Any:
    """Import tools/docs_gen.py, a repository tool (not part of the installed package)."""
    spec = importlib.util.spec_from_file_location("docs_gen", REPO_ROOT / "tools" / "docs_gen.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # attrs resolves the module's classes through it
    spec.loader.exec_module(module)
    return module


docs_gen = _load_docs_gen()


def hook_docs() -> list[Any]:
    return docs_gen.parse_hookspecs(docs_gen.HOOKSPECS.read_text(encoding="utf-8"))


def test_hooks_md_is_generated_from_the_current_hookspecs() -> None:
    assert docs_gen.HOOKS_MD.read_text(encoding="utf-8") == docs_gen.build(), (
        "docs/hooks.md is out of date: run `python tools/docs_gen.py` and commit the result"
    )


def test_the_check_mode_reports_a_stale_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = tmp_path / "hooks.md"
    stale.write_text("# Hook reference\n\nold\n", encoding="utf-8")
    monkeypatch.setattr(docs_gen, "HOOKS_MD", stale)
    assert docs_gen.main(["--check"]) == 1
    assert "out of date" in capsys.readouterr().out
    monkeypatch.setattr(docs_gen, "REPO_ROOT", tmp_path)
    assert docs_gen.main([]) == 0
    assert docs_gen.main(["--check"]) == 0


def test_the_parser_finds_exactly_the_runtime_s_hooks() -> None:
    assert [hook.name for hook in hook_docs()] == list(HOOK_NAMES)


def test_every_hook_has_a_documented_section_with_an_example() -> None:
    text = docs_gen.HOOKS_MD.read_text(encoding="utf-8")
    missing = []
    for hook in hook_docs():
        heading = rf'<a id="{hook.name}"></a>\n\n### `{re.escape(hook.signature)}`\n'
        section = re.search(heading + r"(?P<body>.*?)(?=\n<a id=|\n## |\Z)", text, re.DOTALL)
        if section is None or "```python" not in section.group("body"):
            missing.append(hook.name)
        elif not hook.docstring.strip():
            missing.append(f"{hook.name} (no docstring)")
    assert not missing, f"hooks without a documented section and example: {missing}"


def test_every_hook_has_a_test_named_after_it() -> None:
    tests = "\n".join(
        path.read_text(encoding="utf-8") for path in (REPO_ROOT / "tests").rglob("test_*.py")
    )
    missing = [name for name in HOOK_NAMES if f"def test_hook_{name}(" not in tests]
    assert not missing, f"hooks without a test_hook_<name> in tests/: {missing}"


def test_a_hook_without_a_docstring_or_example_is_caught() -> None:
    source = (
        "@hookspec\ndef on_documented(bot):\n    '''Do a thing.\n\n    Example::\n\n"
        "        pass\n    '''\n\n@hookspec\ndef on_bare(bot):\n    pass\n"
    )
    hooks = docs_gen.parse_hookspecs(source)
    assert [(h.name, bool(h.docstring)) for h in hooks] == [
        ("on_documented", True),
        ("on_bare", False),
    ]
    rendered = docs_gen.render_hooks_md(hooks, {}, "")
    assert "### `on_bare(bot)`" in rendered
    assert "```python\npass\n```" in rendered


def test_rst_roles_become_markdown() -> None:
    text = (
        "Called before :func:`on_start`; see :class:`~agentbot.PluginBot` and "
        ":mod:`agentbot.api`. Use ``bot.say``.\n\nExample::\n\n    x = 1\n"
    )
    assert docs_gen.rst_to_markdown(text, ["on_start"]) == (
        "Called before [`on_start`](#on_start); see `PluginBot` and `agentbot.api`. "
        "Use `bot.say`.\n\nExample:\n\n```python\nx = 1\n```\n"
    )


# ---------------------------------------------------------------------------------------------
# configuration.md


def test_configuration_md_documents_every_setting() -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    sections = {
        "smartsupp": SmartsuppSettings,
        "pacing": PacingSettings,
        "runtime": RuntimeSettings,
    }
    missing = []
    for section, cls in sections.items():
        body = re.search(rf"^## `\[{section}\]`\n(?P<body>.*?)(?=^## |\Z)", text, re.M | re.S)
        if body is None:
            missing.append(f"[{section}]")
            continue
        for field in attrs.fields(cls):
            if f"`{field.name}`" not in body.group("body"):
                missing.append(f"[{section}] {field.name}")
    missing += [f"env {name}" for name in ENV_OVERRIDES if f"`{name}`" not in text]
    missing += [f"plugin key {key}" for key in PLUGIN_RESERVED_KEYS if f"`{key}`" not in text]
    assert not missing, f"configuration.md does not document: {missing}"


# ---------------------------------------------------------------------------------------------
# Links


LINK = re.compile(r"\[[^\]]*\]\((?P<target>[^)\s]+)\)")


def markdown_files() -> list[Path]:
    files = [REPO_ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
    files += sorted((REPO_ROOT / "examples").rglob("README.md"))
    return files


def anchors(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    found = set(re.findall(r'<a id="([^"]+)"></a>', text))
    for heading in re.findall(r"^#+ (.+)$", text, re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        found.add(slug)
    return found


def shown(path: Path) -> str:
    return path.relative_to(REPO_ROOT).as_posix()


@pytest.mark.parametrize("path", markdown_files(), ids=shown)
def test_relative_links_point_to_existing_files_and_anchors(path: Path) -> None:
    broken = []
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # links inside code are not links
    for match in LINK.finditer(text):
        target = match.group("target")
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        missing_anchor = anchor and linked.suffix == ".md" and anchor not in anchors(linked)
        if not linked.exists() or missing_anchor:
            broken.append(target)
    assert not broken, f"{path.name}: broken links {broken}"
