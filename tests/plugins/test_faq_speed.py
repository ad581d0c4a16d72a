"""The FAQ matcher's fast paths compute exactly what the plain ones do.

Speed itself is measured by benchmarks/faq.py, never asserted here; these tests pin the
results: the embedding shortcut against wordllama's own ``embed``, bit for bit, and the
row maximum against numpy's.
"""

from __future__ import annotations

import numpy as np
import pytest

from agentbot_plugins.faq import semantic
from agentbot_plugins.faq.semantic import SemanticIndex, load_model

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
    [FOLDED, ODD, _many(FOLDED), [*_many(FOLDED), *ODD], [""], ["long text " * 200, "short"]],
    ids=["few", "odd", "many", "many-odd", "empty", "long"],
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


@pytest.mark.parametrize("columns", [1, 2, 7])
def test_row_max_is_numpys(columns: int) -> None:
    products = np.random.default_rng(columns).standard_normal((1000, columns)).astype(np.float32)
    assert np.array_equal(semantic._row_max(products), products.max(axis=1))


def test_an_index_of_one_phrasing_each_scores_as_one_of_several() -> None:
    single = SemanticIndex([["how long does shipping take"], ["can i pay by card"]], dims=64)
    padded = SemanticIndex(
        [["how long does shipping take", "how long does shipping take"], ["can i pay by card"]],
        dims=64,
    )
    assert single._one_row_each
    assert not padded._one_row_each
    query = single.embed(["shipping time", "pay with a card"])
    assert np.array_equal(single.similarities_to(query), padded.similarities_to(query))
