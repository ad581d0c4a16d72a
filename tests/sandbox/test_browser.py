"""The chat page and the agent console in a real browser (Debian's Chromium via Playwright).

The sandbox runs under uvicorn on an ephemeral 127.0.0.1 port; the page talks to it through
the official visitor SDK (Engine.IO 3), and the real agentbot Bot logs in to it over its own
client (Engine.IO 4) and answers over REST, so the visitor and the bot meet through the
sandbox the way a real widget and a deployed bot would. The bot runs on a virtual clock: its
typing pause lasts until the test moves the clock, never for real. Screenshots go to
test-artifacts/.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect
from starlette.applications import Starlette

import agentbot
from agentbot.runtime.bot import Bot
from agentbot.runtime.clock import VirtualClock
from agentbot.runtime.config import BotConfig, RuntimeSettings, SmartsuppSettings
from agentbot.sandbox import SandboxConfig, SandboxControl, create_app, running_server
from agentbot.sandbox.rest_api import REST_PREFIX, api_token_for
from agentbot.sandbox.site import SiteUrls

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
PACE_SECONDS = 30.0  # virtual: longer than any typing pause of a one-line answer
QUESTION = "Hi! Do you ship to Prague?"
ANSWER = "Hello! Yes, we ship to Prague in 2 days. Anything else I can help with?"

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
def site_app() -> Starlette:
    return create_app(SandboxConfig())  # the chat page and the console are served by default


@pytest.fixture
async def sandbox_site(
    site_app: Starlette,
) -> AsyncIterator[tuple[str, SandboxControl, SandboxConfig]]:
    async with running_server(site_app) as base_url:
        yield base_url, site_app.state.control, site_app.state.sandbox.config


async def new_page(browser: Browser) -> Page:
    context = await browser.new_context(viewport={"width": 1180, "height": 760}, locale="en-US")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_default_timeout(UI_TIMEOUT_MS)
    page.errors = errors  # type: ignore[attr-defined]
    return page


class Shop:
    """The bot's one plugin: answers the visitor's question (a real hook, a real reply)."""

    @agentbot.hookimpl
    def on_visitor_message(self, text: str) -> agentbot.Reply | None:
        if "ship" in text.lower():
            return agentbot.Reply(ANSWER)
        return None


@pytest.fixture
async def bot_on_site(
    sandbox_site: tuple[str, SandboxControl, SandboxConfig], tmp_path: Path
) -> AsyncIterator[tuple[Bot, VirtualClock]]:
    """The real agentbot Bot, logged in to the served sandbox, sending over REST.

    Its clock is virtual: the reply's typing pause lasts until the test advances it, so the
    page is looked at while the bot types, and nobody waits the pause out for real.
    """
    base_url, _control, config = sandbox_site
    urls = SiteUrls.from_base_url(base_url, eio=4)
    bot_config = BotConfig(
        path=None,
        smartsupp=SmartsuppSettings(
            url=urls.base,
            agent_id=config.bot.id,
            key=config.account_key,
            auth_token=config.bot.auth_token,
            eio=urls.eio,
            send_via="rest",
            api_url=f"{urls.base}{REST_PREFIX}",
            api_token=api_token_for(config.bot),
        ),
        runtime=RuntimeSettings(storage_path=tmp_path / "bot.sqlite3"),
    )
    clock = VirtualClock()
    bot = Bot(bot_config, plugins=[("shop", Shop())], clock=clock)
    async with anyio.create_task_group() as tg:
        with anyio.fail_after(WAIT_SECONDS):
            await tg.start(bot.run)
        try:
            yield bot, clock
        finally:
            bot.stop()


async def wait_for_chat(control: SandboxControl) -> dict[str, Any]:
    with anyio.fail_after(WAIT_SECONDS):
        await control.sandbox.wait_until(lambda: bool(control.chats()["chats"]))
    chats: list[dict[str, Any]] = control.chats()["chats"]
    assert len(chats) == 1
    return chats[0]


async def let_the_bot_finish_typing(clock: VirtualClock) -> None:
    """Move the virtual clock past the reply's typing pause, once the bot is parked in it.

    The page may show the indicator a moment before the bot's task sleeps: wait (on the
    clock's own record of sleepers, not on real time) for a sleeper due within the pace.
    """
    with anyio.fail_after(WAIT_SECONDS):
        while (clock.next_deadline() or math.inf) > clock.now() + PACE_SECONDS:
            await clock.wait_sleepers(clock.sleeper_count + 1)
    await clock.advance(PACE_SECONDS)


async def test_the_real_bot_types_then_answers_the_visitor_in_the_page(
    browser: Browser,
    site_app: Starlette,
    sandbox_site: tuple[str, SandboxControl, SandboxConfig],
    bot_on_site: tuple[Bot, VirtualClock],
    test_artifacts: Path,
) -> None:
    # As in `agentbot demo`: the bot is online before the visitor opens the page.
    base_url, control, config = sandbox_site
    bot, clock = bot_on_site
    page = await new_page(browser)
    await page.goto(f"{base_url}/?new=1")
    await expect(page.locator("#status")).to_have_attribute("data-state", "online")
    await expect(page.locator("#status-label")).to_have_text("Online")
    typing = page.locator("#typing")
    await expect(typing).to_be_hidden()

    # The visitor writes and presses Enter.
    await page.locator("#input").fill(QUESTION)
    await page.locator("#input").press("Enter")
    await expect(page.locator(".msg.visitor .bubble")).to_have_text([QUESTION])
    await expect(page.locator("#input")).to_have_value("")
    await expect(page.locator(".msg.visitor.pending")).to_have_count(0)  # acknowledged

    # The bot's typing indicator (chat.agent_typing, PROTOCOL.md §4) names it as its bubbles
    # will; the virtual clock holds the bot in its typing pause while the page is looked at.
    await expect(typing).to_be_visible()
    await expect(page.locator("#typing-label")).to_have_text("bot is typing…")
    await expect(page.locator(".msg.agent")).to_have_count(0)
    await page.screenshot(path=str(test_artifacts / "chat-agent-typing.png"))

    await let_the_bot_finish_typing(clock)
    await expect(page.locator(".msg.agent .bubble")).to_have_text([ANSWER])
    await expect(page.locator(".msg.agent .sender")).to_have_text(["bot"])
    await expect(typing).to_be_hidden()

    # The answer went out over REST, as the real bot sends it (send_via = "rest").
    chat = await wait_for_chat(control)
    sent = [
        (e["operation"], e["body"]["content"]["text"])
        for e in site_app.state.rest.requests
        if e["agentId"] == config.bot.id and "content" in (e["body"] or {})
    ]
    assert sent == [("POST /v2/conversations/{id}", ANSWER)]
    entries = control.transcript(chat["id"])["entries"]
    said = [(e.get("agentId"), e["text"]) for e in entries if e["kind"] == "message"]
    assert said == [(None, QUESTION), (config.bot.id, ANSWER)]
    assert bot.stats["sent"] == 1

    # Typing on, then off without a message: the indicator follows chat.agent_typing alone.
    control.agent_typing(chat["id"], True, agent_id=config.bot.id)
    await expect(typing).to_be_visible()
    await expect(page.locator("#typing-label")).to_have_text("bot is typing…")
    control.agent_typing(chat["id"], False, agent_id=config.bot.id)
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
