"""Every example in examples/ runs in CI: its own tests, its bot.toml, its deployment files.

The example plugin projects carry their own tests (written the way a plugin author writes
them, with ``agentbot.testing``); each runs here in a child pytest, in the example's folder,
as its README says to run it. A last test fails when a new example appears that nothing
here runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLES = REPO_ROOT / "examples"
CHILD_TIMEOUT_SECONDS = 50

# Examples whose own test suite this file runs.
SELF_TESTED = ("chat_metrics", "order_status", "returning_visitors")
# Examples checked by dedicated tests in this folder.
CHECKED_HERE = ("after_hours", "deploy")  # test_after_hours.py, test_deploy.py


@pytest.mark.parametrize("example", SELF_TESTED)
def test_the_example_s_own_tests_pass(example: str) -> None:
    folder = EXAMPLES / example
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_SECONDS,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert " passed" in result.stdout
    assert "skipped" not in result.stdout, output


def test_every_example_is_run_by_a_test() -> None:
    found = sorted(
        path.name
        for path in EXAMPLES.iterdir()
        if path.is_dir() and not path.name.startswith((".", "_"))
    )
    assert found == sorted(SELF_TESTED + CHECKED_HERE)
