"""The PostgreSQL fixture itself: a real server, on loopback, one fresh database per test."""

from __future__ import annotations

import psycopg

from .cluster import PostgresCluster


def test_the_server_listens_on_loopback_and_answers(pg_cluster: PostgresCluster) -> None:
    assert pg_cluster.port > 0
    with psycopg.connect(pg_cluster.dsn()) as connection:
        row = connection.execute(
            "SELECT current_setting('listen_addresses'), current_setting('fsync')"
        ).fetchone()
    assert row == ("127.0.0.1", "off")


def test_each_test_gets_an_empty_database(pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn) as connection:
        row = connection.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
    assert row == (0,)
