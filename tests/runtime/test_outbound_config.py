"""``[smartsupp]`` keys for the outgoing transport: send_via, api_url, api_token, api_auth."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentbot.errors import ConfigError
from agentbot.runtime.config import DEFAULT_API_URL, load_config

BASE_ENV = {"AGENTBOT_AGENT_ID": "bot-1", "AGENTBOT_KEY": "account-key-1"}


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "bot.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_defaults_are_rest_bearer_and_the_assumed_base() -> None:
    settings = load_config(None, env=BASE_ENV).smartsupp
    assert settings.send_via == "rest"
    assert settings.api_auth == "bearer"
    assert settings.api_url == DEFAULT_API_URL
    assert settings.api_token is None


def test_api_token_and_url_come_from_the_environment() -> None:
    env = {**BASE_ENV, "AGENTBOT_API_TOKEN": "s3cret", "AGENTBOT_API_URL": "http://x/rest"}
    settings = load_config(None, env=env).smartsupp
    assert settings.api_token == "s3cret"
    assert settings.api_url == "http://x/rest"
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize(
    ("line", "key", "expected"),
    [
        ('send_via = "carrier pigeon"', "send_via", "must be one of 'rest', 'socket'"),
        ('api_auth = "basic"', "api_auth", "must be one of 'bearer', 'apikey', 'cookie'"),
        ('api_url = "ftp://x"', "api_url", "must start with http:// or https://"),
        ("api_timeout_seconds = 0", "api_timeout_seconds", "must be > 0"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, line: str, key: str, expected: str) -> None:
    path = _write(tmp_path, f"[smartsupp]\n{line}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env=BASE_ENV)
    assert caught.value.key == key
    assert expected in str(caught.value)


def test_a_wrong_typed_token_is_reported_without_its_value(tmp_path: Path) -> None:
    path = _write(tmp_path, "[smartsupp]\napi_token = 12345678\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env=BASE_ENV)
    assert caught.value.key == "api_token"
    assert "12345678" not in str(caught.value)
