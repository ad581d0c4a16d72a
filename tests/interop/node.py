"""Find node and the pinned node peers (socket.io 2.x, socket.io-client 2.x, smartsupp-websocket).

Interop tests run peers nobody here wrote, so a mistake shared by our client and our sandbox
cannot hide. The test command sets them up itself, so that a fresh clone passes
``pip install -e '.[test]' && pytest`` with nothing run by hand: when node and npm are present
and tests/interop/node_modules is missing or was installed from another lockfile,
:func:`require_node_peers` runs ``npm ci`` there once, under a file lock (several pytest
sessions may share one tree), and leaves a stamp holding the lockfile's hash inside
node_modules so later sessions reuse the install. A machine without node (or without npm to
install the peers) skips those tests with one reason; an install that fails, or that does not
yield the versions package.json pins, fails them, because silently skipping would hide the
interop suite.

Use it through the ``node_peers`` fixture (tests/conftest.py), or call
:func:`require_node_peers` directly. Node scripts run with ``cwd=peers.directory`` so that
``require('socket.io')`` resolves against the pinned ``node_modules``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from filelock import FileLock

__all__ = [
    "INTEROP_DIR",
    "STAMP_NAME",
    "NodePeers",
    "find_node",
    "find_npm",
    "lockfile_digest",
    "require_node_peers",
]

INTEROP_DIR = Path(__file__).resolve().parent
"""The folder holding package.json, package-lock.json and (once installed) node_modules."""

STAMP_NAME = ".agentbot-installed"
"""File inside node_modules holding the hash of the manifest and lockfile it was installed from."""

NPM_CI = ("ci", "--no-audit", "--no-fund", "--prefer-offline")
NPM_TIMEOUT_SECONDS = 300
LOCK_TIMEOUT_SECONDS = 600
FIX_HINT = "run `npm ci` in tests/interop to see npm's own report"
SKIP_NO_NODE = "node is not installed: the node socket.io 2.x / smartsupp-websocket peers need it"
SKIP_NO_NPM = (
    "npm is not installed: it installs the node peers from tests/interop/package-lock.json"
)


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


def find_npm(path: str | None = None) -> str | None:
    """Return the npm executable on ``path`` (default: ``$PATH``), or ``None``."""
    return shutil.which("npm", path=path)


def lockfile_digest(directory: Path) -> str:
    """Return the hash of package.json and package-lock.json: what an install is stamped with."""
    digest = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        file = directory / name
        digest.update(name.encode())
        digest.update(file.read_bytes() if file.is_file() else b"")
    return digest.hexdigest()


def require_node_peers(directory: Path = INTEROP_DIR, *, path: str | None = None) -> NodePeers:
    """Return the node peers, installing them first when they are missing or stale.

    Skips the test when node is absent, or when the peers need installing and npm is absent.
    Fails it when ``npm ci`` fails (with npm's last lines) or the installed versions are not
    the ones package.json pins. ``path`` replaces ``$PATH`` for finding node and npm.
    """
    node = find_node(path)
    if node is None:
        pytest.skip(SKIP_NO_NODE)
    if not _stamp_matches(directory):
        _install(directory, path=path)
    installed, problems = _installed_versions(directory)
    if problems:
        pytest.fail(f"node peers are not ready ({'; '.join(problems)}): {FIX_HINT}", pytrace=False)
    return NodePeers(node=node, directory=directory, versions=installed)


def _stamp_matches(directory: Path) -> bool:
    stamp = directory / "node_modules" / STAMP_NAME
    try:
        return stamp.read_text(encoding="utf-8").strip() == lockfile_digest(directory)
    except OSError:
        return False


def _install(directory: Path, *, path: str | None) -> None:
    # The lock lives outside the tree (npm ci deletes node_modules, and nothing new to
    # gitignore), keyed by the folder, so two sessions on one clone install it only once.
    key = hashlib.sha256(str(directory).encode()).hexdigest()[:16]
    lock = FileLock(Path(tempfile.gettempdir()) / f"agentbot-npm-ci-{key}.lock")
    with lock.acquire(timeout=LOCK_TIMEOUT_SECONDS):
        if _stamp_matches(directory):
            return  # another session installed it while this one waited
        stamp = directory / "node_modules" / STAMP_NAME
        digest = lockfile_digest(directory)
        if not stamp.exists() and not _installed_versions(directory)[1]:
            # Installed by hand (`npm ci`) before stamps existed: adopt it rather than
            # deleting a tree that another session's node peer may be running from.
            stamp.write_text(digest + "\n", encoding="utf-8")
            return
        npm = find_npm(path)
        if npm is None:
            pytest.skip(SKIP_NO_NPM)
        try:
            done = subprocess.run(
                [npm, *NPM_CI],
                cwd=directory,
                capture_output=True,
                text=True,
                timeout=NPM_TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(
                f"`npm ci` in tests/interop took over {NPM_TIMEOUT_SECONDS} s", pytrace=False
            )
        if done.returncode != 0:
            tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
            pytest.fail(
                f"`npm ci` in tests/interop failed (exit {done.returncode}):\n{tail}",
                pytrace=False,
            )
        stamp.parent.mkdir(exist_ok=True)
        stamp.write_text(digest + "\n", encoding="utf-8")


def _installed_versions(directory: Path) -> tuple[dict[str, str], list[str]]:
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
    return installed, problems
