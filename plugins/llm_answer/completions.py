"""One call of an OpenAI-compatible chat-completions endpoint, over httpx.

The request and response are OpenAI's documented ``POST /v1/chat/completions`` shape, which
Ollama, vLLM, llama.cpp's server and LM Studio all serve: ``{"model", "messages":
[{"role", "content"}], "max_tokens", "temperature"}`` in, ``{"choices": [{"message":
{"content"}}], "usage": {"prompt_tokens", "completion_tokens"}}`` out. Errors never carry
the API key or the request headers, only the status and what failed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import httpx

from agentbot import AgentbotError

__all__ = ["Completion", "CompletionError", "CompletionsClient"]


class CompletionError(AgentbotError):
    """The endpoint failed: network error, timeout, a non-2xx status or an unexpected body."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@attrs.frozen(kw_only=True)
class Completion:
    """The model's answer and what it cost in tokens (0 when the server did not say)."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0


class CompletionsClient:
    """POST chat completions to ``base_url`` + ``/chat/completions`` (``base_url`` ends in /v1)."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None,
        timeout_seconds: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/",
            headers=headers,
            timeout=httpx.Timeout(timeout_seconds),
            transport=transport,
        )

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def complete(
        self,
        *,
        model: str,
        messages: Sequence[Mapping[str, str]],
        max_tokens: int,
        temperature: float,
    ) -> Completion:
        """Ask the model once; raise :class:`CompletionError` on any failure."""
        payload = {
            "model": model,
            "messages": [dict(m) for m in messages],
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": False,
        }
        try:
            response = await self._http.post("chat/completions", json=payload)
        except httpx.TimeoutException:
            raise CompletionError("the model endpoint timed out") from None
        except httpx.HTTPError as exc:
            raise CompletionError(f"the model endpoint failed: {type(exc).__name__}") from None
        if not response.is_success:
            raise CompletionError(
                f"the model endpoint answered HTTP {response.status_code}",
                status=response.status_code,
            )
        try:
            data: Any = response.json()
            text = data["choices"][0]["message"]["content"]
            usage = data.get("usage") or {}
            prompt_tokens = int(usage.get("prompt_tokens") or 0)
            completion_tokens = int(usage.get("completion_tokens") or 0)
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise CompletionError("the model endpoint sent an unexpected body") from None
        if not isinstance(text, str):
            raise CompletionError("the model endpoint sent no text content")
        return Completion(
            text=text, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
        )
