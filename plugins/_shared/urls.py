"""The check for http(s) URLs in plugin options: lead webhooks, a model's base URL."""

from __future__ import annotations

import httpx

__all__ = ["check_http_url"]


def check_http_url(name: str, value: str) -> None:
    """Raise ValueError unless ``value`` is an http(s) URL that httpx can connect to.

    Checked when the options load, as httpx will check it: a bad port or host would otherwise
    only fail at the first request. The message leaves the URL out (it often carries a token).
    """
    if not value.startswith(("http://", "https://")):
        raise ValueError(f"{name} must start with http:// or https://")
    try:
        host = httpx.URL(value).host
    except httpx.InvalidURL:
        host = ""
    if not host:
        raise ValueError(f"{name} is not a valid URL (check the host and port)")
