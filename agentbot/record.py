"""``agentbot record -o FILE``: a redacted wire transcript a user can attach to a bug report.

The shapes agentbot decodes come partly from the vendor's sources and partly from
assumption (docs/PROTOCOL.md). A transcript recorded against a real account settles such
questions, and our golden tests ingest it as-is: each line is one JSON object
``{"direction": "in", "event": NAME, "payload": ...}`` that
:func:`agentbot.api.decode_event` turns back into a typed event.

Redaction happens before anything is written: the account key, auth and API tokens (as
values anywhere in the payload, and under secret-looking keys), e-mail addresses, people's
names and, unless ``mask_texts=False``, message texts are replaced by placeholders of the
same JSON type, so a masked transcript still decodes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import anyio

from agentbot.api import encode_event
from agentbot.client import ConnectionDropped, Reconnected
from agentbot.runtime.clock import Clock, RealClock
from agentbot.runtime.config import SmartsuppSettings
from agentbot.runtime.wiring import agent_client_for

__all__ = ["MASK", "MASKED_EMAIL", "Redactor", "record"]

MASK = "***"
"""What a secret, a name or a text becomes."""
MASKED_EMAIL = "masked@example.invalid"
"""What an e-mail address becomes (still an address, so validators downstream accept it)."""

_SECRET_KEYS = frozenset(
    {"key", "authtoken", "token", "apitoken", "apikey", "password", "secret", "jwt", "cookie"}
)
_NAME_KEYS = frozenset({"name", "nickname", "fullname", "firstname", "lastname", "username"})
_TEXT_KEYS = frozenset({"text", "title"})
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


class Redactor:
    """Masks one payload at a time; ``secrets`` are values masked wherever they appear."""

    def __init__(self, secrets: Iterable[str | None] = (), *, mask_texts: bool = True) -> None:
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
        self.mask_texts = mask_texts

    def __call__(self, value: Any, key: str | None = None) -> Any:
        """Return ``value`` with secrets, e-mails, names (and texts) masked."""
        folded = key.replace("_", "").lower() if key is not None else None
        if isinstance(value, dict):
            return {k: self(v, str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v, key) for v in value]
        if not isinstance(value, str):
            return value
        if folded in _SECRET_KEYS:
            return MASK
        if folded in _NAME_KEYS or (self.mask_texts and folded in _TEXT_KEYS):
            return MASK if value else value
        if folded == "email":
            return MASKED_EMAIL if value else value
        for secret in self.secrets:
            value = value.replace(secret, MASK)
        return _EMAIL.sub(MASKED_EMAIL, value)


async def record(
    settings: SmartsuppSettings,
    output: str | Path,
    *,
    seconds: float,
    mask_texts: bool = True,
    clock: Clock | None = None,
    asgi_app: Any = None,
    on_event: Callable[[str], None] | None = None,
) -> int:
    """Log in, write every event for ``seconds`` (on ``clock``) to ``output``; return how many.

    Lines are flushed as they come, so a transcript cut short by Ctrl-C is still useful.
    ``asgi_app`` records from an in-process ASGI app (the sandbox), for tests.
    """
    clock = clock or RealClock()
    redact = Redactor(
        (settings.key, settings.auth_token, settings.api_token), mask_texts=mask_texts
    )
    count = 0
    client = agent_client_for(settings, asgi_app=asgi_app)
    async with (
        await anyio.open_file(output, "w", encoding="utf-8") as file,
        client,
        anyio.create_task_group() as tg,
    ):

        async def deadline() -> None:
            await clock.sleep_until(clock.now() + seconds)
            tg.cancel_scope.cancel()

        tg.start_soon(deadline)
        async for event in client.events():
            if isinstance(event, Reconnected | ConnectionDropped):
                continue  # the client's own news, not the wire's
            name, payload = encode_event(event)
            line = {"direction": "in", "event": name, "payload": redact(payload)}
            await file.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
            await file.flush()
            count += 1
            if on_event is not None:
                on_event(name)
        tg.cancel_scope.cancel()  # the client stopped for good before the time was up
    return count
