"""Fixtures: one PostgreSQL server per test session, a fresh database per test.

The server is started on first use (``initdb`` + ``pg_ctl`` in a temp folder, see
``cluster.py``) and stopped when the session ends. Without PostgreSQL installed every test
here is skipped with one reason; ``.ci/run`` installs Debian's ``postgresql`` so CI never
skips them.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest

from .cluster import PostgresCluster, find_pg_bin

_database_numbers = itertools.count(1)

NOT_INSTALLED = (
    "PostgreSQL is not installed (no initdb/pg_ctl under /usr/lib/postgresql/*/bin or on "
    "PATH; Debian: apt-get install postgresql)"
)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    """A running PostgreSQL server on 127.0.0.1 (skips the test where none is installed)."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        pytest.skip(NOT_INSTALLED)
    cluster = PostgresCluster(bin_dir)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_dsn(pg_cluster: PostgresCluster) -> str:
    """The URL of a new, empty database: no test sees another's rows."""
    return pg_cluster.create_database(f"t{os.getpid()}_{next(_database_numbers)}")
