"""The sandbox's control API in Python: scripted visitors, human agents, recordings, faults.

:class:`SandboxControl` returns JSON-ready dicts, the same ones the HTTP routes of
:mod:`agentbot.sandbox.http_api` answer with; errors are our typed errors (``NotFound``, or
``ApiError`` of type ``bad_request``).
"""

from __future__ import annotations

from typing import Any, cast

from agentbot.errors import ApiError
from agentbot.sandbox import wire
from agentbot.sandbox.connections import Side
from agentbot.sandbox.faults import REST_ACTIONS, AckAction, RestAction
from agentbot.sandbox.hub import Sandbox
from agentbot.sandbox.replies import not_found
from agentbot.sandbox.state import ChatRecord, VisitorRecord

__all__ = ["SandboxControl", "bad_request"]


def bad_request(message: str) -> ApiError:
    """A control call with missing or wrong arguments."""
    return ApiError(message, type="bad_request", event="control")


class SandboxControl:
    """Drive a sandbox from a test or a script; every result is JSON-ready."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    # -- account ---------------------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        """The public side of the configuration (no auth tokens)."""
        config = self.sandbox.config
        return {
            "accountKey": config.account_key,
            "serverVersion": config.server_version,
            "agents": [
                {
                    "id": agent.id,
                    "role": agent.role,
                    "nickname": agent.nickname,
                    "fullname": agent.fullname,
                    "status": self.sandbox.agent_status(agent.id),
                }
                for agent in config.agents
            ],
            "groups": wire.groups(config),
        }

    def reset(self) -> dict[str, Any]:
        """Drop every socket and forget everything."""
        self.sandbox.reset()
        return {"ok": True}

    # -- visitors --------------------------------------------------------------------------

    def create_visitor(self, **fields: Any) -> dict[str, Any]:
        """Create a scripted visitor (no socket). Fields: name, email, phone, lang, group,
        page_url, page_title, referer, domain, variables, visits."""
        visitor = self.sandbox.state.create_visitor(fields)
        self.sandbox.to_agents_about(visitor, "visitor.connected", wire.visitor_for_agents(visitor))
        self.sandbox.notify()
        return {"visitor": wire.visitor_for_agents(visitor)}

    def visitors(self) -> dict[str, Any]:
        """Every visitor the account knows."""
        return {
            "visitors": [wire.visitor_for_agents(v) for v in self.sandbox.state.visitors.values()]
        }

    def visitor_message(self, visitor_id: str, text: str) -> dict[str, Any]:
        """Write as the visitor (the first message opens a chat)."""
        if not isinstance(text, str) or not text:
            raise bad_request("text must be a non-empty string")
        message, chat = self.sandbox.visitor_message(self._visitor(visitor_id), text)
        return {"message": wire.message(message), "chat": wire.chat_summary(chat)}

    def visitor_typing(
        self, visitor_id: str, is_typing: bool, text: str | None = None
    ) -> dict[str, Any]:
        """Show or hide the visitor's typing."""
        self.sandbox.visitor_typing(self._visitor(visitor_id), bool(is_typing), text)
        return {"ok": True}

    def visitor_read(self, visitor_id: str) -> dict[str, Any]:
        """Mark the visitor's chat as read by the visitor."""
        self.sandbox.visitor_read(self._visitor(visitor_id))
        return {"ok": True}

    # -- chats -----------------------------------------------------------------------------

    def chats(self, status: str | None = None) -> dict[str, Any]:
        """Every chat (optionally only those with ``status``), oldest first."""
        chats = self.sandbox.state.chats.values()
        return {
            "chats": [wire.chat_summary(c) for c in chats if status is None or c.status == status]
        }

    def chat(self, chat_id: str) -> dict[str, Any]:
        """One chat with its messages."""
        return {"chat": wire.chat_summary(self._chat(chat_id))}

    def transcript(self, chat_id: str, *, after: int = 0) -> dict[str, Any]:
        """The chat's transcript entries with ``seq`` > ``after``, in order."""
        self._chat(chat_id)
        entries = [e for e in self.sandbox.state.transcript_of(chat_id) if e["seq"] > after]
        return {"chatId": chat_id, "entries": entries}

    async def wait_transcript(self, chat_id: str, *, after: int = 0) -> list[dict[str, Any]]:
        """Wait for transcript entries with ``seq`` > ``after`` and return them (at least one).

        Waits as long as it takes: bound it with ``anyio.move_on_after``/``fail_after``.
        """

        def fresh() -> list[dict[str, Any]]:
            return cast("list[dict[str, Any]]", self.transcript(chat_id, after=after)["entries"])

        await self.sandbox.wait_until(lambda: bool(fresh()))
        return fresh()

    def close_chat(
        self, chat_id: str, *, by: str = "agent", agent_id: str | None = None
    ) -> dict[str, Any]:
        """Close a chat as the visitor or as an agent (default: the human agent)."""
        chat = self._chat(chat_id)
        if not chat.is_open:
            raise bad_request(f"chat {chat_id} is already closed")
        if by == "visitor":
            self.sandbox.close_chat(chat)
        elif by == "agent":
            self.sandbox.close_chat(chat, agent_id=self.sandbox.resolve_agent(agent_id).id)
        else:
            raise bad_request("by must be 'agent' or 'visitor'")
        return {"chat": wire.chat_summary(chat)}

    def rate_chat(
        self, chat_id: str, *, value: int | None, text: str | None = None
    ) -> dict[str, Any]:
        """Rate a chat as its visitor."""
        chat = self._chat(chat_id)
        self.sandbox.rate_chat(chat, value=value, text=text)
        return {"chat": wire.chat_summary(chat)}

    def agent_join(self, chat_id: str, *, agent_id: str | None = None) -> dict[str, Any]:
        """A (human) agent joins the chat."""
        chat = self._chat(chat_id)
        message = self.sandbox.agent_join(chat, self.sandbox.resolve_agent(agent_id))
        return {"chat": wire.chat_summary(chat), "message": message and wire.message(message)}

    def agent_leave(self, chat_id: str, *, agent_id: str | None = None) -> dict[str, Any]:
        """A (human) agent leaves the chat."""
        chat = self._chat(chat_id)
        message = self.sandbox.agent_leave(chat, self.sandbox.resolve_agent(agent_id))
        return {"chat": wire.chat_summary(chat), "message": message and wire.message(message)}

    def agent_message(
        self, chat_id: str, text: str, *, agent_id: str | None = None
    ) -> dict[str, Any]:
        """A (human) agent writes in the chat."""
        if not isinstance(text, str) or not text:
            raise bad_request("text must be a non-empty string")
        chat = self._chat(chat_id)
        agent = self.sandbox.resolve_agent(agent_id)
        return {"message": wire.message(self.sandbox.agent_message(chat, agent.id, text))}

    def agent_typing(
        self, chat_id: str, is_typing: bool, *, agent_id: str | None = None
    ) -> dict[str, Any]:
        """A (human) agent starts or stops typing."""
        chat = self._chat(chat_id)
        self.sandbox.agent_typing(chat, self.sandbox.resolve_agent(agent_id).id, bool(is_typing))
        return {"ok": True}

    # -- connections and recordings ---------------------------------------------------------

    def connections(
        self,
        *,
        side: Side | None = None,
        agent_id: str | None = None,
        visitor_id: str | None = None,
        is_open: bool | None = None,
    ) -> dict[str, Any]:
        """Every connection ever opened (since the last reset), in opening order."""
        return {
            "connections": [
                conn.to_json()
                for conn in self.sandbox.connections.values()
                if (side is None or conn.side == side)
                and (agent_id is None or conn.agent_id == agent_id)
                and (visitor_id is None or conn.visitor_id == visitor_id)
                and (is_open is None or conn.is_open == is_open)
            ]
        }

    def frames(self, conn_id: str, *, after: int = 0) -> dict[str, Any]:
        """Every frame received (``in``) and sent (``out``) on a connection, in order."""
        return {"frames": [f for f in self._conn(conn_id).frames if f["seq"] > after]}

    def requests(self, conn_id: str, *, after: int = 0) -> dict[str, Any]:
        """The Socket.IO events (requests) a connection received, decoded, in order."""
        return {"requests": [r for r in self._conn(conn_id).requests if r["seq"] > after]}

    def events(self, conn_id: str, *, after: int = 0) -> dict[str, Any]:
        """The Socket.IO events the sandbox sent on a connection, in order."""
        return {"events": [e for e in self._conn(conn_id).events if e["seq"] > after]}

    def agent_requests(self, agent_id: str, *, after: int = 0) -> dict[str, Any]:
        """Every request from every connection of one agent, in order, with ``connId``.

        A connection belongs to the agent from its ``agent.connect`` on, so the login request
        itself is included (with a failed login the connection stays anonymous).
        """
        items = [
            {**request, "connId": conn.id}
            for conn in self.sandbox.connections.values()
            if conn.agent_id == agent_id
            for request in conn.requests
            if request["seq"] > after
        ]
        items.sort(key=lambda item: cast(int, item["seq"]))
        return {"requests": items}

    # -- faults ----------------------------------------------------------------------------

    def drop(
        self,
        *,
        conn_id: str | None = None,
        side: Side | None = None,
        agent_id: str | None = None,
        visitor_id: str | None = None,
    ) -> dict[str, Any]:
        """Drop matching sockets (none given: all) without an Engine.IO close packet."""
        conns = self.sandbox.select(
            conn_id=conn_id, side=side, agent_id=agent_id, visitor_id=visitor_id
        )
        return {"dropped": self.sandbox.drop(conns)}

    def ack_fault(
        self,
        *,
        request: str,
        action: AckAction,
        delay_seconds: float = 0.0,
        count: int | None = None,
        agent_id: str | None = None,
    ) -> dict[str, Any]:
        """Delay or drop the acks of a request name (the next ``count`` ones, or all)."""
        if action not in ("delay", "drop"):
            raise bad_request("action must be 'delay' or 'drop'")
        if action == "delay" and not (0 < delay_seconds <= 3600):
            raise bad_request("delaySeconds must be > 0 (and at most 3600) for a delay")
        if count is not None and count < 1:
            raise bad_request("count must be >= 1")
        fault = self.sandbox.faults.add_ack_fault(
            request=request,
            action=action,
            delay_seconds=delay_seconds,
            count=count,
            agent_id=agent_id,
        )
        return {"fault": fault.to_json()}

    def rest_fault(
        self,
        *,
        action: RestAction,
        operation: str | None = None,
        status: int = 503,
        delay_seconds: float = 0.0,
        count: int | None = None,
        agent_id: str | None = None,
    ) -> dict[str, Any]:
        """Make REST requests fail: ``error`` (a 5xx, nothing done), ``unauthorized`` (401),
        ``slow`` (done, answer held back ``delay_seconds``), ``drop`` (done, answer cut short).

        ``operation`` is a method and path template such as ``"POST /v2/conversations/{id}"``
        (None: any REST request); ``count`` limits it to the next matching requests.
        """
        if action not in REST_ACTIONS:
            raise bad_request(f"action must be one of {', '.join(REST_ACTIONS)}")
        if action == "error" and not (500 <= status <= 599):
            raise bad_request("status must be a 5xx for an error fault")
        if action == "slow" and not (0 < delay_seconds <= 3600):
            raise bad_request("delaySeconds must be > 0 (and at most 3600) for a slow fault")
        if count is not None and count < 1:
            raise bad_request("count must be >= 1")
        fault = self.sandbox.faults.add_rest_fault(
            action=action,
            operation=operation,
            status=status,
            delay_seconds=delay_seconds,
            count=count,
            agent_id=agent_id,
        )
        return {"fault": fault.to_json()}

    def heartbeat(
        self, *, stop: bool, conn_id: str | None = None, agent_id: str | None = None
    ) -> dict[str, Any]:
        """Stop (or resume) heartbeats so a client's dead-link detection can be tested."""
        conns = self.sandbox.select(conn_id=conn_id, agent_id=agent_id)
        return {"connIds": self.sandbox.set_heartbeat(conns, stop=stop, agent_id=agent_id)}

    def server_error(
        self,
        *,
        message: str,
        conn_id: str | None = None,
        agent_id: str | None = None,
        type: str | None = None,
        code: int | None = None,
        event: str | None = None,
    ) -> dict[str, Any]:
        """Emit ``server.error`` to matching agent connections (or one connection)."""
        payload: dict[str, Any] = {"message": message}
        for key, value in (("type", type), ("code", code), ("event", event)):
            if value is not None:
                payload[key] = value
        conns = self._targets(conn_id, agent_id)
        return {"connIds": self.sandbox.send_server_error(conns, payload)}

    def logout(self, *, conn_id: str | None = None, agent_id: str | None = None) -> dict[str, Any]:
        """Emit ``logout`` to matching agent connections (or one connection)."""
        return {"connIds": self.sandbox.send_logout(self._targets(conn_id, agent_id))}

    def malformed(
        self, *, conn_id: str | None = None, agent_id: str | None = None, frame: str | None = None
    ) -> dict[str, Any]:
        """Send a frame that is not valid Engine.IO / Socket.IO."""
        return {"connIds": self.sandbox.send_malformed(self._targets(conn_id, agent_id), frame)}

    def faults(self) -> dict[str, Any]:
        """The standing faults."""
        return {"faults": self.sandbox.faults.to_json()}

    def clear_faults(self) -> dict[str, Any]:
        """Remove standing faults and resume heartbeats everywhere."""
        self.sandbox.faults.clear()
        self.sandbox.set_heartbeat(list(self.sandbox.open_connections()), stop=False)
        return {"ok": True}

    # -- helpers -----------------------------------------------------------------------------

    def _visitor(self, visitor_id: str) -> VisitorRecord:
        visitor = self.sandbox.state.visitors.get(visitor_id)
        if visitor is None:
            raise not_found("Visitor", "control")
        return visitor

    def _chat(self, chat_id: str) -> ChatRecord:
        chat = self.sandbox.state.chats.get(chat_id)
        if chat is None:
            raise not_found("Chat", "control")
        return chat

    def _conn(self, conn_id: str) -> Any:
        conn = self.sandbox.connections.get(conn_id)
        if conn is None:
            raise not_found("Connection", "control")
        return conn

    def _targets(self, conn_id: str | None, agent_id: str | None) -> list[Any]:
        if conn_id is not None:
            return self.sandbox.select(conn_id=conn_id)
        return [
            conn
            for conn in self.sandbox.agent_connections()
            if agent_id is None or conn.agent_id == agent_id
        ]
