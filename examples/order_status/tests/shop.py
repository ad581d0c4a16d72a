"""A tiny stand-in for the shop's order API: a Starlette app that answers from a dict."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TOKEN = "shop-secret-token"


def shop_app(orders: dict[str, dict[str, Any]], *, fail_with: int | None = None) -> Starlette:
    """Serve ``GET /orders/{number}`` from ``orders``; ``app.state.requests`` records calls."""

    async def order(request: Request) -> Response:
        request.app.state.requests.append(request.url.path)
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        if fail_with is not None:
            return JSONResponse({"error": "down"}, status_code=fail_with)
        found = orders.get(request.path_params["number"])
        if found is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        return JSONResponse(found)

    app = Starlette(routes=[Route("/api/orders/{number}", order)])
    app.state.requests = []
    return app
