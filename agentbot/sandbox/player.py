"""Play a scripted visitor (a :class:`~agentbot.sandbox.scenario.Scenario`) against a sandbox.

The visitor acts through the sandbox's Python control API (:class:`SandboxControl`, the
twin of the HTTP control API), so it needs no socket: ``agentbot demo`` runs it in the same
process as the sandbox and the bot. A :class:`TranscriptFollower` turns the sandbox's
transcript into readable, timed lines (``+0.4s bot is typing…``) as they happen; the demo
prints them, tests collect them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import anyio
import attrs

from agentbot.sandbox.scenario import Say, Scenario, Typing, Wait, WaitForReply

if TYPE_CHECKING:
    from agentbot.sandbox.control import SandboxControl

__all__ = [
    "ScenarioResult",
    "TranscriptFollower",
    "TranscriptLine",
    "play_scenario",
]

logger = logging.getLogger(__name__)

LineKind = Literal["message", "typing", "event", "note"]


@attrs.frozen(kw_only=True)
class TranscriptLine:
    """One readable line of a live transcript, timed from the start of the run."""

    seconds: float
    who: str
    kind: LineKind
    text: str = ""
    chat_id: str | None = None

    def format(self) -> str:
        """Render as ``+1.2s who: text`` (``+1.2s who is typing…`` for typing)."""
        stamp = f"+{self.seconds:.1f}s"
        if self.kind == "typing":
            return f"{stamp} {self.who} is typing…"
        if self.kind == "message":
            return f"{stamp} {self.who}: {self.text}"
        return f"{stamp} {self.text}"


@attrs.frozen(kw_only=True)
class ScenarioResult:
    """What happened: the visitor, its chat, and which ``wait_for_reply`` steps went unanswered."""

    visitor_id: str
    chat_id: str | None
    replies: int
    unanswered_steps: tuple[int, ...]


class TranscriptFollower:
    """Turn new sandbox transcript entries into :class:`TranscriptLine` s, in order.

    ``names`` maps agent ids to the label shown (``{"bot-1": "bot"}``); ``visitor_names``
    visitor ids to theirs. Typing-stopped entries are left out: the message that follows says
    more. ``chat_ids`` limits the follower to some chats (None: every chat).
    """

    def __init__(
        self,
        control: SandboxControl,
        *,
        start: float,
        names: Mapping[str, str] | None = None,
        visitor_names: Mapping[str, str] | None = None,
        chat_ids: set[str] | None = None,
    ) -> None:
        self._control = control
        self._start = start
        self._names = dict(names or {})
        self.visitor_names: dict[str, str] = dict(visitor_names or {})
        self.chat_ids = chat_ids
        self._last_seq = 0

    def _entries(self) -> list[dict[str, Any]]:
        if self.chat_ids is not None:
            ids = sorted(self.chat_ids)
        else:
            ids = [str(chat["id"]) for chat in self._control.chats()["chats"]]
        entries = [
            entry
            for chat_id in ids
            for entry in self._control.transcript(chat_id, after=self._last_seq)["entries"]
        ]
        return sorted(entries, key=lambda e: int(e.get("seq", 0)))

    def skip_existing(self) -> None:
        """Mark every entry so far as seen: only what happens from now on is reported."""
        for entry in self._entries():
            self._last_seq = max(self._last_seq, int(entry.get("seq", 0)))

    def has_new(self) -> bool:
        """Tell whether unseen entries exist (cheap enough to be a wait_until predicate)."""
        return bool(self._entries())

    def poll(self) -> list[TranscriptLine]:
        """Return the lines for every entry not returned before."""
        lines: list[TranscriptLine] = []
        for entry in self._entries():
            self._last_seq = max(self._last_seq, int(entry.get("seq", 0)))
            line = self._line(entry)
            if line is not None:
                lines.append(line)
        return lines

    async def follow(self, on_line: Callable[[TranscriptLine], None]) -> None:
        """Report lines as they appear, until cancelled."""
        while True:
            for line in self.poll():
                on_line(line)
            await self._control.sandbox.wait_until(self.has_new)

    def _who(self, entry: Mapping[str, Any]) -> str:
        if entry.get("by") == "visitor":
            visitor_id = str(entry.get("visitorId"))
            if visitor_id not in self.visitor_names:
                # A visitor from a browser: its name (if it gave one) is in the sandbox.
                for visitor in self._control.visitors()["visitors"]:
                    if visitor.get("id") == visitor_id and visitor.get("name"):
                        self.visitor_names[visitor_id] = str(visitor["name"])
            return self.visitor_names.get(visitor_id, "visitor")
        if entry.get("by") == "agent":
            agent_id = str(entry.get("agentId"))
            return self._names.get(agent_id, agent_id)
        return "system"

    def _line(self, entry: Mapping[str, Any]) -> TranscriptLine | None:
        kind = entry.get("kind")
        seconds = max(0.0, float(entry.get("t", self._start)) - self._start)
        who = self._who(entry)
        chat_id = entry.get("chatId")
        if kind == "typing":
            if not entry.get("is"):
                return None
            return TranscriptLine(seconds=seconds, who=who, kind="typing", chat_id=chat_id)
        if kind == "message":
            text = str(entry.get("text") or "")
            return TranscriptLine(
                seconds=seconds, who=who, kind="message", text=text, chat_id=chat_id
            )
        if kind == "event":
            return TranscriptLine(
                seconds=seconds,
                who=who,
                kind="event",
                text=_describe_event(entry, who),
                chat_id=chat_id,
            )
        return None


def _describe_event(entry: Mapping[str, Any], who: str) -> str:
    event = str(entry.get("event") or "event")
    descriptions = {
        "chat.opened": "— chat opened —",
        "chat.agent_joined": f"— {who} joined the chat —",
        "chat.agent_left": f"— {who} left the chat —",
        "chat.agent_assigned": f"— {who} was assigned —",
        "chat.agent_unassigned": f"— {who} was unassigned —",
        "chat.closed": f"— chat closed by {who} —",
        "chat.rated": "— chat rated —",
        "chat.read": f"— {who} read the chat —",
    }
    return descriptions.get(event, f"— {event} —")


async def play_scenario(
    control: SandboxControl,
    scenario: Scenario,
    *,
    on_line: Callable[[TranscriptLine], None] | None = None,
    agent_names: Mapping[str, str] | None = None,
    reply_timeout_cap_seconds: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
) -> ScenarioResult:
    """Play ``scenario`` as a new visitor and return what happened.

    ``on_line`` receives every transcript line of the visitor's chat as it happens (the
    visitor's own words, agents typing and answering, joins and closes), timed from the
    start; ``clock`` must be the sandbox's clock (``SandboxConfig.clock``) for those times to
    be right. ``reply_timeout_cap_seconds`` shortens every ``wait_for_reply`` (the demo uses
    it when no bot runs). ``sleep`` is the pause used by ``wait`` and ``typing_seconds``: tests
    pass a virtual one. A reply that does not come is no error: the step number is listed in
    :attr:`ScenarioResult.unanswered_steps` and the visitor goes on, as a person would.
    """
    start = clock()
    profile = scenario.visitor
    fields = {
        "name": profile.name,
        "email": profile.email,
        "lang": profile.lang,
        "page_url": profile.page_url,
        "page_title": profile.page_title,
    }
    visitor = control.create_visitor(**{k: v for k, v in fields.items() if v is not None})
    visitor_id = str(visitor["visitor"]["id"])
    follower = TranscriptFollower(
        control,
        start=start,
        names=agent_names,
        visitor_names={visitor_id: profile.name or "visitor"},
        chat_ids=set(),
    )
    state = _PlayState()

    def report() -> None:
        if on_line is not None:
            for line in follower.poll():
                on_line(line)

    def note(text: str) -> None:
        if on_line is not None:
            on_line(TranscriptLine(seconds=clock() - start, who="", kind="note", text=text))

    async with anyio.create_task_group() as tg:
        if on_line is not None:
            tg.start_soon(follower.follow, on_line)
        for number, step in enumerate(scenario.steps, start=1):
            if isinstance(step, Say):
                if step.typing_seconds > 0:
                    _typing(control, visitor_id, True, state)
                    report()
                    await sleep(step.typing_seconds)
                sent = control.visitor_message(visitor_id, step.text)
                chat_id = str(sent["chat"]["id"])
                if chat_id != state.chat_id:
                    state.chat_id = chat_id
                    follower.chat_ids = {*(follower.chat_ids or set()), chat_id}
                state.last_visitor_seq = _seq_of(control, chat_id, sent["message"]["id"])
                if state.typing:
                    _typing(control, visitor_id, False, state)
                report()
            elif isinstance(step, Wait):
                await sleep(step.seconds)
            elif isinstance(step, Typing):
                _typing(control, visitor_id, step.is_typing, state)
                report()
            elif isinstance(step, WaitForReply):
                timeout = step.timeout_seconds
                if reply_timeout_cap_seconds is not None:
                    timeout = min(timeout, reply_timeout_cap_seconds)
                if await _wait_for_reply(control, state, timeout_seconds=timeout):
                    state.replies += 1
                else:
                    state.unanswered.append(number)
                    note(f"(no reply within {timeout:g}s)")
                report()
        tg.cancel_scope.cancel()
    return ScenarioResult(
        visitor_id=visitor_id,
        chat_id=state.chat_id,
        replies=state.replies,
        unanswered_steps=tuple(state.unanswered),
    )


@attrs.define
class _PlayState:
    chat_id: str | None = None
    last_visitor_seq: int = 0
    typing: bool = False
    replies: int = 0
    unanswered: list[int] = attrs.field(factory=list)


def _typing(control: SandboxControl, visitor_id: str, is_typing: bool, state: _PlayState) -> None:
    state.typing = is_typing
    control.visitor_typing(visitor_id, is_typing)


def _seq_of(control: SandboxControl, chat_id: str, message_id: Any) -> int:
    """Find the transcript position of the visitor's message, so replies are those after it."""
    entries: list[dict[str, Any]] = control.transcript(chat_id)["entries"]
    for entry in reversed(entries):
        if entry.get("messageId") == message_id:
            return int(entry["seq"])
    return max((int(e.get("seq", 0)) for e in entries), default=0)


async def _wait_for_reply(
    control: SandboxControl, state: _PlayState, *, timeout_seconds: float
) -> bool:
    chat_id = state.chat_id
    if chat_id is None:
        return False
    after = state.last_visitor_seq

    def answered() -> bool:
        return any(
            entry.get("kind") == "message"
            and entry.get("by") == "agent"
            and int(entry.get("seq", 0)) > after
            for entry in control.transcript(chat_id, after=after)["entries"]
        )

    with anyio.move_on_after(timeout_seconds):
        await control.sandbox.wait_until(answered)
        return True
    return False
