"""One actor per chat: the chat's state, its inbox, and the human-paced send sequence.

Why actors: replies within a chat must go out in order and a slow plugin in one chat must not
hold up the others. Each chat gets a :class:`ChatActor` — a small inbox (a deque) and, while
there is work, one task in the bot's task group that drains it. The task exits when the inbox
and the outgoing plan are empty, so ten thousand quiet chats cost ten thousand small objects,
not ten thousand parked tasks.

The send sequence for each planned message (DESIGN.md, runtime)::

    chat.typing true → paced wait (on the clock) → chat.message → chat.typing false

``chat.typing`` false is sent on every path that turned typing on: the message went out, the
reply was cancelled (human took over, chat closed, re-plan found nothing), sending failed,
or the task was cancelled (shutdown) — the last in a ``finally`` with a shielded,
time-limited scope, so it reaches the wire even while the bot is being torn down.

Interruptible replies (the visitor writes again while the bot is typing):

1. the paced wait is interrupted at once and the new message is handled in order: its
   ``on_event`` / ``on_visitor_message`` hooks run while the typing indicator stays on;
2. if the plugins answer the new message, the old pending answer is dropped as stale (with
   any unsent parts of it) and the new answer is planned from now — reading the new line,
   thinking, typing — without flickering the typing indicator;
3. if they have nothing to say to it, the old answer is still the right one: it keeps its
   deadline, pushed back by the time it takes to read the new message;
4. either way each visitor message id is answered at most once, and the bot never sends two
   answers to superseded messages in a row.

Order of what the bot says in a chat: events are numbered as they arrive, and every planned
message carries the number of the event it belongs to — an answer, its visitor message's; a
``bot.say``/``bot.hand_off`` message, the event whose hook said it (or, said from outside
this chat's hooks — a background task, another chat, an account-wide hook — the last event
that had arrived). Messages go out in that order, an answer before what its own message's
hooks said. So a greeting said in ``on_chat_opened`` goes out before the answer to the
visitor's first message even when that message arrived while the greeting was being
prepared, and a note said in ``on_visitor_message`` follows the answer.

Human first: the dispatcher flips the chat's flags the moment a human agent joins, is
assigned or writes (and when the chat closes), then interrupts the actor; the actor drops its
plan and sends typing false before doing anything else. Explicit ``bot.say`` messages are
dropped too: the bot stays quiet in a chat a human handles.
"""

from __future__ import annotations

import bisect
import collections
import contextvars
import logging
from typing import TYPE_CHECKING, Any

import anyio
import attrs

from agentbot.api import Message
from agentbot.runtime.limits import LoopGuard
from agentbot.runtime.pacing import plan_reply, reading_delay

if TYPE_CHECKING:
    from agentbot.runtime.bot import Bot

__all__ = ["ChatActor", "Incoming", "Say", "detach_from_events"]

logger = logging.getLogger(__name__)

TYPING_OFF_TIMEOUT_SECONDS = 0.5
"""How long a cleanup ``chat.typing`` false may take before it is abandoned."""

# The actor and event number whose hooks are running in this task (and the tasks it starts
# for them): a bot.say() made there belongs to that event. See the module docstring.
_HANDLING: contextvars.ContextVar[tuple[ChatActor, int] | None] = contextvars.ContextVar(
    "agentbot_handling", default=None
)


def detach_from_events() -> None:
    """Mark the current task as working outside any event's hooks (a background task).

    A task inherits its starter's context: without this, a plugin task started from a hook
    would tie every later ``bot.say`` to that old event.
    """
    _HANDLING.set(None)


@attrs.frozen
class Incoming:
    """A server event for this chat; ``answer`` marks a visitor message the bot may answer."""

    event: Any
    message: Message | None = None
    answer: bool = False


@attrs.frozen
class Say:
    """A message a plugin asked for with ``bot.say``/``bot.hand_off`` (``handoff``: allowed
    after the chat was handed off, because it is the hand-off message itself)."""

    text: str
    plugin: str | None = None
    handoff: bool = False


@attrs.define
class _Outgoing:
    text: str
    delay_seconds: float
    kind: str  # "reply" (an answer, dropped when superseded) or "say"
    seq: int = 0  # the event it belongs to (see the module docstring)
    handoff: bool = False
    answers: str | None = None  # the visitor message id the first part of a reply answers

    @property
    def order(self) -> tuple[int, int]:
        # At one event number, the answer goes before what that message's hooks said.
        return (self.seq, 0 if self.kind == "reply" else 1)


class ChatActor:
    """State and worker of one chat (or, with ``chat_id=None``, of account-wide events)."""

    __slots__ = (
        "_bot",
        "_deadline",
        "_guard",
        "_inbox",
        "_last_seq",
        "_plan",
        "_say_counter",
        "_typing_on",
        "_wait_scope",
        "chat_id",
        "closed",
        "handed_off",
        "human_active",
        "humans",
        "last_visitor_text",
        "running",
        "visitor_id",
    )

    def __init__(self, bot: Bot, chat_id: str | None) -> None:
        self._bot = bot
        self.chat_id = chat_id
        self.visitor_id: str | None = None
        self.closed = False
        self.human_active = False
        self.handed_off = False
        self.humans: set[str] | None = None
        self.running = False
        self.last_visitor_text = ""
        self._inbox: collections.deque[tuple[int, Incoming | Say]] = collections.deque()
        self._last_seq = 0
        self._plan: collections.deque[_Outgoing] = collections.deque()
        self._deadline: float | None = None
        self._typing_on = False
        self._wait_scope: anyio.CancelScope | None = None
        self._guard: LoopGuard | None = None
        self._say_counter = 0

    # -- called by the dispatcher (synchronous, never blocks) --------------------------------

    def post(self, item: Incoming | Say) -> bool:
        """Queue ``item``; start the worker if idle; interrupt a paced wait. False if full."""
        if len(self._inbox) >= self._bot.queue_limit(self.chat_id):
            return False
        if isinstance(item, Incoming):
            self._last_seq += 1
            seq = self._last_seq
        else:
            handling = _HANDLING.get()
            seq = handling[1] if handling is not None and handling[0] is self else self._last_seq
        self._inbox.append((seq, item))
        self.interrupt()
        if not self.running:
            self.running = True
            self._bot.start_actor(self)
        return True

    def interrupt(self) -> None:
        """Wake the worker from its paced wait so it re-checks flags and inbox now."""
        if self._wait_scope is not None:
            self._wait_scope.cancel()

    def silence(self) -> None:
        """Drop what the bot was about to say here (human first, chat closed)."""
        if self._plan or self._typing_on:
            self.interrupt()
            if not self.running:  # typing left on without a worker cannot happen; be safe
                self.running = True
                self._bot.start_actor(self)

    @property
    def busy(self) -> bool:
        """Whether the actor has queued events or a planned message."""
        return bool(self._inbox or self._plan or self.running)

    @property
    def typing(self) -> bool:
        """Whether the bot currently shows itself typing in this chat."""
        return self._typing_on

    def may_send(self, *, handoff: bool = False) -> bool:
        """Whether the bot may still send into this chat."""
        if self.closed or self.human_active:
            return False
        return handoff or not self.handed_off

    # -- the worker ------------------------------------------------------------------------

    async def run(self) -> None:
        """Drain the inbox and carry out the plan; exit when both are empty."""
        try:
            while True:
                while self._inbox:
                    await self._handle(*self._inbox.popleft())
                if not self._plan:
                    if self._typing_on:
                        await self._set_typing(False)
                        continue  # new items may have arrived while that was sent
                    if not self._inbox:
                        return
                    continue
                if not self.may_send(handoff=self._plan[0].handoff):
                    self._prune_plan()
                    continue
                head = self._plan[0]
                if self._deadline is None:
                    self._deadline = self._bot.clock.now() + head.delay_seconds
                if not self._typing_on:
                    await self._set_typing(True)
                if not await self._wait(self._deadline):
                    continue  # interrupted: look at the inbox and the flags again
                await self._send_head()
        finally:
            self._wait_scope = None
            if self._typing_on:
                await self._typing_off_on_exit()
            self.running = False

    async def _wait(self, deadline: float) -> bool:
        """Sleep until ``deadline``; return False if interrupted first."""
        if self._inbox:
            return False
        if deadline <= self._bot.clock.now():
            return True  # already due (pacing off): no cancel scope, no extra loop hop
        with anyio.CancelScope() as scope:
            self._wait_scope = scope
            try:
                await self._bot.clock.sleep_until(deadline)
            finally:
                self._wait_scope = None
        return not scope.cancelled_caught

    async def _send_head(self) -> None:
        head = self._plan.popleft()
        self._deadline = None
        bot = self._bot
        if self._guard is None:
            self._guard = LoopGuard(
                limit=bot.config.runtime.max_replies_per_chat_per_minute, clock=bot.clock
            )
        if not self._guard.allow():
            bot.stats["loop_guard"] += 1
            logger.warning(
                "chat %s: loop guard: more than %d bot messages within a minute; dropping",
                self.chat_id,
                self._guard.limit,
            )
            self._plan.clear()
            return
        waited = await bot.rate_limiter.acquire()
        if waited:
            logger.info(
                "chat %s: global rate limit delayed a message by %.2f s", self.chat_id, waited
            )
        if not self.may_send(handoff=head.handoff) or self.chat_id is None:
            self._plan.appendleft(head)
            self._prune_plan()
            return
        if self._inbox and head.kind == "reply":
            # Something arrived while waiting for the rate limit: let it re-plan first.
            self._plan.appendleft(head)
            self._deadline = bot.clock.now()
            return
        self._guard.record()
        await bot.send_chat_message(self.chat_id, self.visitor_id, head.text, answers=head.answers)
        if self._typing_on:
            await self._set_typing(False)

    async def _handle(self, seq: int, item: Incoming | Say) -> None:
        if isinstance(item, Say):
            self._plan_say(seq, item)
            return
        token = _HANDLING.set((self, seq))
        try:
            await self._handle_event(seq, item)
        finally:
            _HANDLING.reset(token)

    def _plan_say(self, seq: int, item: Say) -> None:
        if not self.may_send(handoff=item.handoff):
            logger.info(
                "chat %s: not sending %s's message: chat closed or handed off",
                self.chat_id,
                item.plugin,
            )
            return
        self._say_counter += 1
        seed = f"{self.chat_id}:say:{self._say_counter}"
        parts = plan_reply("", item.text, self._bot.config.pacing, seed=seed)
        self._insert([_Outgoing(p.text, p.delay_seconds, "say", seq, item.handoff) for p in parts])

    def _insert(self, entries: list[_Outgoing]) -> None:
        """Put ``entries`` (parts of one message) into the plan at their place in the order."""
        if not entries:
            return
        head = self._plan[0] if self._plan else None
        at = bisect.bisect_right([entry.order for entry in self._plan], entries[0].order)
        for offset, entry in enumerate(entries):
            self._plan.insert(at + offset, entry)
        if self._plan[0] is not head:
            self._deadline = None  # a new head gets its own paced wait

    async def _handle_event(self, seq: int, item: Incoming) -> None:
        bot = self._bot
        await bot.run_event_hooks(self, item.event)
        if item.message is None or not item.answer:
            return
        text = item.message.text or ""
        self.last_visitor_text = text
        if not self.may_send():
            return
        chosen = await bot.choose_answer(self, item.message, text, item.event)
        if not self.may_send():
            return  # a human took over while the plugins were thinking
        if chosen is None:
            if self._plan and self._deadline is not None:
                # The pending answer still fits: read the new line, then send it.
                self._deadline += reading_delay(text, bot.config.pacing, seed=item.message.id)
            return
        stale = [entry for entry in self._plan if entry.kind == "reply"]
        if stale:
            bot.stats["replanned"] += 1
            logger.info(
                "chat %s: visitor wrote again; replacing the pending answer (%d part(s))",
                self.chat_id,
                len(stale),
            )
        head = self._plan[0] if self._plan else None
        self._plan = collections.deque(entry for entry in self._plan if entry.kind != "reply")
        plan = plan_reply(text, chosen.reply.text, bot.config.pacing, seed=item.message.id)
        replies = [_Outgoing(p.text, p.delay_seconds, "reply", seq) for p in plan]
        if replies:
            replies[0].answers = item.message.id
        # After what earlier events' hooks said, before what this message's hooks say.
        self._insert(replies)
        if not self._plan or self._plan[0] is not head:
            self._deadline = None  # the head changed: the new one is paced from now

    def _prune_plan(self) -> None:
        """Drop the planned messages the chat's flags no longer allow."""
        kept = [entry for entry in self._plan if self.may_send(handoff=entry.handoff)]
        dropped = len(self._plan) - len(kept)
        if dropped:
            self._bot.stats["cancelled"] += dropped
            reason = "closed" if self.closed else "human" if self.human_active else "handed off"
            logger.info(
                "chat %s: cancelled %d pending message(s) (%s)", self.chat_id, dropped, reason
            )
        self._plan = collections.deque(kept)
        self._deadline = None

    async def _set_typing(self, on: bool) -> None:
        # "true": flip the flag first, so if sending it fails "false" is still owed to the
        # wire. "false": flip it only once sent, so a send cancelled midway (shutdown while
        # waiting for a link) is retried by the shielded exit path.
        if on:
            self._typing_on = True
        if self.chat_id is not None:
            await self._bot.send_typing(self.chat_id, self.visitor_id, on)
        if not on:
            self._typing_on = False

    async def _typing_off_on_exit(self) -> None:
        self._typing_on = False
        if self.chat_id is None:
            return
        with anyio.CancelScope(shield=True), anyio.move_on_after(TYPING_OFF_TIMEOUT_SECONDS):
            await self._bot.send_typing(self.chat_id, self.visitor_id, False)

    def __repr__(self) -> str:
        flags = [
            name
            for name, value in (
                ("closed", self.closed),
                ("human", self.human_active),
                ("handed_off", self.handed_off),
                ("typing", self._typing_on),
                ("running", self.running),
            )
            if value
        ]
        return f"ChatActor({self.chat_id!r}, {', '.join(flags) or 'idle'})"
