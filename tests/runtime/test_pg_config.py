"""bot.toml for operations: [runtime] storage_url / lease_ttl_seconds and [server] listen."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentbot.errors import ConfigError
from agentbot.runtime.config import load_config

BASE = '[smartsupp]\nagent_id = "1"\nkey = "k"\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bot.toml"
    path.write_text(BASE + text, encoding="utf-8")
    return path


def test_sqlite_stays_the_default_and_the_ops_server_is_off(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ""))
    assert config.runtime.storage_url is None
    assert config.runtime.lease_ttl_seconds == 10.0
    assert config.server.listen is None


def test_a_postgres_url_and_a_listen_address_are_read(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            '[runtime]\nstorage_url = "postgresql://bot:pw-123@db:5432/agentbot"\n'
            'storage_namespace = "acme/bot"\nlease_ttl_seconds = 6\n'
            '[server]\nlisten = "127.0.0.1:9108"\n',
        )
    )
    assert config.runtime.storage_url == "postgresql://bot:pw-123@db:5432/agentbot"
    assert config.runtime.storage_namespace == "acme/bot"
    assert config.server.listen == "127.0.0.1:9108"
    assert "pw-123" not in repr(config)  # the URL may carry the password


def test_a_storage_url_that_is_not_postgres_is_refused_without_echoing_it(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConfigError, match=r"\[runtime\] storage_url") as caught:
        load_config(write(tmp_path, '[runtime]\nstorage_url = "mysql://u:pw-456@db/x"\n'))
    assert "pw-456" not in str(caught.value)


@pytest.mark.parametrize("listen", ["9108", "127.0.0.1", "host:port", "host:99999", ":80"])
def test_listen_must_be_host_and_port(tmp_path: Path, listen: str) -> None:
    with pytest.raises(ConfigError, match=r"\[server\] listen"):
        load_config(write(tmp_path, f'[server]\nlisten = "{listen}"\n'))


def test_an_unknown_server_key_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="lisen"):
        load_config(write(tmp_path, '[server]\nlisen = "127.0.0.1:9108"\n'))
