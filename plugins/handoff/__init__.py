"""The ``handoff`` plugin: hand a chat to a human when asked (see plugin.py)."""

from __future__ import annotations

from .phrases import DEFAULT_PHRASES, PhraseMatcher
from .plugin import Handoff, HandoffConfig

__all__ = ["DEFAULT_PHRASES", "Handoff", "HandoffConfig", "PhraseMatcher"]
