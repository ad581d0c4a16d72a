"""The generic fixtures of tests/conftest.py do what the other tests rely on."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import trio


def asyncio_is_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def trio_is_running() -> bool:
    try:
        trio.lowlevel.current_trio_token()
    except RuntimeError:
        return False
    return True


async def test_async_tests_run_on_the_backend_they_are_given(anyio_backend: str) -> None:
    running = {"asyncio": asyncio_is_running(), "trio": trio_is_running()}
    assert running == {name: name == anyio_backend for name in running}


def test_async_tests_are_collected_for_asyncio_and_trio(request: pytest.FixtureRequest) -> None:
    backends = {
        item.callspec.params["anyio_backend"]
        for item in request.session.items
        if isinstance(item, pytest.Function)
        and item.originalname == "test_async_tests_run_on_the_backend_they_are_given"
    }
    if not backends:
        pytest.skip("the async sibling test was deselected")
    assert backends == {"asyncio", "trio"}


def test_artifacts_folder_is_empty_and_under_test_artifacts(test_artifacts: Path) -> None:
    assert test_artifacts.is_dir()
    assert list(test_artifacts.iterdir()) == []
    assert test_artifacts.parent.name == "test-artifacts"
    assert "test_artifacts_folder_is_empty" in test_artifacts.name
    (test_artifacts / "kept.txt").write_text("inspect me after a failure\n")
