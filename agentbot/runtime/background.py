"""Plugin background tasks (``bot.start_soon``): queued, run in the bot's task group, counted.

Why a class of its own: a plugin may start a task from ``on_start``, before the bot's task
group exists, and may try to start one while the bot shuts down. The lifecycle is one small
state machine (``"queue"`` → ``"run"`` → ``"closed"``): queued until the task group exists,
refused (logged) once it is gone. A failing task is reported with its plugin's name and never
takes the bot down. The running count lets a test harness tell an idle bot from a busy one.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import anyio.abc
import attrs

from agentbot.errors import PluginError
from agentbot.runtime.actors import detach_from_events

__all__ = ["BackgroundTasks"]

logger = logging.getLogger(__name__)


@attrs.frozen
class _Task:
    fn: Callable[..., Awaitable[Any]]
    args: tuple[Any, ...]
    plugin: str
    label: str


class BackgroundTasks:
    """The plugins' background tasks of one bot."""

    def __init__(self, report_failure: Callable[[str, str, BaseException], None]) -> None:
        self._report_failure = report_failure
        self._state = "queue"
        self._queued: list[_Task] = []
        self._tg: anyio.abc.TaskGroup | None = None
        self.running = 0
        """Tasks started and not finished (asleep on the clock, or working)."""

    def start(
        self,
        fn: Callable[..., Awaitable[Any]],
        args: tuple[Any, ...],
        *,
        plugin: str,
        name: str | None = None,
        stopping: bool = False,
    ) -> None:
        """Run ``await fn(*args)`` in the task group (queued until it exists).

        Raises :class:`~agentbot.errors.PluginError` if ``fn`` is not callable.
        """
        if not callable(fn):
            raise PluginError(
                f"plugin {plugin!r}: start_soon() needs an async function, got {type(fn).__name__}",
                plugin=plugin,
            )
        label = name or getattr(fn, "__qualname__", None) or repr(fn)
        task = _Task(fn, args, plugin, label)
        if self._state == "closed" or stopping:
            logger.warning("plugin %s: not starting task %r: the bot is stopping", plugin, label)
        elif self._tg is None:
            self._queued.append(task)
        else:
            self._spawn(self._tg, task)

    def open(self, tg: anyio.abc.TaskGroup) -> None:
        """The task group exists: start what was queued, and from now on start at once."""
        self._state = "run"
        self._tg = tg
        queued, self._queued = self._queued, []
        for task in queued:
            self._spawn(tg, task)

    def close(self) -> None:
        """Refuse new tasks from now on (the task group is going away)."""
        self._state = "closed"
        self._tg = None
        self._queued.clear()

    def _spawn(self, tg: anyio.abc.TaskGroup, task: _Task) -> None:
        # Counted from now, not from the task's first step: a harness looking right after
        # start_soon() must not see an idle bot.
        self.running += 1
        tg.start_soon(self._run, task, name=f"agentbot {task.plugin}: {task.label}")

    async def _run(self, task: _Task) -> None:
        detach_from_events()  # a say() from this task belongs to no event's hooks
        try:
            awaitable = task.fn(*task.args)
            if not inspect.isawaitable(awaitable):
                raise TypeError(
                    f"{task.label} returned {type(awaitable).__name__}, not an awaitable: "
                    "pass an async function"
                )
            await awaitable
        except Exception as exc:
            self._report_failure(task.plugin, f"background task {task.label!r} failed", exc)
        finally:
            self.running -= 1
