"""Every hook an agentbot plugin can implement: this module is their reference documentation.

A plugin is a module or an object with functions named after these hooks, marked with
``@agentbot.hookimpl`` (a function whose name starts with ``on_`` or ``register_`` counts as
an implementation even unmarked, so a misspelt hook name is caught at start-up instead of
silently never running). An implementation may accept any subset of a hook's parameters, in
any order, by name::

    import agentbot

    @agentbot.hookimpl
    def on_visitor_message(text: str) -> agentbot.Reply | None:
        if "opening hours" in text.lower():
            return agentbot.Reply("We are open 9-17, Monday to Friday.", confidence=0.9)
        return None

Rules that hold for every hook:

* Every hook but :func:`register_commands` (the command line, where no bot runs) receives
  ``bot`` (a :class:`~agentbot.runtime.handle.PluginBot` bound to the plugin: its config,
  its storage, its logger, and the actions it may ask for). Plugins act only through
  ``bot`` and the values they return, never through the network client.
* Sync or async: an implementation may be a plain function or a coroutine function. pluggy
  itself is synchronous, so the runtime calls each implementation and awaits what needs
  awaiting (datasette's "await me maybe"). Sync implementations run on the event loop: keep
  them quick (no blocking I/O), or make them async.
* Time budget: each call of each implementation gets ``[runtime] hook_timeout_seconds``
  (default 5 s). An async implementation past its budget is cancelled; one that raises is
  logged with its plugin name and traceback. Either way it is counted, its result is skipped
  for that event, and the other plugins' results still count: one broken plugin never stops
  the bot. Implementations of one hook run concurrently, so the whole call takes at most
  about one budget.
* Order: plugins are called in the plugin order (``order`` in ``[plugins.NAME]``, then their
  position in bot.toml). For the visitor-message hook the order breaks confidence ties.
* ``AGENTBOT_TRACE_HOOKS=1`` in the environment logs every call, its arguments and results.
* ``hookimpl`` options: ``specname="on_…"`` (implement a hook under another function name)
  and ``optionalhook`` work as in pluggy. ``tryfirst``, ``trylast``, ``wrapper`` and
  ``hookwrapper`` are refused at start-up with an error naming the plugin and the option:
  the runtime calls each implementation itself, so pluggy would silently ignore them (the
  order comes from ``order`` in ``[plugins.NAME]``).

Why no hook uses ``firstresult=True``: an async implementation returns a coroutine, which is
never ``None``, so pluggy's "first non-None result wins" would let any coroutine win before it
ran. The runtime collects all results and combines them itself (see each hook).

Hooks are grouped below by lifecycle phase: registration, bot lifecycle, connection, every
event, chats, agents, visitors, errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click

    from agentbot.api.events import ServerEvent
    from agentbot.api.models import Agent, Chat, Message, Rating, Visitor
    from agentbot.api.requests import AgentConnectReply
    from agentbot.errors import ApiError
    from agentbot.runtime.commands import CommandTools
    from agentbot.runtime.handle import PluginBot
    from agentbot.runtime.identifiers import Identifier
    from agentbot.runtime.replies import Reply

__all__ = ["PROJECT_NAME", "hookimpl", "hookspec"]

PROJECT_NAME = "agentbot"
"""The pluggy project name; also the entry-point group plugins register under."""

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


# ---------------------------------------------------------------------------------------------
# Registration (once, at start-up, before anything connects)
# ---------------------------------------------------------------------------------------------


@hookspec
def register_config(register: Callable[[type[Any]], None], bot: PluginBot) -> None:
    """Declare the attrs class that holds this plugin's options from ``[plugins.NAME]``.

    Parameters:

    - ``register``: call it with one attrs class.
    - ``bot``: this plugin's :class:`~agentbot.PluginBot` (``bot.config`` is still None).

    The keys of the plugin's section in bot.toml (minus ``enabled``, ``order`` and ``path``,
    which the runtime reads) are validated against the class at start-up: an unknown key, a
    missing required one or a wrong type stops the bot with an error naming the file, the
    section and the key. The instance is then ``bot.config`` in every other hook. A plugin
    that registers nothing has ``bot.config is None`` and must have no options in its
    section. Fields declared ``attrs.field(repr=False)`` are secrets: never echoed in errors.

    Called once per plugin, while plugins load, before :func:`on_start`. Must be synchronous
    (a coroutine implementation is an error); return value ignored.

    Example::

        @attrs.frozen(kw_only=True)
        class GreeterConfig:
            greeting: str = "Hi! How can I help?"

        @agentbot.hookimpl
        def register_config(register):
            register(GreeterConfig)
    """


@hookspec
def on_check(bot: PluginBot) -> None:
    """Check what this plugin needs to start, so ``agentbot check`` fails on it.

    Parameters:

    - ``bot``: this plugin's :class:`~agentbot.PluginBot`; ``bot.config`` is validated and
      ``bot.storage`` is an in-memory store that is thrown away.

    Called once per plugin by ``agentbot check``, after every plugin loaded and its config
    was validated, before the login is tried; ``agentbot run`` does not call it. Do the
    start-up work that can fail because of the set-up (read and parse the file the config
    names, compile a pattern), without side effects: nothing sent, no background tasks.
    Raise :class:`~agentbot.ConfigError` (or any agentbot error) with a message saying what
    to fix: ``check`` prints it naming the plugin and exits 1. Sync or async; return value
    ignored. Without it, ``check`` can only validate the config's types.

    Example::

        @agentbot.hookimpl
        def on_check(bot):
            if not Path(bot.config.templates).is_file():
                raise agentbot.ConfigError(f"templates file {bot.config.templates} is missing")
    """


@hookspec
def register_commands(cli: click.Group, tools: CommandTools) -> None:
    """Add this plugin's own commands to the ``agentbot`` command line.

    Parameters:

    - ``cli``: the ``agentbot`` :class:`click.Group`; add commands or groups to it
      (``@cli.group()`` / ``@cli.command()`` or ``cli.add_command(...)``).
    - ``tools``: a :class:`~agentbot.CommandTools` that finds and reads bot.toml as
      ``agentbot run`` does: its ``-c/--config`` option, the plugin's validated section
      (``plugin_config``, no Smartsupp credentials needed), its storage (``plugin_store``).

    Called once per installed plugin (every ``agentbot`` entry point, whether or not bot.toml
    enables it), when the command line needs a command it does not have built in or lists
    its commands; there is no ``bot``, since no bot runs. A plugin that fails to import, or
    whose implementation raises, is one warning on stderr and the other commands still work.
    Must be synchronous; return value ignored. The model is datasette's and llm's hook of
    the same name.

    Example::

        @agentbot.hookimpl
        def register_commands(cli, tools):
            @cli.command()
            @tools.config_option()
            def greet(config_path):
                click.echo(tools.plugin_config(config_path, "greeter", GreeterConfig).greeting)
    """


# ---------------------------------------------------------------------------------------------
# Bot lifecycle
# ---------------------------------------------------------------------------------------------


@hookspec
def on_start(bot: PluginBot) -> None:
    """Prepare the plugin: the bot is about to connect.

    Parameters:

    - ``bot``: this plugin's :class:`~agentbot.PluginBot`; ``bot.config`` and
      ``bot.storage`` are ready.

    Open resources here (HTTP clients, files). Called once per run, after every plugin loaded
    and its config was validated, before the first connection. Sync or async; return value
    ignored. An error here is logged and counted like any other: the bot starts anyway.
    """


@hookspec
def on_stop(bot: PluginBot) -> None:
    """Release what :func:`on_start` acquired: the bot is shutting down.

    Parameters:

    - ``bot``: this plugin's :class:`~agentbot.PluginBot` (storage is still open).

    Called once per run, on shutdown (SIGINT/SIGTERM, logout, or the end of ``Bot.run``),
    after pending replies were cancelled (the bot sends nothing more) and before the
    connection and storage close. Sync or async; return value ignored. Keep it short: the
    whole shutdown must finish within ``[runtime] shutdown_grace_seconds``.
    """


# ---------------------------------------------------------------------------------------------
# Connection
# ---------------------------------------------------------------------------------------------


@hookspec
def on_connected(bot: PluginBot, session: AgentConnectReply, reconnect: bool) -> None:
    """React to a logged-in session: the first connection and every reconnect.

    Parameters:

    - ``bot``: this plugin's :class:`~agentbot.PluginBot`.
    - ``session``: the ``agent.connect`` reply. ``session.agent`` is the bot's own agent,
      ``session.account.agents`` every agent of the account (``bot.humans_online()`` says
      whether a human is around), ``session.account.groups`` the groups.
    - ``reconnect``: False for the first session, True after a lost link came back. By then
      the client has already re-sent the wanted ``track_visitors`` (it is per connection).

    Called once per session. Sync or async; return value ignored.
    """


@hookspec
def on_disconnected(bot: PluginBot, reason: str) -> None:
    """Note that the link to the server was lost; the client is reconnecting.

    Parameters:

    - ``bot``: this plugin's :class:`~agentbot.PluginBot`.
    - ``reason``: a human-readable cause, e.g. ``"ping timeout"``.

    Replies cannot be sent until :func:`on_connected` fires again with ``reconnect=True``.
    Called once per lost link. Sync or async; return value ignored.
    """


# ---------------------------------------------------------------------------------------------
# Every event
# ---------------------------------------------------------------------------------------------


@hookspec
def on_event(bot: PluginBot, event: ServerEvent, chat_id: str | None) -> None:
    """See every event the server sends, before the event's specific hook.

    Parameters:

    - ``bot``: this plugin's :class:`~agentbot.PluginBot`.
    - ``event``: the typed event from :mod:`agentbot.api` (``ChatMessageReceived``,
      ``AgentJoined``, …; ``UnknownEvent`` for names agentbot has no class for,
      ``MalformedEvent`` for a known event whose payload did not fit).
    - ``chat_id``: the chat the event belongs to, or None for account-wide events.

    Use it for logging, metrics, or events no specific hook covers. Called once per event
    (bulk items included), in arrival order per chat: one chat's events are handled in order
    by that chat's actor, different chats concurrently. It sees the raw stream: the bot's
    own echoed messages and duplicates too. Sync or async; return value ignored.
    """


# ---------------------------------------------------------------------------------------------
# Chats
# ---------------------------------------------------------------------------------------------


@hookspec
def on_chat_opened(bot: PluginBot, chat_id: str, chat: Chat, event: ServerEvent) -> None:
    """React to a new chat (``chat.opened``: usually a visitor's first message).

    Parameters:

    - ``bot``: this plugin's :class:`~agentbot.PluginBot`.
    - ``chat_id``: the chat's id.
    - ``chat``: the chat: ``visitor_id``, ``status``, ``assigned_ids``, maybe ``messages``.
    - ``event``: the ``ChatOpened`` event.

    The visitor's message itself arrives separately, through :func:`on_visitor_message`:
    answer it there, not here. A greeting said here (``bot.say(chat_id, ...)``) goes out
    before the answer to that message, even when the message arrived while this hook ran.
    Called once per opened (or reopened) chat. Sync or async; return value ignored.
    """


@hookspec
def on_chat_closed(
    bot: PluginBot, chat_id: str, close_type: str | None, event: ServerEvent
) -> None:
    """Clean up after a chat closed (``chat.closed``, ``chat.visitor_closed``, ``chat.deleted``).

    Parameters:

    - ``bot``: this plugin's :class:`~agentbot.PluginBot`.
    - ``chat_id``: the chat's id.
    - ``close_type``: e.g. ``"visitor_close"`` or ``"agent_close"`` when the server says,
      else None.
    - ``event``: the closing event.

    By the time this runs the runtime has cancelled any pending reply in the chat and sends
    nothing more there. Called once per closing event. Sync or async; return value ignored.
    """


@hookspec
def on_visitor_message(
    bot: PluginBot,
    chat_id: str,
    message: Message,
    text: str,
    event: ServerEvent,
    identifiers: tuple[Identifier, ...],
) -> Reply | None:
    """Answer a visitor's message: return a :class:`~agentbot.Reply` candidate or None.

    Parameters:

    - ``bot``: this plugin's :class:`~agentbot.PluginBot`.
    - ``chat_id``: the chat's id.
    - ``message``: the visitor's message (``message.id``, ``message.visitor_id``, …).
    - ``text``: the message's text ("" for non-text content).
    - ``event``: the ``ChatMessageReceived`` event.
    - ``identifiers``: the order numbers, e-mails, phones, URLs and amounts in ``text``
      (:func:`agentbot.extract_identifiers`), as typed :class:`~agentbot.Identifier` spans
      in order of appearance; ``()`` if there are none.

    Return ``Reply(text, confidence)`` to propose an answer, or None to stay out; anything
    else counts as a plugin failure. The runtime collects every plugin's candidate and sends
    the one with the highest confidence (ties: the earlier plugin in the plugin order);
    candidates below ``[runtime] min_confidence`` are ignored. The answer goes out the human
    way: ``chat.typing`` true, a paced wait, the message (split if long), ``chat.typing``
    false.

    Called once per visitor message the bot may answer: never for the bot's own or another
    agent's messages, never twice for the same message id (even across restarts), never
    after the chat closed, and not while a human handles the chat (human first). If the
    visitor writes again while the bot is still typing its answer, this hook runs for the new
    message and the pending answer is re-planned (see :mod:`agentbot.runtime.actors`).
    Sync or async.

    Example::

        @agentbot.hookimpl
        async def on_visitor_message(bot, text):
            answer = await lookup_faq(text)
            return agentbot.Reply(answer.text, confidence=answer.score) if answer else None
    """


@hookspec
def on_reply_chosen(
    bot: PluginBot,
    chat_id: str,
    message: Message,
    text: str,
    reply: Reply | None,
    plugin: str | None,
) -> None:
    """Learn which answer the runtime picked for a visitor message, or that none qualified.

    Parameters:

    - ``bot``: this plugin's :class:`~agentbot.PluginBot`.
    - ``chat_id``: the chat's id.
    - ``message``: the visitor's message that :func:`on_visitor_message` was asked about.
    - ``text``: the message's text ("" for non-text content).
    - ``reply``: the chosen :class:`~agentbot.Reply` (its ``text`` and ``confidence``), or
      None when no plugin proposed one or every candidate was below
      ``[runtime] min_confidence``.
    - ``plugin``: the name of the plugin whose reply was chosen, or None with ``reply``.

    Plugins see only their own candidates; this hook tells every plugin the outcome, e.g.
    to count a streak of unanswered or low-confidence messages and hand the chat to a human,
    or to note that a greeting was given. Called once per visitor message that
    :func:`on_visitor_message` ran for, after the runtime chose and before the answer is
    planned; not called if a human took over or the chat closed while the plugins were
    thinking. The chosen answer may still not go out (a human joins during the paced wait,
    the visitor writes again and the answer is replaced): it is the choice, not the
    delivery. Acting here takes effect before the answer: ``bot.hand_off(chat_id)`` drops
    it (send your own ``message=`` instead); something ``bot.say()`` queues goes out after
    it. Sync or async (the answer waits for it, within the hook time budget); return value
    ignored.

    Example::

        @agentbot.hookimpl
        def on_reply_chosen(bot, chat_id, reply):
            weak = reply is None or reply.confidence < 0.5
            misses = bot.storage.get(chat_id, 0) + 1 if weak else 0
            bot.storage.set(chat_id, misses)
            if misses >= 3:
                bot.hand_off(chat_id, message="Let me get a colleague for you.")
    """


@hookspec
def on_visitor_typing(bot: PluginBot, chat_id: str, is_typing: bool, event: ServerEvent) -> None:
    """Note that the visitor started or stopped typing in a chat.

    Parameters:

    - ``bot``: this plugin's :class:`~agentbot.PluginBot`.
    - ``chat_id``: the chat's id.
    - ``is_typing``: True when the visitor started typing, False when they stopped.
    - ``event``: the ``ChatVisitorTyping`` event.

    Called for every ``chat.visitor_typing`` event, which may be often; it does not delay a
    pending reply. Sync or async; return value ignored.
    """


@hookspec
def on_chat_rated(bot: PluginBot, chat_id: str, rating: Rating, event: ServerEvent) -> None:
    """Record a visitor's rating of a chat.

    Parameters:

    - ``bot``: this plugin's :class:`~agentbot.PluginBot`.
    - ``chat_id``: the chat's id.
    - ``rating``: ``rating.value`` and an optional ``rating.text``.
    - ``event``: the ``ChatRated`` event.

    Called once per ``chat.rated`` event. Sync or async; return value ignored.
    """


# ---------------------------------------------------------------------------------------------
# Agents in chats
# ---------------------------------------------------------------------------------------------


@hookspec
def on_agent_joined(bot: PluginBot, chat_id: str, agent: Agent, event: ServerEvent) -> None:
    """React to a human agent joining a chat.

    Parameters:

    - ``bot``: this plugin's :class:`~agentbot.PluginBot`.
    - ``chat_id``: the chat's id.
    - ``agent``: the agent who joined (``agent.id``, ``agent.nickname``, …).
    - ``event``: the ``AgentJoined`` event.

    With ``[runtime] human_first`` (the default) the runtime has already cancelled the bot's
    pending reply there (``chat.typing`` false sent) and stays quiet in the chat. Called once
    per ``chat.agent_joined`` of another agent; never for the bot's own agent. Sync or async;
    return value ignored.
    """


@hookspec
def on_agent_left(bot: PluginBot, chat_id: str, agent: Agent, event: ServerEvent) -> None:
    """React to a human agent leaving a chat.

    Parameters:

    - ``bot``: this plugin's :class:`~agentbot.PluginBot`.
    - ``chat_id``: the chat's id.
    - ``agent``: the agent who left.
    - ``event``: the ``AgentLeft`` event.

    With ``[runtime] resume_after_human_leaves`` the bot answers in the chat again once the
    last human left. Called once per ``chat.agent_left`` of another agent; never for the
    bot's own agent. Sync or async; return value ignored.
    """


@hookspec
def on_agent_assigned(
    bot: PluginBot, chat_id: str, agent_ids: tuple[str, ...], event: ServerEvent
) -> None:
    """React to agents being assigned to a chat.

    Parameters:

    - ``bot``: this plugin's :class:`~agentbot.PluginBot`.
    - ``chat_id``: the chat's id.
    - ``agent_ids``: the assigned agents' ids, the bot's own included if it was assigned
      (human first applies when any other agent is among them).
    - ``event``: the ``AgentAssigned`` event.

    Called once per ``chat.agent_assigned``. Sync or async; return value ignored.
    """


# ---------------------------------------------------------------------------------------------
# Visitors (every visitor with track_visitors on; only those with an open chat when off)
# ---------------------------------------------------------------------------------------------


@hookspec
def on_visitor_connected(bot: PluginBot, visitor: Visitor, event: ServerEvent) -> None:
    """See a visitor arrive on the website (``visitor.connected``).

    Parameters:

    - ``bot``: this plugin's :class:`~agentbot.PluginBot`.
    - ``visitor``: the visitor (``id``, ``name``, ``page_url``, ``variables``, …).
    - ``event``: the ``VisitorConnected`` event.

    Arrives for every visitor only while ``bot.track_visitors`` is True (PROTOCOL.md §2),
    otherwise only for visitors with an open chat. Called once per event; can be frequent
    on a busy site. Sync or async; return value ignored.
    """


@hookspec
def on_visitor_updated(
    bot: PluginBot, visitor_id: str, changes: Mapping[str, Any], event: ServerEvent
) -> None:
    """See a visitor's details change (``visitor.updated``): page, name, variables, ….

    Parameters:

    - ``bot``: this plugin's :class:`~agentbot.PluginBot`.
    - ``visitor_id``: the visitor's id.
    - ``changes``: the wire's field names (camelCase, e.g. ``pageUrl``) to their new values.
    - ``event``: the ``VisitorUpdated`` event.

    Same delivery rules as :func:`on_visitor_connected`. Called once per event. Sync or
    async; return value ignored.
    """


# ---------------------------------------------------------------------------------------------
# Data protection
# ---------------------------------------------------------------------------------------------


@hookspec
def on_erase(bot: PluginBot, visitor_id: str | None, email: str | None) -> int | None:
    """Remove what this plugin keeps about one person outside its storage; say how much.

    Parameters:

    - ``bot``: this plugin's :class:`~agentbot.PluginBot`; ``bot.config`` is validated and
      ``bot.storage`` is the bot's real store (the bot itself is stopped).
    - ``visitor_id``: the visitor's id, or None when erasing by e-mail only.
    - ``email``: the e-mail address (compare case-insensitively), or None.

    Called once per plugin by ``agentbot data erase --visitor ID | --email ADDRESS``. The
    command has already deleted every entry of the plugin's storage whose key or JSON value
    names the visitor id, the address or one of that visitor's chats; implement this hook
    for data kept elsewhere (files, a search index, an external CRM) or named differently.
    Return how many items were removed (printed per plugin, added to the storage count), or
    None. Sync or async.

    Example::

        @agentbot.hookimpl
        def on_erase(bot, visitor_id, email):
            return crm.forget(email=email) if email else 0
    """


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


@hookspec
def on_server_error(bot: PluginBot, error: ApiError, event: ServerEvent) -> None:
    """React to a ``server.error`` event: an error not tied to a request.

    Parameters:

    - ``bot``: this plugin's :class:`~agentbot.PluginBot`.
    - ``error``: the typed error (``AuthFailure``, ``NotFound``, ``NotAuthenticated`` or
      ``ApiError``) with ``message``, ``type``, ``event`` and ``code``.
    - ``event``: the ``ServerErrorEvent``.

    The runtime has logged it already. Called once per event. Sync or async; return value
    ignored.
    """
