"""Answer "where is my order 12345?" by asking the shop's order API.

A plugin that talks to a service of its own: it opens one ``httpx.AsyncClient`` when the bot
starts (``on_start``), closes it when the bot stops (``on_stop``), and looks orders up from
``on_visitor_message``. Every failure of the shop (a timeout, a 500, garbage) becomes a
polite answer, never an exception: the bot must keep talking while the shop is down.

The shop's API, as this plugin expects it::

    GET {api_url}/orders/{number}          Authorization: Bearer {api_token}
    200 {"number": "12345", "status": "shipped", "carrier": "DHL",
         "tracking_url": "https://…", "eta": "2024-05-02"}
    404 unknown order

bot.toml::

    [plugins.order_status]
    api_url = "https://shop.example.com/api"
    api_token = "…"                      # secret: never logged or echoed
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import attrs
import httpx

import agentbot

# "order 12345", "order #12345", "order no. 12345", "objednávka 12345"
ORDER_NUMBER = re.compile(
    r"\b(?:order|objedn[aá]vk\w*|bestellung)\s*(?:number|no\.?|nr\.?|č\.?)?\s*#?\s*(\d{3,12})\b",
    re.IGNORECASE,
)
MENTIONS_ORDER = re.compile(r"\b(?:order|objedn[aá]vk\w*|bestellung|parcel|package)\b", re.I)

STATUS_TEXT = {
    "received": "received and waiting to be packed",
    "processing": "being packed",
    "shipped": "on its way",
    "delivered": "delivered",
    "cancelled": "cancelled",
}


@attrs.frozen(kw_only=True)
class OrderStatusConfig:
    """``[plugins.order_status]``: where the shop's API is and what to say."""

    api_url: str
    """Base URL of the shop's order API (``GET {api_url}/orders/{number}``)."""
    api_token: str | None = attrs.field(default=None, repr=False)
    """Bearer token for the API; a secret, so never shown in logs or errors."""
    timeout_seconds: float = 3.0
    """Give up on the shop after this long (below the hook budget of 5 s)."""
    ask_for_number: str = "I can check that for you. What is your order number?"
    not_found: str = "I cannot find order {number}. Could you check the number?"
    unavailable: str = (
        "I cannot look up orders right now. A colleague will check order {number} for you."
    )


class OrderStatus:
    """The plugin. ``transport`` lets tests put a local app where the shop would be."""

    def __init__(self, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._transport = transport
        self._http: httpx.AsyncClient | None = None

    @agentbot.hookimpl
    def register_config(self, register: Callable[[type[Any]], None]) -> None:
        register(OrderStatusConfig)

    @agentbot.hookimpl
    def on_start(self, bot: agentbot.PluginBot) -> None:
        config: OrderStatusConfig = bot.config
        headers = {"Authorization": f"Bearer {config.api_token}"} if config.api_token else {}
        self._http = httpx.AsyncClient(
            base_url=config.api_url.rstrip("/"),
            headers=headers,
            timeout=config.timeout_seconds,
            transport=self._transport,
        )

    @agentbot.hookimpl
    async def on_stop(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    @agentbot.hookimpl
    async def on_visitor_message(self, bot: agentbot.PluginBot, text: str) -> agentbot.Reply | None:
        config: OrderStatusConfig = bot.config
        match = ORDER_NUMBER.search(text)
        if match is None:
            if MENTIONS_ORDER.search(text):
                return agentbot.Reply(config.ask_for_number, confidence=0.6)
            return None
        number = match.group(1)
        return agentbot.Reply(await self._answer(bot, config, number), confidence=0.9)

    async def _answer(self, bot: agentbot.PluginBot, config: OrderStatusConfig, number: str) -> str:
        if self._http is None:  # on_start did not run: the bot is not running
            return config.unavailable.format(number=number)
        try:
            response = await self._http.get(f"/orders/{number}")
        except httpx.HTTPError as exc:
            bot.logger.warning("order %s: the shop did not answer: %s", number, type(exc).__name__)
            return config.unavailable.format(number=number)
        if response.status_code == 404:
            return config.not_found.format(number=number)
        if response.status_code != 200:
            bot.logger.warning("order %s: the shop answered HTTP %d", number, response.status_code)
            return config.unavailable.format(number=number)
        try:
            order = response.json()
            status = str(order["status"])
        except (ValueError, KeyError, TypeError):
            bot.logger.warning("order %s: the shop's answer is not an order", number)
            return config.unavailable.format(number=number)
        return describe(number, status, order)


def describe(number: str, status: str, order: dict[str, Any]) -> str:
    """Turn the shop's order into one friendly sentence (or two)."""
    sentence = f"Your order {number} is {STATUS_TEXT.get(status, status)}"
    carrier = order.get("carrier")
    if status == "shipped" and carrier:
        sentence += f" with {carrier}"
    eta = order.get("eta")
    if status in ("processing", "shipped") and eta:
        sentence += f", expected on {eta}"
    sentence += "."
    tracking = order.get("tracking_url")
    if status == "shipped" and tracking:
        sentence += f" You can follow it here: {tracking}"
    return sentence
