"""What the model may answer from: retrieved FAQ entries and chunks of the team's documents.

The team's own documents (``.md`` and ``.txt`` files in one folder, read at start-up) are cut
into chunks of a few paragraphs, each headed by its nearest Markdown heading, and indexed as
FAQ entries of their own (id ``doc:<file>#<n>``) so the faq plugin's lexical scorer ranks
them exactly as it ranks the FAQ. The model then sees only the few best entries and chunks,
each under its id, and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import attrs

from ..faq import FaqEntry

__all__ = [
    "DOCUMENT_SUFFIXES",
    "NO_ANSWER",
    "SYSTEM_PROMPT",
    "Passage",
    "chunk_document",
    "load_documents",
    "messages_for",
]

NO_ANSWER = "NO_ANSWER"
"""What the model must answer, exactly, when the context does not cover the question."""

SYSTEM_PROMPT = (
    "You answer visitors' questions in a company's website chat. Use only the facts in the "
    "context the user message gives: each passage starts with its id in brackets. If the "
    f"context does not answer the question, reply with exactly {NO_ANSWER} and nothing "
    "else. Never state a price, amount, percentage, date, time, deadline or policy that is "
    "not written in the context, and never guess. Answer briefly (one to three sentences), "
    "in the language of the question, without mentioning the context or the ids."
)
"""The default system message (``system_prompt`` in the config replaces it)."""

DOCUMENT_SUFFIXES = frozenset({".md", ".txt"})

CHUNK_CHARS = 800
"""A chunk grows by whole paragraphs up to about this many characters."""

_HEADING = re.compile(r"^#{1,6}\s+(.*\S)\s*$")


@attrs.frozen(kw_only=True)
class Passage:
    """One piece of context: an FAQ entry or a document chunk, with its retrieval score."""

    id: str
    text: str
    score: float


def chunk_document(text: str, *, max_chars: int = CHUNK_CHARS) -> list[str]:
    """Cut a document into chunks of whole paragraphs, each headed by its section's heading."""
    chunks: list[str] = []
    heading = ""
    current: list[str] = []

    def flush() -> None:
        body = "\n\n".join(current).strip()
        if body:
            chunks.append(f"{heading}\n{body}" if heading else body)
        current.clear()

    for paragraph in re.split(r"\n\s*\n", text):
        lines = paragraph.strip().splitlines()
        if not lines:
            continue
        found = _HEADING.match(lines[0])
        if found:
            flush()
            heading = found.group(1)
            lines = lines[1:]
            if not lines:
                continue
        block = "\n".join(lines).strip()
        if current and sum(map(len, current)) + len(block) > max_chars:
            flush()
        current.append(block)
    flush()
    return chunks


def load_documents(folder: Path) -> list[FaqEntry]:
    """Read every .md/.txt file under ``folder`` (sorted) as chunk entries (blocking)."""
    entries: list[FaqEntry] = []
    for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in DOCUMENT_SUFFIXES):
        if not path.is_file():
            continue
        name = path.relative_to(folder).as_posix()
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, chunk in enumerate(chunk_document(text), 1):
            entries.append(FaqEntry(id=f"doc:{name}#{number}", question=chunk, answer=chunk))
    return entries


def faq_passage(entry: FaqEntry, score: float) -> Passage:
    """Render an FAQ entry as context: its question and its answer."""
    return Passage(id=entry.id, text=f"Q: {entry.question}\nA: {entry.answer}", score=score)


def context_text(passages: Sequence[Passage]) -> str:
    """The context block: each passage under its id."""
    return "\n\n".join(f"[{p.id}]\n{p.text}" for p in passages)


def messages_for(
    question: str, passages: Sequence[Passage], *, system_prompt: str
) -> list[dict[str, str]]:
    """Build the chat messages: the rules, then the context and the visitor's question."""
    user = f"Context:\n\n{context_text(passages)}\n\nQuestion: {question}"
    return [
        {"role": "system", "content": system_prompt},
        {"role": "user", "content": user},
    ]
