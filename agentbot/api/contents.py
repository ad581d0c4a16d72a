"""Typed reading of a message content's ``data`` (S2 ``MessageContent``/``MessageEventContent``).

``Content.data`` stays the raw JSON the server sent, so an unknown content type, or a known one
with a surprise inside, costs nothing; :func:`typed_content_data` (``Content.typed_data``) reads
it through the same rules as every other wire object when a caller wants the fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agentbot.api.fastpath import fast_hook
from agentbot.api.models import (
    AgentAssignData,
    AgentJoinData,
    AgentLeaveData,
    AgentUnassignData,
    Attachment,
    ChatCloseData,
    Content,
    ContentData,
    ContentType,
    RateFormData,
)

__all__ = ["CONTENT_DATA_TYPES", "typed_content_data"]

CONTENT_DATA_TYPES: Mapping[str, type[Any]] = {
    ContentType.AGENT_JOIN: AgentJoinData,
    ContentType.AGENT_LEAVE: AgentLeaveData,
    ContentType.AGENT_ASSIGN: AgentAssignData,
    ContentType.AGENT_UNASSIGN: AgentUnassignData,
    ContentType.CHAT_CLOSE: ChatCloseData,
    ContentType.RATE_FORM: RateFormData,
    ContentType.UPLOAD: Attachment,
}
"""Content type → the class of its ``data`` (``text`` has none: its payload is ``text``)."""


def typed_content_data(content: Content) -> ContentData | None:
    """Return ``content.data`` as the class of ``content.type``, or None.

    None when the type has no class or the data does not fit it (it is then still in
    ``content.data``, raw).
    """
    cls = CONTENT_DATA_TYPES.get(content.type)
    if cls is None:
        return None
    try:
        data: ContentData = fast_hook(cls)(content.data, cls)
    except Exception:  # the fast path only says "does not fit"; raw data stays available
        return None
    return data
