"""The embedding cache of the semantic methods: reused when the texts match, never trusted
blindly, and a folder that refuses writes costs only the speed-up."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from agentbot_plugins.faq import FaqIndex, load_faq, semantic
from agentbot_plugins.faq.semantic import SemanticIndex, cache_key

EVAL = Path(__file__).resolve().parent.parent / "data" / "faq_eval"
TEXTS = [["how long does shipping take", "when will my order arrive"], ["kolik stoji doprava"]]


def test_second_build_reads_the_vectors_the_first_stored(tmp_path: Path) -> None:
    first = SemanticIndex(TEXTS, dims=64, cache_dir=tmp_path)
    assert not first.cached
    assert [p.name for p in tmp_path.iterdir()] == [f"{cache_key(_flat(TEXTS), 64)}.npy"]
    second = SemanticIndex(TEXTS, dims=64, cache_dir=tmp_path)
    assert second.cached
    query = first.embed(["shipping time"])
    assert np.array_equal(first.similarities_to(query), second.similarities_to(query))


def test_other_texts_or_dimensions_are_other_files(tmp_path: Path) -> None:
    SemanticIndex(TEXTS, dims=64, cache_dir=tmp_path)
    assert not SemanticIndex(TEXTS, dims=None, cache_dir=tmp_path).cached
    changed = [TEXTS[0], ["kolik stoji postovne"]]
    assert not SemanticIndex(changed, dims=64, cache_dir=tmp_path).cached
    assert len(list(tmp_path.iterdir())) == 3


def test_a_damaged_cache_file_is_embedded_again(tmp_path: Path) -> None:
    path = tmp_path / f"{cache_key(_flat(TEXTS), 64)}.npy"
    path.write_bytes(b"not numpy at all")
    assert not SemanticIndex(TEXTS, dims=64, cache_dir=tmp_path).cached
    np.save(path, np.zeros((2, 64), dtype=np.float32))  # wrong number of rows
    assert not SemanticIndex(TEXTS, dims=64, cache_dir=tmp_path).cached
    assert SemanticIndex(TEXTS, dims=64, cache_dir=tmp_path).cached  # rewritten right


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only folders")
def test_a_read_only_folder_keeps_the_vectors_in_memory(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        index = SemanticIndex(TEXTS, dims=64, cache_dir=folder)
        assert not index.cached
        assert index.similarities(["shipping time"])[0] > 0
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o700)


def test_a_cache_that_cannot_be_a_folder_costs_only_speed(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder would go")
    index = SemanticIndex(TEXTS, dims=64, cache_dir=blocker / "cache")
    assert not index.cached
    assert index.similarities(["shipping time"])[0] > 0


def test_cached_hybrid_index_ranks_exactly_as_a_fresh_one(tmp_path: Path) -> None:
    entries = load_faq(EVAL / "faq.toml").entries
    fresh = FaqIndex(entries)
    FaqIndex(entries, cache_dir=tmp_path)
    cached = FaqIndex(entries, cache_dir=tmp_path)
    assert cached._semantic is not None
    assert cached._semantic.cached
    for question in ("how long does delivery take", "kolik stoji postovne", "wo ist mein paket"):
        assert cached.search(question) == fresh.search(question)


def _flat(texts: list[list[str]]) -> list[str]:
    return [text for group in texts for text in group]


def test_two_pass_search_of_a_large_index_finds_what_the_exact_one_finds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Large is > 4 x PREFILTER_ROWS phrasings: made small here so the test stays fast.
    monkeypatch.setattr(semantic, "PREFILTER_ROWS", 16)
    entries = load_faq(EVAL / "faq.toml").entries
    texts = [list(entry.phrasings) for entry in entries]
    two_pass = SemanticIndex(texts)
    assert two_pass._coarse is not None  # the two-pass path is the one under test
    monkeypatch.setattr(semantic, "PREFILTER_ROWS", 10**6)
    exact = SemanticIndex(texts)
    assert exact._coarse is None
    for question in ("how long does delivery take", "can I pay by card", "wo ist mein paket"):
        query = exact.embed([question])
        a, b = exact.similarities_to(query), two_pass.similarities_to(query)
        assert int(a.argmax()) == int(b.argmax())
        assert float(b.max()) == pytest.approx(float(a.max()), abs=1e-5)
