"""The node peers load, at the pinned versions, and the helper reports set-up mistakes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from interop.node import NodePeers, find_node, require_node_peers

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


def write_manifest(directory: Path, installed: dict[str, str]) -> None:
    manifest = {"dependencies": {"socket.io": "2.5.1", "smartsupp-websocket": "1.2.2"}}
    (directory / "package.json").write_text(json.dumps(manifest))
    for name, version in installed.items():
        package = directory / "node_modules" / name
        package.mkdir(parents=True)
        (package / "package.json").write_text(json.dumps({"name": name, "version": version}))


def test_missing_node_modules_fails_with_the_fix(tmp_path: Path) -> None:
    if find_node() is None:
        pytest.skip("node is not installed")
    write_manifest(tmp_path, {})
    with pytest.raises(pytest.fail.Exception, match=r"run `npm ci` in tests/interop"):
        require_node_peers(tmp_path)


def test_stale_node_modules_fails_naming_the_version(tmp_path: Path) -> None:
    if find_node() is None:
        pytest.skip("node is not installed")
    write_manifest(tmp_path, {"socket.io": "2.4.0", "smartsupp-websocket": "1.2.2"})
    with pytest.raises(pytest.fail.Exception, match=r"socket\.io is 2\.4\.0, package\.json pins"):
        require_node_peers(tmp_path)


def test_absent_node_skips_with_a_reason(tmp_path: Path) -> None:
    write_manifest(tmp_path, {})
    empty_path = tmp_path / "no-bin"
    empty_path.mkdir()
    with pytest.raises(pytest.skip.Exception, match="node is not installed"):
        require_node_peers(tmp_path, path=str(empty_path))
