"""``agentbot check --live`` against the sandbox: in-process on both backends, and the CLI
as a child process over loopback (the way a user runs it against a real account)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

from agentbot.live_check import TEST_MESSAGE, TEST_NOTE, CheckRow, format_table, live_check
from agentbot.runtime.clock import VirtualClock
from agentbot.runtime.config import SmartsuppSettings
from agentbot.sandbox import SandboxConfig, create_app, running_server
from agentbot.sandbox.rest_api import REST_PREFIX, api_token_for

SEARCH = "POST /v2/conversations/search"
POST_MESSAGE = "POST /v2/conversations/{id}"


def settings_for(config: SandboxConfig, base_url: str, **changes: Any) -> SmartsuppSettings:
    fields: dict[str, Any] = {
        "url": base_url,
        "agent_id": config.bot.id,
        "key": config.account_key,
        "auth_token": config.bot.auth_token,
        "api_url": f"{base_url}{REST_PREFIX}",
        "api_token": api_token_for(config.bot),
    }
    return SmartsuppSettings(**{**fields, **changes})


def by_check(rows: list[CheckRow]) -> dict[str, CheckRow]:
    return {row.check: row for row in rows}


async def test_live_check_reports_each_transport_and_writes_nothing_without_chat() -> None:
    config = SandboxConfig()
    app = create_app(config)
    control = app.state.control
    clock = VirtualClock()
    result: list[CheckRow] = []

    async def run() -> None:
        result.extend(
            await live_check(
                settings_for(config, "http://sandbox"), clock=clock, max_events=2, asgi_app=app
            )
        )

    async with anyio.create_task_group() as tg:
        tg.start_soon(run)
        with anyio.fail_after(10):
            await clock.wait_sleepers(1)  # logged in, watching events
        visitor = control.create_visitor(name="Ada")["visitor"]["id"]
        control.visitor_message(visitor, "hello")  # chat.opened, chat.message_received
    rows = by_check(result)
    assert rows["login"].result == "ok"
    assert f"as agent {config.bot.id}" in rows["login"].detail
    assert "server version" in rows["login"].detail
    assert rows["account"].result == "ok"
    assert f"{len(config.agents)} agent(s)" in rows["account"].detail
    assert rows["events"].result == "ok"
    assert rows["events"].detail.startswith("2 in 5 s: ")
    assert "chat.opened" in rows["events"].detail
    assert rows["rest"].result == "ok"
    assert "auth bearer" in rows["rest"].detail
    assert rows["socket visitor.get"] == CheckRow(
        "socket visitor.get", "ok", rows["socket visitor.get"].detail
    )
    assert visitor in rows["socket visitor.get"].detail
    assert rows["rest note"].result == "skipped"
    assert rows["send message (rest)"].result == "skipped"
    # Safe: the only REST request was the search, and the socket sent no chat.message.
    assert [r["operation"] for r in app.state.rest.requests] == [SEARCH]
    names = [r["name"] for r in control.agent_requests(config.bot.id)["requests"]]
    assert "chat.message" not in names
    assert names[-1] == "visitor.get"
    table = format_table(result)
    assert table.splitlines()[0].split() == ["check", "result", "detail"]
    assert config.bot.auth_token not in table
    assert api_token_for(config.bot) not in table


async def test_wrong_token_is_a_401_row_and_the_rest_still_runs() -> None:
    config = SandboxConfig()
    app = create_app(config)
    settings = settings_for(config, "http://sandbox", api_token="wrong-token", api_auth="apikey")
    rows = by_check(
        await live_check(settings, watch_seconds=0, clock=VirtualClock(autojump=True), asgi_app=app)
    )
    assert rows["login"].result == "ok"
    assert rows["rest"].result == "FAIL"
    assert "auth apikey" in rows["rest"].detail
    assert "HTTP 401" in rows["rest"].detail
    assert "wrong-token" not in format_table(list(rows.values()))
    assert [r["status"] for r in app.state.rest.requests] == [401]


async def test_with_a_test_chat_it_posts_a_note_and_a_message() -> None:
    config = SandboxConfig()
    app = create_app(config)
    control = app.state.control
    visitor = control.create_visitor(name="Ada")["visitor"]["id"]
    chat_id = control.visitor_message(visitor, "test chat")["chat"]["id"]
    for send_via in ("rest", "socket"):
        settings = settings_for(config, "http://sandbox", send_via=send_via)
        rows = by_check(
            await live_check(
                settings,
                chat_id=chat_id,
                watch_seconds=0,
                clock=VirtualClock(autojump=True),
                asgi_app=app,
            )
        )
        assert rows["rest note"].result == "ok", rows["rest note"]
        assert rows[f"send message ({send_via})"].result == "ok", rows
    chat = app.state.sandbox.state.chats[chat_id]
    said = [(m.type, m.text) for m in chat.messages if m.sub_type == "agent"]
    assert said == [("note", TEST_NOTE), ("message", TEST_MESSAGE)] * 2
    names = [r["name"] for r in control.agent_requests(config.bot.id)["requests"]]
    assert names.count("chat.message") == 1  # only the socket run wrote on the socket
    posts = [r for r in app.state.rest.requests if r["operation"] == POST_MESSAGE]
    assert [p["body"]["type"] for p in posts] == ["note", "message", "note"]


def write_config(tmp_path: Path, config: SandboxConfig, base_url: str) -> Path:
    path = tmp_path / "bot.toml"
    path.write_text(
        "[smartsupp]\n"
        f'url = "{base_url}"\n'
        f'agent_id = "{config.bot.id}"\n'
        f'key = "{config.account_key}"\n'
        f'auth_token = "{config.bot.auth_token}"\n'
        f'api_url = "{base_url}{REST_PREFIX}"\n',
        encoding="utf-8",
    )
    return path


async def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    with anyio.fail_after(60):
        return await anyio.run_process(
            [sys.executable, "-m", "agentbot", *args], env={**os.environ, **env}, check=False
        )


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # uvicorn: asyncio only
async def test_cli_check_live_over_loopback_ok_and_401(tmp_path: Path) -> None:
    config = SandboxConfig()
    app = create_app(config)
    async with running_server(app) as base_url:
        path = write_config(tmp_path, config, base_url)
        good = await run_cli(
            "check",
            "--live",
            "-c",
            str(path),
            env={"AGENTBOT_API_TOKEN": api_token_for(config.bot)},
        )
        bad = await run_cli(
            "check", "--live", "-c", str(path), env={"AGENTBOT_API_TOKEN": "not-the-token"}
        )
    out = good.stdout.decode()
    assert good.returncode == 0, good.stderr.decode()
    cells = [re.split(r"\s{2,}", line) for line in out.splitlines()[2:]]
    lines = {row[0]: row[1] for row in cells}
    assert lines["login"] == "ok"
    assert lines["rest"] == "ok"
    assert lines["events"] == "ok"
    assert lines["rest note"] == "skipped"  # no --chat: nothing written
    bad_out = bad.stdout.decode()
    assert bad.returncode == 1
    rest_line = next(line for line in bad_out.splitlines() if line.startswith("rest "))
    assert "FAIL" in rest_line
    assert "HTTP 401" in rest_line
    assert "not-the-token" not in bad_out + bad.stderr.decode()
    assert [r["status"] for r in app.state.rest.requests] == [200, 401]
