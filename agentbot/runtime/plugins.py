"""Find, load, validate and call plugins.

Where plugins come from:

* the ``agentbot`` entry-point group — installed packages (the built-in plugins too) declare
  ``[project.entry-points.agentbot] NAME = "package.module"``;
* ``path = "..."`` in a ``[plugins.NAME]`` section — a ``.py`` file (relative to bot.toml)
  or a dotted module name (``pkg.mod`` or ``pkg.mod:object``);
* objects handed to :class:`PluginHost` directly (tests, embedding).

A plugin from the first two sources runs only when bot.toml has its section and the section
does not say ``enabled = false``. An entry point or ``path`` may name a module, an object, or
a class (instantiated without arguments).

Checks at start-up, each an error naming the plugin: a section naming no installed plugin
(with a "did you mean"), a plugin that fails to import, an implementation whose name matches
no hook (with a "did you mean"), an implementation taking a parameter its hook does not
offer, and options that do not fit the plugin's config class (file, section, key).

Calling: :meth:`PluginHost.call` calls each implementation itself, rather than through
pluggy's hook caller, because it needs three things pluggy does not do: a different ``bot``
per plugin, await-me-maybe with a time budget per implementation, and isolation so that a
raising or hanging plugin is logged, counted and skipped while the others still answer.
"""

from __future__ import annotations

import collections
import functools
import importlib
import importlib.metadata
import importlib.util
import inspect
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import attrs
import pluggy

from agentbot.errors import AgentbotError, ConfigError, PluginError, safe_snippet
from agentbot.runtime import hookspecs
from agentbot.runtime.config import BotConfig, PluginSection
from agentbot.runtime.logs import plugin_field
from agentbot.runtime.sections import did_you_mean, location, structure_section

__all__ = [
    "ENTRY_POINT_GROUP",
    "HOOK_NAMES",
    "TRACE_ENV",
    "HookResult",
    "LoadedPlugin",
    "PluginHost",
    "installed_plugins",
]

logger = logging.getLogger(__name__)
trace_logger = logging.getLogger("agentbot.hooks")

ENTRY_POINT_GROUP = hookspecs.PROJECT_NAME
TRACE_ENV = "AGENTBOT_TRACE_HOOKS"
HOOK_NAMES: tuple[str, ...] = tuple(
    name
    for name, value in vars(hookspecs).items()
    if callable(value) and hasattr(value, f"{hookspecs.PROJECT_NAME}_spec")
)
"""Every hook name, in the order hookspecs.py defines them."""

_IMPLICIT_PREFIXES = ("on_", "register_")

BLOCKING_SECONDS = 0.05
"""A sync hook call longer than this blocked the event loop (every chat waited): with
``[runtime] sync_hooks = "auto"`` that hook runs in a worker thread from then on."""
CHECK_TIMEOUT_SECONDS = 60.0
_LOCAL_MODULE_PREFIX = "agentbot_local_plugins"


@attrs.define(kw_only=True, eq=False)
class LoadedPlugin:
    """One plugin that will run: where it came from, its rank and its validated config."""

    name: str
    plugin: object
    source: str
    """Where it was loaded from, for ``agentbot plugins`` / ``check`` and error messages."""
    rank: int = 0
    """Position in the plugin order (0 first)."""
    section: PluginSection | None = None
    config_class: type[Any] | None = None
    config: Any = None
    hooks: tuple[str, ...] = ()


@attrs.frozen
class HookResult:
    """One implementation's non-None result."""

    plugin: LoadedPlugin
    value: Any


class _Manager(pluggy.PluginManager):
    """A pluggy manager that also treats unmarked ``on_*`` / ``register_*`` callables as
    implementations, so a misspelt hook name is an error rather than dead code."""

    def parse_hookimpl_opts(self, plugin: object, name: str) -> Any:
        opts = super().parse_hookimpl_opts(plugin, name)
        if opts is None and name.startswith(_IMPLICIT_PREFIXES):
            try:
                member = getattr(plugin, name)
            except Exception:
                return None
            if inspect.isroutine(member):
                return {}
        return opts


def _entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    found: dict[str, importlib.metadata.EntryPoint] = {}
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(entry_point.name, entry_point)
    return found


def installed_plugins() -> dict[str, str]:
    """Return ``{name: "module:object"}`` for every plugin in the ``agentbot`` entry points."""
    return {name: ep.value for name, ep in sorted(_entry_points().items())}


def _instantiate(obj: object) -> object:
    """A class becomes an instance; modules and other objects are used as they are."""
    return obj() if inspect.isclass(obj) else obj


def _load_path(name: str, spec: str, base: Path | None) -> tuple[object, str]:
    """Load a plugin from a ``.py`` file or a ``module[:object]`` name."""
    looks_like_file = spec.endswith(".py") or "/" in spec or os.sep in spec
    if looks_like_file:
        file = Path(spec).expanduser()
        if not file.is_absolute() and base is not None:
            file = base / file
        if not file.is_file():
            raise FileNotFoundError(f"no such file: {file}")
        module_name = f"{_LOCAL_MODULE_PREFIX}.{name}"
        import_spec = importlib.util.spec_from_file_location(module_name, file)
        if import_spec is None or import_spec.loader is None:
            raise ImportError(f"cannot import {file}")
        module = importlib.util.module_from_spec(import_spec)
        # Registered so attrs/typing can resolve the module's annotations by name.
        sys.modules[module_name] = module
        try:
            import_spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(module_name, None)
            raise
        return module, f"file {file}"
    module_name, _, attribute = spec.partition(":")
    obj: object = importlib.import_module(module_name)
    for part in filter(None, attribute.split(".")):
        obj = getattr(obj, part)
    return _instantiate(obj), f"module {spec}"


class PluginHost:
    """Load the configured plugins into pluggy and call their hooks safely.

    ``extra`` are ``(name, plugin object)`` pairs that run regardless of bot.toml (a section
    with the same name may still give them options and an order). ``entry_points`` replaces
    the installed entry points (tests). ``hook_timeout_seconds`` is the per-call budget.
    """

    def __init__(
        self,
        config: BotConfig,
        *,
        extra: Sequence[tuple[str, object]] = (),
        entry_points: Mapping[str, importlib.metadata.EntryPoint] | None = None,
        hook_timeout_seconds: float | None = None,
        trace: bool | None = None,
    ) -> None:
        self.config = config
        self._extra = tuple(extra)
        self._entry_points = dict(entry_points) if entry_points is not None else None
        self.hook_timeout_seconds = (
            config.runtime.hook_timeout_seconds
            if hook_timeout_seconds is None
            else hook_timeout_seconds
        )
        self.trace = os.environ.get(TRACE_ENV, "") not in ("", "0") if trace is None else trace
        self.sync_hooks = config.runtime.sync_hooks
        """Where sync implementations run (``[runtime] sync_hooks``: auto, thread, inline)."""
        self.blocking: set[tuple[str, str]] = set()
        """(plugin, hook) pairs seen blocking the event loop: they run in worker threads."""
        self.plugins: tuple[LoadedPlugin, ...] = ()
        self.failures: collections.Counter[str] = collections.Counter()
        """Per plugin name: calls that raised or returned something invalid."""
        self.timeouts: collections.Counter[str] = collections.Counter()
        """Per plugin name: calls abandoned past their time budget."""
        self._pm = _Manager(hookspecs.PROJECT_NAME)
        self._pm.add_hookspecs(hookspecs)
        self._by_name: dict[str, LoadedPlugin] = {}
        self._impl_cache: dict[
            str, list[tuple[LoadedPlugin, Callable[..., Any], tuple[str, ...]]]
        ] = {}

    # -- loading -----------------------------------------------------------------------------

    def load(self) -> tuple[LoadedPlugin, ...]:
        """Load, register and validate every plugin that should run; return them in order.

        Raises :class:`PluginError` (plugin could not be loaded, unknown hook, bad hook
        signature) or :class:`ConfigError` (unknown plugin, options that do not fit).
        """
        where = self.config.source
        base = self.config.path.parent if self.config.path is not None else None
        entry_points = self._entry_points if self._entry_points is not None else _entry_points()
        extra_names = {name for name, _obj in self._extra}
        loaded: list[LoadedPlugin] = []
        keys: dict[str, tuple[int, int]] = {}
        for section in self.config.plugins:
            if not section.enabled or section.name in extra_names:
                continue
            section_name = f"plugins.{section.name}"
            if section.path is not None:
                origin = location(where, section_name, "path")
            elif section.name in entry_points:
                origin = (
                    f"{location(where, section_name)} (entry point "
                    f"{entry_points[section.name].value})"
                )
            else:
                origin = location(where, section_name)
            try:
                if section.path is not None:
                    obj, source = _load_path(section.name, section.path, base)
                elif section.name in entry_points:
                    entry_point = entry_points[section.name]
                    obj = _instantiate(entry_point.load())
                    source = f"entry point {entry_point.value}"
                else:
                    hint = did_you_mean(section.name, entry_points)
                    raise ConfigError(
                        f"{location(where, 'plugins.' + section.name)}: no installed plugin "
                        f"named {section.name!r}{hint}; add `path = ...` for a local one",
                        path=where,
                        section=f"plugins.{section.name}",
                    )
            except ConfigError:
                raise
            except Exception as exc:
                raise PluginError(
                    f"{origin}: cannot load plugin {section.name!r}: "
                    f"{type(exc).__name__}: {safe_snippet(str(exc), 200)[1:-1]}",
                    plugin=section.name,
                ) from exc
            loaded.append(
                LoadedPlugin(name=section.name, plugin=obj, source=source, section=section)
            )
            keys[section.name] = (section.order or 0, section.position)
        after_file = len(self.config.plugins)
        for index, (name, obj) in enumerate(self._extra):
            given = self.config.plugin(name)
            loaded.append(
                LoadedPlugin(name=name, plugin=obj, source="given to the Bot", section=given)
            )
            position = given.position if given is not None else after_file + index
            keys[name] = ((given.order or 0) if given is not None else 0, position)
        loaded.sort(key=lambda plugin: keys[plugin.name])
        for rank, plugin in enumerate(loaded):
            plugin.rank = rank
            self._register(plugin)
        self._check_unknown_hooks()
        for plugin in loaded:
            plugin.hooks = tuple(
                name
                for name in HOOK_NAMES
                if any(
                    impl.plugin_name == plugin.name
                    for impl in getattr(self._pm.hook, name).get_hookimpls()
                )
            )
        self.plugins = tuple(loaded)
        self._by_name = {plugin.name: plugin for plugin in loaded}
        self._impl_cache.clear()
        return self.plugins

    def _register(self, plugin: LoadedPlugin) -> None:
        if self._pm.has_plugin(plugin.name):
            raise PluginError(f"plugin {plugin.name!r} is loaded twice", plugin=plugin.name)
        _check_parameters(plugin)
        _check_impl_options(plugin)
        try:
            self._pm.register(plugin.plugin, name=plugin.name)
        except pluggy.PluginValidationError as exc:
            raise PluginError(
                f"plugin {plugin.name!r} ({plugin.source}): {exc}", plugin=plugin.name
            ) from None
        except ValueError as exc:  # the same object registered under two names
            raise PluginError(f"plugin {plugin.name!r}: {exc}", plugin=plugin.name) from None

    def _check_unknown_hooks(self) -> None:
        for name in sorted(vars(self._pm.hook)):
            caller = getattr(self._pm.hook, name)
            if not isinstance(caller, pluggy.HookCaller) or caller.spec is not None:
                continue
            for impl in caller.get_hookimpls():
                hint = did_you_mean(name, HOOK_NAMES)
                raise PluginError(
                    f"plugin {impl.plugin_name!r} implements {name!r}, which is not an agentbot "
                    f"hook{hint}",
                    plugin=impl.plugin_name,
                    hook=name,
                )

    def validate_configs(self, bot_for: Callable[[LoadedPlugin], Any]) -> None:
        """Run each plugin's ``register_config`` and validate its section against the class.

        ``bot_for`` builds the ``bot`` argument for a plugin. Raises :class:`ConfigError`
        naming file, section and key, or :class:`PluginError` for a bad registration.
        """
        where = self.config.source
        for plugin in self.plugins:
            registered: list[type[Any]] = []

            def register(cls: type[Any], _registered: list[type[Any]] = registered) -> None:
                _registered.append(cls)

            for _owner, function, argnames in self._impls("register_config"):
                if _owner is not plugin:
                    continue
                kwargs = {"register": register, "bot": bot_for(plugin)}
                try:
                    result = function(**{arg: kwargs[arg] for arg in argnames})
                except Exception as exc:
                    raise PluginError(
                        f"plugin {plugin.name!r}: register_config failed: "
                        f"{type(exc).__name__}: {exc}",
                        plugin=plugin.name,
                        hook="register_config",
                    ) from exc
                if inspect.isawaitable(result):
                    _close_awaitable(result)
                    raise PluginError(
                        f"plugin {plugin.name!r}: register_config must not be async",
                        plugin=plugin.name,
                        hook="register_config",
                    )
            if len(registered) > 1:
                raise PluginError(
                    f"plugin {plugin.name!r} registered {len(registered)} config classes; "
                    "one is allowed",
                    plugin=plugin.name,
                    hook="register_config",
                )
            options = dict(plugin.section.options) if plugin.section is not None else {}
            section = f"plugins.{plugin.name}"
            if not registered:
                if options:
                    key = next(iter(options))
                    raise ConfigError(
                        f"{location(where, section, key)}: unknown key (plugin {plugin.name!r} "
                        "takes no options)",
                        path=where,
                        section=section,
                        key=key,
                    )
                continue
            cls = registered[0]
            if not attrs.has(cls):
                raise PluginError(
                    f"plugin {plugin.name!r} registered {cls!r}, which is not an attrs class",
                    plugin=plugin.name,
                    hook="register_config",
                )
            plugin.config_class = cls
            plugin.config = structure_section(cls, options, path=where, section=section)

    # -- calling -----------------------------------------------------------------------------

    def _impls(self, hook: str) -> list[tuple[LoadedPlugin, Callable[..., Any], tuple[str, ...]]]:
        cached = self._impl_cache.get(hook)
        if cached is None:
            caller: pluggy.HookCaller = getattr(self._pm.hook, hook)
            cached = []
            for impl in caller.get_hookimpls():
                plugin = self._by_name.get(impl.plugin_name)
                if plugin is not None:
                    cached.append((plugin, impl.function, tuple(impl.argnames)))
            cached.sort(key=lambda entry: entry[0].rank)
            self._impl_cache[hook] = cached
        return cached

    async def call(
        self,
        hook: str,
        bot_for: Callable[[LoadedPlugin], Any],
        /,
        *,
        validate: Callable[[Any], Any] | None = None,
        **kwargs: Any,
    ) -> list[HookResult]:
        """Call every implementation of ``hook``; return their non-None results in plugin order.

        ``bot_for`` gives each plugin its own ``bot``. Sync implementations run at once;
        coroutines are awaited concurrently, each within the time budget. ``validate`` may
        check or convert a result (raising ``TypeError``/``ValueError`` for a bad one).
        Failures (exceptions, timeouts, invalid results) are logged with the plugin's name,
        counted in :attr:`failures` / :attr:`timeouts`, and skipped. Cancellation from
        outside (shutdown) propagates.
        """
        impls = self._impls(hook)
        if not impls:
            return []
        values: list[Any] = [None] * len(impls)
        pending: list[tuple[int, LoadedPlugin, Awaitable[Any]]] = []
        for index, (plugin, function, argnames) in enumerate(impls):
            arguments = {**kwargs, "bot": bot_for(plugin)}
            try:
                call_kwargs = {name: arguments[name] for name in argnames}
            except KeyError as exc:  # pluggy checked names against the spec at register time
                self._fail(plugin, hook, f"unexpected parameter {exc}", None)
                continue
            if self.trace:
                trace_logger.info(
                    "hook %s → %s(%s)", hook, plugin.name, _format_kwargs(call_kwargs)
                )
            if self._threaded(plugin, hook, function):
                # A sync hook that blocks (a database, an HTTP call): in a worker thread it
                # stalls only the chat that waits for it, within the same time budget.
                with plugin_field(plugin.name):  # the worker thread gets a copy of it
                    values[index] = await self._in_thread(
                        plugin, hook, function, call_kwargs, validate
                    )
                continue
            started = time.perf_counter()
            try:
                with plugin_field(plugin.name):  # log lines written by the hook name it
                    result = function(**call_kwargs)
            except Exception as exc:
                self._fail(plugin, hook, "raised", exc)
                continue
            if inspect.isawaitable(result):
                pending.append((index, plugin, result))
                continue
            elapsed = time.perf_counter() - started
            if elapsed > BLOCKING_SECONDS and self.sync_hooks == "auto":
                self.blocking.add((plugin.name, hook))
                logger.warning(
                    "plugin %s: sync %s blocked the event loop for %.3f s; from now on it runs "
                    "in a worker thread (or make it async)",
                    plugin.name,
                    hook,
                    elapsed,
                )
            elif elapsed > self.hook_timeout_seconds:
                logger.warning(
                    "plugin %s: sync %s blocked the event loop for %.2f s (budget %.2f s)",
                    plugin.name,
                    hook,
                    elapsed,
                    self.hook_timeout_seconds,
                )
            values[index] = self._checked(plugin, hook, result, validate)
        if len(pending) == 1:
            index, plugin, awaitable = pending[0]
            values[index] = await self._await_one(plugin, hook, awaitable, validate)
        elif pending:

            async def run(index: int, plugin: LoadedPlugin, awaitable: Awaitable[Any]) -> None:
                values[index] = await self._await_one(plugin, hook, awaitable, validate)

            async with anyio.create_task_group() as tg:
                for index, plugin, awaitable in pending:
                    tg.start_soon(run, index, plugin, awaitable)
        return [
            HookResult(impls[index][0], value)
            for index, value in enumerate(values)
            if value is not None
        ]

    def _threaded(self, plugin: LoadedPlugin, hook: str, function: Callable[..., Any]) -> bool:
        if self.sync_hooks == "inline" or inspect.iscoroutinefunction(function):
            return False
        return self.sync_hooks == "thread" or (plugin.name, hook) in self.blocking

    async def _in_thread(
        self,
        plugin: LoadedPlugin,
        hook: str,
        function: Callable[..., Any],
        call_kwargs: dict[str, Any],
        validate: Callable[[Any], Any] | None,
    ) -> Any:
        """Run a sync implementation in a worker thread within the hook time budget.

        Past the budget the call is abandoned (the thread finishes on its own; Python cannot
        kill it) and counted like an async time-out. The worker thread sees the caller's
        context variables (anyio copies them), and ``bot`` calls made there are carried out
        on the event loop (:class:`~agentbot.runtime.handle.PluginBot`).
        """
        result: Any = None
        with anyio.move_on_after(self.hook_timeout_seconds) as scope:
            try:
                result = await anyio.to_thread.run_sync(
                    functools.partial(function, **call_kwargs), abandon_on_cancel=True
                )
            except Exception as exc:
                self._fail(plugin, hook, "raised", exc)
                return None
        if scope.cancelled_caught:
            self._over_budget(plugin, f"sync {hook} blocked past", "abandoned")
            return None
        if inspect.isawaitable(result):
            return await self._await_one(plugin, hook, result, validate)
        return self._checked(plugin, hook, result, validate)

    async def _await_one(
        self,
        plugin: LoadedPlugin,
        hook: str,
        awaitable: Awaitable[Any],
        validate: Callable[[Any], Any] | None,
    ) -> Any:
        result: Any = None
        with anyio.move_on_after(self.hook_timeout_seconds) as scope:
            try:
                with plugin_field(plugin.name):  # a coroutine runs here, when awaited
                    result = await awaitable
            except Exception as exc:
                self._fail(plugin, hook, "raised", exc)
                return None
        if scope.cancelled_caught:
            self._over_budget(plugin, f"{hook} exceeded", "cancelled")
            return None
        return self._checked(plugin, hook, result, validate)

    def _over_budget(self, plugin: LoadedPlugin, what: str, outcome: str) -> None:
        """Count a hook that overran ``hook_timeout_seconds`` and say so, once, in one shape."""
        self.timeouts[plugin.name] += 1
        logger.error(
            "plugin %s: %s its time budget of %.2f s and was %s (%d timeouts so far)",
            plugin.name,
            what,
            self.hook_timeout_seconds,
            outcome,
            self.timeouts[plugin.name],
        )

    def _checked(
        self, plugin: LoadedPlugin, hook: str, result: Any, validate: Callable[[Any], Any] | None
    ) -> Any:
        if self.trace:
            trace_logger.info("hook %s ← %s: %s", hook, plugin.name, safe_snippet(result))
        if result is None or validate is None:
            return result
        try:
            return validate(result)
        except (TypeError, ValueError) as exc:
            self._fail(plugin, hook, f"returned an invalid result ({exc})", None)
            return None

    async def check(self, bot_for: Callable[[LoadedPlugin], Any], /) -> None:
        """Run every ``on_check`` implementation; raise one :class:`PluginError` for all failures.

        Unlike :meth:`call`, a failure is not logged and skipped: finding it is the point
        (``agentbot check``). Each line of the error names the plugin and what it raised.
        Implementations run one after the other, each within ``CHECK_TIMEOUT_SECONDS``
        (loading a large file may take longer than an event hook's budget).
        """
        problems: list[str] = []
        failed: list[str] = []
        for plugin, function, argnames in self._impls("on_check"):
            arguments = {"bot": bot_for(plugin)}
            try:
                with anyio.fail_after(CHECK_TIMEOUT_SECONDS):
                    result = function(**{name: arguments[name] for name in argnames})
                    if inspect.isawaitable(result):
                        await result
            except TimeoutError:
                problem = f"on_check took over {CHECK_TIMEOUT_SECONDS:g} s"
            except AgentbotError as exc:
                problem = str(exc)
            except Exception as exc:
                problem = f"on_check raised {safe_snippet(exc)}"
            else:
                continue
            failed.append(plugin.name)
            problems.append(f"plugin {plugin.name}: {problem}")
        if problems:
            raise PluginError("\n".join(problems), plugin=failed[0], hook="on_check")

    def report_failure(self, plugin: str, what: str, exc: BaseException | None) -> None:
        """Log and count a failure of ``plugin`` outside a hook call (e.g. a background task).

        Counted in :attr:`failures` like a failed hook, so a test harness that checks for
        plugin failures sees it too.
        """
        self.failures[plugin] += 1
        logger.error(
            "plugin %s: %s (%d failures so far)",
            plugin,
            what,
            self.failures[plugin],
            exc_info=exc,
        )

    def _fail(self, plugin: LoadedPlugin, hook: str, what: str, exc: BaseException | None) -> None:
        self.failures[plugin.name] += 1
        logger.error(
            "plugin %s: %s %s; skipped (%d failures so far)",
            plugin.name,
            hook,
            what,
            self.failures[plugin.name],
            exc_info=exc,
        )

    def close(self) -> None:
        """Unregister every plugin (lets a test build a fresh host)."""
        for plugin in self.plugins:
            if self._pm.has_plugin(plugin.name):
                self._pm.unregister(name=plugin.name)
        self._impl_cache.clear()


UNSUPPORTED_IMPL_OPTIONS: Mapping[str, str] = {
    "tryfirst": "the plugin order is bot.toml's: set `order` in [plugins.NAME]",
    "trylast": "the plugin order is bot.toml's: set `order` in [plugins.NAME]",
    "wrapper": "the runtime calls each implementation itself, so a wrapper would never run",
    "hookwrapper": "the runtime calls each implementation itself, so a wrapper would never run",
}
"""pluggy hookimpl options agentbot refuses at start-up (and why), instead of ignoring them."""


def _check_impl_options(plugin: LoadedPlugin) -> None:
    """Refuse ``hookimpl`` options the runtime would silently ignore, naming plugin and option.

    The runtime calls implementations itself (to await coroutines and keep time budgets),
    not through pluggy's call loop, so pluggy's ordering and wrapper options have no effect.
    """
    marker = f"{hookspecs.PROJECT_NAME}_impl"
    for attribute in dir(plugin.plugin):
        try:
            member = getattr(plugin.plugin, attribute)
        except Exception:
            continue
        options = getattr(member, marker, None)
        if not isinstance(options, dict):
            continue
        for option, why in UNSUPPORTED_IMPL_OPTIONS.items():
            if options.get(option):
                raise PluginError(
                    f"plugin {plugin.name!r}: {attribute} uses hookimpl({option}=True), which "
                    f"agentbot does not support ({why})",
                    plugin=plugin.name,
                    hook=attribute,
                )


def _check_parameters(plugin: LoadedPlugin) -> None:
    """Name, in one line, a parameter an implementation wants but its hook does not offer."""
    for hook in HOOK_NAMES:
        member = getattr(plugin.plugin, hook, None)
        if member is None or not inspect.isroutine(member):
            continue
        try:
            signature = inspect.signature(member)
        except (TypeError, ValueError):
            continue
        offered = list(inspect.signature(getattr(hookspecs, hook)).parameters)
        wanted = [
            parameter.name
            for parameter in signature.parameters.values()
            if parameter.default is inspect.Parameter.empty
            and parameter.kind
            in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        ]
        unknown = [name for name in wanted if name not in offered]
        if unknown:
            hint = did_you_mean(unknown[0], offered)
            raise PluginError(
                f"plugin {plugin.name!r}: {hook}() takes {', '.join(map(repr, unknown))}, "
                f"which the hook does not offer{hint}; it offers {', '.join(offered)}",
                plugin=plugin.name,
                hook=hook,
            )


def _format_kwargs(kwargs: Mapping[str, Any]) -> str:
    return ", ".join(
        f"{name}={safe_snippet(value, 80)}" for name, value in kwargs.items() if name != "bot"
    )


def _close_awaitable(awaitable: Awaitable[Any]) -> None:
    close = getattr(awaitable, "close", None)
    if callable(close):
        close()
