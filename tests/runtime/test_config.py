"""bot.toml loading: sections, environment overrides, and errors that name file/section/key."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from agentbot.errors import ConfigError
from agentbot.runtime.config import BotConfig, load_config
from agentbot.runtime.sections import structure_section

SECRET_KEY = "d57ad424c173ea4541bef97b766c168a83042788"
SECRET_TOKEN = "6d267d6cd580a4c01afbb2f0b565ab7d"

MINIMAL = f"""
[smartsupp]
agent_id = "345111"
key = "{SECRET_KEY}"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bot.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, text: str, **env: str) -> BotConfig:
    return load_config(write(tmp_path, text), env=env)


def test_minimal_file_gets_documented_defaults(tmp_path: Path) -> None:
    config = load(tmp_path, MINIMAL)
    assert config.smartsupp.url == "https://websocket.smartsupp.com"
    assert config.smartsupp.eio == 3
    assert config.smartsupp.track_visitors is False
    assert config.smartsupp.auth_token is None
    assert config.pacing.time_scale == 1.0
    assert config.runtime.human_first is True
    assert config.plugins == ()


def test_full_file_is_read(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        MINIMAL
        + f"""
auth_token = "{SECRET_TOKEN}"
url = "http://127.0.0.1:9999"
eio = 4
track_visitors = true

[pacing]
time_scale = 0
max_seconds = 3

[runtime]
hook_timeout_seconds = 0.5
storage_path = "state/bot.sqlite3"

[plugins.greeter]
order = 5
greeting = "Hello"

[plugins.local]
path = "my_plugin.py"
enabled = false
""",
    )
    assert config.smartsupp.eio == 4
    assert config.smartsupp.auth_token == SECRET_TOKEN
    assert config.pacing.time_scale == 0.0
    assert config.pacing.max_seconds == 3.0
    assert config.runtime.hook_timeout_seconds == 0.5
    assert config.resolved_storage_path() == tmp_path / "state" / "bot.sqlite3"
    greeter, local = config.plugins
    assert (greeter.name, greeter.order, greeter.enabled, dict(greeter.options)) == (
        "greeter",
        5,
        True,
        {"greeting": "Hello"},
    )
    assert (local.path, local.enabled, local.position) == ("my_plugin.py", False, 1)


def test_default_storage_path_is_in_the_user_data_dir(tmp_path: Path) -> None:
    path = load(tmp_path, MINIMAL).resolved_storage_path()
    assert path.name == "agentbot.sqlite3"
    assert "agentbot" in path.parent.parts


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        MINIMAL,
        AGENTBOT_URL="ws://127.0.0.1:1",
        AGENTBOT_AGENT_ID="42",
        AGENTBOT_KEY="from-env",
        AGENTBOT_AUTH_TOKEN="token-env",
        AGENTBOT_EIO="4",
    )
    assert config.smartsupp.url == "ws://127.0.0.1:1"
    assert config.smartsupp.agent_id == "42"
    assert config.smartsupp.key == "from-env"
    assert config.smartsupp.auth_token == "token-env"
    assert config.smartsupp.eio == 4


def test_environment_alone_is_enough() -> None:
    config = load_config(None, env={"AGENTBOT_AGENT_ID": "1", "AGENTBOT_KEY": "k"})
    assert config.path is None
    assert config.source == "environment"


def test_typo_in_a_key_names_file_section_key_and_suggests(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "\n[pacing]\ntime_scael = 0.1\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert (
        str(info.value) == f"{path}: [pacing] time_scael: unknown key (did you mean 'time_scale'?)"
    )
    assert (info.value.path, info.value.section, info.value.key) == (
        str(path),
        "pacing",
        "time_scael",
    )


def test_typo_in_a_section_suggests_the_section(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown section \[pacng\] \(did you mean 'pacing'\?\)"):
        load(tmp_path, MINIMAL + "\n[pacng]\n")


def test_wrong_type_names_the_key_and_the_expected_type(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[smartsupp\] eio: expected an integer, got '3'"):
        load(tmp_path, MINIMAL + 'eio = "3"\n')


def test_validator_failure_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[smartsupp\] eio: eio must be 3 or 4") as info:
        load(tmp_path, MINIMAL + "eio = 5\n")
    assert info.value.key == "eio"


def test_cross_field_check_names_a_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[pacing\] min_seconds: min_seconds") as info:
        load(tmp_path, MINIMAL + "[pacing]\nmin_seconds = 9\nmax_seconds = 2\n")
    assert info.value.section == "pacing"


def test_missing_required_key_mentions_the_environment_variable(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"\[smartsupp\] key: missing required key \(or set AGENTBOT_KEY\)"
    ):
        load(tmp_path, '[smartsupp]\nagent_id = "1"\n')


def test_missing_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.toml", env={})


def test_invalid_toml_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="invalid TOML"):
        load(tmp_path, "[smartsupp\n")


def test_bad_eio_variable_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="AGENTBOT_EIO: expected 3 or 4"):
        load(tmp_path, MINIMAL, AGENTBOT_EIO="four")


def test_plugin_section_must_be_a_table(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"\[plugins\] greeter: expected a \[plugins.greeter\] table"
    ):
        load(tmp_path, MINIMAL + "[plugins]\ngreeter = 1\n")


def test_plugin_reserved_key_of_wrong_type(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[plugins.faq\] enabled: expected a boolean"):
        load(tmp_path, MINIMAL + '[plugins.faq]\nenabled = "yes"\n')


def test_secrets_never_appear_in_repr_or_errors(tmp_path: Path) -> None:
    config = load(tmp_path, MINIMAL + f'auth_token = "{SECRET_TOKEN}"\n')
    assert SECRET_KEY not in repr(config)
    assert SECRET_TOKEN not in repr(config)
    with pytest.raises(ConfigError) as info:
        load(tmp_path, '[smartsupp]\nagent_id = "1"\nkey = 12345678901\n')
    assert "12345678901" not in str(info.value)
    assert "expected a string" in str(info.value)


@attrs.frozen(kw_only=True)
class Nested:
    name: str
    weight: float = 1.0


@attrs.frozen(kw_only=True)
class PluginOptions:
    greeting: str
    delay: float = 0.0
    languages: list[str] = attrs.field(factory=list)
    answers: dict[str, str] = attrs.field(factory=dict)
    mode: str | None = None
    inner: Nested | None = None
    token: str = attrs.field(default="", repr=False)

    @token.validator
    def _check(self, attribute: attrs.Attribute[str], value: str) -> None:
        if value and len(value) < 8:
            raise ValueError(f"token {value!r} is too short")


def test_structure_section_builds_nested_values() -> None:
    built = structure_section(
        PluginOptions,
        {
            "greeting": "hi",
            "delay": 2,
            "languages": ["en", "cs"],
            "answers": {"a": "b"},
            "inner": {"name": "x"},
            "order": 3,
        },
        path="bot.toml",
        section="plugins.p",
        ignore={"order"},
    )
    assert built == PluginOptions(
        greeting="hi", delay=2.0, languages=["en", "cs"], answers={"a": "b"}, inner=Nested(name="x")
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"greeting": "hi", "languages": ["en", 3]},
            r"\[plugins.p\] languages\[1\]: expected a string, got 3",
        ),
        ({"greeting": "hi", "answers": {"a": 1}}, r"answers.a: expected a string"),
        (
            {"greeting": "hi", "inner": {"nam": "x"}},
            r"\[plugins.p.inner\] nam: unknown key \(did you mean 'name'\?\)",
        ),
        ({"greeting": True}, r"greeting: expected a string, got True"),
        ({}, r"greeting: missing required key"),
        ({"greeting": "hi", "delay": True}, r"delay: expected a number"),
    ],
)
def test_structure_section_errors(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        structure_section(PluginOptions, data, path="bot.toml", section="plugins.p")


def test_secret_is_scrubbed_from_a_validator_message() -> None:
    with pytest.raises(ConfigError) as info:
        structure_section(PluginOptions, {"greeting": "hi", "token": "abc"}, path="f", section="s")
    assert "abc" not in str(info.value)
    assert "***" in str(info.value)
    assert info.value.key == "token"
