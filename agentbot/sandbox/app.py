"""Build the sandbox's ASGI app: the Socket.IO endpoint, the control API, your extra routes."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from agentbot.errors import LocalProtocolError
from agentbot.protocol import ProtocolVersion
from agentbot.sandbox.config import SandboxConfig
from agentbot.sandbox.connections import CloseCode, Side
from agentbot.sandbox.control import SandboxControl
from agentbot.sandbox.http_api import control_routes
from agentbot.sandbox.hub import Sandbox
from agentbot.sandbox.pages import page_routes
from agentbot.sandbox.rest_api import RestService

__all__ = ["SOCKET_PATHS", "create_app"]

logger = logging.getLogger(__name__)

SOCKET_PATHS = ("/socket/", "/socket")
"""Where clients connect (PROTOCOL.md §1: the production path is ``/socket``)."""

DEFAULT_EIO = "3"  # the official SDK's socket.io 2.x, when a client sends no EIO parameter

# Engine.IO's own error answer to a request it cannot serve (e.g. HTTP long-polling).
_TRANSPORT_UNKNOWN = {"code": 0, "message": "Transport unknown"}


def create_app(
    config: SandboxConfig | None = None,
    *,
    routes: Sequence[BaseRoute] = (),
    pages: bool = True,
) -> Starlette:
    """Return the sandbox ASGI app for ``config`` (default: :class:`SandboxConfig`).

    The sandbox's own routes (``/socket``, ``/api/...``) come first, then the chat page at
    ``/`` and the agent console at ``/console`` (unless ``pages=False``), then ``routes``.
    The live :class:`Sandbox` is ``app.state.sandbox``, its Python control API
    ``app.state.control`` and its REST API (``/rest/v2/...``) ``app.state.rest``.
    """
    config = config or SandboxConfig()
    sandbox = Sandbox(config)
    control = SandboxControl(sandbox)
    rest = RestService(sandbox)

    async def socket_endpoint(websocket: WebSocket) -> None:
        params = websocket.query_params
        if params.get("transport", "websocket") != "websocket":
            await websocket.close(code=CloseCode.POLICY, reason="only transport=websocket")
            return
        try:
            version = ProtocolVersion.from_eio(params.get("EIO", DEFAULT_EIO))
        except LocalProtocolError:
            await websocket.close(code=CloseCode.POLICY, reason="EIO must be 3 or 4")
            return
        side_param = params.get("side")
        side: Side | None = side_param if side_param in ("agent", "visitor") else None  # type: ignore[assignment]
        await websocket.accept()
        conn = sandbox.new_connection(version, side=side)
        logger.info("connection %s opened (EIO %s)", conn.id, version.engineio)
        await conn.run(websocket)

    async def polling_refused(request: Request) -> JSONResponse:
        return JSONResponse(_TRANSPORT_UNKNOWN, status_code=400)

    own_routes: list[BaseRoute] = []
    for path in SOCKET_PATHS:
        own_routes.append(WebSocketRoute(path, socket_endpoint))
        own_routes.append(Route(path, polling_refused, methods=["GET", "POST"]))
    own_routes.extend(control_routes(control))
    own_routes.extend(rest.routes())
    if pages:
        own_routes.extend(page_routes(config))
    app = Starlette(routes=[*own_routes, *routes])
    app.state.sandbox = sandbox
    app.state.control = control
    app.state.rest = rest
    return app
