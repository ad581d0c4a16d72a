"""Running the sandbox under uvicorn: loopback by default, ephemeral ports, clean shutdown."""

from __future__ import annotations

import anyio
import httpx
import pytest

from agentbot.sandbox import create_app, running_server, serve

pytestmark = pytest.mark.parametrize("anyio_backend", ["asyncio"])


async def test_running_server_binds_loopback_on_an_ephemeral_port() -> None:
    async with running_server(create_app()) as url:
        assert url.startswith("http://127.0.0.1:")
        assert int(url.rsplit(":", 1)[1]) > 0
        async with httpx.AsyncClient() as http:
            assert (await http.get(f"{url}/api/health")).json() == {"ok": True}


async def test_two_servers_run_side_by_side() -> None:
    async with running_server(create_app()) as first, running_server(create_app()) as second:
        assert first != second


async def test_serve_reports_its_url_and_stops_when_cancelled() -> None:
    urls: list[str] = []
    ready = anyio.Event()

    def on_ready(url: str) -> None:
        urls.append(url)
        ready.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: serve(create_app(), on_ready=on_ready))
        await ready.wait()
        async with httpx.AsyncClient() as http:
            assert (await http.get(f"{urls[0]}/api/health")).status_code == 200
        tg.cancel_scope.cancel()
    assert urls[0].startswith("http://127.0.0.1:")
