"""Fixtures for the sandbox tests: an app per test, in-process clients."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from agentbot.sandbox import SandboxConfig, create_app

from .rawclient import in_process


@pytest.fixture
def app() -> Starlette:
    return create_app(SandboxConfig())


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with in_process(app) as http:
        yield http
