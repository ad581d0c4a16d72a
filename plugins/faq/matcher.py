"""Find the FAQ entries that answer a visitor's question, with a confidence between 0 and 1.

Three methods, measured on tests/data/faq_eval (see docs/plugins.md, "How matching was
chosen"); ``blend`` is the default:

``bm25``
    Okapi BM25 over an inverted index of each entry's normalised terms (question,
    alternatives, and the answer at a lower weight), with typo tolerance: a query word the
    index does not know is replaced by the closest known words (rapidfuzz Levenshtein, same
    first letter, at most two edits). The confidence is the *idf-weighted coverage* of the
    query: the share of the question's information (rare words count more) that the entry
    contains. A question about things the FAQ never mentions ("do you sell cars?") keeps a
    low coverage however well its common words ("sell") match.
``fuzzy``
    rapidfuzz's ``token_set_ratio`` between the normalised question and every phrasing of
    every entry. Robust to word order and typos, but blind to which words matter, and it
    compares against every phrasing, so it is slow on large FAQs.
``blend``
    BM25 picks the candidates (fast, via the index), then each candidate's confidence is
    ``BLEND_WEIGHT`` × its BM25 coverage + the rest × the best ``token_set_ratio`` against its
    phrasings. Coverage keeps off-topic questions quiet; the fuzzy ratio rewards a question
    that reads like one of the entry's phrasings.

``semantic``
    The cosine between static word embeddings (wordllama, see semantic.py) of the question
    and of every phrasing, best phrasing per entry.
``hybrid``
    BM25's candidates plus the semantically closest entries, each scored
    ``SEMANTIC_WEIGHT`` × the semantic cosine (best phrasing) + ``ANSWER_SEMANTIC_WEIGHT`` ×
    the cosine with the entry's answer + the rest × BM25 coverage. The answer adds what the
    phrasings leave out ("is delivery to Poland possible" vs an answer listing Poland);
    coverage keeps off-topic questions low. The fuzzy ratio of ``blend`` is left out: with
    the semantic score present it only cost right answers on the tune split.

Before any method, the message goes through understanding.py: identifiers are masked,
greetings, thanks and signatures set aside, and every candidate is scored on the best part
of the message (the core text or one of its sentences). Czech and German shop words are
glossed in English (glossary.py): a glossed word also matches its glosses (BM25, credited
once), and the semantic score also compares the glossed text, at ``GLOSSED_SEMANTIC_FACTOR``.

The index is immutable: build a new one when the FAQ file changes.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import attrs
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from .entries import FaqEntry
from .glossary import GLOSS_WEIGHT, Glossary, default_glossary
from .semantic import SemanticIndex
from .text import TermMemo, fold, stem, terms, words
from .understanding import message_parts

__all__ = [
    "ANSWER_SEMANTIC_WEIGHT",
    "BLEND_WEIGHT",
    "METHODS",
    "METHOD_LEADS",
    "METHOD_THRESHOLDS",
    "SEMANTIC_METHODS",
    "FaqIndex",
    "Match",
    "Method",
]

Method = Literal["blend", "bm25", "fuzzy", "semantic", "hybrid"]

METHODS: tuple[Method, ...] = ("blend", "bm25", "fuzzy", "semantic", "hybrid")
"""Every method, for the CLI and the benchmark."""

SEMANTIC_METHODS = frozenset({"semantic", "hybrid"})
"""The methods that need the embedding model (wordllama)."""

SEMANTIC_WEIGHT = 0.5
"""Share of the semantic cosine (best phrasing) in the ``hybrid`` confidence; with
``ANSWER_SEMANTIC_WEIGHT`` chosen on the tune split of tests/data/faq_eval_bikes (a grid of
0.3-0.6 × 0-0.2 × coverage 0.1-0.4 × fuzzy ratio the rest)."""

ANSWER_SEMANTIC_WEIGHT = 0.1
"""Share of the cosine between the question and the entry's answer in ``hybrid``; the rest
(1 - both weights) is BM25 coverage."""

HYBRID_DIMS = 64
"""Embedding dimensions ``hybrid`` keeps (of 256): a quarter of the matrix product per
question (10k entries: 40k phrasings × 64 floats, 10 MB, instead of 41 MB), and on the
bikes tune split 135 right answers instead of 129 (old set 0.905 vs 0.896). ``semantic``
alone keeps all 256: without the lexical half, 64 cost it 15 right answers of 191."""

SEMANTIC_CANDIDATES = 8
"""How many of the semantically closest entries ``hybrid`` adds to the lexical ones."""

BLEND_WEIGHT = 0.5
"""Share of BM25 coverage in the ``blend`` confidence (the rest is the fuzzy ratio)."""

METHOD_THRESHOLDS: dict[str, tuple[float, float]] = {
    "blend": (0.61, 0.49),
    "bm25": (0.53, 0.41),
    "fuzzy": (0.87, 0.75),
    "semantic": (0.64, 0.52),
    "hybrid": (0.90, 0.44),
}
"""Per method: (answer threshold, clarify threshold), calibrated with ``METHOD_LEADS`` on
the *tune* split of tests/data/faq_eval_bikes, the old tests/data/faq_eval held to the same
limits (evaluate.calibrate_lead: most right answers with wrong <= 3% and must-not-answer
quiet >= 93% on each). Never calibrate on the test split."""

METHOD_LEADS: dict[str, tuple[float | None, float]] = {
    "blend": (0.50, 0.08),
    "bm25": (0.44, 0.08),
    "fuzzy": (None, 0.08),
    "semantic": (0.52, 0.10),
    "hybrid": (0.44, 0.04),
}
"""Per method: (lead threshold, lead margin) of decision.decide: a best match at or above
the lead threshold that leads the runner-up by the margin is answered even below the
threshold. Calibrated with ``METHOD_THRESHOLDS``; None: no lead rule."""

ANSWER_WEIGHT = 0.3
"""How much a word counts when it appears only in an entry's answer, not in its questions."""

CANDIDATES = 12
"""How many BM25 candidates the blend re-scores."""

GLOSSED_SEMANTIC_FACTOR = 0.85
"""Multiplier of the cosine between an entry and the question's glossed parts (glossary.py)."""

OTHER_LANGUAGE_FACTOR = 0.85
"""Confidence multiplier for entries in another language than the visitor's (when known)."""

MAX_POSTINGS = 1500
"""How many postings a question may walk for its first estimate (rarest words first)."""

RESCORE = 48
"""How many of the best first estimates are scored exactly."""

_K1 = 1.2
_B = 0.75
_TYPO_MIN_LENGTH = 4
_TYPO_MAX_EDITS = 2
_TYPO_WEIGHT = 0.8
_COMPOUND_MIN_LENGTH = 8
_COMPOUND_MIN_PART = 4
_COMPOUND_MIN_TAIL = 5
_COMPOUND_LIMIT = 4


@attrs.frozen
class Match:
    """One entry that may answer the question, and how sure the matcher is (0-1)."""

    entry: FaqEntry
    score: float


class FaqIndex:
    """An inverted index over FAQ entries; :meth:`search` ranks them for a question."""

    def __init__(
        self,
        entries: Sequence[FaqEntry],
        *,
        method: Method = "hybrid",
        understand: bool = True,
        cache_dir: Path | None = None,
        glossary: Glossary | None = None,
    ) -> None:
        self.entries = tuple(entries)
        self.glossary = glossary if glossary is not None else default_glossary()
        """Czech and German words glossed in English (glossary.py); an empty one turns it off."""
        self.method: Method = method
        self.understand = understand
        """Split the message into parts (see understanding.py); False: match it whole."""
        # cache_dir: where the embeddings of the semantic methods are kept (semantic.py).
        memo = TermMemo()  # words repeat across entries: normalise each distinct one once
        postings: defaultdict[str, dict[int, float]] = defaultdict(dict)
        self._forward: list[dict[str, float]] = []  # per entry: term -> weight
        self._phrasings: list[list[str]] = []  # per entry: normalised phrasings (fuzzy)
        lengths: list[float] = []
        semantic = method in SEMANTIC_METHODS
        folded: list[list[str]] = []  # per entry: folded phrasings, for the embeddings
        folded_answers: list[list[str]] = []
        for index, entry in enumerate(self.entries):
            lang = entry.lang
            split = [words(phrasing) for phrasing in entry.phrasings]
            answer_words = words(entry.answer)
            if semantic:
                folded.append([" ".join(phrasing_words) for phrasing_words in split])
                folded_answers.append([" ".join(answer_words)])
            found = [memo.of_words(phrasing_words, lang) for phrasing_words in split]
            # Weight of a word: how many phrasings use it (once each, in order of first use).
            counts: dict[str, float] = {}
            get = counts.get
            for phrasing_terms in found:
                for word in dict.fromkeys(phrasing_terms):
                    counts[word] = get(word, 0.0) + 1.0
            for word in memo.of_words(answer_words, lang):
                counts.setdefault(word, ANSWER_WEIGHT)
            for word, weight in counts.items():
                postings[word][index] = weight
            self._forward.append(counts)
            lengths.append(sum(counts.values()))
            self._phrasings.append([" ".join(words) for words in found])
        self._postings = dict(postings)  # a plain dict: lookups must not add words
        count = max(len(self.entries), 1)
        self._lengths = lengths
        self._average_length = (sum(lengths) / count) or 1.0
        self._idf = {
            word: math.log(1.0 + (count - len(posting) + 0.5) / (len(posting) + 0.5))
            for word, posting in self._postings.items()
        }
        self._max_idf = math.log(1.0 + (count + 0.5) / 0.5)
        self._by_initial: dict[str, list[str]] = defaultdict(list)
        for word in self._postings:
            self._by_initial[word[0]].append(word)
        self._expand = lru_cache(maxsize=8192)(self._expand_uncached)
        self._split = lru_cache(maxsize=8192)(self._split_uncached)
        self._tails: dict[str, list[str]] | None = None  # see _compounds_ending_in
        self._capped_postings: dict[str, tuple[list[int], list[float]]] = {}  # see _capped
        self._flat: tuple[list[str], list[int]] | None = None  # built on first fuzzy search
        self._semantic: SemanticIndex | None = None
        self._answers: SemanticIndex | None = None
        if semantic:
            dims = HYBRID_DIMS if method == "hybrid" else None
            self._semantic = SemanticIndex(
                folded,
                dims=dims,
                cache_dir=cache_dir,
            )
        if method == "hybrid":
            self._answers = SemanticIndex(
                folded_answers,
                dims=HYBRID_DIMS,
                cache_dir=cache_dir,
            )

    def __len__(self) -> int:
        return len(self.entries)

    # -- searching ---------------------------------------------------------------------------

    def search(self, text: str, *, lang: str | None = None, limit: int = 3) -> list[Match]:
        """Return up to ``limit`` entries for ``text``, best first, each with a 0-1 score.

        ``lang`` is the visitor's language if known: its stop words are used, and entries in
        other languages are ranked a little lower (they still match: a Czech visitor may
        well ask in English).
        """
        if not self.entries:
            return []
        parts = message_parts(text) if self.understand else [text]
        if self._semantic is not None:
            scored = self._semantic_scores(parts, lang, limit)
        else:
            scored = {}
            for part in parts:
                for index, score in self._score_part(part, lang, limit).items():
                    if score > scored.get(index, 0.0):
                        scored[index] = score
        if lang:
            base = _base_lang(lang)
            for index in scored:
                entry_lang = self.entries[index].lang
                if entry_lang and _base_lang(entry_lang) != base:
                    scored[index] *= OTHER_LANGUAGE_FACTOR
        best = sorted(scored.items(), key=lambda item: item[1], reverse=True)[:limit]
        return [Match(self.entries[i], round(min(max(s, 0.0), 1.0), 4)) for i, s in best if s > 0]

    def _semantic_scores(
        self, parts: Sequence[str], lang: str | None, limit: int
    ) -> dict[int, float]:
        """Score the ``semantic`` or ``hybrid`` candidates (see the module docstring)."""
        semantic = self._semantic
        if semantic is None or not parts:
            return {}
        glossed = [g for g in map(self.glossary.gloss, parts) if g is not None]
        # One embedding per part (and per glossed part), shared by both matrices. A glossed
        # part's row is scaled by GLOSSED_SEMANTIC_FACTOR, so are its cosines: a phrasing in
        # the visitor's own words beats the English one a gloss reaches, in one product.
        queries = semantic.embed([*parts, *glossed])
        if glossed:
            queries[len(parts) :] *= GLOSSED_SEMANTIC_FACTOR
        similarity = semantic.similarities_to(queries)
        if self._answers is None:  # "semantic"
            top = _top(similarity, max(limit, CANDIDATES))
            return {i: float(similarity[i]) for i in top}
        combined = SEMANTIC_WEIGHT * similarity + ANSWER_SEMANTIC_WEIGHT * (
            self._answers.similarities_to(queries)
        )
        top = _top(combined, SEMANTIC_CANDIDATES)
        lexical: dict[int, float] = {}
        for part in parts:
            query = terms(part, lang)
            if not query:
                continue
            coverage, bm25 = self._bm25(query, extra=top, glosses=self._glosses(part, lang))
            ranked = heapq.nlargest(CANDIDATES, coverage, key=lambda i: (coverage[i], bm25[i]))
            for index in {*ranked, *top}:
                value = coverage.get(index, 0.0)
                if value > lexical.get(index, -1.0):
                    lexical[index] = value
        rest = 1.0 - SEMANTIC_WEIGHT - ANSWER_SEMANTIC_WEIGHT
        return {
            index: float(combined[index]) + rest * lexical.get(index, 0.0)
            for index in {*lexical, *top}
        }

    def _score_part(self, text: str, lang: str | None, limit: int) -> dict[int, float]:
        """Score the entries for one part of the message (lexical methods)."""
        query = terms(text, lang)
        if not query or self.method == "semantic":
            return {}
        if self.method == "fuzzy":
            return self._fuzzy_all(" ".join(query))
        coverage, bm25 = self._bm25(query, glosses=self._glosses(text, lang))
        ranked = heapq.nlargest(
            max(limit, CANDIDATES), coverage, key=lambda i: (coverage[i], bm25[i])
        )
        if self.method == "bm25":
            return {i: coverage[i] for i in ranked}
        joined = " ".join(query)
        return {
            i: BLEND_WEIGHT * coverage[i] + (1.0 - BLEND_WEIGHT) * self._fuzzy_entry(joined, i)
            for i in ranked[:CANDIDATES]
        }

    def _glosses(self, text: str, lang: str | None) -> dict[str, tuple[str, ...]]:
        """Map each glossed word of ``text`` (as a query term) to the index words of its
        English glosses (glossary.py); empty when no word of it has a gloss."""
        found: dict[str, tuple[str, ...]] = {}
        for word in words(text):
            glosses = self.glossary.of(word)
            if not glosses:
                continue
            known = tuple(t for t in terms(" ".join(glosses), "en") if t in self._postings)
            if known:
                found[stem(word)] = known
        return found

    def _bm25(
        self,
        query: list[str],
        *,
        extra: Iterable[int] = (),
        glosses: dict[str, tuple[str, ...]] | None = None,
    ) -> tuple[dict[int, float], dict[int, float]]:
        """Return (idf-weighted query coverage, BM25 score) for the candidate entries.

        ``extra`` entries (the semantic candidates of ``hybrid``) are scored exactly too.

        The postings of the query's words are walked rarest first, up to ``MAX_POSTINGS`` in
        all (always the rarest word's), to estimate each entry's coverage; the best
        ``RESCORE`` estimates are then scored exactly on every query word through the
        forward index. An entry that shares only the commonest words cannot reach a useful
        coverage anyway, and skipping it keeps a 10k-entry FAQ well under 2 ms a question.
        """
        weights: dict[str, float] = {}
        total = 0.0
        # A glossed word also matches its English glosses, credited once: the best gloss an
        # entry has, less what the word itself already earned there (glossary.py).
        groups: list[tuple[tuple[tuple[str, float], ...], tuple[tuple[str, float], ...]]] = []
        glossed = glosses or {}
        for word in query if glossed else ():
            found = glossed.get(word)
            if found:
                own = tuple((known, w * self._idf[known]) for known, w in self._expand(word))
                groups.append((own, tuple((k, GLOSS_WEIGHT * self._idf[k]) for k in found)))
        query = [part for word in query for part in self._split(word)]
        for word in query:
            # A word the FAQ never uses still counts as information the answer must cover.
            total += self._idf.get(word, self._max_idf)
            for known, weight in self._expand(word):
                weights[known] = max(weights.get(known, 0.0), weight)
        if total <= 0 or not (weights or groups):
            return {}, {}
        scored = [(word, weight * self._idf[word]) for word, weight in weights.items()]
        walked = [*scored, *(alt for _own, alts in groups for alt in alts)]
        # Term at a time, rarest first, over at most MAX_POSTINGS postings: a first estimate.
        # A word in more entries than that (only possible when it is the rarest word of the
        # question) cannot rank them: its first MAX_POSTINGS entries stand for all.
        partial: dict[int, float] = {}
        visited = 0
        for word, weighted_idf in sorted(walked, key=lambda item: len(self._postings[item[0]])):
            posting = self._postings[word]
            if visited and visited + len(posting) > MAX_POSTINGS:
                break  # the remaining words are commoner still
            indices, capped = self._capped(word)
            visited += len(indices)
            values = [weighted_idf * tf for tf in capped]
            if not partial:  # the rarest word: most often the only one walked
                partial = dict(zip(indices, values, strict=True))
                continue
            get = partial.get
            for index, value in zip(indices, values, strict=True):
                partial[index] = get(index, 0.0) + value
        candidates = {*heapq.nlargest(RESCORE, partial, key=partial.__getitem__), *extra}
        coverage: dict[int, float] = {}
        bm25: dict[int, float] = {}
        average = self._average_length
        for index in candidates:
            terms_of = self._forward[index]
            length_norm = _K1 * (1 - _B + _B * self._lengths[index] / average)
            matched = score = 0.0
            for word, weighted_idf in scored:
                weight = terms_of.get(word, 0.0)
                if weight:
                    score += weighted_idf * weight * (_K1 + 1) / (weight + length_norm)
                    matched += weighted_idf * min(weight, 1.0)
            for own, alts in groups:
                best = max((w for known, w in alts if known in terms_of), default=0.0)
                earned = sum(w * min(terms_of.get(known, 0.0), 1.0) for known, w in own)
                if best > earned:
                    matched += best - earned
                    score += best - earned
            coverage[index] = min(matched / total, 1.0)
            bm25[index] = score
        return coverage, bm25

    def _capped(self, word: str) -> tuple[list[int], list[float]]:
        """Return the first ``MAX_POSTINGS`` entries of ``word`` and its weight in each,
        capped at 1: what :meth:`_bm25`'s first estimate adds (kept per word on first use,
        so a question walks two flat lists instead of a dict with a ``min`` per entry)."""
        found = self._capped_postings.get(word)
        if found is None:
            posting = self._postings[word]
            indices = list(itertools.islice(posting, MAX_POSTINGS))
            found = self._capped_postings[word] = (
                indices,
                [min(posting[index], 1.0) for index in indices],
            )
        return found

    def _compounds_ending_in(self) -> dict[str, list[str]]:
        """Map each last part of the FAQ's long words to those words (built on first use).

        A German compound names its kind last: a visitor's "Gutschein" is what the FAQ's
        "Geschenkgutscheine" is about. Only words of at least ``_COMPOUND_MIN_LENGTH + 1``
        letters can hold a first part and a last part of the minimum sizes.
        """
        if self._tails is None:
            tails: defaultdict[str, list[str]] = defaultdict(list)
            for known in self._postings:
                for cut in range(_COMPOUND_MIN_PART, len(known) - _COMPOUND_MIN_TAIL + 1):
                    tails[known[cut:]].append(known)
            self._tails = dict(tails)
        return self._tails

    def _split_uncached(self, word: str) -> tuple[str, ...]:
        """Split a compound the FAQ does not know into two words it does.

        German (and Czech) glue words together: a visitor's "Versandkosten" meets the FAQ's
        "Versand" and "kostet" only as its parts. The longest known first part wins; a
        German linking "s" between the parts is allowed ("Lieferungskosten").
        """
        if word in self._postings or len(word) < _COMPOUND_MIN_LENGTH:
            return (word,)
        known = self._postings
        for cut in range(len(word) - _COMPOUND_MIN_PART, _COMPOUND_MIN_PART - 1, -1):
            head = _known_form(word[:cut], known)
            if head is None:
                continue
            tail = word[cut:]
            for rest in (tail, tail[1:] if tail[0] == "s" else ""):
                if len(rest) >= _COMPOUND_MIN_PART:
                    found = _known_form(rest, known)
                    if found is not None:
                        return (head, found)
        return (word,)

    def _expand_uncached(self, word: str) -> tuple[tuple[str, float], ...]:
        """Map a query word to index words: itself if known, else its closest spellings."""
        if word in self._postings:
            return ((word, 1.0),)
        if len(word) < _TYPO_MIN_LENGTH:
            return ()
        compounds = self._compounds_ending_in().get(word)
        if compounds:
            return tuple((known, _TYPO_WEIGHT) for known in compounds[:_COMPOUND_LIMIT])
        found = process.extract(
            word,
            self._by_initial.get(word[0], ()),
            scorer=Levenshtein.distance,
            score_cutoff=_TYPO_MAX_EDITS if len(word) >= 7 else 1,
            limit=2,
        )
        return tuple((known, _TYPO_WEIGHT) for known, _distance, _i in found)

    def _fuzzy_entry(self, query: str, index: int) -> float:
        return (
            max(
                (fuzz.token_sort_ratio(query, phrasing) for phrasing in self._phrasings[index]),
                default=0.0,
            )
            / 100.0
        )

    def _fuzzy_all(self, query: str) -> dict[int, float]:
        if self._flat is None:
            self._flat = (
                [text for texts in self._phrasings for text in texts],
                [index for index, texts in enumerate(self._phrasings) for _text in texts],
            )
        flat, owners = self._flat
        best: dict[int, float] = {}
        found = process.extract(query, flat, scorer=fuzz.token_set_ratio, limit=None)
        for _text, score, position in found:
            owner = owners[position]
            value = float(score) / 100.0
            if value > best.get(owner, 0.0):
                best[owner] = value
        return best


def _known_form(part: str, known: dict[str, Any]) -> str | None:
    """Return ``part`` or its stem if the index knows it, else None."""
    if part in known:
        return part
    stemmed = stem(part)
    return stemmed if stemmed in known else None


def _top(scores: Any, count: int) -> list[int]:
    """Return the indices of the ``count`` highest scores (any order): argpartition, O(n)."""
    if len(scores) <= count:
        return list(range(len(scores)))
    return [int(i) for i in scores.argpartition(len(scores) - count)[-count:]]


def _base_lang(lang: str) -> str:
    return lang.split("-")[0].split("_")[0].lower()


def folded_phrasings(entries: Iterable[FaqEntry]) -> list[str]:
    """Return every phrasing folded (for display and debugging)."""
    return [fold(p) for entry in entries for p in entry.phrasings]
