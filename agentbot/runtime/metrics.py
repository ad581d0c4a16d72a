"""What a running bot shows Prometheus: the metric definitions, each labelled by bot.

Two kinds of source, so most figures need no call site in the hot path:

* a custom collector reads, at scrape time, what the runtime counts anyway — ``Bot.stats``
  (a Counter), the plugin host's failure and time-out counters, whether a session is up, the
  outbox depth — and turns them into metric families. A scrape costs a few dict reads per
  bot; the bot does no extra work between scrapes.
* a few families need an observation at the moment it happens (latency and typing
  histograms, events by name, FAQ decisions, login failures): :class:`BotMetrics` has one
  small method per family for those call sites (``metrics.for_bot(name).replied(...)``).

One :class:`Metrics` per process holds its own ``CollectorRegistry`` (not prometheus_client's
global one), so tests and embedding programs get clean, independent registries; the bots of
a process are registered with :meth:`Metrics.add_bot` and each metric carries ``bot``.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = [
    "LATENCY_BUCKETS_SECONDS",
    "RATE_LIMIT_STATS",
    "TYPING_BUCKETS_SECONDS",
    "BotMetrics",
    "Metrics",
    "MetricsSource",
]

logger = logging.getLogger(__name__)

#: From a visitor's message to the answer leaving: pacing makes 1–8 s normal.
LATENCY_BUCKETS_SECONDS = (0.25, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 20.0, 30.0, 60.0)
#: How long ``chat.typing`` stays on for one message.
TYPING_BUCKETS_SECONDS = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 20.0)

#: ``Bot.stats`` keys that are rate-limit drops, and the ``limit`` label each gets. The global
#: message bucket (``max_messages_per_second``) delays messages and never drops one, so it has
#: no row: a label that cannot move would only mislead.
RATE_LIMIT_STATS: Mapping[str, str] = {
    "loop_guard": "per_chat",
    "dropped_events": "chat_queue",
}


class MetricsSource(Protocol):
    """What the collector reads from a bot (``Bot`` has all of it)."""

    @property
    def stats(self) -> collections.Counter[str]: ...

    @property
    def session(self) -> Any: ...


class BotMetrics:
    """The call-site side of one bot's metrics: one method per observed family."""

    def __init__(self, metrics: Metrics, bot: str) -> None:
        self._metrics = metrics
        self.bot = bot
        self._children: dict[tuple[str, str], Any] = {}

    def _child(self, family: Counter | Histogram, label: str | None = None) -> Any:
        key = (family._name, label or "")
        child = self._children.get(key)
        if child is None:
            values = (self.bot,) if label is None else (self.bot, label)
            child = self._children[key] = family.labels(*values)
        return child

    def event(self, name: str) -> None:
        """Count one server event by its wire name (``chat.message``, ``agent.joined`` …)."""
        self._child(self._metrics.events, name).inc()

    def replied(self, plugin: str | None) -> None:
        """Count one message the bot sent, by the plugin whose answer it was."""
        self._child(self._metrics.replies, plugin or "runtime").inc()

    def reply_latency(self, seconds: float) -> None:
        """Observe the time from a visitor message arriving to its answer leaving."""
        self._child(self._metrics.reply_latency).observe(seconds)

    def typing(self, seconds: float) -> None:
        """Observe how long typing was shown before one message."""
        self._child(self._metrics.typing).observe(seconds)

    def login_failed(self, reason: str) -> None:
        """Count a failed login (``auth_failure``, ``timeout``, ``refused``, ``connection``)."""
        self._child(self._metrics.login_failures, reason).inc()

    def faq_decision(self, kind: str) -> None:
        """Count one FAQ decision (``answer``, ``clarify``, ``silent``, ``follow_up``)."""
        self._child(self._metrics.faq_decisions, kind).inc()


class Metrics:
    """Every metric of one process, in its own registry; :meth:`add_bot` for each bot."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._bots: dict[str, MetricsSource] = {}
        self._handles: dict[str, BotMetrics] = {}
        self._lock = threading.Lock()
        self.events = Counter(
            "agentbot_events",
            "Server events received, by wire name.",
            ["bot", "event"],
            registry=self.registry,
        )
        self.replies = Counter(
            "agentbot_replies",
            "Messages the bot sent, by the plugin whose answer it was.",
            ["bot", "plugin"],
            registry=self.registry,
        )
        self.reply_latency = Histogram(
            "agentbot_reply_latency_seconds",
            "From a visitor message arriving to its answer leaving (pacing included).",
            ["bot"],
            buckets=LATENCY_BUCKETS_SECONDS,
            registry=self.registry,
        )
        self.typing = Histogram(
            "agentbot_typing_seconds",
            "How long typing was shown before each message.",
            ["bot"],
            buckets=TYPING_BUCKETS_SECONDS,
            registry=self.registry,
        )
        self.login_failures = Counter(
            "agentbot_login_failures",
            "Failed logins, by reason.",
            ["bot", "reason"],
            registry=self.registry,
        )
        self.faq_decisions = Counter(
            "agentbot_faq_decisions",
            "FAQ decisions, by kind (answer, clarify, silent, follow_up).",
            ["bot", "kind"],
            registry=self.registry,
        )
        self.registry.register(_RuntimeCollector(self))

    def add_bot(self, name: str, bot: MetricsSource) -> BotMetrics:
        """Register ``bot`` under the label ``name``; return its call-site handle."""
        with self._lock:
            self._bots[name] = bot
            handle = self._handles.get(name)
            if handle is None:
                handle = self._handles[name] = BotMetrics(self, name)
            return handle

    def remove_bot(self, name: str) -> None:
        """Stop reporting the collected figures of bot ``name``."""
        with self._lock:
            self._bots.pop(name, None)

    def for_bot(self, name: str) -> BotMetrics:
        """Return bot ``name``'s call-site handle (created on first use)."""
        with self._lock:
            handle = self._handles.get(name)
            if handle is None:
                handle = self._handles[name] = BotMetrics(self, name)
            return handle

    def bots(self) -> dict[str, MetricsSource]:
        """Return the registered bots by label (a copy)."""
        with self._lock:
            return dict(self._bots)


class _RuntimeCollector(Collector):
    """Reads the runtime's own counters at scrape time (no call sites needed)."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def describe(self) -> list[Metric]:
        return []  # families are made at collect time; nothing to pre-register

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "agentbot_connection_up", "1 while the bot is logged in, else 0.", labels=["bot"]
        )
        reconnects = CounterMetricFamily(
            "agentbot_reconnects", "Reconnects of the bot's connection.", labels=["bot"]
        )
        runtime = CounterMetricFamily(
            "agentbot_runtime",
            "The runtime's own counters (Bot.stats), by name.",
            labels=["bot", "counter"],
        )
        drops = CounterMetricFamily(
            "agentbot_rate_limit_drops",
            "Messages or events dropped by a limit (per_chat loop guard, chat_queue inbox).",
            labels=["bot", "limit"],
        )
        errors = CounterMetricFamily(
            "agentbot_plugin_errors",
            "Plugin hook calls that raised or returned garbage.",
            labels=["bot", "plugin"],
        )
        timeouts = CounterMetricFamily(
            "agentbot_plugin_timeouts",
            "Plugin hook calls abandoned past [runtime] hook_timeout_seconds.",
            labels=["bot", "plugin"],
        )
        outbox = GaugeMetricFamily(
            "agentbot_outbox_depth",
            "Replies planned or being sent, not yet confirmed.",
            labels=["bot"],
        )
        for name, bot in sorted(self._metrics.bots().items()):
            stats = collections.Counter(bot.stats)  # a copy: the loop thread may write
            logged_in = bot.session is not None and getattr(bot, "client", None) is not None
            up.add_metric([name], 1.0 if logged_in else 0.0)
            reconnects.add_metric([name], float(stats.get("reconnects", 0)))
            for counter, value in sorted(stats.items()):
                runtime.add_metric([name, counter], float(value))
            for counter, limit in RATE_LIMIT_STATS.items():
                drops.add_metric([name, limit], float(stats.get(counter, 0)))
            host = getattr(bot, "host", None)
            for plugin, value in sorted(dict(getattr(host, "failures", {})).items()):
                errors.add_metric([name, plugin], float(value))
            for plugin, value in sorted(dict(getattr(host, "timeouts", {})).items()):
                timeouts.add_metric([name, plugin], float(value))
            depth = _outbox_depth(bot) if logged_in else None
            if depth is not None:
                outbox.add_metric([name], float(depth))
        yield from (up, reconnects, runtime, drops, errors, timeouts, outbox)


def _outbox_depth(bot: MetricsSource) -> int | None:
    ledger = getattr(bot, "ledger", None)
    depth = getattr(ledger, "depth", None)
    if depth is None:
        return None
    try:
        return int(depth())
    except Exception as exc:  # a scrape must never fail because one figure cannot be read
        logger.debug("outbox depth unavailable: %s", exc)
        return None
