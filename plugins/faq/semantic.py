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

Embedding every phrasing was most of an index's build time (10k entries: 40k phrasings and
10k answers, 1.5 s through wordllama's ``embed``). :func:`_average_tokens` computes the same
vectors bit for bit in a sixth of that (0.25 s at 64 dimensions): each distinct word is
tokenised once, and only the kept dimensions of the real tokens are summed.

The vectors depend only on the texts, the model and ``dims``, so :class:`SemanticIndex` keeps
them in a cache folder when given one (``cache_dir``): one ``.npy`` file per set of texts,
named by a hash of the model, the dimensions and every text. A restart or a reload of
an unchanged FAQ reads the file (milliseconds) instead of embedding again. A folder that
cannot be written (read-only, full) only costs the speed-up: the vectors stay in memory.

The model is optional: if wordllama is not installed, :func:`available` is False and the
``semantic`` / ``hybrid`` methods are refused at start-up with a clear error.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import itertools
import logging
import os
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "EMBED_BATCH",
    "MODEL_ID",
    "SemanticIndex",
    "available",
    "cache_key",
    "embedding_cache_dir",
    "load_model",
]

MODEL_ID = "wordllama-l2_supercat-256"
"""Names the model in cache keys: change it with the model, and old caches are not read."""

_log = logging.getLogger(__name__)

EMBED_BATCH = 512
"""Texts per tokenizer batch when texts must be tokenised whole (see :func:`_token_ids`):
padding to the longest text of a batch keeps larger batches from paying."""

PREFILTER_DIMS = 128
"""Dimensions of the first pass over a large full-width index (see :class:`SemanticIndex`).

Chosen on the generated 10k-entry FAQ of benchmarks/faq.py against the exact cosine: 128 dims
and 2048 rows keep 99.4% of the exact top 12 and the exact best score (64 dims: 91%)."""

PREFILTER_ROWS = 2048
"""How many phrasings the first pass keeps for the exact full-width cosine."""

_WORD_SPLIT_MIN_TEXTS = 64
"""From how many texts :func:`_token_ids` encodes distinct words instead of whole texts."""

_SUM_ROWS = 4096
"""Texts summed together by :func:`_average_tokens` (64 dimensions: 1 MB of sums)."""

_lock = threading.Lock()
_blas: Any = None
_model: Any = None
_tables: dict[int | None, Any] = {}  # dims -> the model's token vectors, truncated
_begins: Any = None  # token id -> whether it begins a word (see _word_begins)


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

    def __init__(
        self,
        phrasings: Sequence[Sequence[str]],
        *,
        dims: int | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        """Embed every phrasing; ``dims`` keeps the first dimensions only (see DIMS).

        ``cache_dir``: read the vectors from there if these texts were embedded before, and
        store them there otherwise (see the module docstring); None: always embed.
        """
        import numpy as np

        self._np = np
        self.dims = dims
        model = load_model()
        self._model = model
        flat = [text for texts in phrasings for text in texts]
        owners = [index for index, texts in enumerate(phrasings) for _text in texts]
        self.count = len(phrasings)
        self.cached = False
        """Whether the vectors came from ``cache_dir`` rather than the model."""
        vectors = None
        path = cache_dir / f"{cache_key(flat, dims)}.npy" if cache_dir is not None else None
        if path is not None:
            vectors = self._read(path, len(flat))
            self.cached = vectors is not None
        if vectors is None:
            vectors = self._embed(flat or [""])[: len(flat)]
            if path is not None:
                _write(path, vectors)
        self._vectors = vectors
        # A large full-width index is searched in two passes: the first PREFILTER_DIMS
        # dimensions (Matryoshka: they carry most of the meaning) pick PREFILTER_ROWS
        # phrasings, and only those get the exact cosine. 10k entries at 256 dims: half
        # of the 41 MB read per question, and a product that fits the caches better.
        self._coarse = None
        self._prefilter_rows = PREFILTER_ROWS
        width = vectors.shape[1] if vectors.ndim == 2 else 0
        if width > PREFILTER_DIMS and len(vectors) > 4 * self._prefilter_rows:
            coarse = np.ascontiguousarray(vectors[:, :PREFILTER_DIMS])
            norms = np.linalg.norm(coarse, axis=1, keepdims=True)
            self._coarse = coarse / np.maximum(norms, 1e-12)
        self._owners = np.asarray(owners, dtype=np.int64)
        # Rows are grouped by owner, in order. The best phrasing per entry is taken rank by
        # rank (see _best_per_entry): for each rank past the first, the groups that have a
        # row of that rank and where it is.
        self._starts = np.flatnonzero(np.diff(self._owners, prepend=-1))
        self._entry_of_start = self._owners[self._starts]
        sizes = np.diff(self._starts, append=len(owners))
        self._later: list[tuple[Any, Any]] = []
        for rank in range(1, int(sizes.max()) if len(sizes) else 0):
            groups = np.flatnonzero(sizes > rank)
            every = len(groups) == len(sizes)
            self._later.append((None if every else groups, self._starts[groups] + rank))

    def _read(self, path: Path, rows: int) -> Any:
        """Return the cached vectors at ``path``, or None if absent or not what is expected."""
        np = self._np
        try:
            vectors = np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            return None
        if vectors.ndim != 2 or vectors.dtype != np.float32 or len(vectors) != rows:
            return None
        if self.dims is not None and vectors.shape[1] != self.dims:
            return None
        return np.ascontiguousarray(vectors)

    def _embed(self, texts: Sequence[str]) -> Any:
        np = self._np
        vectors = _average_tokens(self._model, texts, self.dims)
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
        with _single_blas_thread():
            if self._coarse is not None:
                return self._two_pass(queries, best)
            cosines = _row_max(self._vectors @ queries.T)
        best[self._entry_of_start] = self._best_per_entry(cosines)
        return best

    def _best_per_entry(self, cosines: Any) -> Any:
        """Return the best of each owner's rows: ``np.maximum.reduceat(cosines, starts)``.

        reduceat pays per group (10k entries: 0.18-0.29 ms); a maximum per rank is a few
        vector operations (0.08-0.10 ms), and the same values (a maximum is exact).
        """
        np = self._np
        best = cosines[self._starts]
        for groups, rows in self._later:
            if groups is None:  # every entry has a row of this rank
                np.maximum(best, cosines[rows], out=best)
            else:
                best[groups] = np.maximum(best[groups], cosines[rows])
        return best

    def _two_pass(self, queries: Any, best: Any) -> Any:
        """:meth:`similarities_to` for a large full-width index (see ``PREFILTER_DIMS``)."""
        np = self._np
        coarse_queries = queries[:, :PREFILTER_DIMS]
        norms = np.linalg.norm(coarse_queries, axis=1, keepdims=True)
        coarse = _row_max(self._coarse @ (coarse_queries / np.maximum(norms, 1e-12)).T)
        keep = self._prefilter_rows
        rows = coarse.argpartition(len(coarse) - keep)[-keep:]
        exact = _row_max(self._vectors[rows] @ queries.T)
        np.maximum.at(best, self._owners[rows], exact)
        return best


def _row_max(products: Any) -> Any:
    """Return the maximum of each row of ``products`` (rows x queries): ``max(axis=1)``.

    numpy's ``max(axis=1)`` over a handful of columns pays per row: 40k phrasings x 4 message
    parts took 1.5 ms, a column-wise ``maximum`` 0.05 ms. The values are the same (a
    maximum is exact whatever the order).
    """
    import numpy as np

    best = products[:, 0]
    if products.shape[1] > 1:
        best = best.copy()
        for column in range(1, products.shape[1]):
            np.maximum(best, products[:, column], out=best)
    return best


def _average_tokens(model: Any, texts: Sequence[str], dims: int | None) -> Any:
    """Return each text's mean token vector, first ``dims`` dimensions (all if None).

    This is ``model.embed(texts)`` (wordllama: tokenise, look the token vectors up, average
    them), bit for bit (tests/plugins/test_faq_speed.py compares them), computed the cheap
    way. wordllama pads each batch to its longest text, multiplies every vector by its mask
    and sums them position by position, all 256 dimensions, before an index keeps 64. Here
    the texts are taken longest first, so the ones that have a token at a position are a
    prefix of them: each position adds only real tokens, only the kept dimensions, in the
    same order (adding a padding zero changes no sum), and the sum is divided by the same
    count.
    """
    import numpy as np

    table = _token_table(model, dims)
    flat, starts, lengths = _token_ids(model.tokenizer, texts)
    np.clip(flat, 0, len(table) - 1, out=flat)  # as wordllama does
    order = np.argsort(-lengths, kind="stable")
    sorted_lengths = lengths[order]
    sorted_starts = starts[order]
    sums = np.zeros((len(texts), table.shape[1]), dtype=np.float32)
    for first in range(0, len(texts), _SUM_ROWS):  # a block of sums stays in the cache
        lengths_here = sorted_lengths[first : first + _SUM_ROWS]
        starts_here = sorted_starts[first : first + _SUM_ROWS]
        block = sums[first : first + _SUM_ROWS]
        # How many texts have a token at each position (lengths descending: a prefix).
        longest = int(lengths_here[0])
        having = np.searchsorted(-lengths_here, -np.arange(longest), side="left")
        for position, count in enumerate(having.tolist()):
            block[:count] += table[flat[starts_here[:count] + position]]
    vectors = np.empty_like(sums)
    vectors[order] = sums
    return vectors / np.maximum(lengths, 1).astype(np.float32)[:, None]


def _vocabulary_ids(tokenizer: Any, vocabulary: list[str]) -> tuple[Any, Any, Any]:
    """Return the token ids of distinct words: (all in a row, where each starts, how many).

    The words are encoded as one text, words joined by spaces, and cut where a token begins
    with "▁" (each word's first token does, no other token of a word without "▁" does):
    4 times faster than ``encode_batch`` of 13k words, for the same ids. If the cut does
    not give one piece per word, each word is encoded alone. ``""`` has no tokens.
    """
    import numpy as np

    words = [word for word in vocabulary if word]
    joined = " ".join(words)
    tokens = None
    if "▁" not in joined:
        tokens = np.asarray(tokenizer.encode(joined, add_special_tokens=False).ids, np.intp)
        begins = np.flatnonzero(_word_begins(tokenizer)[tokens])
        if len(begins) != len(words) or (len(begins) and begins[0] != 0):
            tokens = None
    if tokens is None:
        encoded = tokenizer.encode_batch(words, add_special_tokens=False)
        ids = [encoding.ids[: sum(encoding.attention_mask)] for encoding in encoded]
        counts = np.fromiter(map(len, ids), dtype=np.intp, count=len(ids))
        tokens = np.fromiter(itertools.chain.from_iterable(ids), np.intp, int(counts.sum()))
        begins = np.cumsum(counts) - counts
    filled = np.fromiter(map(bool, vocabulary), dtype=bool, count=len(vocabulary))
    starts = np.zeros(len(vocabulary), dtype=np.intp)
    lengths = np.zeros(len(vocabulary), dtype=np.intp)
    starts[filled] = begins
    lengths[filled] = np.diff(begins, append=len(tokens))
    return tokens, starts, lengths


def _word_begins(tokenizer: Any) -> Any:
    """Return, per token id, whether the token begins with "▁" (a word's first token)."""
    global _begins
    import numpy as np

    with _lock:
        if _begins is None:
            vocabulary = tokenizer.get_vocab(with_added_tokens=True)
            _begins = np.zeros(max(vocabulary.values(), default=0) + 1, dtype=bool)
            _begins[[i for token, i in vocabulary.items() if token.startswith("▁")]] = True
        return _begins


def _token_table(model: Any, dims: int | None) -> Any:
    """Return the model's token vectors, only the first ``dims`` (kept once per ``dims``)."""
    import numpy as np

    with _lock:
        table = _tables.get(dims)
        if table is None:
            table = model.embedding if dims is None else model.embedding[:, :dims]
            table = _tables[dims] = np.ascontiguousarray(table, dtype=np.float32)
        return table


def _token_ids(tokenizer: Any, texts: Sequence[str]) -> tuple[Any, Any, Any]:
    """Return the token ids of ``texts`` as wordllama's tokenizer gives them.

    Returns (every text's ids one after the other, where each text's ids start, how many).

    A few texts (a question's parts) are encoded one by one: ``encode_batch`` hands them to a
    thread pool, whose wake-up on a busy machine costs more than the work. Many texts (an
    index's phrasings) are split at spaces and each distinct word is encoded once: the
    tokenizer (Llama's BPE, no pre-tokenizer) prepends "▁" and turns each space into one,
    and no token but runs of "▁" holds a "▁" after its first character, so no token spans
    two words and a text's ids are its words' ids in a row. Texts with empty words (two
    spaces in a row, a space at an end) would make "▁" runs: then every text is encoded
    whole.
    """
    import numpy as np

    words = " ".join(texts).split(" ")  # each text's words, in a row
    empty_texts = sum(1 for text in texts if not text)  # one empty word each
    if len(texts) < _WORD_SPLIT_MIN_TEXTS or words.count("") != empty_texts:
        if len(texts) < _WORD_SPLIT_MIN_TEXTS:
            encoded = [tokenizer.encode(text, add_special_tokens=False) for text in texts]
        else:  # in batches: each is padded to its longest text
            encoded = [
                encoding
                for start in range(0, len(texts), EMBED_BATCH)
                for encoding in tokenizer.encode_batch(
                    list(texts[start : start + EMBED_BATCH]), add_special_tokens=False
                )
            ]
        ids = [encoding.ids[: sum(encoding.attention_mask)] for encoding in encoded]
        lengths = np.fromiter(map(len, ids), dtype=np.intp, count=len(ids))
        flat = np.fromiter(itertools.chain.from_iterable(ids), np.intp, int(lengths.sum()))
        return flat, np.cumsum(lengths) - lengths, lengths
    number = {word: position for position, word in enumerate(dict.fromkeys(words))}
    word_tokens, word_starts, word_lengths = _vocabulary_ids(tokenizer, list(number))
    # Every occurrence of a word, in order; its tokens, in order.
    occurrences = np.fromiter(map(number.__getitem__, words), dtype=np.intp, count=len(words))
    counts = word_lengths[occurrences]
    total = int(counts.sum())
    offsets = np.cumsum(counts) - counts
    flat = word_tokens[np.repeat(word_starts[occurrences] - offsets, counts) + np.arange(total)]
    per_text = np.fromiter((text.count(" ") + 1 for text in texts), np.intp, len(texts))
    first_words = np.cumsum(per_text) - per_text
    lengths = np.add.reduceat(counts, first_words) if len(texts) else per_text
    return flat, np.cumsum(lengths) - lengths, lengths


@contextlib.contextmanager
def _single_blas_thread() -> Iterator[None]:
    """Run the matrix products on one BLAS thread (threadpoolctl), if it is installed.

    A question's product is a few MB: splitting it over threads gains little and, on a
    busy machine, waiting for a second core is what makes the tail (10k entries,
    semantic p99 26 ms with two threads, 11 ms with one, on a loaded 2-core machine).
    """
    global _blas
    if _blas is None:
        try:
            import threadpoolctl  # type: ignore[import-untyped]
        except ImportError:  # pragma: no cover - an optional speed-up
            _blas = False
        else:
            _blas = threadpoolctl.ThreadpoolController()
    if _blas is False:
        yield
        return
    with _blas.limit(limits=1, user_api="blas"):
        yield


def embedding_cache_dir() -> Path:
    """Return the user cache folder for embeddings (``$XDG_CACHE_HOME/agentbot/...``)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("agentbot")) / "faq-embeddings"


def cache_key(texts: Sequence[str], dims: int | None) -> str:
    """Return the cache file name for ``texts`` embedded by this model at ``dims``."""
    digest = hashlib.blake2b(digest_size=20)
    digest.update(f"{MODEL_ID}\x00{dims}\x00{len(texts)}\x00".encode())
    for text in texts:
        digest.update(text.encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return digest.hexdigest()


def _write(path: Path, vectors: Any) -> None:
    """Store ``vectors`` at ``path`` atomically; a folder that refuses only costs speed."""
    import numpy as np

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                np.save(file, vectors, allow_pickle=False)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except OSError as exc:
        _log.info("faq: embeddings not cached (%s): kept in memory only", exc.strerror or exc)
