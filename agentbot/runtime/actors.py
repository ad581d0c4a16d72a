"""One actor per chat: the chat's state, its inbox, and the human-paced send sequence.

Why actors: replies within a chat must go out in order and a slow plugin in one chat must not
hold up the others. Each chat gets a :class:`ChatActor` — a small inbox (a deque) and, while
there is work, one task in the bot's task group that drains it. The task exits when the inbox
and the outgoing plan are empty, so ten thousand quiet chats cost ten thousand small objects,
not ten thousand parked tasks.

The actor owns its chat's :class:`~agentbot.runtime.chat_state.ChatState`; the dispatcher
applies each event to it the moment the event arrives (so "a human joined" silences the bot at
once, before any hook runs) and everything else asks it (:meth:`ChatActor.may_send`).

The send sequence for each planned message (DESIGN.md, runtime)::

    chat.typing true → paced wait (on the clock) → message → chat.typing false

``chat.typing`` false is sent on every path that turned typing on: the message went out, the
reply was cancelled (human took over, chat closed, re-plan found nothing), sending failed,
or the task was cancelled (shutdown) — the last in a ``finally`` with a shielded,
time-limited scope, so it reaches the wire even while the bot is being torn down.

Across reconnects (:mod:`agentbot.runtime.speaker`): typing shown on an old link does not
count. Before a message leaves, typing must be on *on the current link*; if it is not (the link
dropped while the bot was typing), typing is shown again and the bot waits
``[pacing] retype_seconds`` before sending. A message whose acknowledgement was lost stays at
the head of the plan and is confirmed against the server before it is sent again (exactly
once, via the outbox). Nothing is sent until the resync after a login has told the bot which
chats closed or were taken over while it was away.

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

Order of what the bot says in a chat (the one statement of this rule; hooks.md and
PluginBot.say refer here): events are numbered as they arrive, and every planned message
carries the number of the event it belongs to — an answer, its visitor message's; a
``bot.say``/``bot.hand_off`` message, the event whose hook said it (or, said from outside
this chat's hooks — a background task, another chat, an account-wide hook — the last event
that had arrived). Messages go out in that order, an answer before what its own message's
hooks said.
"""

from __future__ import annotations

import bisect
import collections
import contextvars
import logging
import uuid
from typing import TYPE_CHECKING, Any

import anyio
import attrs

from agentbot.api import Message
from agentbot.runtime.chat_state import ChatState
from agentbot.runtime.hook_calls import choose_answer, run_event_hooks
from agentbot.runtime.ledger import OutboxEntry
from agentbot.runtime.limits import LoopGuard
from agentbot.runtime.pacing import plan_reply, reading_delay

if TYPE_CHECKING:
    from agentbot.runtime.bot import Bot

__all__ = ["ChatActor", "Incoming", "Resume", "Say", "detach_from_events"]

logger = logging.getLogger(__name__)

TYPING_OFF_TIMEOUT_SECONDS = 0.5
"""How long a cleanup ``chat.typing`` false may take before it is abandoned."""

MAX_UNKNOWN_ATTEMPTS = 6
"""Sends of one message whose outcome stayed unknown before it is given up (and logged)."""

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


@attrs.frozen
class Resume:
    """Outbox entries left unsettled by an earlier run (or link): send or confirm them."""

    entries: tuple[OutboxEntry, ...]


@attrs.define
class _Outgoing:
    text: str
    delay_seconds: float
    kind: str  # "reply" (an answer, dropped when superseded) or "say"
    entry_id: str
    seq: int = 0  # the event it belongs to (see the module docstring)
    handoff: bool = False
    answers: str | None = None  # the visitor message id this reply answers
    part: int = 0
    attempted_at: float | None = None  # an earlier attempt whose outcome is unknown
    plugin: str | None = None  # whose words these are (for the log line when sent)
    tries: int = 0  # attempts whose outcome was unknown

    @property
    def order(self) -> tuple[int, int]:
        # At one event number, the answer goes before what that message's hooks said.
        return (self.seq, 0 if self.kind == "reply" else 1)

    def entry(self, chat_id: str, visitor_id: str | None) -> OutboxEntry:
        return OutboxEntry(
            entry_id=self.entry_id,
            chat_id=chat_id,
            visitor_id=visitor_id,
            text=self.text,
            answers=self.answers,
            part=self.part,
        )


class ChatActor:
    """State and worker of one chat (or, with ``chat_id=None``, of account-wide events)."""

    __slots__ = (
        "_bot",
        "_deadline",
        "_guard",
        "_inbox",
        "_last_seq",
        "_plan",
        "_typing_link",
        "_typing_since",
        "_wait_scope",
        "chat_id",
        "running",
        "state",
    )

    def __init__(self, bot: Bot, chat_id: str | None, state: ChatState | None = None) -> None:
        self._bot = bot
        self.chat_id = chat_id
        self.state = state if state is not None else ChatState(chat_id=chat_id or "")
        self.running = False
        self._inbox: collections.deque[tuple[int, Incoming | Say | Resume]] = collections.deque()
        self._last_seq = 0
        self._plan: collections.deque[_Outgoing] = collections.deque()
        self._deadline: float | None = None
        self._typing_link: int | None = None  # the link typing true went out on
        self._typing_since: float | None = None  # when (clock) typing was turned on
        self._wait_scope: anyio.CancelScope | None = None
        self._guard: LoopGuard | None = None

    # -- called by the dispatcher (synchronous, never blocks) --------------------------------

    def post(self, item: Incoming | Say | Resume) -> bool:
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
        self.wake()
        return True

    def interrupt(self) -> None:
        """Wake the worker from its paced wait so it re-checks flags and inbox now."""
        if self._wait_scope is not None:
            self._wait_scope.cancel()

    def wake(self) -> None:
        """Interrupt a wait, and start the worker if it is idle."""
        self.interrupt()
        if not self.running:
            self.running = True
            self._bot.start_actor(self)

    def silence(self) -> None:
        """Drop what the bot was about to say here (human first, chat closed)."""
        if self._plan or self._typing_link is not None:
            self.wake()

    @property
    def busy(self) -> bool:
        """Whether the actor has queued events or a planned message."""
        return bool(self._inbox or self._plan or self.running)

    @property
    def typing(self) -> bool:
        """Whether the bot currently shows itself typing in this chat (on the current link)."""
        return (
            self._typing_link is not None and self._typing_link == self._bot.speaker.current_link()
        )

    def may_send(self, *, handoff: bool = False) -> bool:
        """Whether the bot may still send into this chat."""
        return self.state.may_send(handoff=handoff)

    # -- the worker ------------------------------------------------------------------------

    async def run(self) -> None:
        """Drain the inbox and carry out the plan; exit when both are empty."""
        try:
            while True:
                while self._inbox:
                    await self._handle(*self._inbox.popleft())
                if not self._plan:
                    if self._typing_link is not None:
                        await self._set_typing(False)
                        continue  # new items may have arrived while that was sent
                    if not self._inbox:
                        return
                    continue
                if not self.may_send(handoff=self._plan[0].handoff):
                    self._prune_plan()
                    continue
                if not await self._ready_to_speak():
                    continue
                head = self._plan[0]
                if self._deadline is None:
                    self._deadline = self._bot.clock.now() + head.delay_seconds
                if not self.typing:
                    await self._set_typing(True)
                if not await self._wait(self._deadline):
                    continue  # interrupted: look at the inbox and the flags again
                await self._send_head()
        finally:
            self._wait_scope = None
            if self._typing_link is not None:
                await self._typing_off_on_exit()
            self.running = False

    async def _ready_to_speak(self) -> bool:
        """Wait (interruptibly) for a live link and the resync after it; False if woken."""
        bot = self._bot
        if bot.speaker.ready:
            return True
        if self._inbox:
            return False
        deadline = self._deadline
        with anyio.CancelScope() as scope:
            self._wait_scope = scope
            try:
                await bot.speaker.wait_ready()
            finally:
                self._wait_scope = None
        if deadline is not None:
            # A paced wait that had begun is not started over on the new link: what is left of
            # it, and at least the re-typing pause. Started over, a reply never fits between
            # the drops of a link that flaps every second (issue 16: 392 of 400 lost).
            now = bot.clock.now()
            self._deadline = max(deadline, now + bot.config.pacing.retype_delay_seconds)
        return not scope.cancelled_caught

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
        bot = self._bot
        head = self._plan[0]
        if not self.typing:
            # The link changed during the wait: typing on the old one does not count. Show it
            # on this link, and give it a human moment before the message.
            self._deadline = bot.clock.now() + bot.config.pacing.retype_delay_seconds
            await self._set_typing(True)
            return
        if self._guard is None:
            self._guard = LoopGuard(
                limit=bot.config.runtime.max_replies_per_chat_per_minute, clock=bot.clock
            )
        if head.attempted_at is None and not self._guard.allow():
            bot.stats["loop_guard"] += 1
            logger.warning(
                "chat %s: loop guard: more than %d bot messages within a minute; dropping",
                self.chat_id,
                self._guard.limit,
            )
            self._drop(list(self._plan), "loop guard")
            self._plan.clear()
            self._deadline = None
            return
        waited = await bot.rate_limiter.acquire()
        if waited:
            logger.info(
                "chat %s: global rate limit delayed a message by %.2f s", self.chat_id, waited
            )
        if not self.may_send(handoff=head.handoff) or self.chat_id is None:
            self._prune_plan()
            return
        if self._inbox and head.kind == "reply" and head.attempted_at is None:
            # Something arrived while waiting for the rate limit: let it re-plan first.
            self._deadline = bot.clock.now()
            return
        if head.attempted_at is None:
            self._guard.record()
        delivery = await bot.speaker.deliver(
            head.entry_id,
            self.chat_id,
            self.state.visitor_id,
            head.text,
            attempted_at=head.attempted_at,
            link=self._typing_link,
        )
        self._deadline = None
        if delivery.outcome == "relink":
            self._typing_link = None  # that link is gone: show typing on the new one first
            return
        if delivery.outcome == "retry":
            # Outcome unknown: keep it at the head; it is confirmed against the server before
            # anything is sent again, after a growing pause (and a live link).
            head.attempted_at = head.attempted_at or delivery.attempted_at
            head.tries += 1
            if head.tries < MAX_UNKNOWN_ATTEMPTS:
                head.delay_seconds = bot.config.pacing.retype_delay_seconds * 2 ** (head.tries - 1)
                return
            logger.error(
                "chat %s: giving up on a message after %d attempts with no answer from the server",
                self.chat_id,
                head.tries,
            )
            delivery = attrs.evolve(delivery, outcome="failed")
            bot.ledger.drop(head.entry_id)
        self._plan.popleft()
        if delivery.outcome in ("sent", "confirmed"):
            bot.chats.spoke(self, head.plugin, len(head.text))
        if self.typing:
            await self._set_typing(False)

    async def _handle(self, seq: int, item: Incoming | Say | Resume) -> None:
        if isinstance(item, Say):
            self._plan_say(seq, item)
            return
        if isinstance(item, Resume):
            self._resume(seq, item)
            return
        token = _HANDLING.set((self, seq))
        try:
            await self._handle_event(seq, item)
        finally:
            _HANDLING.reset(token)

    def _plan_say(self, seq: int, item: Say) -> None:
        if not self.may_send(handoff=item.handoff):
            logger.info(
                "chat %s: not sending %s's message: %s",
                self.chat_id,
                item.plugin,
                self.state.quiet_reason,
            )
            return
        say_id = uuid.uuid4().hex[:12]
        parts = plan_reply("", item.text, self._bot.config.pacing, seed=f"{self.chat_id}:{say_id}")
        self._insert(
            [
                _Outgoing(
                    p.text,
                    p.delay_seconds,
                    "say",
                    f"say:{say_id}/{n}",
                    seq,
                    item.handoff,
                    part=n,
                    plugin=item.plugin,
                )
                for n, p in enumerate(parts)
            ]
        )

    def _resume(self, seq: int, item: Resume) -> None:
        retype = self._bot.config.pacing.retype_delay_seconds
        entries = [
            _Outgoing(
                e.text,
                retype,
                "reply" if e.answers else "say",
                e.entry_id,
                seq,
                answers=e.answers,
                part=e.part,
                attempted_at=e.attempted_at if e.state == "sending" else None,
            )
            for e in item.entries
            if e.entry_id not in {o.entry_id for o in self._plan}
        ]
        if entries:
            logger.info(
                "chat %s: resuming %d unsent message(s) from before a restart",
                self.chat_id,
                len(entries),
            )
            self._insert(entries, record=False)

    def _insert(self, entries: list[_Outgoing], *, record: bool = True) -> None:
        """Put ``entries`` (parts of one message) into the plan at their place in the order,
        recording them in the outbox first (so a crash cannot lose them)."""
        if not entries or self.chat_id is None:
            return
        if record:
            self._bot.ledger.plan([e.entry(self.chat_id, self.state.visitor_id) for e in entries])
        head = self._plan[0] if self._plan else None
        at = bisect.bisect_right([entry.order for entry in self._plan], entries[0].order)
        for offset, entry in enumerate(entries):
            self._plan.insert(at + offset, entry)
        if self._plan[0] is not head:
            self._deadline = None  # a new head gets its own paced wait

    async def _handle_event(self, seq: int, item: Incoming) -> None:
        bot = self._bot
        await run_event_hooks(bot, self, item.event)
        if item.message is None or not item.answer:
            return
        message = item.message
        text = message.text or ""
        if not self.may_send():
            bot.ledger.decide(message.id, "dropped")
            return
        chosen = await choose_answer(bot, self, message, text, item.event)
        if not self.may_send():
            bot.ledger.decide(message.id, "dropped")
            return  # a human took over while the plugins were thinking
        if chosen is None:
            bot.ledger.decide(message.id, "unanswered")
            if self._plan and self._deadline is not None:
                # The pending answer still fits: read the new line, then send it.
                self._deadline += reading_delay(text, bot.config.pacing, seed=message.id)
            return
        stale = [entry for entry in self._plan if entry.kind == "reply"]
        if stale:
            bot.stats["replanned"] += 1
            logger.info(
                "chat %s: visitor wrote again; replacing the pending answer (%d part(s))",
                self.chat_id,
                len(stale),
            )
            self._drop(stale, "superseded")
        head = self._plan[0] if self._plan else None
        self._plan = collections.deque(entry for entry in self._plan if entry.kind != "reply")
        plan = plan_reply(text, chosen.reply.text, bot.config.pacing, seed=message.id)
        replies = [
            _Outgoing(
                p.text,
                p.delay_seconds,
                "reply",
                f"{message.id}/{n}",
                seq,
                answers=message.id,
                part=n,
                plugin=chosen.plugin,
            )
            for n, p in enumerate(plan)
        ]
        # After what earlier events' hooks said, before what this message's hooks say.
        self._insert(replies)
        bot.ledger.decide(message.id, "answered")
        if not self._plan or self._plan[0] is not head:
            self._deadline = None  # the head changed: the new one is paced from now

    def _drop(self, entries: list[_Outgoing], reason: str) -> None:
        for entry in entries:
            self._bot.ledger.drop(entry.entry_id)

    def _prune_plan(self) -> None:
        """Drop the planned messages the chat's facts no longer allow."""
        kept = [entry for entry in self._plan if self.may_send(handoff=entry.handoff)]
        dropped = [entry for entry in self._plan if entry not in kept]
        if dropped:
            self._bot.stats["cancelled"] += len(dropped)
            reason = self.state.quiet_reason or "not allowed"
            logger.info(
                "chat %s: cancelled %d pending message(s) (%s)", self.chat_id, len(dropped), reason
            )
            self._drop(dropped, reason)
        self._plan = collections.deque(kept)
        self._deadline = None

    async def _set_typing(self, on: bool) -> None:
        # "true": note the link first, so if sending fails "false" is still owed to the wire.
        # "false": clear it only once sent, so a send cancelled midway (shutdown while
        # waiting for a link) is retried by the shielded exit path. Typing false is owed only
        # on the link that saw typing true: a newer link never saw it.
        speaker = self._bot.speaker
        if self.chat_id is None:
            self._typing_link = speaker.current_link() if on else None
            return
        if on:
            self._typing_link = speaker.current_link()
            self._typing_since = self._bot.clock.now()
            await speaker.send_typing(self.chat_id, self.state.visitor_id, True)
            return
        if self._typing_link is not None and self._typing_link == speaker.current_link():
            await speaker.send_typing(self.chat_id, self.state.visitor_id, False)
        self._typing_link = None
        observer, since = self._bot.observer, self._typing_since
        if observer is not None and since is not None:
            observer.typing(self._bot.clock.now() - since)
        self._typing_since = None

    async def _typing_off_on_exit(self) -> None:
        speaker = self._bot.speaker
        owed = self._typing_link is not None and self._typing_link == speaker.current_link()
        self._typing_link = None
        if self.chat_id is None or not owed:
            return
        with anyio.CancelScope(shield=True), anyio.move_on_after(TYPING_OFF_TIMEOUT_SECONDS):
            await speaker.send_typing(self.chat_id, self.state.visitor_id, False)

    def __repr__(self) -> str:
        flags = [self.state.quiet_reason or ""]
        flags += [name for name, on in (("typing", self.typing), ("running", self.running)) if on]
        return f"ChatActor({self.chat_id!r}, {', '.join(f for f in flags if f) or 'idle'})"
