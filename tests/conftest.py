"""Fixtures every test folder can use.

Keep this file generic; fixtures that belong to one area live in that folder's conftest.py.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from interop.node import NodePeers, require_node_peers

REPO_ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS_ROOT = REPO_ROOT / "test-artifacts"


@pytest.fixture(scope="session", params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Run every async test on asyncio and on trio.

    A test that is inherently asyncio-only (uvicorn, python-socketio peers) overrides it with
    ``@pytest.mark.parametrize("anyio_backend", ["asyncio"])``.
    """
    return str(request.param)


@pytest.fixture
def test_artifacts(request: pytest.FixtureRequest) -> Path:
    """Give the test an empty folder under test-artifacts/ (gitignored) for files worth keeping.

    Screenshots, frame logs and transcripts written here survive the run, so a failure in CI
    can be inspected afterwards. The folder is named after the test and emptied when the test
    starts, never afterwards.
    """
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid).strip("_")
    folder = ARTIFACTS_ROOT / name[:150]
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@pytest.fixture(scope="session")
def node_peers() -> NodePeers:
    """The pinned node peers (tests/interop), installed by ``npm ci`` once if missing or stale.

    Session-scoped so the check (and any install) happens once per run, and only when a test
    needs the peers; without node or npm every such test skips with the same one reason.
    """
    return require_node_peers()
