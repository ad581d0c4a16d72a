"""The sandbox's pages for people: the visitor chat page at ``/`` and the agent console.

Plain files under ``static/`` (HTML, CSS, JS, and the vendored browser build of Smartsupp's
visitor SDK), served as they are: no build step, no template engine. The one dynamic route,
``/console/session``, hands the console the human agent's sandbox credentials so it can log
in over its own agent socket; they are the sandbox's well-known development credentials,
never a real account's.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from agentbot.sandbox.config import SandboxConfig

__all__ = ["STATIC_DIR", "page_routes"]

STATIC_DIR = Path(__file__).resolve().parent / "static"

# The pages change while someone develops against the sandbox: never serve a stale copy.
_NO_STORE = {"Cache-Control": "no-store"}


def page_routes(config: SandboxConfig) -> list[BaseRoute]:
    """Return the routes of the chat page, the console and their static files.

    Mount them on the sandbox app (``create_app(config, routes=page_routes(config))``); they
    rely on its ``/socket/`` endpoint and ``/api`` control API on the same origin.
    """

    async def chat_page(request: Request) -> Response:
        return FileResponse(STATIC_DIR / "index.html", headers=_NO_STORE)

    async def console_page(request: Request) -> Response:
        return FileResponse(STATIC_DIR / "console.html", headers=_NO_STORE)

    async def console_session(request: Request) -> Response:
        human = config.human
        return JSONResponse(
            {"agentId": human.id, "authToken": human.auth_token, "accountKey": config.account_key},
            headers=_NO_STORE,
        )

    return [
        Route("/", chat_page, methods=["GET"], name="chat_page"),
        Route("/console", console_page, methods=["GET"], name="console_page"),
        Route("/console/session", console_session, methods=["GET"], name="console_session"),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
