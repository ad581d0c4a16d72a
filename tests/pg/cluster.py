"""A throwaway PostgreSQL server for tests and benchmarks: initdb + pg_ctl in a temp folder.

Tests of the PostgreSQL store talk to a real server, never a mock: the behaviours that
matter (advisory locks held by a dead session, ``FOR UPDATE SKIP LOCKED``, transaction
isolation) exist only in the real thing. Debian's ``postgresql`` package installs the
binaries under ``/usr/lib/postgresql/<major>/bin`` without putting them on ``PATH``, so they
are looked for there as well.

``initdb`` refuses to run as root, and CI runs as root: then every server command runs as an
unprivileged system user (:data:`PG_USER`, created with ``useradd`` on first use) through
``runuser``. The cluster listens on 127.0.0.1 only, on a free port, with ``trust``
authentication (nobody else can reach it) and durability turned off (``fsync=off``: the data
is thrown away afterwards, and tests should not wait on the disk).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

__all__ = ["PG_USER", "PostgresCluster", "find_pg_bin"]

PG_USER = "agentbot-pg"
"""The system user that owns and runs the server when the tests run as root."""

START_TIMEOUT_SECONDS = 30.0


def find_pg_bin() -> Path | None:
    """Return the folder holding ``initdb`` and ``pg_ctl`` (newest major first), or None."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: (
            int(Path(path).parent.parent.name) if Path(path).parent.parent.name.isdigit() else 0
        ),
        reverse=True,
    )
    on_path = shutil.which("initdb")
    if on_path is not None:
        candidates.append(on_path)
    for initdb in candidates:
        folder = Path(initdb).parent
        if (folder / "pg_ctl").exists() and (folder / "postgres").exists():
            return folder
    return None


_PREFIX = "agentbot-pg-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ensure_user() -> None:
    if subprocess.run(["id", "-u", PG_USER], capture_output=True, check=False).returncode == 0:
        return
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_USER],
        capture_output=True,
        check=True,
    )


class PostgresCluster:
    """One PostgreSQL server: :meth:`start` it, connect with :attr:`dsn`, :meth:`stop` it.

    ``dsn(database)`` gives a libpq URL for any database on it; :meth:`create_database`
    makes a fresh one so each test starts from nothing.
    """

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.port = 0
        self._folder: Path | None = None
        self._as_root = os.geteuid() == 0

    @property
    def data_dir(self) -> Path:
        assert self._folder is not None, "cluster not started"
        return self._folder / "data"

    def _command(self, name: str, *args: str) -> list[str]:
        command = [str(self.bin_dir / name), *args]
        if self._as_root:
            return ["runuser", "-u", PG_USER, "--", *command]
        return command

    def _run(self, name: str, *args: str) -> None:
        result = subprocess.run(
            self._command(name, *args), capture_output=True, text=True, check=False, timeout=60
        )
        if result.returncode != 0:
            raise RuntimeError(f"{name} failed ({result.returncode}): {result.stderr[-2000:]}")

    def start(self) -> None:
        """Create the cluster in a temp folder and start the server; wait until it accepts."""
        if self._as_root:
            _ensure_user()
        self._stop_orphans()
        self._folder = Path(tempfile.mkdtemp(prefix=_PREFIX))
        (self._folder / "creator.pid").write_text(str(os.getpid()), encoding="utf-8")
        if self._as_root:
            shutil.chown(self._folder, user=PG_USER)
        self._run(
            "initdb",
            "--pgdata",
            str(self.data_dir),
            "--username",
            "postgres",
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
        )
        last_error = ""
        for _attempt in range(5):  # a free port can be taken between probe and bind: retry
            self.port = _free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -c port={self.port} "
                f"-c unix_socket_directories={self._folder} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
            )
            try:
                self._run(
                    "pg_ctl",
                    "--pgdata",
                    str(self.data_dir),
                    "--log",
                    str(self._folder / "server.log"),
                    "--options",
                    options,
                    "--wait",
                    "--timeout",
                    str(int(START_TIMEOUT_SECONDS)),
                    "start",
                )
            except RuntimeError as exc:
                last_error = f"{exc}\n{self.server_log()[-2000:]}"
                continue
            return
        raise RuntimeError(f"PostgreSQL did not start: {last_error}")

    def _stop_orphans(self) -> None:
        """Stop servers a killed test run left behind (their creator process is gone).

        A run ended by SIGKILL or a closed pipe never reaches :meth:`stop`; its server would
        otherwise live on. Only folders this class made are touched.
        """
        for folder in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*"):
            try:
                creator = int((folder / "creator.pid").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if _alive(creator):
                continue
            if (folder / "data" / "postmaster.pid").exists():
                command = [str(self.bin_dir / "pg_ctl"), "--pgdata", str(folder / "data")]
                command += ["--mode", "immediate", "--wait", "stop"]
                if self._as_root:
                    command = ["runuser", "-u", PG_USER, "--", *command]
                subprocess.run(command, capture_output=True, check=False, timeout=60)
            shutil.rmtree(folder, ignore_errors=True)

    def server_log(self) -> str:
        """Return the server's log so far (for a failure message)."""
        assert self._folder is not None
        try:
            return (self._folder / "server.log").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def dsn(self, database: str = "postgres") -> str:
        """Return a libpq URL for ``database`` on this server."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create an empty database ``name`` (letters, digits, _) and return its URL."""
        import psycopg

        if not name.replace("_", "").isalnum():
            raise ValueError(f"unsafe database name {name!r}")
        with psycopg.connect(self.dsn(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.dsn(name)

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its folder."""
        if self._folder is None:
            return
        try:
            self._run("pg_ctl", "--pgdata", str(self.data_dir), "--mode", "fast", "--wait", "stop")
        except (RuntimeError, subprocess.TimeoutExpired):
            pid_file = self.data_dir / "postmaster.pid"
            if pid_file.exists():  # best effort: never leave a server behind
                pid = int(pid_file.read_text().split()[0])
                os.kill(pid, 9)
        shutil.rmtree(self._folder, ignore_errors=True)
        self._folder = None
