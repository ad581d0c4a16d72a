"""The ``faq`` plugin: answer visitors' questions from a FAQ file (see plugin.py)."""

from __future__ import annotations

from .decision import Decision, decide
from .entries import FaqEntry, FaqFile, FaqFileError, load_faq, parse_faq
from .matcher import FaqIndex, Match
from .plugin import Faq, FaqConfig, FaqPlugin

__all__ = [
    "Decision",
    "Faq",
    "FaqConfig",
    "FaqEntry",
    "FaqFile",
    "FaqFileError",
    "FaqIndex",
    "FaqPlugin",
    "Match",
    "decide",
    "load_faq",
    "parse_faq",
]
