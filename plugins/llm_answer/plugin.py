"""The ``llm_answer`` plugin: answer from the FAQ in the model's own words, or not at all.

For teams that run (or rent) a language model. On each visitor message:

1. retrieve: the faq plugin's matcher ranks the FAQ entries (and, with ``documents``, the
   chunks of the team's own .md/.txt files, with the lexical scorer); if the best score is
   below ``min_score`` the plugin stays silent without calling the model;
2. ask: the top ``top_k`` passages and the visitor's question (identifiers masked) go to an
   OpenAI-compatible chat-completions endpoint, told to answer only from them and to answer
   exactly ``NO_ANSWER`` otherwise;
3. check: ``NO_ANSWER``, an empty answer, or an answer stating a number the context does not
   contain (an invented price or deadline) gives no reply;
4. reply with confidence ``confidence_factor`` × the best retrieval score, so a confident
   verbatim FAQ answer from the faq plugin still wins a tie.

Budgets: each call is bounded by ``timeout_seconds`` on the runtime clock and in real time
(httpx's timeout and an anyio cancel scope), keep it under ``[runtime]
hook_timeout_seconds``; ``max_tokens`` per answer; ``max_tokens_per_run`` and
``max_tokens_per_day`` (wall-clock UTC day, kept in storage) stop calling the model once
spent. The tokens the server reports in ``usage`` are counted and priced, and logged at
stop. The log names the entry ids each answer came from; never the API key.
"""

from __future__ import annotations

import datetime
import logging
from pathlib import Path
from typing import Any, Literal

import anyio
import anyio.to_thread
import attrs
import httpx

from agentbot import Message, PluginBot, Reply, hookimpl, mask_identifiers

from .._shared.urls import check_http_url
from ..faq import Faq, FaqConfig, FaqFileError, FaqIndex
from ..faq.matcher import METHOD_THRESHOLDS
from .completions import Completion, CompletionError, CompletionsClient
from .context import (
    NO_ANSWER,
    SYSTEM_PROMPT,
    Passage,
    context_text,
    faq_passage,
    load_documents,
    messages_for,
)
from .grounding import ungrounded_numbers

__all__ = ["LlmAnswer", "LlmAnswerConfig", "TokenMeter"]

logger = logging.getLogger(__name__)

DOCUMENT_METHOD: Literal["blend"] = "blend"
"""Documents are ranked by the faq plugin's lexical blend (BM25 coverage + fuzzy ratio)."""


def _unit(_instance: object, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None and not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be between 0 and 1, got {value!r}")


def _positive(_instance: object, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None and not value > 0:
        raise ValueError(f"{attribute.name} must be > 0, got {value!r}")


def _non_negative(_instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value >= 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value!r}")


def _base_url(_instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    check_http_url(attribute.name, value)


def _top_k(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if not 1 <= value <= 10:
        raise ValueError(f"{attribute.name} must be between 1 and 10, got {value!r}")


@attrs.frozen(kw_only=True)
class LlmAnswerConfig:
    """``[plugins.llm_answer]``: which model, which knowledge, and what it may spend."""

    faq_file: Path
    """The FAQ file the answers must come from (the faq plugin's format), relative to
    bot.toml."""
    base_url: str = attrs.field(validator=_base_url)
    """The OpenAI-compatible API root, ending in ``/v1`` (Ollama:
    ``http://localhost:11434/v1``)."""
    model: str
    """The model name the endpoint knows, e.g. ``llama3.1``."""
    api_key: str | None = attrs.field(default=None, repr=False, metadata={"secret": True})
    """Sent as ``Authorization: Bearer …`` (secret: redacted from logs); none for Ollama."""
    documents: Path | None = None
    """A folder of the team's own .md/.txt documents to answer from too (read at start)."""
    method: Literal["blend", "bm25", "fuzzy", "semantic", "hybrid"] = "hybrid"
    """How FAQ entries are retrieved (the faq plugin's methods)."""
    top_k: int = attrs.field(default=3, validator=_top_k)
    """How many FAQ entries (and as many document chunks) the model sees."""
    min_score: float | None = attrs.field(default=None, validator=_unit)
    """Retrieval score below which the model is not asked; default: the method's clarify
    threshold (below it the faq plugin would not even suggest the entry)."""
    document_min_score: float | None = attrs.field(default=None, validator=_unit)
    """The same for document chunks; default: the lexical blend's clarify threshold."""
    confidence_factor: float = attrs.field(default=0.9, validator=_unit)
    """Reply confidence = this × the best retrieval score."""
    timeout_seconds: float = attrs.field(default=4.0, validator=_positive)
    """Time budget of one model call; keep it below ``[runtime] hook_timeout_seconds``."""
    max_tokens: int = attrs.field(default=300, validator=_positive)
    """The most tokens one answer may have (the request's ``max_tokens``)."""
    temperature: float = attrs.field(default=0.0, validator=_non_negative)
    max_tokens_per_run: int | None = attrs.field(default=None, validator=_positive)
    """Stop calling the model after this many tokens (prompt + completion) in this run."""
    max_tokens_per_day: int | None = attrs.field(default=None, validator=_positive)
    """Stop calling the model after this many tokens in one UTC day (kept in storage)."""
    price_per_1k_prompt_tokens: float = attrs.field(default=0.0, validator=_non_negative)
    price_per_1k_completion_tokens: float = attrs.field(default=0.0, validator=_non_negative)
    currency: str = "USD"
    """The unit of the prices, for the cost line in the log."""
    mask_identifiers: bool = True
    """Replace e-mails, phone and order numbers by placeholders before the text leaves."""
    system_prompt: str = SYSTEM_PROMPT
    """The rules the model is given; keep the ``NO_ANSWER`` instruction if you change it."""


@attrs.define
class TokenMeter:
    """Tokens and money spent: per run in memory, per day through the plugin's storage."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0
    answered: int = 0
    refused: int = 0
    failed: int = 0

    @property
    def tokens(self) -> int:
        """Prompt plus completion tokens this run."""
        return self.prompt_tokens + self.completion_tokens

    def cost(self, config: LlmAnswerConfig) -> float:
        """What this run's tokens cost at the configured prices."""
        return (
            self.prompt_tokens * config.price_per_1k_prompt_tokens
            + self.completion_tokens * config.price_per_1k_completion_tokens
        ) / 1000.0

    def add(self, completion: Completion) -> None:
        """Count one call's usage."""
        self.prompt_tokens += completion.prompt_tokens
        self.completion_tokens += completion.completion_tokens


def _day_key(wall_time: float) -> str:
    day = datetime.datetime.fromtimestamp(wall_time, datetime.UTC).date()
    return f"tokens:{day.isoformat()}"


class LlmAnswer:
    """Answer visitors from retrieved FAQ entries through a chat model (``llm_answer``)."""

    def __init__(self, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._transport = transport
        self.faq: Faq | None = None
        self.documents: FaqIndex | None = None
        self.client: CompletionsClient | None = None
        self.meter = TokenMeter()
        self._cap_logged = False

    @hookimpl
    def register_config(self, register: Any) -> None:
        """Declare :class:`LlmAnswerConfig`."""
        register(LlmAnswerConfig)

    @hookimpl
    async def on_start(self, bot: PluginBot) -> None:
        """Load the FAQ (and documents) in a worker thread and open the HTTP client."""
        config: LlmAnswerConfig = bot.config
        base_dir = bot.config_dir
        self.meter = TokenMeter()
        self.client = CompletionsClient(
            config.base_url,
            api_key=config.api_key,
            timeout_seconds=config.timeout_seconds,
            transport=self._transport,
        )
        self.faq = Faq(FaqConfig(file=config.faq_file, method=config.method), base_dir=base_dir)
        try:
            index = await anyio.to_thread.run_sync(self.faq.load)
            bot.logger.info("llm_answer: %d FAQ entries from %s", len(index), self.faq.path)
        except FaqFileError as exc:
            bot.logger.error("llm_answer: %s; answering nothing until it is fixed", exc)
        if config.documents is not None:
            folder = config.documents.expanduser()
            if not folder.is_absolute() and base_dir is not None:
                folder = base_dir / folder
            try:
                chunks = await anyio.to_thread.run_sync(load_documents, folder)
            except OSError as exc:
                bot.logger.error("llm_answer: cannot read documents: %s", exc)
                chunks = []
            if chunks:
                self.documents = FaqIndex(chunks, method=DOCUMENT_METHOD, understand=False)
            bot.logger.info("llm_answer: %d document chunks from %s", len(chunks), folder)

    @hookimpl
    async def on_stop(self, bot: PluginBot) -> None:
        """Log what the run cost, and close the HTTP client."""
        config: LlmAnswerConfig = bot.config
        meter = self.meter
        bot.logger.info(
            "llm_answer: %d calls (%d answered, %d refused, %d failed), %d prompt + %d "
            "completion tokens, cost %.4f %s",
            meter.calls,
            meter.answered,
            meter.refused,
            meter.failed,
            meter.prompt_tokens,
            meter.completion_tokens,
            meter.cost(config),
            config.currency,
        )
        if self.client is not None:
            with anyio.CancelScope(shield=True), anyio.move_on_after(1.0):
                await self.client.aclose()
            self.client = None

    # -- one message -------------------------------------------------------------------------

    def retrieve(self, config: LlmAnswerConfig, text: str, lang: str | None) -> list[Passage]:
        """Return the passages good enough to answer from, best first (maybe none)."""
        passages: list[Passage] = []
        faq = self.faq
        index = faq.index if faq is not None else None
        if index is not None:
            floor = config.min_score
            if floor is None:
                floor = METHOD_THRESHOLDS[config.method][1]
            for match in index.search(text, lang=lang, limit=config.top_k):
                if match.score >= floor:
                    passages.append(faq_passage(match.entry, match.score))
        if self.documents is not None:
            floor = config.document_min_score
            if floor is None:
                floor = METHOD_THRESHOLDS[DOCUMENT_METHOD][1]
            for match in self.documents.search(text, limit=config.top_k):
                if match.score >= floor:
                    passages.append(
                        Passage(id=match.entry.id, text=match.entry.answer, score=match.score)
                    )
        passages.sort(key=lambda p: p.score, reverse=True)
        return passages

    def _over_budget(self, bot: PluginBot, config: LlmAnswerConfig) -> bool:
        run_cap, day_cap = config.max_tokens_per_run, config.max_tokens_per_day
        spent_today = int(bot.storage.get(_day_key(bot.wall_time())) or 0)
        over = (run_cap is not None and self.meter.tokens >= run_cap) or (
            day_cap is not None and spent_today >= day_cap
        )
        if over and not self._cap_logged:
            self._cap_logged = True
            bot.logger.warning(
                "llm_answer: token budget spent (%d this run, %d today): not calling the model",
                self.meter.tokens,
                spent_today,
            )
        return over

    def _spend(self, bot: PluginBot, completion: Completion) -> None:
        self.meter.add(completion)
        key = _day_key(bot.wall_time())
        spent = int(bot.storage.get(key) or 0)
        bot.storage.set(key, spent + completion.prompt_tokens + completion.completion_tokens)

    async def _complete_within(
        self, bot: PluginBot, config: LlmAnswerConfig, messages: list[dict[str, str]]
    ) -> Completion | CompletionError | None:
        """Call the model; None if ``timeout_seconds`` ran out first on either clock.

        The runtime clock (virtual in tests) bounds the call as pacing is bounded; httpx's
        timeout and ``move_on_after`` bound it in real time, whichever comes first.
        """
        client = self.client
        if client is None:
            return None
        outcome: Completion | CompletionError | None = None

        async def call(scope: anyio.CancelScope) -> None:
            nonlocal outcome
            with anyio.move_on_after(config.timeout_seconds):
                try:
                    outcome = await client.complete(
                        model=config.model,
                        messages=messages,
                        max_tokens=config.max_tokens,
                        temperature=config.temperature,
                    )
                except CompletionError as exc:
                    outcome = exc
            scope.cancel()

        async def budget(scope: anyio.CancelScope) -> None:
            await bot.sleep_until(bot.now() + config.timeout_seconds)
            scope.cancel()

        async with anyio.create_task_group() as tg:
            tg.start_soon(call, tg.cancel_scope)
            tg.start_soon(budget, tg.cancel_scope)
        return outcome

    @hookimpl
    async def on_visitor_message(
        self, bot: PluginBot, chat_id: str, message: Message, text: str
    ) -> Reply | None:
        """Answer from the retrieved context through the model, or return None."""
        config: LlmAnswerConfig = bot.config
        if self.faq is None or not text.strip():
            return None
        await self.faq.reload_if_changed(bot.now())
        visitor = await bot.visitor(message.visitor_id)
        lang = str(visitor.lang) if visitor is not None and visitor.lang else None
        passages = self.retrieve(config, text, lang)
        if not passages:
            bot.logger.debug("llm_answer: chat %s: retrieval too weak, not asking", chat_id)
            return None
        if self._over_budget(bot, config):
            return None
        question = text
        if config.mask_identifiers:
            question = mask_identifiers(text, placeholder="<{kind}>")
        ids = [p.id for p in passages]
        messages = messages_for(question, passages, system_prompt=config.system_prompt)
        self.meter.calls += 1
        outcome = await self._complete_within(bot, config, messages)
        if outcome is None:
            self.meter.failed += 1
            bot.logger.warning(
                "llm_answer: chat %s: no answer within %g s", chat_id, config.timeout_seconds
            )
            return None
        if isinstance(outcome, CompletionError):
            self.meter.failed += 1
            bot.logger.warning("llm_answer: chat %s: %s", chat_id, outcome)
            return None
        self._spend(bot, outcome)
        answer = outcome.text.strip()
        if not answer or NO_ANSWER in answer:
            self.meter.refused += 1
            bot.logger.info("llm_answer: chat %s: the model refused (context %s)", chat_id, ids)
            return None
        invented = ungrounded_numbers(answer, context_text(passages))
        if invented:
            self.meter.refused += 1
            bot.logger.warning(
                "llm_answer: chat %s: answer dropped, numbers not in the context %s: %s",
                chat_id,
                ids,
                invented,
            )
            return None
        self.meter.answered += 1
        confidence = round(config.confidence_factor * passages[0].score, 4)
        bot.logger.info(
            "llm_answer: chat %s: answered from %s (confidence %.2f)", chat_id, ids, confidence
        )
        return Reply(answer, confidence=confidence)
