"""The ``faq`` plugin: answer visitors' questions from a FAQ file.

What it does with a visitor message (see docs/plugins.md, "faq"):

* a confident match (score ≥ ``threshold``, no close runner-up; or score ≥
  ``lead_threshold``, leading the runner-up by ``lead_margin``) → the entry's answer, with
  the score (at least ``MIN_ANSWER_CONFIDENCE``) as the reply's confidence, optionally
  followed by "Did that answer your question?";
* a plausible but unsure match (score ≥ ``clarify_threshold``) → "Did you mean…?" with the
  top 2-3 questions, numbered; the visitor may answer with the number;
* otherwise silence, so other plugins (or a human) can take it.

The file is re-read when it changes (checked at most every ``reload_check_seconds``, in a
worker thread so a big file never stalls the chats). A file that fails to parse is reported
in the log with its line, and the previous good version stays live.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any, Literal

import anyio
import anyio.to_thread
import attrs

from agentbot import CommandTools, ConfigError, Message, PluginBot, Reply, hookimpl

from .decision import DEFAULT_MARGIN, Decision, decide
from .entries import FaqEntry, FaqFileError, load_faq
from .feedback import record_feedback
from .gaps import record_gap
from .glossary import glossary_for
from .matcher import METHOD_LEADS, METHOD_THRESHOLDS, FaqIndex
from .semantic import embedding_cache_dir

__all__ = ["Faq", "FaqConfig", "FaqPlugin"]

logger = logging.getLogger(__name__)

MIN_ANSWER_CONFIDENCE = 0.55
"""The lowest confidence of an answer: the lead rule answers scores down to ~0.4, and such an
answer must still outrank the greeting (0.5) and a hand-off streak (0.4), as answers at the
threshold always did."""

SUGGESTION_SLACK = 0.1
"""Suggestions scoring more than this below the clarify threshold are not offered."""

_NUMBER_REPLY = re.compile(r"^\s*(?:#|no\.?\s*|n\s*)?([1-9])\s*[.)!]?\s*$", re.IGNORECASE)
_YES = frozenset(
    [
        "yes",
        "yep",
        "yeah",
        "y",
        "ano",
        "jo",
        "jj",
        "jojo",
        "ja",
        "jawohl",
        "sure",
        "ok",
        "okay",
        "thanks",
        "thank",
        "dekuji",
        "diky",
    ]
)
_NO = frozenset(["no", "nope", "n", "ne", "nein", "nee", "not", "nothing"])


def _unit(_instance: object, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None and not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be between 0 and 1, got {value!r}")


def _positive(_instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value > 0:
        raise ValueError(f"{attribute.name} must be > 0, got {value!r}")


def _suggestions(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if not 1 <= value <= 5:
        raise ValueError(f"{attribute.name} must be between 1 and 5, got {value!r}")


@attrs.frozen(kw_only=True)
class FaqConfig:
    """``[plugins.faq]``: where the FAQ lives and how sure the bot must be to answer."""

    file: Path
    """The FAQ file (TOML, or JSON if it ends in .json), relative to bot.toml (the working
    folder until the runtime tells plugins where bot.toml is)."""
    method: Literal["blend", "bm25", "fuzzy", "semantic", "hybrid"] = "hybrid"
    """Matching method; ``hybrid`` (lexical + semantic) measured best on the tune split of the
    bikes eval set (docs/plugins.md, "How matching was chosen")."""
    cache_embeddings: bool = True
    """Keep the semantic methods' embeddings in the user cache folder, keyed by a hash of
    the texts and the model, so a restart with an unchanged FAQ skips embedding (10k
    entries: 0.3 s instead of 2 s); false: embed on every load."""
    record_gaps: bool = True
    """Store questions the FAQ did not answer (masked of identifiers) for ``faq gaps``."""
    threshold: float | None = attrs.field(default=None, validator=_unit)
    """Score at or above which the bot answers; default: the method's measured value."""
    clarify_threshold: float | None = attrs.field(default=None, validator=_unit)
    """Score at or above which the bot asks "did you mean…?"; default: the method's value."""
    lead_threshold: float | None = attrs.field(default=None, validator=_unit)
    """A best match at or above this score that leads the runner-up by ``lead_margin`` is
    answered even below ``threshold``; default: the method's measured value (1.0: off)."""
    lead_margin: float | None = attrs.field(default=None, validator=_unit)
    """How far the best match must lead the runner-up for the lead rule; default: measured."""
    clarify: bool = True
    """Ask "did you mean…?" for unsure matches; false: stay silent instead."""
    margin: float = attrs.field(default=DEFAULT_MARGIN, validator=_unit)
    """If the runner-up is this close to the best match, ask instead of guessing."""
    suggestions: int = attrs.field(default=3, validator=_suggestions)
    """How many questions "did you mean…?" offers."""
    clarify_confidence: float = attrs.field(default=0.3, validator=_unit)
    """Confidence of a "did you mean…?" reply (other plugins' surer answers win)."""
    clarify_text: dict[str, str] = attrs.field(
        factory=lambda: {
            "en": "I'm not sure I understood. Did you mean:",
            "cs": "Nejsem si jistý, že rozumím. Mysleli jste:",
            "de": "Ich bin nicht sicher, ob ich Sie verstehe. Meinten Sie:",
        }
    )
    """Per language: the line before the numbered suggestions."""
    clarify_hint: dict[str, str] = attrs.field(
        factory=lambda: {
            "en": "Reply with a number, or ask in other words.",
            "cs": "Odpovězte číslem, nebo se zeptejte jinými slovy.",
            "de": "Antworten Sie mit einer Zahl oder fragen Sie anders.",
        }
    )
    """Per language: the line after the numbered suggestions."""
    follow_up: bool = False
    """Add "Did that answer your question?" after each answer."""
    follow_up_text: dict[str, str] = attrs.field(
        factory=lambda: {
            "en": "Did that answer your question?",
            "cs": "Odpověděl jsem na vaši otázku?",
            "de": "Hat das Ihre Frage beantwortet?",
        }
    )
    """Per language: the follow-up question."""
    follow_up_no_text: dict[str, str] = attrs.field(
        factory=lambda: {
            "en": "Sorry about that. Could you tell me more, in other words?",
            "cs": "To mě mrzí. Můžete to prosím popsat jinými slovy?",
            "de": "Das tut mir leid. Können Sie es anders formulieren?",
        }
    )
    """Per language: the reply when the visitor says the answer did not help."""
    default_lang: str = "en"
    """Language of the bot's own texts when the visitor's is unknown or has no text."""
    reload_check_seconds: float = attrs.field(default=2.0, validator=_positive)
    """How often (at most) the file's modification time is checked for a reload."""


@attrs.frozen
class _Snapshot:
    """One loaded version of the file: its index and the stat it was read at."""

    index: FaqIndex
    stamp: tuple[int, int]


class Faq:
    """A FAQ file, its index and the decision rule: what the plugin and the CLI share."""

    def __init__(self, config: FaqConfig, *, base_dir: Path | None = None) -> None:
        self.config = config
        path = config.file.expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        self.path = path
        default_threshold, default_clarify = METHOD_THRESHOLDS[config.method]
        self.threshold = config.threshold if config.threshold is not None else default_threshold
        clarify = config.clarify_threshold
        self.clarify_threshold = clarify if clarify is not None else default_clarify
        default_lead, default_lead_margin = METHOD_LEADS[config.method]
        lead = config.lead_threshold
        self.lead_threshold = lead if lead is not None else default_lead
        lead_margin = config.lead_margin
        self.lead_margin = lead_margin if lead_margin is not None else default_lead_margin
        self._snapshot: _Snapshot | None = None
        self._checked_at = float("-inf")
        self._reloading = False
        self._bad_stamp: tuple[int, int] | None = None  # a broken version: not retried
        self.last_error: FaqFileError | None = None
        """The error of the last failed (re)load, if the latest attempt failed."""

    @property
    def index(self) -> FaqIndex | None:
        """The live index, or None if no version of the file ever loaded."""
        return self._snapshot.index if self._snapshot is not None else None

    def load(self) -> FaqIndex:
        """Load the file now (blocking); raise :class:`FaqFileError`; keep the old on error."""
        stamp = self._stamp()
        try:
            faq = load_faq(self.path)
            index = FaqIndex(
                faq.entries,
                method=self.config.method,
                cache_dir=embedding_cache_dir() if self.config.cache_embeddings else None,
                glossary=glossary_for(faq.glossary),
            )
        except FaqFileError as exc:
            self.last_error = exc
            raise
        self._snapshot = _Snapshot(index, stamp)
        self.last_error = None
        return index

    def _stamp(self) -> tuple[int, int]:
        try:
            info = os.stat(self.path)
        except OSError:
            return (-1, -1)
        return (info.st_mtime_ns, info.st_size)

    def needs_reload(self, now: float) -> bool:
        """Return whether the file changed since it was loaded (stat at most every N s)."""
        if self._reloading or now - self._checked_at < self.config.reload_check_seconds:
            return False
        self._checked_at = now
        current = self._stamp()
        if current in ((-1, -1), self._bad_stamp):
            return False  # gone (keep what we have) or the same broken version as last time
        return self._snapshot is None or current != self._snapshot.stamp

    async def reload_if_changed(self, now: float) -> None:
        """Re-read the file in a worker thread if it changed; log (don't raise) errors."""
        if not self.needs_reload(now):
            return
        self._reloading = True
        try:
            stamp = self._stamp()
            await anyio.to_thread.run_sync(self.load)
            logger.info("faq: reloaded %s (%d entries)", self.path, len(self.index or ()))
        except FaqFileError as exc:
            self._bad_stamp = stamp
            kept = "keeping the previous version" if self._snapshot else "no FAQ loaded"
            logger.error("faq: %s; %s", exc, kept)
        finally:
            self._reloading = False

    def ask(self, text: str, *, lang: str | None = None) -> Decision:
        """Match ``text`` and decide: answer, clarify or stay silent."""
        index = self.index
        if index is None:
            return Decision("silent")
        matches = index.search(text, lang=lang, limit=max(self.config.suggestions, 2))
        return decide(
            matches,
            threshold=self.threshold,
            clarify_threshold=self.clarify_threshold if self.config.clarify else None,
            margin=self.config.margin,
            lead_threshold=self.lead_threshold,
            lead_margin=self.lead_margin,
        )


@attrs.define
class _ChatState:
    """What the plugin remembers about one chat between messages."""

    suggestions: tuple[FaqEntry, ...] = ()
    awaiting_feedback: FaqEntry | None = None
    question: str = ""
    """The visitor's question the suggestions or the answer were for (for feedback)."""


def text_for(texts: dict[str, str], lang: str | None, default_lang: str) -> str:
    """Pick the text for ``lang`` (``cs-CZ`` → ``cs``), else the default language's, else any."""
    if lang:
        base = lang.split("-")[0].split("_")[0].lower()
        if base in texts:
            return texts[base]
    if default_lang in texts:
        return texts[default_lang]
    return next(iter(texts.values()), "")


class FaqPlugin:
    """Answer visitors from a FAQ file (entry point ``faq``)."""

    def __init__(self) -> None:
        self.faq: Faq | None = None
        self._chats: dict[str, _ChatState] = {}
        self._asked: dict[str, tuple[str, str]] = {}  # message id -> (text, faq outcome)

    @hookimpl
    def register_config(self, register: Any) -> None:
        """Declare :class:`FaqConfig`."""
        register(FaqConfig)

    @hookimpl
    def register_commands(self, cli: Any, tools: CommandTools) -> None:
        """Add ``agentbot faq test / eval / gaps`` (commands.py)."""
        from .commands import add_commands

        add_commands(cli, tools)

    @hookimpl
    async def on_start(self, bot: PluginBot) -> None:
        """Load the FAQ file (in a worker thread); a bad file is logged, the bot runs on."""
        config: FaqConfig = bot.config
        # Relative to bot.toml when the runtime says where it is, else to the working folder.
        self.faq = Faq(config, base_dir=bot.config_dir)
        try:
            index = await anyio.to_thread.run_sync(self.faq.load)
        except FaqFileError as exc:
            bot.logger.error("faq: %s; answering nothing until it is fixed", exc)
            return
        bot.logger.info("faq: loaded %d entries from %s", len(index), self.faq.path)

    @hookimpl
    async def on_check(self, bot: PluginBot) -> None:
        """Load the FAQ file as :meth:`on_start` would: ``agentbot check`` fails on a bad one."""
        faq = Faq(bot.config, base_dir=bot.config_dir)
        await anyio.to_thread.run_sync(faq.load)

    @hookimpl
    def on_chat_closed(self, chat_id: str) -> None:
        """Forget the chat's pending suggestions."""
        self._chats.pop(chat_id, None)

    @hookimpl
    def on_reply_chosen(
        self,
        bot: PluginBot,
        chat_id: str,
        message: Message,
        reply: Reply | None,
        plugin: str | None,
    ) -> None:
        """Forget suggestions the visitor never saw; record what the FAQ could not answer.

        When another plugin's reply (or none) was chosen over ours, a later bare "1" or
        "no" must not be read as an answer to a question the bot never asked. A question
        the FAQ did not answer (silence, "did you mean…?", another plugin's reply) is
        stored as a gap for ``agentbot faq gaps``.
        """
        if plugin != bot.name:
            self._chats.pop(chat_id, None)
        asked = self._asked.pop(message.id, None)
        config: FaqConfig = bot.config
        if asked is None or not config.record_gaps:
            return
        question, outcome = asked
        if plugin == bot.name and outcome == "answer":
            return
        if reply is None:
            outcome = "silence"
        elif plugin != bot.name:
            outcome = f"other:{plugin}"
        record_gap(
            bot.storage,
            text=question,
            chat_id=chat_id,
            time=bot.wall_time(),
            outcome=outcome,
            message_id=message.id,
        )

    @staticmethod
    async def _lang(bot: PluginBot, visitor_id: str | None) -> str | None:
        """The visitor's language, from the runtime's visitor directory (None if unknown)."""
        visitor = await bot.visitor(visitor_id)
        return str(visitor.lang) if visitor is not None and visitor.lang else None

    @hookimpl
    async def on_visitor_message(
        self, bot: PluginBot, chat_id: str, message: Message, text: str
    ) -> Reply | None:
        """Answer from the FAQ, ask "did you mean…?", or return None."""
        faq = self.faq
        if faq is None or not text.strip():
            return None
        config: FaqConfig = bot.config
        await faq.reload_if_changed(bot.now())
        lang = await self._lang(bot, message.visitor_id)
        state = self._chats.get(chat_id)
        if state is not None:
            reply = self._follow_up_reply(bot, config, chat_id, state, text, lang)
            if reply is not None:
                bot.count_decision("follow_up")
                return reply
        decision = faq.ask(text, lang=lang)
        bot.count_decision(decision.kind)  # answer / clarify / silent, for /metrics
        if len(self._asked) > 1000:  # outcomes whose on_reply_chosen never came
            self._asked.clear()
        self._asked[message.id] = (text, decision.kind)
        best = decision.best
        if decision.kind == "answer" and best is not None:
            entry = best.entry
            answer = entry.answer
            if config.follow_up:
                answer += "\n\n" + text_for(
                    config.follow_up_text, lang or entry.lang, config.default_lang
                )
                self._chats[chat_id] = _ChatState(awaiting_feedback=entry, question=text)
            else:
                self._chats.pop(chat_id, None)
            bot.logger.debug("faq: chat %s: %s (%.2f)", chat_id, entry.id, best.score)
            return Reply(answer, confidence=max(best.score, MIN_ANSWER_CONFIDENCE))
        if decision.kind == "clarify" and decision.matches:
            floor = max(faq.clarify_threshold - SUGGESTION_SLACK, 0.0)
            offered = tuple(
                m.entry
                for m in decision.matches[: config.suggestions]
                if m is decision.best or m.score >= floor
            )
            reply_lang = lang or offered[0].lang
            lines = [text_for(config.clarify_text, reply_lang, config.default_lang)]
            lines += [f"{number}. {entry.question}" for number, entry in enumerate(offered, 1)]
            lines.append(text_for(config.clarify_hint, reply_lang, config.default_lang))
            self._chats[chat_id] = _ChatState(suggestions=offered, question=text)
            return Reply("\n".join(lines), confidence=config.clarify_confidence)
        self._chats.pop(chat_id, None)
        return None

    def _follow_up_reply(
        self,
        bot: PluginBot,
        config: FaqConfig,
        chat_id: str,
        state: _ChatState,
        text: str,
        lang: str | None,
    ) -> Reply | None:
        """Handle "2" after "did you mean…?", and yes/no after "did that answer…?"."""
        if state.suggestions:
            picked = _NUMBER_REPLY.match(text)
            if picked is not None:
                number = int(picked.group(1))
                if number <= len(state.suggestions):
                    entry = state.suggestions[number - 1]
                    self._chats.pop(chat_id, None)
                    record_feedback(
                        bot.storage,
                        question=state.question,
                        entry_id=entry.id,
                        signal="choice",
                        time=bot.wall_time(),
                    )
                    return Reply(entry.answer, confidence=0.95)
        if state.awaiting_feedback is not None:
            entry = state.awaiting_feedback
            words = set(re.findall(r"\w+", text.casefold()))
            if words and len(words) <= 3 and words & _NO and not words & _YES - {"ok"}:
                self._record_feedback(bot, entry, helpful=False)
                record_feedback(
                    bot.storage,
                    question=state.question,
                    entry_id=entry.id,
                    signal="no",
                    time=bot.wall_time(),
                )
                self._chats.pop(chat_id, None)
                no_text = text_for(
                    config.follow_up_no_text, lang or entry.lang, config.default_lang
                )
                return Reply(no_text, confidence=0.6)
            if words and len(words) <= 3 and words & _YES:
                self._record_feedback(bot, entry, helpful=True)
                record_feedback(
                    bot.storage,
                    question=state.question,
                    entry_id=entry.id,
                    signal="yes",
                    time=bot.wall_time(),
                )
                self._chats.pop(chat_id, None)
                return None  # let a greeter or others say "you're welcome"; no FAQ match
        return None

    @staticmethod
    def _record_feedback(bot: PluginBot, entry: FaqEntry, *, helpful: bool) -> None:
        """Count helpful / unhelpful per entry in the plugin's storage (for FAQ owners)."""
        key = f"feedback:{entry.id}"
        counts = bot.storage.get(key) or {"helpful": 0, "unhelpful": 0}
        counts["helpful" if helpful else "unhelpful"] += 1
        bot.storage.set(key, counts)


def faq_from_options(options: dict[str, Any], *, base_dir: Path | None) -> Faq:
    """Build a :class:`Faq` from raw ``[plugins.faq]`` options (the CLI's path)."""
    try:
        config = FaqConfig(**options)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"[plugins.faq]: {exc}", section="plugins.faq") from None
    return Faq(config, base_dir=base_dir)
