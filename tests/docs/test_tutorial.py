"""docs/plugin-tutorial.md, executed: its files written into a generated project, its tests run.

The tutorial marks code blocks with ``<!-- file: PATH -->`` (write the block to PATH),
``<!-- append: PATH -->`` (append it) and ``<!-- run: pytest -->`` (the reader runs the
tests here). This test does the same, in order, in a project made by ``agentbot
new-plugin shop-hours``; each run must pass, and the result must be lint clean.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from agentbot.scaffold import generate_plugin

TUTORIAL = Path(__file__).resolve().parent.parent.parent / "docs" / "plugin-tutorial.md"
STEP = re.compile(
    r"<!-- (?P<action>file|append|run): (?P<arg>[^ ]+) -->\n"
    r"(?:```[a-z]*\n(?P<code>.*?)```)?",
    re.DOTALL,
)
TEMPLATES = TUTORIAL.parent.parent / "agentbot" / "scaffold" / "templates" / "plugin"
CHILD_TIMEOUT_SECONDS = 50


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_SECONDS,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        check=False,
    )


def test_the_tutorial_builds_a_working_plugin(tmp_path: Path) -> None:
    project = generate_plugin("shop-hours", tmp_path)
    steps = list(STEP.finditer(TUTORIAL.read_text(encoding="utf-8")))
    assert [m.group("action") for m in steps].count("run") == 2, "tutorial markers changed?"
    runs = 0
    for step in steps:
        action, arg, code = step.group("action"), step.group("arg"), step.group("code")
        if action == "run":
            assert arg == "pytest"
            result = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], project)
            assert result.returncode == 0, f"run {runs + 1}:\n{result.stdout}{result.stderr}"
            runs += 1
            continue
        assert code is not None, f"<!-- {action}: {arg} --> must precede a code block"
        target = project / arg
        assert target.is_file(), f"the tutorial edits {arg}, which new-plugin does not create"
        if action == "file":
            target.write_text(code, encoding="utf-8")
        else:
            target.write_text(target.read_text(encoding="utf-8") + code, encoding="utf-8")
    passed = re.search(r"(\d+) passed", result.stdout)
    assert passed is not None
    assert int(passed.group(1)) >= 8  # 4 async tests x 2 backends + the entry-point test
    for command in (["check", "."], ["format", "--check", "."]):
        lint = run([sys.executable, "-m", "ruff", *command], project)
        assert lint.returncode == 0, lint.stdout + lint.stderr


def test_share_it_is_one_command_per_line_naming_the_wheel_new_plugin_builds() -> None:
    text = TUTORIAL.read_text(encoding="utf-8")
    section = text.split("## 7. Share it", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#", 1)[0].strip() for line in block.splitlines()]
    assert commands == [
        "pip install build",
        "python -m build",
        "pip install dist/shop_hours-0.1.0-py3-none-any.whl",
    ]
    template = (TEMPLATES / "pyproject.toml.tmpl").read_text(encoding="utf-8")
    version = re.search(r"^version = \"(.+)\"", template, re.MULTILINE)
    assert version is not None
    assert version.group(1) == "0.1.0"  # the wheel name above follows the template's version
