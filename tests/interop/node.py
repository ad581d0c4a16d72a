"""Find node and the pinned node peers (socket.io 2.x, socket.io-client 2.x, smartsupp-websocket).

Interop tests run peers nobody here wrote, so a mistake shared by our client and our sandbox
cannot hide. A machine without node skips those tests with a reason; a machine with node but
without the installed peers fails, because that is a set-up mistake (run ``npm ci`` in
tests/interop) that would otherwise silently hide the interop suite.

Use it through the ``node_peers`` fixture (tests/conftest.py), or call
:func:`require_node_peers` directly. Node scripts run with ``cwd=peers.directory`` so that
``require('socket.io')`` resolves against the pinned ``node_modules``.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["INTEROP_DIR", "NodePeers", "find_node", "require_node_peers"]

INTEROP_DIR = Path(__file__).resolve().parent
"""The folder holding package.json, package-lock.json and (once installed) node_modules."""

FIX_HINT = "run `npm ci` in tests/interop"


@dataclass(frozen=True)
class NodePeers:
    """A node executable plus the folder whose node_modules holds the pinned peers."""

    node: str
    directory: Path
    versions: dict[str, str]
    """Installed version of each pinned package, e.g. ``{"socket.io": "2.5.1", ...}``."""

    def command(self, script: str | Path, *args: str) -> list[str]:
        """Return the argv that runs ``script`` (relative to :attr:`directory`) with node."""
        return [self.node, str(self.directory / script), *args]


def find_node(path: str | None = None) -> str | None:
    """Return the node executable on ``path`` (default: ``$PATH``), or ``None``."""
    return shutil.which("node", path=path)


def require_node_peers(directory: Path = INTEROP_DIR, *, path: str | None = None) -> NodePeers:
    """Return the node peers, skipping the test when node is absent.

    Fails the test (not a skip) when node is present but ``node_modules`` is missing or does
    not hold the exact versions package.json pins, with a message saying how to fix it.
    """
    node = find_node(path)
    if node is None:
        pytest.skip("node is not installed: the node socket.io 2.x / smartsupp-websocket peers")
    manifest = json.loads((directory / "package.json").read_text(encoding="utf-8"))
    pinned: dict[str, str] = manifest["dependencies"]
    installed: dict[str, str] = {}
    problems: list[str] = []
    for name, wanted in sorted(pinned.items()):
        package_json = directory / "node_modules" / name / "package.json"
        if not package_json.is_file():
            problems.append(f"{name} is not installed")
            continue
        version = json.loads(package_json.read_text(encoding="utf-8"))["version"]
        installed[name] = version
        if version != wanted:
            problems.append(f"{name} is {version}, package.json pins {wanted}")
    if problems:
        pytest.fail(f"node peers are not ready ({'; '.join(problems)}): {FIX_HINT}", pytrace=False)
    return NodePeers(node=node, directory=directory, versions=installed)
