"""The chat page and the agent console in a real browser (Debian's Chromium via Playwright).

The sandbox runs under uvicorn on an ephemeral 127.0.0.1 port; the page talks to it through
the official visitor SDK, and the test plays the agent over a python-socketio connection
(Engine.IO 4), so the visitor (Engine.IO 3) and the agent meet through the sandbox the way a
real widget and a real bot would. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest
import socketio
from playwright.async_api import Browser, Page, async_playwright, expect

from agentbot.sandbox import SandboxConfig, SandboxControl, create_app, running_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Bounds for waiting on the page (Playwright polls the DOM until they expire, never sleeps).
UI_TIMEOUT_MS = 10_000
WAIT_SECONDS = 10

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("anyio_backend", ["asyncio"]),  # uvicorn and Playwright: asyncio
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's chromium is not installed (apt-get install chromium)",
    ),
]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def sandbox_site() -> AsyncIterator[tuple[str, SandboxControl, SandboxConfig]]:
    config = SandboxConfig()
    app = create_app(config)  # the chat page and the console are served by default
    async with running_server(app) as base_url:
        yield base_url, app.state.control, config


async def new_page(browser: Browser) -> Page:
    context = await browser.new_context(viewport={"width": 1180, "height": 760}, locale="en-US")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_default_timeout(UI_TIMEOUT_MS)
    page.errors = errors  # type: ignore[attr-defined]
    return page


async def agent_socket(base_url: str, config: SandboxConfig) -> socketio.AsyncClient:
    """Log in as the sandbox's bot agent over python-socketio (Engine.IO 4)."""
    sio = socketio.AsyncClient(reconnection=False)
    await sio.connect(base_url, socketio_path="socket", transports=["websocket"], wait_timeout=5)
    error, reply = await sio.call(
        "agent.connect",
        {
            "version": 5,
            "id": config.bot.id,
            "key": config.account_key,
            "authToken": config.bot.auth_token,
        },
        timeout=5,
    )
    assert error is None, error
    assert reply["agent"]["id"] == config.bot.id
    return sio


async def wait_for_chat(control: SandboxControl) -> dict[str, Any]:
    with anyio.fail_after(WAIT_SECONDS):
        await control.sandbox.wait_until(lambda: bool(control.chats()["chats"]))
    chats: list[dict[str, Any]] = control.chats()["chats"]
    assert len(chats) == 1
    return chats[0]


async def test_typing_names_the_one_online_agent_as_its_bubble_does(
    browser: Browser, sandbox_site: tuple[str, SandboxControl, SandboxConfig]
) -> None:
    # As in `agentbot demo`: the bot is online before the visitor opens the page, and the
    # first chat.agent_typing (no agent id, PROTOCOL.md §4) comes before any agent message.
    base_url, control, config = sandbox_site
    sio = await agent_socket(base_url, config)
    try:
        page = await new_page(browser)
        await page.goto(f"{base_url}/?new=1")
        await expect(page.locator("#status")).to_have_attribute("data-state", "online")
        await page.locator("#input").fill("Hello?")
        await page.locator("#input").press("Enter")
        chat = await wait_for_chat(control)
        target = {"chatId": chat["id"], "visitorId": chat["visitorId"]}
        await sio.emit("chat.typing", {**target, "typing": {"is": True}})
        await expect(page.locator("#typing-label")).to_have_text("bot is typing…")
        error, _message = await sio.call(
            "chat.message", {**target, "content": {"type": "text", "text": "Hi!"}}, timeout=5
        )
        assert error is None, error
        await expect(page.locator(".msg.agent .sender")).to_have_text(["bot"])
    finally:
        await sio.disconnect()


async def test_visitor_chats_with_an_agent_and_sees_typing(
    browser: Browser,
    sandbox_site: tuple[str, SandboxControl, SandboxConfig],
    test_artifacts: Path,
) -> None:
    base_url, control, config = sandbox_site
    page = await new_page(browser)
    await page.goto(f"{base_url}/?new=1")
    await expect(page.locator("#status")).to_have_attribute("data-state", "online")
    await expect(page.locator("#status-label")).to_have_text("Online")

    # The visitor writes and presses Enter.
    await page.locator("#input").fill("Hi! Do you ship to Prague?")
    await page.locator("#input").press("Enter")
    await expect(page.locator(".msg.visitor .bubble")).to_have_text(["Hi! Do you ship to Prague?"])
    await expect(page.locator("#input")).to_have_value("")
    chat = await wait_for_chat(control)
    assert [m["content"]["text"] for m in chat["messages"]] == ["Hi! Do you ship to Prague?"]
    # The send was acknowledged: the bubble is no longer pending.
    await expect(page.locator(".msg.visitor.pending")).to_have_count(0)

    sio = await agent_socket(base_url, config)
    try:
        target = {"chatId": chat["id"], "visitorId": chat["visitorId"]}
        typing = page.locator("#typing")
        await expect(typing).to_be_hidden()

        await sio.emit("chat.typing", {**target, "typing": {"is": True}})
        await expect(typing).to_be_visible()
        await expect(page.locator("#typing-label")).to_contain_text("is typing")
        await page.screenshot(path=str(test_artifacts / "chat-agent-typing.png"))

        reply = "Hello! Yes, we ship to Prague in 2 days. Anything else I can help with?"
        error, message = await sio.call(
            "chat.message", {**target, "content": {"type": "text", "text": reply}}, timeout=5
        )
        assert error is None, error
        assert message["content"]["text"] == reply
        await sio.emit("chat.typing", {**target, "typing": {"is": False}})

        await expect(page.locator(".msg.agent .bubble")).to_have_text([reply])
        await expect(page.locator(".msg.agent .sender")).to_have_text(["bot"])
        await expect(typing).to_be_hidden()

        # Typing on, then off without a message: the indicator follows chat.agent_typing alone,
        # and names the agent as its bubbles do.
        await sio.emit("chat.typing", {**target, "typing": {"is": True}})
        await expect(typing).to_be_visible()
        await expect(page.locator("#typing-label")).to_have_text("bot is typing…")
        await sio.emit("chat.typing", {**target, "typing": {"is": False}})
        await expect(typing).to_be_hidden()

        # The visitor's typing reaches the agent side (recorded by the sandbox).
        await page.locator("#input").fill("Great, th")

        def visitor_typed() -> bool:
            entries = control.transcript(chat["id"])["entries"]
            return any(e["kind"] == "typing" and e["by"] == "visitor" and e["is"] for e in entries)

        with anyio.fail_after(WAIT_SECONDS):
            await control.sandbox.wait_until(visitor_typed)
        await page.locator("#input").fill("Great, thanks!")
        await page.locator("#send").click()
        await expect(page.locator(".msg.visitor .bubble")).to_have_count(2)
    finally:
        await sio.disconnect()

    await page.screenshot(path=str(test_artifacts / "chat.png"))
    await expect(page.locator(".system.error")).to_have_count(0)  # no server.error shown
    assert page.errors == []  # type: ignore[attr-defined]
    _keep_latest(test_artifacts / "chat.png", "chat-page.png")


async def test_page_shows_reconnecting_then_online_when_the_socket_drops(
    browser: Browser, sandbox_site: tuple[str, SandboxControl, SandboxConfig]
) -> None:
    base_url, control, _config = sandbox_site
    page = await new_page(browser)
    await page.goto(f"{base_url}/?new=1")
    status = page.locator("#status")
    await expect(status).to_have_attribute("data-state", "online")
    await page.locator("#input").fill("Are you there?")
    await page.locator("#input").press("Enter")
    await wait_for_chat(control)

    dropped = control.drop(side="visitor")["dropped"]
    assert dropped
    await expect(status).to_have_attribute("data-state", "reconnecting")
    await expect(status).to_have_attribute("data-state", "online")
    # Back on the same visitor and chat: history is not duplicated.
    await expect(page.locator(".msg.visitor .bubble")).to_have_text(["Are you there?"])
    assert len(control.chats()["chats"]) == 1
    assert page.errors == []  # type: ignore[attr-defined]


async def test_console_lists_chats_live_and_a_human_takes_over(
    browser: Browser,
    sandbox_site: tuple[str, SandboxControl, SandboxConfig],
    test_artifacts: Path,
) -> None:
    base_url, control, config = sandbox_site
    page = await new_page(browser)
    await page.goto(f"{base_url}/console")
    await expect(page.locator("#status")).to_have_attribute("data-state", "online")
    await expect(page.locator("#me")).to_contain_text(config.human.nickname)

    visitor = control.create_visitor(name="Ada Lovelace", page_url="https://shop.example/")
    visitor_id = visitor["visitor"]["id"]
    sent = control.visitor_message(visitor_id, "Can I talk to a human, please?")
    chat_id = sent["chat"]["id"]
    control.agent_message(chat_id, "Let me find someone for you.", agent_id=config.bot.id)

    item = page.locator(f'.chat-item[data-chat-id="{chat_id}"]')
    await expect(item.locator(".name")).to_have_text("Ada Lovelace")
    await expect(item.locator(".preview")).to_have_text("Let me find someone for you.")
    await item.click()
    transcript = page.locator("#transcript .entry .text")
    await expect(transcript).to_have_text(
        ["Can I talk to a human, please?", "Let me find someone for you."]
    )
    await expect(page.locator("#transcript .entry.agent.bot")).to_have_count(1)

    control.visitor_typing(visitor_id, True)
    await expect(page.locator("#visitor-typing")).to_be_visible()
    control.visitor_typing(visitor_id, False)
    await expect(page.locator("#visitor-typing")).to_be_hidden()

    await page.locator("#join").click()
    await expect(page.locator("#leave")).to_be_visible()
    assert config.human.id in control.chat(chat_id)["chat"]["assignedIds"]

    await page.locator("#input").fill("Hi Ada, I'm Alice. How can I help?")
    await page.locator("#input").press("Enter")

    def human_answered() -> bool:
        entries = control.transcript(chat_id)["entries"]
        return any(e["kind"] == "message" and e.get("agentId") == config.human.id for e in entries)

    with anyio.fail_after(WAIT_SECONDS):
        await control.sandbox.wait_until(human_answered)
    typing_by_human = [
        e["is"]
        for e in control.transcript(chat_id)["entries"]
        if e["kind"] == "typing" and e.get("agentId") == config.human.id
    ]
    assert typing_by_human[:1] == [True]  # the visitor saw the human typing first
    await expect(transcript).to_have_count(3)
    await expect(transcript.last).to_have_text("Hi Ada, I'm Alice. How can I help?")
    await page.screenshot(path=str(test_artifacts / "console.png"))
    assert page.errors == []  # type: ignore[attr-defined]
    _keep_latest(test_artifacts / "console.png", "console-page.png")


def _keep_latest(shot: Path, name: str) -> None:
    """Copy a screenshot to test-artifacts/ under a stable name, for people to look at."""
    shutil.copyfile(shot, shot.parent.parent / name)
