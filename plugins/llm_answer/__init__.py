"""The ``llm_answer`` plugin: a chat model answers from the FAQ it is given (see plugin.py)."""

from __future__ import annotations

from .completions import Completion, CompletionError, CompletionsClient
from .context import NO_ANSWER, SYSTEM_PROMPT, chunk_document, load_documents
from .grounding import ungrounded_numbers
from .plugin import LlmAnswer, LlmAnswerConfig, TokenMeter

__all__ = [
    "NO_ANSWER",
    "SYSTEM_PROMPT",
    "Completion",
    "CompletionError",
    "CompletionsClient",
    "LlmAnswer",
    "LlmAnswerConfig",
    "TokenMeter",
    "chunk_document",
    "load_documents",
    "ungrounded_numbers",
]
