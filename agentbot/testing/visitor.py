"""The simulated visitor: speaks into a chat, reads the bot's replies on virtual time."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentbot.testing.records import (
    BotMessage,
    NoReply,
    SaidMessage,
    TranscriptEntry,
    UnexpectedReply,
    bot_message_at,
    transcript_text,
)

if TYPE_CHECKING:
    from agentbot.testing.harness import BotHarness

__all__ = ["DEFAULT_REPLY_WITHIN_SECONDS", "SimulatedVisitor"]

DEFAULT_REPLY_WITHIN_SECONDS = 60.0
"""Virtual seconds a visitor waits for a reply (pacing caps one message at 8 s by default)."""


# ---------------------------------------------------------------------------------------------
# The simulated visitor
# ---------------------------------------------------------------------------------------------


class SimulatedVisitor:
    """A website visitor the test speaks as (a scripted sandbox visitor, no socket).

    Get one from :meth:`BotHarness.visitor`. Its first :meth:`say` opens a chat; after the
    chat closed, the next one opens a new chat. Replies are consumed in order: each
    :meth:`next_reply` returns the bot's next message to this visitor.
    """

    def __init__(self, harness: BotHarness, visitor_id: str, name: str | None) -> None:
        self._harness = harness
        self.id = visitor_id
        """The visitor's id in the sandbox."""
        self.name = name
        self.chat_ids: list[str] = []
        """Every chat this visitor opened, oldest first."""
        self._cursor = 0

    def __repr__(self) -> str:
        return f"SimulatedVisitor(id={self.id!r}, name={self.name!r})"

    @property
    def chat_id(self) -> str | None:
        """The visitor's current (latest) chat, or None before the first message."""
        return self.chat_ids[-1] if self.chat_ids else None

    def _require_chat(self) -> str:
        if self.chat_id is None:
            raise AssertionError(f"{self!r} has not said anything yet, so it has no chat")
        return self.chat_id

    # -- acting ----------------------------------------------------------------------------

    async def say(self, text: str) -> SaidMessage:
        """Write ``text`` into the chat (the first message opens one) and wait until the bot
        has received it. Does not wait for an answer: see :meth:`next_reply`."""
        harness = self._harness
        result = harness.control.visitor_message(self.id, text)
        chat_id = str(result["chat"]["id"])
        if chat_id not in self.chat_ids:
            self.chat_ids.append(chat_id)
        message = result["message"]
        said = SaidMessage(id=str(message["id"]), text=text, chat_id=chat_id, t=harness.now())
        harness._expect_delivery(said.id)
        await harness._wait_delivered()
        return said

    async def typing(self, is_typing: bool = True) -> None:
        """Show (or hide) the visitor typing, then let the bot react."""
        self._harness.control.visitor_typing(self.id, is_typing)
        await self._harness.settle()

    async def close_chat(self) -> None:
        """Close the chat as the visitor, then let the bot react."""
        self._harness.control.close_chat(self._require_chat(), by="visitor")
        await self._harness.settle()

    async def rate(self, value: int, text: str | None = None) -> None:
        """Rate the chat (1-5, optional comment), then let the bot react."""
        self._harness.control.rate_chat(self._require_chat(), value=value, text=text)
        await self._harness.settle()

    # -- reading ---------------------------------------------------------------------------

    def transcript(self) -> list[TranscriptEntry]:
        """Every transcript entry of this visitor's chats, in order."""
        entries: list[TranscriptEntry] = []
        for chat_id in self.chat_ids:
            entries.extend(self._harness.transcript(chat_id))
        entries.sort(key=lambda entry: entry.seq)
        return entries

    def messages(self) -> list[str]:
        """The texts of every message in this visitor's chats, as ``"who: text"`` lines."""
        return [
            f"{'bot' if e.from_bot else e.by}: {e.text}"
            for e in self.transcript()
            if e.kind == "message"
        ]

    @property
    def bot_is_typing(self) -> bool:
        """Whether the visitor currently sees the bot typing (after :meth:`BotHarness.settle`)."""
        typing = [e for e in self.transcript() if e.kind == "typing" and e.from_bot]
        return bool(typing and typing[-1].is_typing)

    def replies(self) -> list[BotMessage]:
        """Every message the bot has sent to this visitor so far (consumed or not)."""
        return self._bot_messages(after=0)

    def _bot_messages(self, *, after: int) -> list[BotMessage]:
        entries = self.transcript()
        found: list[BotMessage] = []
        for index, entry in enumerate(entries):
            if entry.seq <= after or entry.kind != "message" or not entry.from_bot:
                continue
            found.append(bot_message_at(entries, index))
        return found

    async def next_reply(self, *, within: float = DEFAULT_REPLY_WITHIN_SECONDS) -> BotMessage:
        """Return the bot's next message to this visitor, letting virtual time run for it.

        Waits at most ``within`` virtual seconds from now; raises :class:`NoReply` (with the
        transcript) if the bot has nothing more to say by then.
        """
        harness = self._harness
        limit = harness.now() + within
        while True:
            await harness.settle()
            pending = self._bot_messages(after=self._cursor)
            if pending:
                self._cursor = pending[0].seq
                return pending[0]
            deadline = harness.clock.next_deadline()
            if deadline is None or deadline > limit:
                what = "anything" if deadline is None else f"nothing until {deadline:.3f} s"
                raise NoReply(
                    f"the bot did not reply to {self.name or self.id} within {within:g} s "
                    f"(virtual; it had {what} scheduled). Transcript:\n"
                    f"{transcript_text(self.transcript())}"
                    f"{harness._failure_note()}"
                )
            await harness._advance_to(deadline)

    async def expect_no_reply(self, *, within: float = DEFAULT_REPLY_WITHIN_SECONDS) -> None:
        """Assert that the bot sends this visitor nothing within ``within`` virtual seconds.

        Virtual time moves forward by ``within`` (through every timer due before then).
        Raises :class:`UnexpectedReply` with the message and the transcript otherwise.
        """
        harness = self._harness
        limit = harness.now() + within
        while True:
            await harness.settle()
            pending = self._bot_messages(after=self._cursor)
            if pending:
                self._cursor = pending[0].seq
                raise UnexpectedReply(
                    f"the bot replied {pending[0].text!r} to {self.name or self.id}, where no "
                    f"reply was expected. Transcript:\n{transcript_text(self.transcript())}",
                    reply=pending[0],
                )
            deadline = harness.clock.next_deadline()
            if deadline is None or deadline > limit:
                break
            await harness._advance_to(deadline)
        if harness.now() < limit:
            await harness._advance_to(limit)
            await harness.settle()
            pending = self._bot_messages(after=self._cursor)
            if pending:
                self._cursor = pending[0].seq
                raise UnexpectedReply(
                    f"the bot replied {pending[0].text!r} to {self.name or self.id}, where no "
                    f"reply was expected. Transcript:\n{transcript_text(self.transcript())}",
                    reply=pending[0],
                )
