"""The README's Quickstart is two commands, each making and using a virtualenv itself.

On Debian's system Python a bare ``pip install`` fails (externally managed environment), so
each line creates ``.venv``, activates it and installs into it; docs/getting-started.md
repeats the same two lines, so the two never drift apart.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
VENV = "python3 -m venv .venv && . .venv/bin/activate && "


def quickstart_lines() -> list[str]:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Quickstart\n(?P<body>.*?)(?=^## )", readme, re.M | re.S)
    assert section is not None, "README.md has no ## Quickstart section"
    block = re.search(r"```sh\n(?P<code>.*?)```", section.group("body"), re.S)
    assert block is not None, "the Quickstart has no sh code block"
    return block.group("code").strip().splitlines()


def test_the_quickstart_is_two_commands_that_make_and_use_a_virtualenv() -> None:
    lines = quickstart_lines()
    assert len(lines) == 2
    demo, tests = lines
    assert demo == VENV + "pip install -e . && agentbot demo"
    assert tests == VENV + "pip install -e '.[test]' && pytest"


def test_getting_started_gives_the_same_two_lines() -> None:
    guide = (REPO_ROOT / "docs" / "getting-started.md").read_text(encoding="utf-8")
    for line in quickstart_lines():
        assert f"\n{line}\n" in guide, line
