"""The node peers load at the pinned versions; the test command installs them itself."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from interop.node import (
    INTEROP_DIR,
    STAMP_NAME,
    NodePeers,
    find_node,
    find_npm,
    lockfile_digest,
    require_node_peers,
)

LOAD_PEERS = """
const versions = {};
for (const name of ['socket.io', 'socket.io-client', 'smartsupp-websocket']) {
  require(name);
  versions[name] = require(name + '/package.json').version;
}
const sdk = require('smartsupp-websocket');
versions.createVisitorClient = typeof sdk.createVisitorClient;
versions.VisitorClient = typeof sdk.VisitorClient;
console.log(JSON.stringify(versions));
"""


def test_node_peers_load_at_the_pinned_versions(node_peers: NodePeers) -> None:
    done = subprocess.run(
        [node_peers.node, "-e", LOAD_PEERS],
        cwd=node_peers.directory,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)
    pinned = json.loads((node_peers.directory / "package.json").read_text())["dependencies"]
    assert {name: loaded[name] for name in pinned} == pinned
    assert loaded["createVisitorClient"] == "function"
    assert loaded["VisitorClient"] == "function"


def test_peers_speak_engineio_3(node_peers: NodePeers) -> None:
    # socket.io 2.x is Engine.IO 3 / Socket.IO 4: the default protocol agentbot must speak.
    assert node_peers.versions["socket.io"].startswith("2.5.")
    assert node_peers.versions["socket.io-client"].startswith("2.5.")


FAKE_NPM = """#!{python}
# Stands in for npm: records each call, then "installs" what fake-registry.json lists
# (or fails like npm would when that file is absent).
import json, pathlib, shutil, sys
here = pathlib.Path.cwd()
with open(here / "npm-calls.log", "a") as log:
    log.write(" ".join(sys.argv[1:]) + "\\n")
registry = here / "fake-registry.json"
if not registry.is_file():
    sys.stderr.write("npm error code E404\\nnpm error 404 Not Found - GET socket.io\\n")
    sys.exit(1)
shutil.rmtree(here / "node_modules", ignore_errors=True)
for name, version in json.loads(registry.read_text()).items():
    package = here / "node_modules" / name
    package.mkdir(parents=True)
    (package / "package.json").write_text(json.dumps({{"name": name, "version": version}}))
"""

PINNED = {"socket.io": "2.5.1", "smartsupp-websocket": "1.2.2"}


def write_manifest(directory: Path, installed: dict[str, str] | None = None) -> None:
    """Write a package.json + lockfile pinning PINNED, and optionally a hand-made install."""
    (directory / "package.json").write_text(json.dumps({"dependencies": PINNED}))
    (directory / "package-lock.json").write_text(json.dumps({"lockfileVersion": 3, "v": 1}))
    for name, version in (installed or {}).items():
        package = directory / "node_modules" / name
        package.mkdir(parents=True)
        (package / "package.json").write_text(json.dumps({"name": name, "version": version}))


def fake_bin(directory: Path, *, npm: bool = True) -> str:
    """Return a PATH holding a stand-in node (never run here) and, if asked, a fake npm."""
    bin_dir = directory / "bin"
    bin_dir.mkdir()
    tools = {"node": "#!/bin/sh\nexit 0\n"}
    if npm:
        tools["npm"] = FAKE_NPM.format(python=sys.executable)
    for name, text in tools.items():
        tool = bin_dir / name
        tool.write_text(text)
        tool.chmod(0o755)
    return str(bin_dir)


def npm_calls(directory: Path) -> list[str]:
    log = directory / "npm-calls.log"
    return log.read_text().splitlines() if log.is_file() else []


def test_missing_peers_are_installed_once_and_the_stamp_is_reused(tmp_path: Path) -> None:
    write_manifest(tmp_path)
    (tmp_path / "fake-registry.json").write_text(json.dumps(PINNED))
    path = fake_bin(tmp_path)
    peers = require_node_peers(tmp_path, path=path)
    assert peers.versions == PINNED
    assert npm_calls(tmp_path) == ["ci --no-audit --no-fund --prefer-offline"]
    stamp = tmp_path / "node_modules" / STAMP_NAME
    assert stamp.read_text().strip() == lockfile_digest(tmp_path)
    # A second session finds the stamp and does not run npm again.
    assert require_node_peers(tmp_path, path=path).versions == PINNED
    assert len(npm_calls(tmp_path)) == 1


def test_a_changed_lockfile_reinstalls(tmp_path: Path) -> None:
    write_manifest(tmp_path)
    (tmp_path / "fake-registry.json").write_text(json.dumps(PINNED))
    path = fake_bin(tmp_path)
    require_node_peers(tmp_path, path=path)
    (tmp_path / "package-lock.json").write_text(json.dumps({"lockfileVersion": 3, "v": 2}))
    require_node_peers(tmp_path, path=path)
    assert len(npm_calls(tmp_path)) == 2
    stamp = tmp_path / "node_modules" / STAMP_NAME
    assert stamp.read_text().strip() == lockfile_digest(tmp_path)


def test_a_hand_made_install_at_the_pinned_versions_is_adopted(tmp_path: Path) -> None:
    write_manifest(tmp_path, PINNED)
    path = fake_bin(tmp_path)
    assert require_node_peers(tmp_path, path=path).versions == PINNED
    assert npm_calls(tmp_path) == []
    assert (tmp_path / "node_modules" / STAMP_NAME).is_file()


def test_a_stale_hand_made_install_is_replaced(tmp_path: Path) -> None:
    write_manifest(tmp_path, {"socket.io": "2.4.0", "smartsupp-websocket": "1.2.2"})
    (tmp_path / "fake-registry.json").write_text(json.dumps(PINNED))
    assert require_node_peers(tmp_path, path=fake_bin(tmp_path)).versions == PINNED
    assert len(npm_calls(tmp_path)) == 1


def test_failed_npm_ci_fails_with_its_output(tmp_path: Path) -> None:
    write_manifest(tmp_path)
    with pytest.raises(pytest.fail.Exception, match=r"(?s)`npm ci` in tests/interop failed.*E404"):
        require_node_peers(tmp_path, path=fake_bin(tmp_path))


def test_an_install_with_the_wrong_versions_fails_naming_the_version(tmp_path: Path) -> None:
    write_manifest(tmp_path)
    (tmp_path / "fake-registry.json").write_text(
        json.dumps({"socket.io": "2.4.0", "smartsupp-websocket": "1.2.2"})
    )
    with pytest.raises(pytest.fail.Exception, match=r"socket\.io is 2\.4\.0, package\.json pins"):
        require_node_peers(tmp_path, path=fake_bin(tmp_path))


def test_absent_node_skips_with_a_reason(tmp_path: Path) -> None:
    write_manifest(tmp_path)
    empty_path = tmp_path / "no-bin"
    empty_path.mkdir()
    with pytest.raises(pytest.skip.Exception, match="node is not installed"):
        require_node_peers(tmp_path, path=str(empty_path))


def test_absent_npm_skips_with_a_reason_when_peers_need_installing(tmp_path: Path) -> None:
    write_manifest(tmp_path)
    with pytest.raises(pytest.skip.Exception, match="npm is not installed"):
        require_node_peers(tmp_path, path=fake_bin(tmp_path, npm=False))


def test_real_npm_ci_installs_the_pinned_peers_into_a_copy(tmp_path: Path) -> None:
    # The real thing once: npm ci from the committed lockfile (npm's cache makes it offline
    # after the first time), into a copy, so the shared node_modules is never touched.
    if find_node() is None or find_npm() is None:
        pytest.skip("node and npm are not installed")
    for name in ("package.json", "package-lock.json"):
        shutil.copy(INTEROP_DIR / name, tmp_path / name)
    peers = require_node_peers(tmp_path)
    pinned = json.loads((INTEROP_DIR / "package.json").read_text())["dependencies"]
    assert peers.versions == pinned
    assert (tmp_path / "node_modules" / STAMP_NAME).read_text().strip() == lockfile_digest(tmp_path)
