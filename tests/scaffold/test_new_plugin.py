"""``agentbot new-plugin``: the project it writes installs, lints clean and passes its tests.

The generated project's own pytest runs in a child process, in its own folder, exactly as a
plugin author would run it after ``agentbot new-plugin``. The package is also installed with
pip (no network: ``--no-build-isolation`` with the hatchling from the test extra) into a
throwaway folder, to prove its ``agentbot`` entry point is real metadata that loads.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from agentbot.cli import main
from agentbot.scaffold import ScaffoldError, generate_plugin, plugin_names

CHILD_TIMEOUT_SECONDS = 50


def run(command: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_SECONDS,
        env={**os.environ, **env},
        check=False,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("new-plugin")
    result = CliRunner().invoke(main, ["new-plugin", "Order-Status", "-d", str(folder)])
    assert result.exit_code == 0, result.output
    assert "the plugin 'order_status' (distribution order-status)" in result.output
    return folder / "order-status"


def test_the_project_has_the_promised_files(project: Path) -> None:
    files = sorted(p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file())
    assert files == [
        ".gitignore",
        "README.md",
        "pyproject.toml",
        "src/order_status/__init__.py",
        "src/order_status/plugin.py",
        "src/order_status/py.typed",
        "tests/test_plugin.py",
    ]
    plugin = (project / "src/order_status/plugin.py").read_text(encoding="utf-8")
    assert "@attrs.frozen(kw_only=True)\nclass Config:" in plugin
    assert "def on_visitor_message(" in plugin
    assert "[plugins.order_status]" in (project / "README.md").read_text(encoding="utf-8")


def test_the_generated_tests_pass_out_of_the_box(project: Path) -> None:
    result = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout
    assert "failed" not in result.stdout
    assert "skipped" not in result.stdout
    # The harness fixture came from agentbot's pytest11 entry point, not from a conftest.
    assert not list(project.rglob("conftest.py"))


def test_the_generated_code_is_lint_clean(project: Path) -> None:
    for command in (["check", "."], ["format", "--check", "."]):
        result = run([sys.executable, "-m", "ruff", *command], project)
        assert result.returncode == 0, result.stdout + result.stderr


def test_pip_installs_it_with_its_entry_point(project: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(site),
            str(project),
        ],
        tmp_path,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (distribution,) = importlib.metadata.distributions(path=[str(site)])
    assert distribution.metadata["Name"] == "order-status"
    (entry_point,) = distribution.entry_points.select(group="agentbot")
    assert (entry_point.name, entry_point.value) == ("order_status", "order_status.plugin")
    # Load it the way the runtime does, from the installed copy.
    check = (
        "import importlib.metadata as m; "
        "(ep,) = m.distribution('order-status').entry_points.select(group='agentbot'); "
        "print(ep.load().__file__)"
    )
    loaded = run([sys.executable, "-c", check], tmp_path, PYTHONPATH=str(site))
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == str(site / "order_status" / "plugin.py")


@pytest.mark.parametrize(
    ("name", "package", "dist"),
    [
        ("order-status", "order_status", "order-status"),
        ("Order_Status", "order_status", "order-status"),
        ("faq2", "faq2", "faq2"),
    ],
)
def test_names_are_spelled_for_each_place(name: str, package: str, dist: str) -> None:
    names = plugin_names(name)
    assert (names.package, names.dist) == (package, dist)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("1st", "start with a letter"),
        ("my plugin", "start with a letter"),
        ("json", "standard-library module"),
        ("class", "keyword"),
        ("agentbot", "agentbot's own names"),
        ("greeter", "installed plugin's name"),  # a built-in: its entry point would win
        ("After-Hours", "installed plugin's name"),
        ("x" * 80, "at most 64 characters"),
    ],
)
def test_a_bad_name_is_refused_with_a_reason(name: str, reason: str, tmp_path: Path) -> None:
    with pytest.raises(ScaffoldError, match=reason):
        generate_plugin(name, tmp_path)
    result = CliRunner().invoke(main, ["new-plugin", name, "-d", str(tmp_path)])
    assert result.exit_code == 1
    assert reason in result.output
    assert list(tmp_path.iterdir()) == []


def test_an_existing_folder_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "greeter-plus").mkdir()
    (tmp_path / "greeter-plus" / "mine.txt").write_text("keep me", encoding="utf-8")
    result = CliRunner().invoke(main, ["new-plugin", "greeter-plus", "-d", str(tmp_path)])
    assert result.exit_code == 1
    assert "exists already" in result.output
    assert [p.name for p in (tmp_path / "greeter-plus").iterdir()] == ["mine.txt"]
