"""The live sandbox: account state, open connections, routing of events, standing faults.

Every handler runs synchronously on the event loop (no awaits between reading and changing
state), so the state needs no locks and events reach each client in the order they happened.
Who hears about what follows PROTOCOL.md: chat events go to every authenticated agent
connection and to the chat's visitor; visitor events go only to agent connections that track
visitors, or to all of them while the visitor has an open chat (§2 ``agent.track_visitors``).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import anyio

from agentbot.api import encode_error, encode_reply
from agentbot.errors import ApiError, DecodeError
from agentbot.protocol import ProtocolVersion
from agentbot.sandbox import agent_side, visitor_side, wire
from agentbot.sandbox.config import SandboxAgent, SandboxConfig
from agentbot.sandbox.connections import CloseCode, SandboxConnection, Side
from agentbot.sandbox.faults import DEFAULT_MALFORMED_FRAME, Faults
from agentbot.sandbox.replies import NO_REPLY, not_authenticated, not_found
from agentbot.sandbox.state import AccountState, ChatRecord, MessageRecord, VisitorRecord

__all__ = ["Sandbox"]

logger = logging.getLogger(__name__)


class Sandbox:
    """One sandbox account and everything connected to it."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.state = AccountState(config)
        self.faults = Faults()
        self.connections: dict[str, SandboxConnection] = {}
        # Indexes of the open connections only: fan-out costs what it delivers, not a scan of
        # every connection ever opened (closed ones stay in `connections` for the control API).
        self._open: dict[str, SandboxConnection] = {}
        self._open_agents: dict[str, SandboxConnection] = {}
        self._visitor_tabs: dict[str, dict[str, SandboxConnection]] = {}
        self._conn_ids = itertools.count(1)
        self._changed: anyio.Event | None = None
        self._announced_status = "offline"
        self._announced_agents: dict[str, str] = {}

    # -- change notification ------------------------------------------------------------

    def notify(self) -> None:
        """Wake everything waiting in :meth:`wait_until` (called after every change)."""
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    async def wait_until(self, predicate: Callable[[], bool]) -> None:
        """Wait until ``predicate()`` is true, re-checking after every change.

        Bound it with a cancel scope (``anyio.fail_after``): it waits as long as it takes.
        """
        while not predicate():
            if self._changed is None:
                self._changed = anyio.Event()
            await self._changed.wait()

    def wake_all(self) -> None:
        """Make every connection re-read the clock (use after moving a virtual clock)."""
        for conn in self.open_connections():
            conn.wake()

    # -- connection registry ---------------------------------------------------------------

    def new_connection(self, version: ProtocolVersion, *, side: Side | None) -> SandboxConnection:
        """Register a connection for a freshly accepted WebSocket."""
        conn = SandboxConnection(
            self, conn_id=f"c{next(self._conn_ids)}", version=version, side=side
        )
        self.connections[conn.id] = conn
        self._open[conn.id] = conn
        if side == "agent":
            self._open_agents[conn.id] = conn
        self.notify()
        return conn

    def attach_visitor(self, conn: SandboxConnection, visitor_id: str) -> None:
        """Bind a visitor connection to its visitor (on ``visitor.connect``)."""
        if conn.visitor_id is not None and conn.visitor_id != visitor_id:
            self._forget_tab(conn)
        conn.visitor_id = visitor_id
        if conn.is_open:
            self._visitor_tabs.setdefault(visitor_id, {})[conn.id] = conn

    def _forget_tab(self, conn: SandboxConnection) -> None:
        if conn.visitor_id is None:
            return
        tabs = self._visitor_tabs.get(conn.visitor_id)
        if tabs is not None:
            tabs.pop(conn.id, None)
            if not tabs:
                del self._visitor_tabs[conn.visitor_id]

    def connection_closed(self, conn: SandboxConnection) -> None:
        """Called once when a connection ends, for presence events."""
        logger.info("connection %s closed: %s", conn.id, conn.close_reason)
        self._open.pop(conn.id, None)
        self._open_agents.pop(conn.id, None)
        self._forget_tab(conn)
        if conn.side == "visitor" and conn.visitor_id is not None:
            visitor = self.state.visitors.get(conn.visitor_id)
            if visitor is not None and not any(self.visitor_connections(visitor.id)):
                self.to_agents_about(visitor, "visitor.disconnected", {"id": visitor.id})
        if conn.side == "agent" and conn.agent_id is not None and conn.authenticated:
            self.agent_presence_changed()
        self.notify()

    def open_connections(self, side: Side | None = None) -> Iterator[SandboxConnection]:
        """Open connections, in the order they were opened."""
        for conn in list(self._open.values()):
            if conn.is_open and (side is None or conn.side == side):
                yield conn

    def agent_connections(self) -> Iterator[SandboxConnection]:
        """Open, authenticated agent connections: the ones that receive events."""
        for conn in list(self._open_agents.values()):
            if conn.is_open and conn.authenticated and not conn.logged_out:
                yield conn

    def visitor_connections(self, visitor_id: str) -> Iterator[SandboxConnection]:
        """Open connections of one visitor (a visitor may have several tabs)."""
        for conn in list(self._visitor_tabs.get(visitor_id, {}).values()):
            if conn.is_open and conn.authenticated and conn.visitor_id == visitor_id:
                yield conn

    def agent_status(self, agent_id: str) -> str:
        """``online`` while the agent has an authenticated connection, else ``offline``."""
        online = any(conn.agent_id == agent_id for conn in self.agent_connections())
        return "online" if online else "offline"

    def account_status(self) -> str:
        """``online`` while any agent is online (what the visitor's widget shows)."""
        return "online" if any(self.agent_connections()) else "offline"

    def agent_presence_changed(self) -> None:
        """Announce presence changes: to the other agents when one agent's first connection
        logs in or its last one closes (``agent.connected`` with the agent, ``agent.disconnected``
        ``{id}``: S4), and to visitors when the account as a
        whole goes online or offline (``account.updated``, §4)."""
        for agent in self.config.agents:
            status = self.agent_status(agent.id)
            if self._announced_agents.get(agent.id, "offline") == status:
                continue
            self._announced_agents[agent.id] = status
            # S4: agent.connected carries the full agent, agent.disconnected only {id}.
            if status == "online":
                name, payload = "agent.connected", wire.agent_profile(agent, status=status)
                del payload["disabled"]  # not in S4's AgentConnectedEvent
            else:
                name, payload = "agent.disconnected", {"id": agent.id}
            for conn in self.agent_connections():
                if conn.agent_id != agent.id:
                    conn.emit(name, payload)
        status = self.account_status()
        if status == self._announced_status:
            return
        self._announced_status = status
        for conn in self.open_connections("visitor"):
            if conn.authenticated:
                conn.emit("account.updated", {"status": status})

    def resolve_agent(self, agent_id: str | None) -> SandboxAgent:
        """Return the configured agent (default: the human agent) or raise NotFound."""
        if agent_id is None:
            return self.config.human
        agent = self.config.agent(agent_id)
        if agent is None:
            raise not_found("Agent", "control")
        return agent

    # -- requests from clients ------------------------------------------------------------

    def handle_request(
        self, conn: SandboxConnection, name: str, args: Sequence[Any], ack_id: int | None
    ) -> None:
        """Route one request to the agent or visitor side and answer it."""
        # socket.io-client 2.x serialises an absent callback as a trailing null argument: the
        # official VisitorClient sends ["chat.typing", {...}, null]. Smartsupp accepts that.
        while len(args) > 1 and args[-1] is None:
            args = args[:-1]
        if conn.side is None:
            if name == "agent.connect":
                conn.side = "agent"
                self._open_agents[conn.id] = conn
            elif name == "visitor.connect":
                conn.side = "visitor"
        try:
            if conn.side == "agent":
                result = agent_side.handle(self, conn, name, args)
            elif conn.side == "visitor":
                result = visitor_side.handle(self, conn, name, args)
            else:
                raise not_authenticated(name)
        except ApiError as exc:
            self.answer_error(conn, name, ack_id, exc)
        except DecodeError as exc:
            self.answer_error(
                conn, name, ack_id, ApiError(str(exc), type="bad_request", event=name)
            )
        except Exception:  # a sandbox bug must not take the connection or the server down
            logger.exception("connection %s: handler for %s failed", conn.id, name)
            self.answer_error(
                conn,
                name,
                ack_id,
                ApiError("Internal sandbox error", type="internal_error", event=name),
            )
        else:
            if ack_id is not None:
                conn.reply(name, ack_id, encode_reply(None if result is NO_REPLY else result))
        self.notify()

    def answer_error(
        self, conn: SandboxConnection, name: str, ack_id: int | None, error: ApiError
    ) -> None:
        """Reply with the error, or emit ``server.error`` when the request had no ack id."""
        if error.event is None:
            error.event = name
        if ack_id is not None:
            conn.reply(name, ack_id, encode_error(error))
        else:
            payload: dict[str, Any] = {"message": error.message, "type": error.type, "event": name}
            if error.code is not None:
                payload["code"] = error.code
            conn.emit("server.error", payload)

    # -- fan-out ----------------------------------------------------------------------------

    def to_agents(self, name: str, payload: Any) -> None:
        """Send an event to every authenticated agent connection."""
        for conn in self.agent_connections():
            conn.emit(name, payload)

    def to_visitor(
        self, visitor_id: str, name: str, payload: Any, *, exclude: SandboxConnection | None = None
    ) -> None:
        """Send an event to every connection of one visitor (except ``exclude``)."""
        for conn in self.visitor_connections(visitor_id):
            if conn is not exclude:
                conn.emit(name, payload)

    def to_chat(self, chat: ChatRecord, name: str, payload: Any) -> None:
        """Send a chat event to the agents and to the chat's visitor."""
        self.to_agents(name, payload)
        self.to_visitor(chat.visitor_id, name, payload)

    def to_agents_about(self, visitor: VisitorRecord, name: str, payload: Any) -> None:
        """Send a visitor event to agents tracking visitors (all agents while a chat is open)."""
        has_open_chat = self.state.open_chat_of(visitor) is not None
        for conn in self.agent_connections():
            if conn.track_visitors or has_open_chat:
                conn.emit(name, payload)

    # -- chat operations shared by the sockets and the control API --------------------------

    def visitor_message(
        self, visitor: VisitorRecord, text: str, *, origin: SandboxConnection | None = None
    ) -> tuple[MessageRecord, ChatRecord]:
        """The visitor writes; the first message of a chat opens it (§4's chat flow)."""
        chat = self.state.open_chat_of(visitor)
        if chat is None:
            chat = self.state.open_chat(visitor)
            message = self.state.add_message(chat, sub_type="contact", text=text)
            chat_opened = {"chatId": chat.id, "chat": wire.chat_for_agents(chat)}
            self.to_agents("chat.opened", chat_opened)
        else:
            message = self.state.add_message(chat, sub_type="contact", text=text)
        payload = {"chatId": chat.id, "message": wire.message(message)}
        self.to_agents("chat.message_received", payload)
        self.to_visitor(visitor.id, "chat.message_received", payload, exclude=origin)
        self.notify()
        return message, chat

    def visitor_typing(self, visitor: VisitorRecord, is_typing: bool, text: str | None) -> None:
        """The visitor types (only meaningful inside a chat)."""
        chat = self.state.open_chat_of(visitor)
        if chat is None:
            return
        self.state.record_typing(chat, by="visitor", is_typing=is_typing)
        self.to_agents(
            "chat.visitor_typing",
            {"chatId": chat.id, "visitorId": visitor.id, "typing": {"is": is_typing, "text": text}},
        )
        self.notify()

    def visitor_read(self, visitor: VisitorRecord) -> None:
        """The visitor read the chat."""
        chat = self.state.open_chat_of(visitor)
        if chat is None:
            return
        self.state.mark_read(chat)
        self.to_agents(
            "chat.contact_read",
            {"chatId": chat.id, "visitorId": visitor.id, "lastReadAt": chat.visitor_read_at},
        )
        self.notify()

    def update_visitor(
        self, visitor: VisitorRecord, values: dict[str, Any], *, origin: SandboxConnection | None
    ) -> dict[str, Any]:
        """Change the visitor's details; tell the visitor's other tabs and the agents."""
        changes = self.state.update_visitor(visitor, values)
        if changes:
            payload = {"id": visitor.id, "changes": wire.visitor_changes(changes)}
            self.to_visitor(visitor.id, "visitor.updated", payload, exclude=origin)
            self.to_agents_about(visitor, "visitor.updated", payload)
            self.notify()
        return changes

    def close_chat(self, chat: ChatRecord, *, agent_id: str | None = None) -> MessageRecord:
        """Close a chat (by the visitor when ``agent_id`` is None, else by that agent)."""
        close_type = "visitor_close" if agent_id is None else "agent_close"
        message = self.state.close(chat, close_type=close_type, agent_id=agent_id)
        payload = {"chatId": chat.id, "closeType": close_type, "message": wire.message(message)}
        self.to_chat(chat, "chat.closed", payload)
        self.notify()
        return message

    def rate_chat(self, chat: ChatRecord, *, value: int | None, text: str | None) -> MessageRecord:
        """Store the visitor's rating and announce it."""
        message = self.state.rate(chat, value=value, text=text)
        payload = {
            "chatId": chat.id,
            "rating": wire.rating(chat),
            "message": wire.message(message),
        }
        self.to_chat(chat, "chat.rated", payload)
        self.notify()
        return message

    def agent_message(self, chat: ChatRecord, agent_id: str, text: str) -> MessageRecord:
        """An agent writes; the visitor and every agent connection (sender included) hear it."""
        if not chat.is_open:
            raise ApiError("Chat is closed", type="chat_closed")
        if chat.status == "pending":
            chat.status = "open"
        message = self.state.add_message(chat, sub_type="agent", text=text, agent_id=agent_id)
        self.to_chat(
            chat, "chat.message_received", {"chatId": chat.id, "message": wire.message(message)}
        )
        self.notify()
        return message

    def agent_typing(
        self,
        chat: ChatRecord,
        agent_id: str,
        is_typing: bool,
        *,
        origin: SandboxConnection | None = None,
    ) -> None:
        """An agent starts or stops typing; the visitor sees ``chat.agent_typing``.

        The other agent connections see it too (with ``agentId``), so a console shows the
        bot typing; the typing connection itself does not get its own typing back.
        """
        self.state.record_typing(chat, by="agent", is_typing=is_typing, agent_id=agent_id)
        typing = {"is": is_typing, "text": None}
        self.to_visitor(chat.visitor_id, "chat.agent_typing", {"chatId": chat.id, "typing": typing})
        for conn in self.agent_connections():
            if conn is not origin:
                conn.emit(
                    "chat.agent_typing", {"chatId": chat.id, "agentId": agent_id, "typing": typing}
                )
        self.notify()

    def agent_join(self, chat: ChatRecord, agent: SandboxAgent) -> MessageRecord | None:
        """An agent joins the chat: ``chat.agent_joined`` to agents and the visitor."""
        message = self.state.assign(chat, agent.id)
        if message is not None:
            self.to_chat(
                chat,
                "chat.agent_joined",
                {
                    "chatId": chat.id,
                    "agent": wire.agent_summary(agent, status=self.agent_status(agent.id)),
                    "message": wire.message(message),
                },
            )
            self.notify()
        return message

    def agent_leave(self, chat: ChatRecord, agent: SandboxAgent) -> MessageRecord | None:
        """An agent leaves the chat: ``chat.agent_left`` to agents and the visitor."""
        message = self.state.unassign(chat, agent.id)
        if message is not None:
            self.to_chat(
                chat,
                "chat.agent_left",
                {
                    "chatId": chat.id,
                    "agent": wire.agent_summary(agent, status=self.agent_status(agent.id)),
                    "message": wire.message(message),
                },
            )
            self.notify()
        return message

    def agent_assign(
        self, chat: ChatRecord, agent: SandboxAgent, *, by: SandboxAgent
    ) -> MessageRecord | None:
        """Agent ``by`` assigns ``agent`` to the chat: ``chat.agent_assigned`` to everyone.

        S2 ``Events.ChatAgentAssigned {chatId, assigned: Agent, assignedBy: Agent, message}``,
        the message an ``agent_assign {assigned, assignedBy}`` system event.
        """
        message = self.state.assign(chat, agent.id, by=by.id)
        if message is not None:
            payload = {
                "chatId": chat.id,
                "assigned": wire.agent_summary(agent, status=self.agent_status(agent.id)),
                "assignedBy": wire.agent_summary(by, status=self.agent_status(by.id)),
                "message": wire.message(message),
            }
            self.to_chat(chat, "chat.agent_assigned", payload)
            self.notify()
        return message

    def agent_unassign(
        self, chat: ChatRecord, agent: SandboxAgent, *, by: SandboxAgent
    ) -> MessageRecord | None:
        """Agent ``by`` unassigns ``agent``: ``chat.agent_unassigned`` (S2), to everyone."""
        message = self.state.unassign(chat, agent.id, by=by.id)
        if message is not None:
            payload = {
                "chatId": chat.id,
                "unassigned": wire.agent_summary(agent, status=self.agent_status(agent.id)),
                "unassignedBy": wire.agent_summary(by, status=self.agent_status(by.id)),
                "message": wire.message(message),
            }
            self.to_chat(chat, "chat.agent_unassigned", payload)
            self.notify()
        return message

    # -- one-shot faults ------------------------------------------------------------------

    def select(
        self,
        *,
        conn_id: str | None = None,
        side: Side | None = None,
        agent_id: str | None = None,
        visitor_id: str | None = None,
    ) -> list[SandboxConnection]:
        """Open connections matching every given filter (none given: all of them)."""
        return [
            conn
            for conn in self.open_connections(side)
            if (conn_id is None or conn.id == conn_id)
            and (agent_id is None or conn.agent_id == agent_id)
            and (visitor_id is None or conn.visitor_id == visitor_id)
        ]

    def drop(self, conns: Sequence[SandboxConnection]) -> list[str]:
        """Drop sockets without an Engine.IO close packet (the client should reconnect)."""
        for conn in conns:
            conn.abort("dropped by the sandbox (fault)", code=CloseCode.GOING_AWAY)
        return [conn.id for conn in conns]

    def set_heartbeat(
        self, conns: Sequence[SandboxConnection], *, stop: bool, agent_id: str | None = None
    ) -> list[str]:
        """Stop or resume heartbeats on connections (and on the agent's future ones)."""
        if agent_id is not None:
            if stop:
                self.faults.silent_agents.add(agent_id)
            else:
                self.faults.silent_agents.discard(agent_id)
        for conn in conns:
            conn.set_heartbeat_stopped(stop)
        self.notify()
        return [conn.id for conn in conns]

    def send_server_error(
        self, conns: Sequence[SandboxConnection], payload: dict[str, Any]
    ) -> list[str]:
        """Emit ``server.error`` with ``payload`` on each connection."""
        for conn in conns:
            conn.emit("server.error", payload)
        return [conn.id for conn in conns]

    def send_logout(self, conns: Sequence[SandboxConnection]) -> list[str]:
        """Emit ``logout`` (the server ended the session) on each connection."""
        for conn in conns:
            conn.emit("logout", {"reason": "sandbox fault"})
        return [conn.id for conn in conns]

    def send_malformed(self, conns: Sequence[SandboxConnection], frame: str | None) -> list[str]:
        """Send a frame that is not valid Engine.IO / Socket.IO."""
        for conn in conns:
            conn.send_raw(DEFAULT_MALFORMED_FRAME if frame is None else frame)
        return [conn.id for conn in conns]

    def reset(self) -> None:
        """Drop every socket and forget all visitors, chats, recordings and faults."""
        self.drop(list(self.open_connections()))
        self.connections.clear()
        self._open.clear()
        self._open_agents.clear()
        self._visitor_tabs.clear()
        self.state.reset()
        self.faults.clear()
        self.notify()
