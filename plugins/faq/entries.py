"""The FAQ file: entries with a question, alternative phrasings, an answer, a language, tags.

The format is TOML, like bot.toml::

    lang = "en"                      # default language of the entries (optional)

    [[entry]]
    id = "opening-hours"             # optional; used by eval files and logs
    question = "What are your opening hours?"
    alternatives = ["When are you open?", "business hours"]
    answer = "We are open Monday to Friday, 9:00-17:00."
    lang = "en"                      # optional, defaults to the file's lang
    tags = ["store"]                 # optional

    [glossary]                       # optional: words of your trade the built-in glossary
    retez = "chain"                  # lacks (folded word beginning = the FAQ's words)

A file ending in ``.json`` holds the same structure as JSON (``{"lang": "en", "entry":
[{...}, ...]}``): JSON parses about twenty times faster than TOML, which matters for FAQs of
many thousands of entries exported from another system (benchmarks/faq.py).

Every problem is a :class:`FaqFileError` naming the file and the line: the parsers report the
line of a syntax error themselves; for a well-formed file with a bad entry the line is found
from the entry's ``[[entry]]`` header in TOML (and the key's own line when it can be seen),
or from where the entry's question (or id) is written in JSON.
"""

from __future__ import annotations

import itertools
import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from agentbot import ConfigError

__all__ = ["FaqEntry", "FaqFile", "FaqFileError", "load_faq", "parse_faq"]

_FIRST_HEADER = re.compile(r"[ \t]*\[\[[ \t]*entry[ \t]*\]\]")
# A header on a later line; anchored on the newline, which the engine finds far faster than
# a MULTILINE "^" it must try at every position.
_NEXT_HEADER = re.compile(r"\n[ \t]*\[\[[ \t]*entry[ \t]*\]\]")
_TOML_LINE = re.compile(r"at line (\d+)")
_ENTRY_KEYS = frozenset({"id", "question", "alternatives", "answer", "lang", "tags"})
_FILE_KEYS = frozenset({"lang", "entry", "glossary"})
_STR = itertools.repeat(str)  # all(map(isinstance, items, _STR)): every item a str


class FaqFileError(ConfigError):
    """The FAQ file cannot be read or has a bad entry; ``line`` is where (1-based) if known."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        self.line = line
        super().__init__(message, path=path)


@attrs.frozen(kw_only=True)
class FaqEntry:
    """One question and its answer, with other ways visitors ask the same thing."""

    id: str
    question: str
    answer: str
    alternatives: tuple[str, ...] = ()
    lang: str | None = None
    tags: tuple[str, ...] = ()
    line: int | None = None
    """Line of the entry's ``[[entry]]`` header in its file, for messages."""

    @property
    def phrasings(self) -> tuple[str, ...]:
        """The question followed by its alternatives."""
        return (self.question, *self.alternatives)


@attrs.frozen(kw_only=True)
class FaqFile:
    """A parsed FAQ file."""

    entries: tuple[FaqEntry, ...]
    path: str | None = None
    glossary: dict[str, str] = attrs.field(factory=dict)
    """The file's ``[glossary]``: words of the team's trade -> words its FAQ uses for them."""


def load_faq(path: str | Path) -> FaqFile:
    """Read and validate the FAQ file at ``path``; raise :class:`FaqFileError` on any problem."""
    where = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FaqFileError(f"{where}: no such FAQ file", path=where) from None
    except UnicodeDecodeError as exc:
        raise FaqFileError(f"{where}: not UTF-8 text ({exc.reason})", path=where) from None
    except OSError as exc:
        raise FaqFileError(f"{where}: cannot read: {exc.strerror}", path=where) from None
    return parse_faq(text, path=where, json_format=where.endswith(".json"))


def parse_faq(text: str, *, path: str | None = None, json_format: bool = False) -> FaqFile:
    """Parse FAQ file contents (see the module docstring); ``path`` is only for messages."""
    where = path or "<faq>"
    data: Any
    if json_format:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FaqFileError(
                f"{where}:{exc.lineno}: invalid JSON: {exc.msg} (column {exc.colno})",
                path=path,
                line=exc.lineno,
            ) from None
        if not isinstance(data, dict):
            raise _error(where, path, 1, "expected a JSON object with an 'entry' list")
    else:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            found = _TOML_LINE.search(str(exc))
            line = int(found.group(1)) if found else None
            at = f":{line}" if line else ""
            raise FaqFileError(f"{where}{at}: invalid TOML: {exc}", path=path, line=line) from None
    for key in data:
        if key not in _FILE_KEYS:
            raise _error(where, path, _key_line(text, 0, key), f"unknown top-level key {key!r}")
    default_lang = _optional_str(data.get("lang"), where, path, _key_line(text, 0, "lang"), "lang")
    raw_entries = data.get("entry", [])
    if not isinstance(raw_entries, list):
        raise _error(where, path, _key_line(text, 0, "entry"), "'entry' must be [[entry]] tables")
    glossary = _glossary(data.get("glossary", {}), where, path, _key_line(text, 0, "glossary"))
    headers = [] if json_format else _header_lines(text)
    entries: list[FaqEntry] = []
    seen_ids: dict[str, int | None] = {}
    for index, raw in enumerate(raw_entries):
        line = headers[index] if index < len(headers) else None
        entry = _entry(raw, index, line, text, where, path, default_lang, json_format)
        if entry.id in seen_ids:
            first = seen_ids[entry.id]
            if json_format:
                line = _json_entry_line(text, raw, last=True)
                first = _json_entry_line(text, raw)
            raise _error(
                where,
                path,
                line,
                f"entry id {entry.id!r} is used twice (first at line {first})",
            )
        seen_ids[entry.id] = line
        entries.append(entry)
    return FaqFile(entries=tuple(entries), path=path, glossary=glossary)


def _glossary(raw: Any, where: str, path: str | None, line: int | None) -> dict[str, str]:
    """Validate ``[glossary]``: one word (or word beginning) = the FAQ's words for it."""
    if not isinstance(raw, Mapping):
        raise _error(where, path, line, "'glossary' must be a table of word = \"words\"")
    for key, value in raw.items():
        if len(key.split()) != 1 or not isinstance(value, str) or not value.strip():
            raise _error(
                where, path, line, f"glossary {key!r}: one word = a non-empty string of words"
            )
    return dict(raw)


def _entry(
    raw: Any,
    index: int,
    line: int | None,
    text: str,
    where: str,
    path: str | None,
    default_lang: str | None,
    json_format: bool = False,
) -> FaqEntry:
    if not isinstance(raw, Mapping):
        raise _error(where, path, line, f"entry {index + 1} is not a table")
    label = f"entry {index + 1}"

    def fail(key: str, message: str) -> FaqFileError:
        # The key's own line is looked up only for the message: errors are rare, files big.
        if json_format:  # looked up only now: errors are rare, files may be big
            return _error(where, path, _json_entry_line(text, raw), message)
        return _error(where, path, _key_line(text, line, key) or line, message)

    if not raw.keys() <= _ENTRY_KEYS:  # one set operation; the loop only to name the key
        for key in raw:
            if key not in _ENTRY_KEYS:
                raise fail(key, f"{label}: unknown key {key!r}{_close(key, _ENTRY_KEYS)}")
    question = raw.get("question")
    if not isinstance(question, str) or not (question := question.strip()):
        raise fail("question", f"{label}: needs a non-empty 'question'")
    label = f"{label} ({question[:40]!r})"
    answer = raw.get("answer")
    if not isinstance(answer, str) or not (answer := answer.strip()):
        raise fail("answer", f"{label}: needs a non-empty 'answer'")
    lists = {}
    for key in ("alternatives", "tags"):
        value = raw.get(key, [])
        if not (isinstance(value, list) and all(map(isinstance, value, _STR))):
            raise fail(key, f"{label}: {key!r} must be a list of strings")
        lists[key] = value
    entry_id = raw.get("id", f"entry-{index + 1}")
    if not isinstance(entry_id, str) or not entry_id.strip():
        raise fail("id", f"{label}: 'id' must be a non-empty string")
    lang = raw.get("lang")
    if lang is not None and (not isinstance(lang, str) or not lang.strip()):
        raise fail("lang", f"{label}: 'lang' must be a non-empty string")
    return FaqEntry(
        id=entry_id.strip(),
        question=question,
        answer=answer,
        alternatives=tuple(filter(None, map(str.strip, lists["alternatives"]))),
        lang=lang.strip() if lang else default_lang,
        tags=tuple(lists["tags"]),
        line=line,
    )


def _optional_str(
    value: Any, where: str, path: str | None, line: int | None, what: str
) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise _error(where, path, line, f"{what} must be a non-empty string")


def _header_lines(text: str) -> list[int]:
    """Return the 1-based line of every ``[[entry]]`` header, in one pass over ``text``."""
    lines = [1] if _FIRST_HEADER.match(text) else []
    line = 1
    position = 0
    for found in _NEXT_HEADER.finditer(text):
        start = found.start() + 1  # the header's line begins after the newline
        line += text.count("\n", position, start)
        position = start
        lines.append(line)
    return lines


def _json_entry_line(text: str, raw: Any, *, last: bool = False) -> int | None:
    """Find the line of a JSON entry, by where its question (or id) is written; None if lost.

    Looked up only for messages, so cost is irrelevant. The same question written twice
    points at the first one (the last one with ``last``), good enough to find the entry.
    """
    if not isinstance(raw, Mapping):
        return None
    for key in ("question", "id"):
        value = raw.get(key)
        if isinstance(value, str):
            find = text.rfind if last else text.find
            position = find(json.dumps(value, ensure_ascii=False))
            if position < 0:
                position = find(json.dumps(value))
            if position >= 0:
                return text.count("\n", 0, position) + 1
    return None


def _key_line(text: str, start_line: int | None, key: str) -> int | None:
    """Find the line of ``key = ...`` at or after ``start_line``, before the next table header."""
    lines = text.splitlines()
    begin = start_line or 1
    for number in range(begin, len(lines) + 1):
        stripped = lines[number - 1].strip()
        if number > begin and stripped.startswith("["):
            break
        if re.match(rf"{re.escape(key)}\s*=", stripped):
            return number
    return None


def _close(word: str, options: frozenset[str]) -> str:
    import difflib

    matches = difflib.get_close_matches(word, sorted(options), n=1, cutoff=0.6)
    return f" (did you mean {matches[0]!r}?)" if matches else ""


def _error(where: str, path: str | None, line: int | None, message: str) -> FaqFileError:
    at = f":{line}" if line else ""
    return FaqFileError(f"{where}{at}: {message}", path=path, line=line)
