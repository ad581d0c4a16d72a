"""The FAQ matcher's fast paths compute exactly what the plain ones do.

Speed itself is measured by benchmarks/faq.py, never asserted here; these tests pin the
results: the embedding shortcut against wordllama's own ``embed``, bit for bit, the row
maximum against numpy's, and BM25's first estimate against the plain walk it replaced.
"""

from __future__ import annotations

import heapq
import random
from collections import defaultdict

import numpy as np
import pytest

from agentbot_plugins.faq import FaqEntry, FaqIndex, matcher, semantic
from agentbot_plugins.faq.semantic import SemanticIndex, load_model
from agentbot_plugins.faq.text import terms

pytest.importorskip("wordllama")

FOLDED = [
    "how long does shipping take",
    "kolik stoji doprava do polska",
    "wo ist mein paket",
    "a",
    "",
    "versandkosten fur geschenkgutscheine",
    "zhttp 12345 x9",
]
ODD = [
    "  two leading",
    "trailing ",
    "double  space",
    "tab\tinside",
    "žluťoučký kůň",
    "日本語 テキスト",
]


def _many(texts: list[str]) -> list[str]:
    """Enough texts for the word-by-word tokenisation (made distinct, lengths varied)."""
    count = semantic._WORD_SPLIT_MIN_TEXTS
    return [f"{texts[i % len(texts)]} {' '.join(['word'] * (i % 9))}".strip() for i in range(count)]


@pytest.mark.parametrize("dims", [None, 64, 128])
@pytest.mark.parametrize(
    "texts",
    [
        FOLDED,
        ODD,
        _many(FOLDED),
        [*_many(FOLDED), *ODD],
        _many([*FOLDED, "a\u2581b c", "\u2581lead"]),
        [""],
        ["long text " * 200, "short"],
    ],
    ids=["few", "odd", "many", "many-odd", "many-with-word-marks", "empty", "long"],
)
def test_average_tokens_is_wordllamas_embed_bit_for_bit(texts: list[str], dims: int | None) -> None:
    model = load_model()
    expected = model.embed(list(texts), batch_size=semantic.EMBED_BATCH)[:, :dims]
    found = semantic._average_tokens(model, texts, dims)
    assert found.dtype == np.float32
    assert found.shape == expected.shape
    assert np.array_equal(found, expected)


def test_word_by_word_token_ids_are_the_whole_texts_ids() -> None:
    tokenizer = load_model().tokenizer
    texts = _many(FOLDED)
    flat, starts, lengths = semantic._token_ids(tokenizer, texts)
    assert len(texts) >= semantic._WORD_SPLIT_MIN_TEXTS  # the word-by-word path
    for text, start, length in zip(texts, starts, lengths, strict=True):
        whole = tokenizer.encode(text, add_special_tokens=False).ids
        assert flat[start : start + length].tolist() == whole


@pytest.mark.parametrize(
    "vocabulary",
    [["shipping", "", "kolik", "12345", "x9", "žluťoučký", "日本語"], ["a\u2581b", "plain"]],
    ids=["plain", "word-mark"],
)
def test_vocabulary_ids_are_each_words_own_ids(vocabulary: list[str]) -> None:
    tokenizer = load_model().tokenizer
    tokens, starts, lengths = semantic._vocabulary_ids(tokenizer, vocabulary)
    for word, start, length in zip(vocabulary, starts, lengths, strict=True):
        alone = tokenizer.encode(word, add_special_tokens=False).ids if word else []
        assert tokens[start : start + length].tolist() == alone


@pytest.mark.parametrize("columns", [1, 2, 7])
def test_row_max_is_numpys(columns: int) -> None:
    products = np.random.default_rng(columns).standard_normal((1000, columns)).astype(np.float32)
    assert np.array_equal(semantic._row_max(products), products.max(axis=1))


@pytest.mark.parametrize("sizes", [[1, 1, 1], [4, 4, 4, 4], [1, 3, 2, 5, 1, 1, 4]])
def test_best_phrasing_per_entry_is_reduceats(sizes: list[int]) -> None:
    rng = random.Random(len(sizes))
    texts = [[f"question {rng.random()}" for _ in range(size)] for size in sizes]
    index = SemanticIndex(texts, dims=64)
    rows = sum(sizes)
    cosines = np.random.default_rng(rows).standard_normal(rows).astype(np.float32)
    starts = np.cumsum(sizes) - np.asarray(sizes)
    assert np.array_equal(index._best_per_entry(cosines), np.maximum.reduceat(cosines, starts))


def _plain_candidates(index: FaqIndex, query: list[str]) -> list[int]:
    """BM25's first estimate as it was first written: a defaultdict, entry by entry."""
    weights: dict[str, float] = {}
    for word in (part for term in query for part in index._split(term)):
        for known, weight in index._expand(word):
            weights[known] = max(weights.get(known, 0.0), weight)
    scored = [(word, weight * index._idf[word]) for word, weight in weights.items()]
    partial: defaultdict[int, float] = defaultdict(float)
    visited = 0
    for word, weighted_idf in sorted(scored, key=lambda item: len(index._postings[item[0]])):
        posting = index._postings[word]
        if visited and visited + len(posting) > matcher.MAX_POSTINGS:
            break
        items = list(posting.items())[: matcher.MAX_POSTINGS]
        visited += len(items)
        for entry, tf in items:
            partial[entry] += weighted_idf * min(tf, 1.0)
    return heapq.nlargest(matcher.RESCORE, partial, key=partial.__getitem__)


def test_bm25_first_estimate_picks_the_plain_walks_candidates_in_its_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Few words over many entries: long postings, truncated ones, and many tied estimates.
    monkeypatch.setattr(matcher, "MAX_POSTINGS", 60)
    rng = random.Random(3)
    vocabulary = ["bike", "order", "return", "invoice", "helmet", "wheel", "saddle", "brake"]
    entries = [
        FaqEntry(
            id=f"e{number}",
            question=" ".join(rng.sample(vocabulary, rng.randint(1, 4))) + "?",
            answer=" ".join(rng.choices(vocabulary, k=3)),
            alternatives=(" ".join(rng.sample(vocabulary, 2)),),
        )
        for number in range(400)
    ]
    index = FaqIndex(entries, method="bm25")
    questions = [" ".join(rng.sample(vocabulary, rng.randint(1, 5))) for _ in range(60)]
    for question in ["helmett brake", "saddle", *questions]:
        query = terms(question)
        coverage, _bm25 = index._bm25(query)
        assert list(coverage) == list(set(_plain_candidates(index, query)))
