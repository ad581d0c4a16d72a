"""``agentbot record``: the transcript is redacted, and our decoder ingests it as-is."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio

from agentbot.api import UnknownEvent, decode_event
from agentbot.record import MASK, MASKED_EMAIL, record
from agentbot.runtime.clock import VirtualClock
from agentbot.runtime.config import SmartsuppSettings
from agentbot.sandbox import SandboxConfig, create_app
from agentbot.sandbox.rest_api import api_token_for

SECRET_TEXT = "My card ends 4242, mail me at ada.lovelace@example.com"


async def record_sandbox(tmp_path: Path, *, mask_texts: bool) -> tuple[list[dict[str, Any]], Any]:
    config = SandboxConfig()
    app = create_app(config)
    control = app.state.control
    settings = SmartsuppSettings(
        url="http://sandbox",
        agent_id=config.bot.id,
        key=config.account_key,
        auth_token=config.bot.auth_token,
        api_token=api_token_for(config.bot),
        track_visitors=True,
    )
    clock = VirtualClock()
    out = tmp_path / "wire.jsonl"
    names: list[str] = []
    changed = anyio.Event()

    def seen(name: str) -> None:
        nonlocal changed
        names.append(name)
        changed.set()
        changed = anyio.Event()

    async with anyio.create_task_group() as tg:
        tg.start_soon(
            lambda: record(
                settings,
                out,
                seconds=30,
                mask_texts=mask_texts,
                clock=clock,
                asgi_app=app,
                on_event=seen,
            )
        )
        with anyio.fail_after(10):
            await clock.wait_sleepers(1)  # logged in, recording
            visitor = control.create_visitor(name="Ada Lovelace", email="ada@example.com")
            control.visitor_message(visitor["visitor"]["id"], SECRET_TEXT)
            while "chat.message_received" not in names:
                await changed.wait()
        await clock.advance(30)
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return lines, config


async def test_recorded_transcript_is_masked_and_decodes_line_by_line(tmp_path: Path) -> None:
    lines, config = await record_sandbox(tmp_path, mask_texts=True)
    assert [line["event"] for line in lines] == [
        "visitor.connected",
        "chat.opened",
        "chat.message_received",
    ]
    raw = json.dumps(lines)
    for secret in (
        config.account_key,
        config.bot.auth_token,
        "Ada Lovelace",
        "ada@example.com",
        "ada.lovelace@example.com",
        "4242",
    ):
        assert secret not in raw
    assert MASKED_EMAIL in raw
    for line in lines:
        assert line["direction"] == "in"
        event = decode_event(line["event"], line["payload"])
        assert not isinstance(event, UnknownEvent)
        assert event.name == line["event"]
    message = decode_event(lines[-1]["event"], lines[-1]["payload"])
    assert message.message.text == MASK  # type: ignore[attr-defined]


async def test_no_mask_texts_keeps_texts_but_not_addresses_or_names(tmp_path: Path) -> None:
    lines, _config = await record_sandbox(tmp_path, mask_texts=False)
    message = decode_event(lines[-1]["event"], lines[-1]["payload"])
    text = message.message.text  # type: ignore[attr-defined]
    assert text == SECRET_TEXT.replace("ada.lovelace@example.com", MASKED_EMAIL)
    assert "Ada Lovelace" not in json.dumps(lines)
