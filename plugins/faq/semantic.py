"""A semantic score: cosine similarity of static word embeddings (wordllama).

Lexical matching misses paraphrases that share no word with any phrasing ("my tyre is flat"
vs "puncture"). A static embedding model averages learned token vectors, so it costs one
tokenisation and one matrix product per question: about 0.05 ms to embed, and a dot product
over every phrasing of a 10k-entry FAQ. The model is Matryoshka-trained (wordllama's
``trunc_dim``): its first dimensions carry most of the meaning, so an index may keep only
those (``dims``), which divides the matrix product and the memory it reads per question.

wordllama (PyPI) ships its weights (``l2_supercat_256.safetensors``, 16 MB) and tokenizer
inside the wheel. It looks for them in its package folder only when told that folder is its
cache and downloads are off; with any other setting it may try the network, which the bot
must never do at run time. :func:`load_model` does exactly that, once per process.

The model is optional: if wordllama is not installed, :func:`available` is False and the
``semantic`` / ``hybrid`` methods are refused at start-up with a clear error.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["EMBED_BATCH", "SemanticIndex", "available", "load_model"]

EMBED_BATCH = 512
"""Texts per wordllama batch when building an index: a fifth faster than its default 64 on
40k phrasings, and padding to the longest text of a batch keeps larger ones from paying."""

_lock = threading.Lock()
_model: Any = None


def available() -> bool:
    """Return whether wordllama is installed (the semantic methods need it)."""
    return importlib.util.find_spec("wordllama") is not None


def load_model() -> Any:
    """Load the bundled wordllama model once (thread-safe), never downloading anything."""
    global _model
    with _lock:
        if _model is None:
            import wordllama  # type: ignore[import-untyped]

            folder = Path(wordllama.__file__).parent
            _model = wordllama.WordLlama.load(cache_dir=folder, disable_download=True)
        return _model


class SemanticIndex:
    """The unit-length embeddings of every phrasing, and which entry each belongs to."""

    def __init__(self, phrasings: Sequence[Sequence[str]], *, dims: int | None = None) -> None:
        """Embed every phrasing; ``dims`` keeps the first dimensions only (see DIMS)."""
        import numpy as np

        self._np = np
        self.dims = dims
        model = load_model()
        self._model = model
        flat = [text for texts in phrasings for text in texts]
        owners = [index for index, texts in enumerate(phrasings) for _text in texts]
        self.count = len(phrasings)
        self._vectors = self._embed(flat or [""])[: len(flat)]
        self._owners = np.asarray(owners, dtype=np.int64)
        # Rows are grouped by owner, in order: reduceat takes the best phrasing per entry.
        starts = [0]
        for position in range(1, len(owners)):
            if owners[position] != owners[position - 1]:
                starts.append(position)
        self._starts = np.asarray(starts if owners else [], dtype=np.int64)
        self._entry_of_start = self._owners[self._starts] if owners else self._owners

    def _embed(self, texts: Sequence[str]) -> Any:
        np = self._np
        vectors = self._model.embed(list(texts), batch_size=EMBED_BATCH).astype(np.float32)
        if self.dims is not None:
            vectors = np.ascontiguousarray(vectors[:, : self.dims])
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def embed(self, texts: Sequence[str]) -> Any:
        """Return the unit-length embeddings of ``texts`` (one row each), to reuse them."""
        return self._embed(texts)

    def similarities(self, texts: Sequence[str]) -> Any:
        """Return, per entry, the best cosine between any of ``texts`` and its phrasings."""
        if not texts:
            return self._np.zeros(self.count, dtype=self._np.float32)
        return self.similarities_to(self.embed(texts))

    def similarities_to(self, queries: Any) -> Any:
        """:meth:`similarities` for queries already embedded (rows of :meth:`embed`)."""
        np = self._np
        best = np.zeros(self.count, dtype=np.float32)
        if not len(self._starts) or not len(queries):
            return best
        cosines = (self._vectors @ queries.T).max(axis=1)
        best[self._entry_of_start] = np.maximum.reduceat(cosines, self._starts)
        return best
