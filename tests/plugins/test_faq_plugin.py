"""faq on the sandbox: answers, "did you mean…?", follow-ups, reloading the file."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import pytest

from agentbot import ConfigError, Reply
from agentbot.testing import BotHarness, HarnessFactory, SimulatedVisitor

PACE = 30.0  # virtual seconds for the bot to send what it paced (8 s a message at most)
EVAL = Path(__file__).resolve().parent.parent / "data" / "faq_eval"

SMALL = """\
[[entry]]
id = "hours"
question = "What are your opening hours?"
alternatives = ["When are you open?"]
answer = "We are open 9-17."

[[entry]]
id = "shipping"
question = "How much does shipping cost?"
answer = "Shipping is 5 EUR."

[[entry]]
id = "shipping-time"
question = "How long does shipping take?"
answer = "2-4 days."
"""


def write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def plugins(sections: dict[str, Any]) -> dict[str, Any]:
    return {"plugins": sections}


def texts(visitor: SimulatedVisitor) -> list[str]:
    return [reply.text for reply in visitor.replies()]


async def say(h: BotHarness, visitor: SimulatedVisitor, text: str) -> None:
    await visitor.say(text)
    await h.advance(PACE)


@pytest.fixture
def faq_file(tmp_path: Path) -> Path:
    path = tmp_path / "faq.toml"
    path.write_text(SMALL, encoding="utf-8")
    return path


async def test_answers_a_paraphrase_and_stays_silent_off_topic(
    agentbot_harness: HarnessFactory,
) -> None:
    async with agentbot_harness(config=plugins({"faq": {"file": str(EVAL / "faq.toml")}})) as h:
        v = await h.visitor("Ada")
        await say(h, v, "opening hours pls")
        await say(h, v, "what's the weather like in Prague")
        await say(h, v, "kolik stoji postovne")
        assert texts(v) == [
            "Our support team is here Monday to Friday, 9:00-17:00 (CET).",
            "Doprava stojí 119 Kč, nad 1 200 Kč je zdarma.",
        ]


async def test_unsure_match_asks_did_you_mean_and_takes_a_number(
    agentbot_harness: HarnessFactory, faq_file: Path
) -> None:
    async with agentbot_harness(
        # The lead rule off: "shipping info" is about both shipping entries, whichever
        # the calibrated rule would pick.
        config=plugins(
            {"faq": {"file": str(faq_file), "clarify_threshold": 0.3, "lead_threshold": 1.0}}
        )
    ) as h:
        v = await h.visitor("Ada")
        await say(h, v, "shipping info")
        (question,) = texts(v)
        assert question.startswith("I'm not sure I understood. Did you mean:\n1. ")
        assert "How much does shipping cost?" in question
        assert "How long does shipping take?" in question
        offered = [line[3:] for line in question.splitlines() if line[:1].isdigit()]
        await say(h, v, str(offered.index("How long does shipping take?") + 1))
        assert texts(v)[1] == "2-4 days."


async def test_clarifying_can_be_turned_off(
    agentbot_harness: HarnessFactory, faq_file: Path
) -> None:
    options = {"file": str(faq_file), "clarify_threshold": 0.3, "clarify": False}
    options["lead_threshold"] = 1.0  # see the test above
    async with agentbot_harness(config=plugins({"faq": options})) as h:
        v = await h.visitor("Ada")
        await say(h, v, "shipping info")
        assert texts(v) == []


async def test_follow_up_question_and_a_no(
    agentbot_harness: HarnessFactory, faq_file: Path
) -> None:
    async with agentbot_harness(
        config=plugins({"faq": {"file": str(faq_file), "follow_up": True}})
    ) as h:
        v = await h.visitor("Ada")
        await say(h, v, "when are you open")
        await say(h, v, "no")
        assert texts(v) == [
            "We are open 9-17.\n\nDid that answer your question?",
            "Sorry about that. Could you tell me more, in other words?",
        ]
        feedback = h.plugin_storage("faq").get("feedback:hours")
        assert feedback == {"helpful": 0, "unhelpful": 1}


async def test_file_reloads_on_change_and_a_broken_one_keeps_the_old(
    agentbot_harness: HarnessFactory, faq_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    options = {"file": str(faq_file), "reload_check_seconds": 1e-9}
    async with agentbot_harness(config=plugins({"faq": options})) as h:
        v = await h.visitor("Ada")
        await say(h, v, "when are you open")
        write(faq_file, SMALL.replace("9-17", "8-20 now"))
        await say(h, v, "what are your opening hours")
        write(faq_file, SMALL + "\n[[entry]]\nquestion = 'orphan'\n")
        with caplog.at_level(logging.ERROR):
            await say(h, v, "opening hours?")
        assert texts(v) == [
            "We are open 9-17.",
            "We are open 8-20 now.",
            "We are open 8-20 now.",
        ]
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("faq.toml:17: entry 4" in e and "keeping the previous version" in e for e in errors)


async def test_broken_file_at_start_is_logged_and_the_bot_runs(
    agentbot_harness: HarnessFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = tmp_path / "faq.toml"
    broken.write_text("[[entry]\n", encoding="utf-8")
    with caplog.at_level(logging.ERROR):
        async with agentbot_harness(
            config=plugins({"faq": {"file": str(broken)}, "greeter": {}})
        ) as h:
            v = await h.visitor()
            await say(h, v, "hello")
            assert texts(v) == ["Hi! How can I help you today?"]
    assert any("faq.toml:1: invalid TOML" in r.getMessage() for r in caplog.records)


async def test_missing_file_option_is_a_config_error(agentbot_harness: HarnessFactory) -> None:
    with pytest.raises(ConfigError, match=r"\[plugins.faq\] file: missing required key"):
        async with agentbot_harness(config=plugins({"faq": {}})):
            pass


async def test_eval_faq_copy_answers_czech_in_czech(
    agentbot_harness: HarnessFactory, tmp_path: Path
) -> None:
    copy = tmp_path / "faq.toml"
    shutil.copy(EVAL / "faq.toml", copy)
    async with agentbot_harness(config=plugins({"faq": {"file": str(copy)}})) as h:
        v = await h.visitor("Ada")
        await say(h, v, "jak dlouho trva doruceni?")
        assert texts(v) == [
            "Objednávky odesíláme do 1 pracovního dne, doručení trvá obvykle 1-2 dny."
        ]


class _Louder:
    """Answers the first message of a chat with more confidence than a "did you mean…?"."""

    def __init__(self) -> None:
        self.answered: set[str] = set()

    def on_visitor_message(self, chat_id: str) -> Reply | None:
        if chat_id in self.answered:
            return None
        self.answered.add(chat_id)
        return Reply("Hello! Let me see.", confidence=0.9)


async def test_suggestions_that_lost_to_another_answer_are_forgotten(
    agentbot_harness: HarnessFactory, faq_file: Path
) -> None:
    options = {"file": str(faq_file), "clarify_threshold": 0.3}
    async with agentbot_harness(
        config=plugins({"faq": options}), plugins=[("louder", _Louder())]
    ) as h:
        v = await h.visitor("Ada")
        await say(h, v, "shipping info")  # faq would ask "did you mean…?" (0.3)
        await say(h, v, "2")  # the visitor never saw a list: "2" is not a choice
        assert texts(v) == ["Hello! Let me see."]
