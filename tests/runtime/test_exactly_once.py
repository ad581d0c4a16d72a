"""Exactly-once replies across many forced disconnects (issue 12; issue 16's typing rule).

A seeded loop breaks the bot's link or its sends at least 200 times while visitors keep
talking, against the real sandbox (in-process, both backends; the bot's pacing on an
autojumping virtual clock, so nothing waits for real):

* socket sends: the ack of a ``chat.message`` is dropped and then the link (the message was
  stored, the bot cannot know), or the link drops while the bot types, or right after the
  visitor wrote (the bot learns the message at the next login);
* REST sends: the sandbox stores a message and cuts the answer short, or answers 503 without
  storing, or the socket drops while the bot types.

Then, from the sandbox's own records: every visitor message got exactly one bot message (the
echo of its unique text), and on every connection each ``typing: true`` is followed by a
``typing: false`` or the connection's end, and every socket message was sent while typing
was on *on that same connection* (typing shown on an earlier link does not count).
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import anyio
import pytest

from tests.runtime import test_e2e_sandbox as e2e

DROPS = 200
VISITORS = 4
WAIT_SECONDS = 20
RUNTIME = {"max_replies_per_chat_per_minute": 10_000, "max_messages_per_second": 10_000.0}
PACING = {"time_scale": 0.05}


class Soak:
    """The loop's bookkeeping: who wrote what, and what the sandbox saw."""

    def __init__(self, h: e2e.Harness, seed: int) -> None:
        self.h = h
        self.rng = random.Random(seed)
        self.written: dict[str, list[str]] = {}  # chat id -> texts, in order
        self.chat_of: dict[str, str] = {}  # visitor name -> chat id
        self.count = 0
        self.drops = 0

    def logins(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.h.control.connections(agent_id=self.h.bot_id)[
            "connections"
        ]
        return [c for c in found if c["authenticated"]]

    def bot_lines(self, chat_id: str) -> list[str]:
        entries = self.h.control.transcript(chat_id)["entries"]
        return [e["text"] for e in entries if e["kind"] == "message" and e["by"] == "agent"]

    def unanswered(self, chat_id: str) -> list[str]:
        said = Counter(self.bot_lines(chat_id))
        return [text for text in self.written.get(chat_id, []) if not said[f"echo: {text}"]]

    async def until(self, predicate: Any, what: str) -> None:
        try:
            with anyio.fail_after(WAIT_SECONDS):
                await self.h.sandbox.wait_until(predicate)
        except TimeoutError:
            raise AssertionError(f"timed out waiting for {what}") from None

    def write(self, visitor: str) -> str:
        self.count += 1
        text = f"{visitor} says {self.count}"
        chat_id, _visitor_id, _message_id = self.h.write(text, visitor=visitor)
        self.chat_of[visitor] = chat_id
        self.written.setdefault(chat_id, []).append(text)
        return chat_id

    async def answered(self, visitor: str) -> None:
        """Wait until the visitor's messages so far are answered (a visitor waits for the
        bot before writing again: a newer message would rightly replace a pending reply)."""
        chat_id = self.chat_of.get(visitor)
        if chat_id is not None:
            await self.until(lambda: not self.unanswered(chat_id), f"an answer in {chat_id}")

    async def drop_link(self) -> None:
        before = len(self.logins())
        self.h.control.drop(agent_id=self.h.bot_id)
        self.drops += 1
        await self.until(
            lambda: len(self.logins()) > before and self.logins()[-1]["open"], "a new login"
        )

    def typing_on(self, chat_id: str) -> bool:
        requests = self.h.requests(chat_id)
        current = self.logins()[-1]["id"]
        return any(
            r["connId"] == current and r["name"] == "chat.typing" and r["args"][0]["typing"]["is"]
            for r in requests
        )

    async def finish(self) -> None:
        for visitor in list(self.chat_of):
            await self.answered(visitor)
        # A barrier: a last chat answered and its typing closed; then typing off everywhere
        # (a typing left on would time out here and fail the rule below).
        chat_id = await self.h.reply_round("last words", visitor="Zed")
        self.written.setdefault(chat_id, []).append("last words")
        await self.until(lambda: not self.typing_left_on(), "typing false everywhere")

    def typing_left_on(self) -> list[tuple[str, str]]:
        """(connection, chat) pairs whose typing is on, on the current connection."""
        last_conn = self.logins()[-1]["id"]
        typing: dict[tuple[str, str], bool] = {}
        for r in self.h.requests():
            if r["name"] == "chat.typing" and r["connId"] == last_conn:
                typing[(r["connId"], r["args"][0]["chatId"])] = bool(r["args"][0]["typing"]["is"])
        return [key for key, on in typing.items() if on]

    # -- the checks --------------------------------------------------------------------------

    def check_exactly_once(self) -> None:
        lost, doubled = [], []
        for chat_id, texts in self.written.items():
            said = Counter(self.bot_lines(chat_id))
            for text in texts:
                n = said[f"echo: {text}"]
                if n == 0:
                    lost.append(text)
                elif n > 1:
                    doubled.append((text, n))
        total = sum(len(texts) for texts in self.written.values())
        assert (lost, doubled) == ([], []), f"of {total}: lost {lost}, doubled {doubled}"

    def check_typing_rule(self, *, socket_messages: bool) -> None:
        """Typing per connection: closed on its own link, and on while each message goes."""
        requests = self.h.requests()
        typing: dict[tuple[str, str], bool] = {}
        untyped = []
        for r in requests:
            if r["name"] not in ("chat.typing", "chat.message"):
                continue
            key = (r["connId"], r["args"][0]["chatId"])
            if r["name"] == "chat.typing":
                typing[key] = bool(r["args"][0]["typing"]["is"])
            elif not typing.get(key):
                untyped.append((r["seq"], r["connId"], r["args"][0]["chatId"]))
        assert untyped == [], "messages sent without typing on their connection"
        assert socket_messages == any(r["name"] == "chat.message" for r in requests)
        assert self.typing_left_on() == [], "typing left on at the end of the run"


def bot(send_via: str) -> Any:
    return e2e.bot_on_sandbox(
        4, e2e.Echo(), in_process=True, send_via=send_via, pacing=PACING, runtime=RUNTIME
    )


async def socket_soak(h: e2e.Harness, *, drops: int, seed: int) -> Soak:
    soak = Soak(h, seed=seed)
    for i in range(drops):
        visitor = f"v{i % VISITORS}"
        await soak.answered(visitor)
        how = soak.rng.choice(["ack", "ack", "typing", "written"])
        if how == "ack":
            h.control.ack_fault(request="chat.message", action="drop", count=1, agent_id=h.bot_id)
            soak.write(visitor)
            await soak.until(lambda: not h.sandbox.faults.ack_faults, "a message sent")
        elif how == "typing":
            chat_id = soak.write(visitor)
            await soak.until(lambda c=chat_id: soak.typing_on(c), "typing")
        else:
            soak.write(visitor)
        await soak.drop_link()
    await soak.finish()
    return soak


async def test_socket_sends_survive_200_drops_between_send_and_ack() -> None:
    async with bot("socket") as h:
        soak = await socket_soak(h, drops=DROPS, seed=12)
        assert soak.drops >= DROPS
        soak.check_exactly_once()
        assert soak.typing_left_on() == []


async def test_socket_messages_are_typed_on_their_own_connection() -> None:
    async with bot("socket") as h:
        soak = await socket_soak(h, drops=100, seed=12)
        soak.check_typing_rule(socket_messages=True)


async def test_rest_sends_survive_200_cut_answers_errors_and_drops() -> None:
    async with bot("rest") as h:
        soak = Soak(h, seed=16)
        operation = "POST /v2/conversations/{id}"
        faults = 0
        for i in range(DROPS):
            visitor = f"v{i % VISITORS}"
            await soak.answered(visitor)
            how = soak.rng.choice(["cut", "cut", "error", "typing"])
            if how in ("cut", "error"):
                h.control.rest_fault(
                    action="drop" if how == "cut" else "error",
                    operation=operation,
                    count=1,
                    agent_id=h.bot_id,
                )
                soak.write(visitor)
                await soak.until(lambda: not h.sandbox.faults.rest_faults, "a send attempt")
                faults += 1
            else:
                chat_id = soak.write(visitor)
                await soak.until(lambda c=chat_id: soak.typing_on(c), "typing")
                await soak.drop_link()
        await soak.finish()
        assert faults + soak.drops >= DROPS
        soak.check_exactly_once()
        soak.check_typing_rule(socket_messages=False)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_checks_can_fail(anyio_backend: str) -> None:
    """A message with no typing on its connection, and a lost answer, are caught."""
    async with bot("socket") as h:
        soak = Soak(h, seed=0)
        soak.write("v0")
        await soak.answered("v0")
        soak.written[soak.chat_of["v0"]].append("never answered")
        with pytest.raises(AssertionError, match="lost"):
            soak.check_exactly_once()
        await soak.until(lambda: not soak.typing_left_on(), "typing false")
        # Record one more message from the bot on its connection, after its typing ended.
        conn = soak.logins()[-1]["id"]
        sent = [r for r in h.requests(soak.chat_of["v0"]) if r["name"] == "chat.message"]
        record = {key: value for key, value in sent[-1].items() if key != "connId"}
        h.sandbox.connections[conn].requests.append({**record, "seq": 10**9})
        with pytest.raises(AssertionError, match="without typing"):
            soak.check_typing_rule(socket_messages=True)
