"""The FAQ plugin's pure parts: normalisation, the file format, matching and the eval set."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentbot import ConfigError
from agentbot_plugins.faq import FaqFileError, FaqIndex, decide, load_faq, parse_faq
from agentbot_plugins.faq.decision import DEFAULT_CLARIFY_THRESHOLD, DEFAULT_THRESHOLD, Decision
from agentbot_plugins.faq.entries import FaqEntry
from agentbot_plugins.faq.evaluate import EvalCase, calibrate_lead, evaluate, load_eval_set
from agentbot_plugins.faq.matcher import METHOD_LEADS, METHOD_THRESHOLDS, Match
from agentbot_plugins.faq.stopwords import stop_words_for
from agentbot_plugins.faq.text import TermMemo, fold, stem, terms

EVAL = Path(__file__).resolve().parent.parent / "data" / "faq_eval"


# -- normalisation ---------------------------------------------------------------------------


def test_fold_removes_case_accents_and_punctuation() -> None:
    assert fold("Žluťoučký KŮŇ, úpěl!") == "zlutoucky kun upel"
    assert fold("Don't   ship_it?!") == "dont ship it"
    assert fold("Straße") == "strasse"


def test_terms_drop_stop_words_of_the_language() -> None:
    assert terms("Which countries do you ship to?", "en") == ["countr", "ship"]
    assert terms("Kolik stojí poštovné?", "cs") == ["kolik", "stoj", "postovn"]
    # Unknown language: every list applies.
    assert "je" not in terms("kde je moje objednávka")


def test_a_question_made_only_of_stop_words_keeps_its_words() -> None:
    assert terms("is it you?", "en") == ["is", "it", "you"]


def test_term_memo_gives_exactly_what_terms_gives() -> None:
    # The index build normalises through a memo; a query goes through terms(): they must
    # agree word for word, or questions would stop meeting their entries.
    texts = [
        ("Which countries do you ship to?", "en"),
        ("Kolik stojí poštovné?", "cs"),
        ("kde je moje objednávka", None),
        ("is it you?", "en"),  # only stop words: kept
        ("Don't   ship_it?! Shipping, ships", "de-AT"),
        ("Straße ﬁle ㎏ e\u0301te", "xx"),
        ("", "en"),
    ]
    memo = TermMemo()
    for _ in range(2):  # the second round answers from the memo
        for text, lang in texts:
            assert memo(text, lang) == terms(text, lang), (text, lang)


def test_stemming_meets_inflections_halfway() -> None:
    assert stem("shipping") == stem("ship") == "ship"
    assert stem("objednavku") == stem("objednavka")
    assert stem("visa") != stem("visit")  # too short to strip: no accidental collisions


def test_stop_words_for_regional_codes() -> None:
    assert stop_words_for("cs-CZ") == stop_words_for("cs")
    assert stop_words_for("xx") >= stop_words_for("en") | stop_words_for("de")


# -- the file format -------------------------------------------------------------------------

GOOD = """\
lang = "en"

[[entry]]
id = "hours"
question = "When are you open?"
alternatives = ["opening hours"]
answer = "9-17."
"""


def test_parse_reads_entries_with_defaults() -> None:
    (entry,) = parse_faq(GOOD).entries
    assert entry == FaqEntry(
        id="hours",
        question="When are you open?",
        alternatives=("opening hours",),
        answer="9-17.",
        lang="en",
        line=3,
    )


def test_entry_lines_are_their_headers_lines() -> None:
    text = (
        "[[entry]]\nquestion = 'a'\nanswer = 'b'\n"
        "\n  [[ entry ]]\nquestion = 'c'\nanswer = 'd'\n"
        "\r\n\t[[entry]]  # third\nquestion = 'e'\nanswer = 'f'\n"
        "[[entry]]\nquestion = 'g'\nanswer = 'h'\n"
    )
    assert [entry.line for entry in parse_faq(text).entries] == [1, 5, 9, 12]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (GOOD + "\n[[entry]]\nquestion = 'x'\n", 9, "needs a non-empty 'answer'"),
        (GOOD + "\n[[entry]]\nquestion = 'x'\nanswr = 'y'\n", 11, "did you mean 'answer'"),
        (GOOD + "\n[[entry]]\nquestion = 'x'\nanswer = 'y'\ntags = 'a'\n", 12, "list of strings"),
        (GOOD + "\n[[entry]]\nid = 'hours'\nquestion = 'x'\nanswer = 'y'\n", 9, "used twice"),
        (GOOD + "\n[[entry]\nquestion = 'x'\n", 9, "invalid TOML"),
        ("colour = 'red'\n", 1, "unknown top-level key"),
    ],
)
def test_malformed_file_names_the_line(text: str, line: int, words: str) -> None:
    with pytest.raises(FaqFileError) as caught:
        parse_faq(text, path="faq.toml")
    assert caught.value.line == line
    assert str(caught.value).startswith(f"faq.toml:{line}: ")
    assert words in str(caught.value)
    assert isinstance(caught.value, ConfigError)


def test_json_file_has_the_same_structure_and_names_lines(tmp_path: Path) -> None:
    good = tmp_path / "faq.json"
    good.write_text('{"entry": [{"question": "Open?", "answer": "9-17"}]}', encoding="utf-8")
    assert load_faq(good).entries[0].id == "entry-1"
    bad = tmp_path / "bad.json"
    bad.write_text(
        '{"entry": [\n  {"question": "Open?", "answer": "9-17"},\n  {"question": "Closed?"}\n]}',
        encoding="utf-8",
    )
    with pytest.raises(FaqFileError, match=r"bad.json:3: entry 2 .*'answer'"):
        load_faq(bad)
    broken = tmp_path / "broken.json"
    broken.write_text('{"entry": [\n  {"question": "Open?",}\n]}', encoding="utf-8")
    with pytest.raises(FaqFileError, match=r"broken.json:2: invalid JSON"):
        load_faq(broken)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FaqFileError, match="no such FAQ file"):
        load_faq(tmp_path / "nope.toml")


# -- matching and deciding -------------------------------------------------------------------


@pytest.fixture(scope="module")
def index() -> FaqIndex:
    return FaqIndex(load_faq(EVAL / "faq.toml").entries)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("delivery takes how long?", "shipping-time"),  # word order
        ("kolik stoji postovne", "shipping-cost-cs"),  # Czech without accents
        ("Můžu platit na dobírku?", "payment-methods-cs"),
    ],
)
def test_paraphrases_find_their_entry(index: FaqIndex, question: str, expected: str) -> None:
    lead_threshold, lead_margin = METHOD_LEADS["hybrid"]  # the plugin's rule
    decision = decide(
        index.search(question), lead_threshold=lead_threshold, lead_margin=lead_margin
    )
    assert decision.kind == "answer"
    assert decision.best is not None
    assert decision.best.entry.id == expected


@pytest.mark.parametrize("question", ["what's the weather like in Prague", "tell me a joke"])
def test_off_topic_questions_are_not_answered(index: FaqIndex, question: str) -> None:
    assert decide(index.search(question)).kind != "answer"


def test_visitor_language_ranks_entries_in_it_first(index: FaqIndex) -> None:
    czech = index.search("jak dlouho trva doruceni", lang="cs")
    assert czech[0].entry.lang == "cs"
    english = index.search("jak dlouho trva doruceni", lang="en")
    assert english[0].score < czech[0].score  # penalised, still found


def test_decide_clarifies_between_thresholds_and_on_ties() -> None:
    a = FaqEntry(id="a", question="a?", answer="A")
    b = FaqEntry(id="b", question="b?", answer="B")
    assert decide([Match(a, 0.9), Match(b, 0.2)]).kind == "answer"
    assert decide([Match(a, 0.9), Match(b, 0.89)]).kind == "clarify"
    assert decide([Match(a, 0.45)]).kind == "clarify"
    assert decide([Match(a, 0.45)], clarify_threshold=None).kind == "silent"
    assert decide([Match(a, 0.1)]).kind == "silent"
    assert decide([]).kind == "silent"


def test_decide_answers_a_clear_lead_below_the_threshold() -> None:
    a = FaqEntry(id="a", question="a?", answer="A")
    b = FaqEntry(id="b", question="b?", answer="B")
    rule = {"threshold": 0.55, "clarify_threshold": 0.35}
    lead = {**rule, "lead_threshold": 0.40, "lead_margin": 0.08}
    assert decide([Match(a, 0.45), Match(b, 0.30)], **lead).kind == "answer"
    assert decide([Match(a, 0.45), Match(b, 0.40)], **lead).kind == "clarify"  # close rival
    assert decide([Match(a, 0.39), Match(b, 0.10)], **lead).kind == "clarify"  # below it
    assert decide([Match(a, 0.45), Match(b, 0.30)], **rule).kind == "clarify"  # no lead rule


def test_calibrate_lead_finds_the_rule_that_separates_right_from_wrong() -> None:
    # Right answers lead their runner-up clearly at modest scores; the wrong one and the
    # must-not-answer one have a close rival or a low score: only a lead rule answers the
    # first without the others.
    a = FaqEntry(id="a", question="a?", answer="A")
    b = FaqEntry(id="b", question="b?", answer="B")
    ranked = {
        "q1": [Match(a, 0.46), Match(b, 0.20)],
        "q2": [Match(a, 0.44), Match(b, 0.25)],
        "q3": [Match(b, 0.47), Match(a, 0.45)],  # expects a: a close call, must not answer
        "q4": [Match(a, 0.25), Match(b, 0.05)],  # must not answer
    }
    cases = [
        EvalCase("q1", "a"),
        EvalCase("q2", "a"),
        EvalCase("q3", "a"),
        EvalCase("q4", None),
    ]
    rule = calibrate_lead(cases, ranked.__getitem__, margin=0.03, max_wrong=0.0, min_quiet=1.0)
    assert rule.lead_threshold is not None
    assert 0.25 < rule.lead_threshold <= 0.44
    assert rule.clarify_threshold <= rule.lead_threshold

    def ask(question: str) -> Decision:
        return decide(
            ranked[question],
            threshold=rule.threshold,
            clarify_threshold=rule.clarify_threshold,
            lead_threshold=rule.lead_threshold,
            lead_margin=rule.lead_margin,
        )

    report = evaluate(cases, ask)
    assert (report.answered_right, report.answered_wrong, report.mna_answered) == (2, 0, 0)


# -- the quality thresholds of issue 7 ------------------------------------------------------


def test_eval_set_is_big_enough() -> None:
    eval_set = load_eval_set(EVAL / "questions.toml")
    answerable = [c for c in eval_set.cases if c.expected is not None]
    silent = [c for c in eval_set.cases if c.expected is None]
    assert len(eval_set.faq.entries) >= 40
    assert len(answerable) >= 200
    assert len(silent) >= 50
    assert {e.lang for e in eval_set.faq.entries} >= {"en", "cs"}


def test_quality_at_the_default_threshold() -> None:
    eval_set = load_eval_set(EVAL / "questions.toml")
    index = FaqIndex(eval_set.faq.entries)  # hybrid, the default method
    assert METHOD_THRESHOLDS["hybrid"] == (DEFAULT_THRESHOLD, DEFAULT_CLARIFY_THRESHOLD)
    lead_threshold, lead_margin = METHOD_LEADS["hybrid"]
    report = evaluate(
        eval_set.cases,
        lambda question: decide(
            index.search(question), lead_threshold=lead_threshold, lead_margin=lead_margin
        ),
    )
    assert report.precision_at_1 >= 0.90, report.summary_lines()
    assert report.wrong_answer_rate <= 0.05, report.summary_lines()
    assert report.must_not_answer_quiet_rate >= 0.90, report.summary_lines()


def test_blend_tolerates_typos() -> None:
    # The semantic score knows no misspelt words, so typos are the lexical methods' job.
    index = FaqIndex(load_faq(EVAL / "faq.toml").entries, method="blend")
    threshold, clarify = METHOD_THRESHOLDS["blend"]
    lead_threshold, lead_margin = METHOD_LEADS["blend"]
    decision = decide(
        index.search("whre is my pakage"),
        threshold=threshold,
        clarify_threshold=clarify,
        lead_threshold=lead_threshold,
        lead_margin=lead_margin,
    )
    assert decision.kind == "answer"
    assert decision.best is not None
    assert decision.best.entry.id == "order-tracking"


def _german_faq() -> list[FaqEntry]:
    faq = """
[[entry]]
id = "shipping-cost"
question = "Was kostet der Versand?"
answer = "Der Versand kostet 5 Euro."

[[entry]]
id = "gift-voucher"
question = "Gibt es Geschenkgutscheine?"
answer = "Ja, ab 20 Euro."

[[entry]]
id = "opening-hours"
question = "Wann haben Sie geöffnet?"
answer = "Montag bis Freitag."
"""
    return list(parse_faq(faq, path="de.toml").entries)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # A compound the FAQ does not use, split into two words it does.
        ("Wie hoch sind die Versandkosten?", "shipping-cost"),
        # A word the FAQ uses only as the last part of a compound.
        ("Kann ich einen Gutschein kaufen?", "gift-voucher"),
    ],
)
def test_german_compounds_meet_the_faq_words(question: str, expected: str) -> None:
    index = FaqIndex(_german_faq(), method="bm25")
    found = index.search(question, lang="de")
    assert found, question  # without the compound rules no word of it is known
    assert found[0].entry.id == expected
