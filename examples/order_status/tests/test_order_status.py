"""order_status in a real bot against agentbot's sandbox, with a local app as the shop."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from order_status.plugin import OrderStatus
from shop import TOKEN, shop_app
from starlette.applications import Starlette

from agentbot.testing import HarnessFactory

ORDERS: dict[str, dict[str, Any]] = {
    "12345": {
        "number": "12345",
        "status": "shipped",
        "carrier": "DHL",
        "tracking_url": "https://track.example/12345",
        "eta": "2024-05-02",
    },
    "777": {"number": "777", "status": "delivered"},
}
CONFIG = {
    "plugins": {
        "order_status": {"api_url": "http://shop.test/api", "api_token": TOKEN},
    }
}


def plugin_for(app: Starlette) -> dict[str, OrderStatus]:
    return {"order_status": OrderStatus(transport=httpx.ASGITransport(app=app))}


async def test_where_is_my_order(agentbot_harness: HarnessFactory) -> None:
    shop = shop_app(ORDERS)
    async with agentbot_harness(plugins=plugin_for(shop), config=CONFIG) as harness:
        visitor = await harness.visitor("Ada")
        await visitor.say("Hi, where is my order 12345?")
        reply = await visitor.next_reply()
        assert reply.text == (
            "Your order 12345 is on its way with DHL, expected on 2024-05-02. "
            "You can follow it here: https://track.example/12345"
        )
        assert reply.typing_seconds > 1.0  # a long answer takes a while to "type"
        await visitor.say("And order #777?")
        assert (await visitor.next_reply()).text == "Your order 777 is delivered."
    assert shop.state.requests == ["/api/orders/12345", "/api/orders/777"]


async def test_asks_for_the_number_and_admits_an_unknown_one(
    agentbot_harness: HarnessFactory,
) -> None:
    shop = shop_app(ORDERS)
    async with agentbot_harness(plugins=plugin_for(shop), config=CONFIG) as harness:
        visitor = await harness.visitor("Ada")
        await visitor.say("Where is my order?")
        assert (await visitor.next_reply()).text.endswith("What is your order number?")
        await visitor.say("It is order 99999")
        assert (await visitor.next_reply()).text == (
            "I cannot find order 99999. Could you check the number?"
        )
        await visitor.say("Do you sell gift cards?")
        await visitor.expect_no_reply()  # not about orders: another plugin's business


@pytest.mark.parametrize("status", [500, 401])
async def test_a_broken_shop_gets_a_polite_answer(
    agentbot_harness: HarnessFactory, status: int
) -> None:
    shop = shop_app(ORDERS, fail_with=status if status != 401 else None)
    config: dict[str, Any] = {"plugins": {"order_status": dict(CONFIG["plugins"]["order_status"])}}
    if status == 401:
        config["plugins"]["order_status"]["api_token"] = "wrong"
    async with agentbot_harness(plugins=plugin_for(shop), config=config) as harness:
        visitor = await harness.visitor("Ada")
        await visitor.say("where is my order 12345")
        reply = await visitor.next_reply()
        assert reply.text == (
            "I cannot look up orders right now. A colleague will check order 12345 for you."
        )


async def test_an_unreachable_shop_gets_a_polite_answer(agentbot_harness: HarnessFactory) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    plugins = {"order_status": OrderStatus(transport=httpx.MockTransport(refuse))}
    async with agentbot_harness(plugins=plugins, config=CONFIG) as harness:
        visitor = await harness.visitor("Ada")
        await visitor.say("where is my order 12345")
        assert (await visitor.next_reply()).text.startswith("I cannot look up orders right now")


async def test_the_api_token_is_a_secret(agentbot_harness: HarnessFactory) -> None:
    async with agentbot_harness(plugins=plugin_for(shop_app(ORDERS)), config=CONFIG) as harness:
        assert TOKEN not in repr(harness.plugin_config("order_status"))
