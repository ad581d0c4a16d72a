"""The glossary: Czech and German shop words reach English phrasings (plugins/faq/glossary.py).

Why: a visitor's Czech or German paraphrase rarely shares a word with the FAQ's one Czech or
German phrasing, while its English phrasings say the same thing. The FAQ here is written for
these tests (not an eval set), so each test shows one rule: the gloss is found through
inflection, a word is credited once, the visitor's own language still wins a tie, and a
team's ``[glossary]`` adds its trade's words.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agentbot.testing import HarnessFactory
from agentbot_plugins.faq.entries import FaqEntry, FaqFileError, load_faq, parse_faq
from agentbot_plugins.faq.glossary import (
    CS,
    DE,
    EN,
    MAX_ENDING,
    Glossary,
    default_glossary,
    glossary_for,
)
from agentbot_plugins.faq.matcher import FaqIndex

ENTRIES = (
    FaqEntry(
        id="tracking",
        question="How can I track my parcel?",
        alternatives=("I have not received a tracking number",),
        answer="The tracking link is in the e-mail we send when the parcel leaves.",
    ),
    FaqEntry(
        id="returns",
        question="How do I return goods?",
        alternatives=("What is your return policy?",),
        answer="Return unused goods within 30 days with the form in your account.",
    ),
    FaqEntry(
        id="hours",
        question="What are your opening hours?",
        alternatives=("When is the shop open?",),
        answer="Monday to Friday 9:00-18:00.",
    ),
)


def test_a_word_beginning_covers_the_inflected_forms() -> None:
    glossary = default_glossary()
    for form in ("objednavka", "objednavku", "objednat", "objednam"):
        assert glossary.of(form) == ("order",), form
    assert glossary.of("zasilky") == ("parcel", "shipment")
    assert glossary.of("bestellung") == ("order",)


def test_a_key_does_not_reach_words_that_only_start_like_it() -> None:
    glossary = Glossary({"vrat": "return"})
    assert glossary.of("vratit") == ("return",)
    assert glossary.of("vrat" + "x" * (MAX_ENDING + 1)) == ()  # another, longer word
    assert Glossary({"kde": "where"}).of("kdekoli") == ()  # short keys: whole words only
    assert Glossary({"kde": "where"}).of("kde") == ("where",)


def test_english_synonyms_match_whole_words_and_keep_the_word() -> None:
    glossary = Glossary(whole_words={"package": "parcel"})
    assert glossary.of("package") == ("package", "parcel")
    assert glossary.of("packages") == ()


def test_the_tables_are_folded_single_words() -> None:
    # Keys are compared with folded words: a key with diacritics or two words never matches.
    for table in (CS, DE, EN):
        for key in table:
            assert key == key.lower(), key
            assert key.isascii(), key
    assert len(default_glossary()) >= 300


def test_gloss_replaces_the_glossed_words_and_keeps_the_rest() -> None:
    glossary = default_glossary()
    glossed = glossary.gloss("Nedostal jsem číslo zásilky")
    assert glossed == "not received jsem cislo parcel shipment"
    assert glossary.gloss("xyz qqq") is None  # nothing to embed a second time


@pytest.mark.parametrize("method", ["bm25", "hybrid"])
def test_a_czech_paraphrase_finds_the_english_phrasing(method: str) -> None:
    question = "Nedostal jsem sledovací číslo zásilky"
    with_gloss = FaqIndex(ENTRIES, method=method)
    without = FaqIndex(ENTRIES, method=method, glossary=Glossary())
    found = with_gloss.search(question)
    assert found
    assert found[0].entry.id == "tracking"
    plain = without.search(question)
    assert not plain or plain[0].score < found[0].score


def test_a_glossed_word_is_credited_once() -> None:
    # "zasilky" glosses to parcel AND shipment (equally rare here); an entry using both
    # gains what one of them gives, not twice as much.
    one = FaqEntry(id="one", question="shipment", answer="-")
    both = FaqEntry(id="both", question="parcel shipment", answer="-")
    other = FaqEntry(id="other", question="parcel", answer="-")
    index = FaqIndex((one, both, other), method="bm25")
    scores = {m.entry.id: m.score for m in index.search("zasilky")}
    assert scores["one"] > 0
    assert scores["both"] == pytest.approx(scores["one"])


def test_the_visitors_own_words_beat_a_gloss() -> None:
    # One entry in Czech, one in English, saying the same: the Czech question picks Czech.
    czech = FaqEntry(id="cs", question="Kdy máte otevřeno?", answer="Po-Pá 9-18.", lang="cs")
    english = FaqEntry(id="en", question="When are you open?", answer="Mon-Fri 9-18.", lang="en")
    index = FaqIndex((czech, english), method="hybrid")
    found = index.search("kdy mate otevreno")
    assert found[0].entry.id == "cs"


def test_a_faq_file_adds_its_own_words(tmp_path: Path) -> None:
    path = tmp_path / "faq.toml"
    path.write_text(
        """
[glossary]
retez = "chain"

[[entry]]
id = "chain"
question = "Do you sell bike chains?"
answer = "Yes, from 300 CZK."
""",
        encoding="utf-8",
    )
    faq = load_faq(path)
    assert faq.glossary == {"retez": "chain"}
    index = FaqIndex(faq.entries, method="bm25", glossary=glossary_for(faq.glossary))
    assert [m.entry.id for m in index.search("prodáváte řetězy?")] == ["chain"]
    assert not FaqIndex(faq.entries, method="bm25").search("prodáváte řetězy?")
    assert glossary_for({}) is default_glossary()


@pytest.mark.parametrize(
    "table", ['glossary = "chain"', '[glossary]\n"two words" = "x"', '[glossary]\nretez = ""']
)
def test_a_bad_glossary_is_a_clear_error(table: str) -> None:
    text = table + '\n[[entry]]\nquestion = "q"\nanswer = "a"\n'
    with pytest.raises(FaqFileError, match="glossary"):
        parse_faq(text, path="faq.toml")


async def test_the_plugin_uses_its_files_glossary(
    tmp_path: Path, agentbot_harness: HarnessFactory
) -> None:
    # Through the plugin: the file's [glossary] reaches the index the plugin builds. Without
    # it no word of the question is in the FAQ and the bot stays silent; with it the entry
    # is found (a one-entry FAQ scores low, so the test asks at a low clarify threshold).
    path = tmp_path / "faq.toml"
    path.write_text(
        '[glossary]\nretez = "chain"\n\n[[entry]]\nid = "chain"\n'
        'question = "Do you sell bike chains?"\nanswer = "Yes, from 300 CZK."\n',
        encoding="utf-8",
    )
    options = {"file": str(path), "method": "bm25", "clarify_threshold": 0.05}
    async with agentbot_harness(config={"plugins": {"faq": options}}) as h:
        visitor = await h.visitor("Ada")
        await visitor.say("prodáváte řetězy?")
        await h.advance(30)  # virtual: the paced reply is out
        (reply,) = [reply.text for reply in visitor.replies()]
        assert "Do you sell bike chains?" in reply
