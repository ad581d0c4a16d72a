"""Pick per-language texts: ``{"en": "Hi!", "cs": "Dobrý den!"}`` by a visitor's language."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["base_lang", "pick"]


def base_lang(lang: str | None) -> str | None:
    """Return the language part of a tag: ``"cs-CZ"`` → ``"cs"``; None for nothing."""
    if not lang or not lang.strip():
        return None
    return lang.strip().replace("_", "-").split("-")[0].lower()


def pick(texts: Mapping[str, str], lang: str | None, default_lang: str = "en") -> str:
    """Return the text for ``lang``, else for ``default_lang``, else the first one, else ""."""
    for candidate in (base_lang(lang), base_lang(default_lang)):
        if candidate and candidate in texts:
            return texts[candidate]
    return next(iter(texts.values()), "")
