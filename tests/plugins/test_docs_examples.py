"""Every bot.toml example in docs/plugins.md is valid for the plugins' config classes."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from .conftest import prepare

DOC = Path(__file__).resolve().parent.parent.parent / "docs" / "plugins.md"
BLOCKS = re.findall(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
EXAMPLES = [block for block in BLOCKS if "[plugins." in block]


def test_the_doc_has_an_example_per_plugin() -> None:
    named = {name for block in EXAMPLES for name in re.findall(r"\[plugins\.(\w+)", block)}
    assert named >= {"greeter", "faq", "after_hours", "handoff"}


@pytest.mark.parametrize("block", EXAMPLES, ids=lambda b: re.findall(r"\[(.*?)\]", b)[0])
def test_example_config_is_valid(block: str, tmp_path: Path) -> None:
    data: dict[str, Any] = tomllib.loads(block.replace("…", "x"))
    sections = data["plugins"]
    if "faq" in sections:
        faq = tmp_path / "faq.toml"
        faq.write_text('[[entry]]\nquestion = "q"\nanswer = "a"\n', encoding="utf-8")
        sections["faq"]["file"] = str(faq)
    bot = prepare(sections)
    assert {p.name for p in bot.host.plugins} == set(sections)
