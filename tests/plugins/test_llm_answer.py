"""llm_answer in a real bot (the shipped harness) against a local OpenAI-compatible server.

:class:`FakeChatModel` is a fake, not a model: no model runs here. It is an HTTP/1.1 server
on 127.0.0.1 (an anyio TCP listener with h11, so it runs on asyncio and trio alike) that
answers ``POST /v1/chat/completions`` in the shape OpenAI documents for the Chat Completions
API (https://platform.openai.com/docs/api-reference/chat/create, "The chat completion
object": ``id``, ``object: "chat.completion"``, ``created``, ``model``, ``choices[{index,
message{role, content}, finish_reason}]``, ``usage{prompt_tokens, completion_tokens,
total_tokens}``), the shape Ollama's ``/v1`` compatibility layer also serves. It records
every request (body and headers) so the tests can read the prompts the plugin sent.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import h11
import pytest

from agentbot.testing import HarnessFactory
from agentbot_plugins.llm_answer import LlmAnswerConfig, chunk_document, ungrounded_numbers

API_KEY = "sk-test-7c1d9e0f4b2a"

FAQ = """\
[[entry]]
id = "shipping"
question = "How much does shipping cost?"
alternatives = ["What is the delivery fee?"]
answer = "Shipping costs 5 EUR; orders over 1 200 CZK ship free."

[[entry]]
id = "hours"
question = "What are your opening hours?"
answer = "We are open Monday to Friday, 9-17."
"""

HANG = object()
"""A scripted reply: never answer (the plugin's time budget must end the call)."""


class FakeChatModel:
    """A fake chat-completions endpoint: scripted replies, recorded requests (see above)."""

    def __init__(self, replies: list[Any], *, usage: tuple[int, int] = (20, 10)) -> None:
        self.replies = list(replies)
        """Per request, in order: a text (the answer), :data:`HANG`, or an int (an error
        status). The last one repeats."""
        self.usage = usage
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.base_url = ""

    @property
    def prompts(self) -> list[str]:
        """The user message of each request."""
        return [r["messages"][-1]["content"] for r in self.requests]

    def _next(self) -> Any:
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]

    async def handle(self, stream: anyio.abc.ByteStream) -> None:
        connection = h11.Connection(h11.SERVER)
        request: h11.Request | None = None
        body = b""
        async with stream:
            while True:
                event = connection.next_event()
                if event is h11.NEED_DATA:
                    try:
                        connection.receive_data(await stream.receive(65536))
                    except (anyio.EndOfStream, anyio.BrokenResourceError):
                        return
                elif isinstance(event, h11.Request):
                    request, body = event, b""
                elif isinstance(event, h11.Data):
                    body += event.data
                elif isinstance(event, h11.EndOfMessage) and request is not None:
                    await self._answer(connection, stream, request, body)
                    if connection.our_state is not h11.DONE:
                        return
                    connection.start_next_cycle()
                    request = None
                else:
                    return

    async def _answer(
        self,
        connection: h11.Connection,
        stream: anyio.abc.ByteStream,
        request: h11.Request,
        body: bytes,
    ) -> None:
        payload = json.loads(body)
        self.requests.append(payload)
        self.headers.append({k.decode(): v.decode() for k, v in request.headers})
        assert request.method == b"POST"
        assert request.target == b"/v1/chat/completions"
        reply = self._next()
        if reply is HANG:
            await anyio.sleep_forever()
        if isinstance(reply, int):
            status, data = reply, {"error": {"message": "nope", "type": "invalid_request_error"}}
        else:
            prompt, completion = self.usage
            status, data = (
                200,
                {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion",
                    "created": 1_700_000_000,
                    "model": payload["model"],
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": reply},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {
                        "prompt_tokens": prompt,
                        "completion_tokens": completion,
                        "total_tokens": prompt + completion,
                    },
                },
            )
        raw = json.dumps(data).encode()
        headers = [("content-type", "application/json"), ("content-length", str(len(raw)))]
        out = connection.send(h11.Response(status_code=status, headers=headers)) or b""
        out += connection.send(h11.Data(data=raw)) or b""
        out += connection.send(h11.EndOfMessage()) or b""
        await stream.send(out)


@asynccontextmanager
async def serving(model: FakeChatModel) -> AsyncIterator[FakeChatModel]:
    """Serve ``model`` on an ephemeral 127.0.0.1 port for the block."""
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    model.base_url = f"http://127.0.0.1:{port}/v1"
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, model.handle)
        try:
            yield model
        finally:
            tg.cancel_scope.cancel()


@pytest.fixture
def faq_file(tmp_path: Path) -> Path:
    path = tmp_path / "faq.toml"
    path.write_text(FAQ, encoding="utf-8")
    return path


def options(model: FakeChatModel, faq_file: Path, **more: Any) -> dict[str, Any]:
    return {
        "plugins": {
            "llm_answer": {
                "faq_file": str(faq_file),
                "base_url": model.base_url,
                "model": "llama3.1",
                "method": "bm25",
                **more,
            }
        }
    }


async def test_grounded_answer_is_sent_and_cites_the_entry(
    agentbot_harness: HarnessFactory, faq_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="agentbot.plugins.llm_answer")
    async with serving(FakeChatModel(["Shipping is 5 EUR, and free over 1200 CZK."])) as model:
        config = options(model, faq_file)
        async with agentbot_harness(plugins=["llm_answer"], config=config) as harness:
            visitor = await harness.visitor("Ada", lang="en")
            await visitor.say("hi, how much is shipping to Brno? order 123456, ada@example.com")
            reply = await visitor.next_reply()
            assert reply.text == "Shipping is 5 EUR, and free over 1200 CZK."
    (request,) = model.requests
    assert request["model"] == "llama3.1"
    assert request["max_tokens"] == 300
    assert "NO_ANSWER" in request["messages"][0]["content"]
    (prompt,) = model.prompts
    assert "[shipping]\nQ: How much does shipping cost?" in prompt
    assert "1 200 CZK" in prompt
    # Identifiers never leave the bot: the model sees placeholders.
    assert "123456" not in prompt
    assert "ada@example.com" not in prompt
    assert "answered from ['shipping'" in caplog.text


async def test_no_answer_from_the_model_gives_no_reply(
    agentbot_harness: HarnessFactory, faq_file: Path
) -> None:
    async with serving(FakeChatModel(["NO_ANSWER"])) as model:
        config = options(model, faq_file)
        async with agentbot_harness(plugins=["llm_answer"], config=config) as harness:
            visitor = await harness.visitor("Ada", lang="en")
            await visitor.say("How much does shipping cost to Slovakia?")
            await visitor.expect_no_reply()
    assert len(model.requests) == 1


async def test_weak_retrieval_never_calls_the_model(
    agentbot_harness: HarnessFactory, faq_file: Path
) -> None:
    async with serving(FakeChatModel(["It is sunny."])) as model:
        config = options(model, faq_file)
        async with agentbot_harness(plugins=["llm_answer"], config=config) as harness:
            visitor = await harness.visitor("Ada", lang="en")
            await visitor.say("what's the weather like in Prague today?")
            await visitor.expect_no_reply()
    assert model.requests == []


@pytest.mark.parametrize(
    "answer",
    [
        "Shipping costs 7 EUR.",
        "Shipping is 5 EUR, with 10% off for members.",
        "Free over 1000 CZK.",
    ],
)
async def test_an_invented_number_drops_the_answer(
    agentbot_harness: HarnessFactory,
    faq_file: Path,
    caplog: pytest.LogCaptureFixture,
    answer: str,
) -> None:
    caplog.set_level(logging.INFO, logger="agentbot.plugins.llm_answer")
    async with serving(FakeChatModel([answer])) as model:
        config = options(model, faq_file)
        async with agentbot_harness(plugins=["llm_answer"], config=config) as harness:
            visitor = await harness.visitor("Ada", lang="en")
            await visitor.say("How much does shipping cost?")
            await visitor.expect_no_reply()
    assert len(model.requests) == 1
    assert "numbers not in the context ['shipping'" in caplog.text


async def test_timeout_gives_no_reply_and_the_bot_keeps_answering(
    agentbot_harness: HarnessFactory, faq_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="agentbot.plugins.llm_answer")
    async with serving(FakeChatModel([HANG, "We are open Monday to Friday, 9-17."])) as model:
        config = options(model, faq_file, timeout_seconds=3.0)
        async with agentbot_harness(plugins=["llm_answer"], config=config) as harness:
            visitor = await harness.visitor("Ada", lang="en")
            await visitor.say("How much does shipping cost?")
            await visitor.expect_no_reply(within=10)
            assert "no answer within 3 s" in caplog.text
            await visitor.say("What are your opening hours?")
            reply = await visitor.next_reply()
            assert reply.text == "We are open Monday to Friday, 9-17."
            assert harness.plugin_errors == []  # the hook ended itself, within its budget
    assert len(model.requests) == 2


async def test_api_key_is_sent_but_never_logged(
    agentbot_harness: HarnessFactory, faq_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with serving(FakeChatModel([401, "Shipping costs 5 EUR."])) as model:
        config = options(model, faq_file, api_key=API_KEY)
        async with agentbot_harness(plugins=["llm_answer"], config=config) as harness:
            plugin_config = harness.plugin_config("llm_answer")
            assert plugin_config.api_key == API_KEY
            assert API_KEY not in repr(plugin_config)
            visitor = await harness.visitor("Ada", lang="en")
            await visitor.say("How much does shipping cost?")
            await visitor.expect_no_reply()
            await visitor.say("What is the delivery fee?")
            assert (await visitor.next_reply()).text == "Shipping costs 5 EUR."
    assert [h["authorization"] for h in model.headers] == [f"Bearer {API_KEY}"] * 2
    assert "HTTP 401" in caplog.text
    assert API_KEY not in caplog.text
    assert all(API_KEY not in str(r.args) for r in caplog.records)
    assert [
        f.metadata.get("secret") for f in LlmAnswerConfig.__attrs_attrs__ if f.name == "api_key"
    ] == [True]


async def test_token_budget_stops_calls_and_the_cost_is_logged_at_stop(
    agentbot_harness: HarnessFactory, faq_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="agentbot.plugins.llm_answer")
    prices = {"price_per_1k_prompt_tokens": 0.5, "price_per_1k_completion_tokens": 1.5}
    async with serving(FakeChatModel(["Shipping costs 5 EUR."], usage=(200, 50))) as model:
        config = options(model, faq_file, max_tokens_per_run=250, currency="EUR", **prices)
        async with agentbot_harness(plugins=["llm_answer"], config=config) as harness:
            visitor = await harness.visitor("Ada", lang="en")
            await visitor.say("How much does shipping cost?")
            assert (await visitor.next_reply()).text == "Shipping costs 5 EUR."
            await visitor.say("What is the delivery fee?")
            await visitor.expect_no_reply()
            assert "token budget spent (250 this run" in caplog.text
    assert len(model.requests) == 1
    # 200 × 0.5/1k + 50 × 1.5/1k = 0.175
    assert "1 calls (1 answered, 0 refused, 0 failed), 200 prompt + 50 completion tokens" in (
        caplog.text
    )
    assert "cost 0.1750 EUR" in caplog.text


async def test_daily_token_cap_is_kept_in_storage(
    agentbot_harness: HarnessFactory, faq_file: Path, tmp_path: Path
) -> None:
    store = tmp_path / "state.sqlite"
    async with serving(FakeChatModel(["Shipping costs 5 EUR."], usage=(90, 10))) as model:
        config = options(model, faq_file, max_tokens_per_day=100)
        async with agentbot_harness(
            plugins=["llm_answer"], config=config, storage=store, wall_time=1_750_000_000
        ) as harness:
            visitor = await harness.visitor("Ada", lang="en")
            await visitor.say("How much does shipping cost?")
            await visitor.next_reply()
        async with agentbot_harness(
            plugins=["llm_answer"], config=config, storage=store, wall_time=1_750_000_100
        ) as harness:  # a restart, the same day: the cap still holds
            visitor = await harness.visitor("Bob", lang="en")
            await visitor.say("How much does shipping cost?")
            await visitor.expect_no_reply()
        async with agentbot_harness(
            plugins=["llm_answer"], config=config, storage=store, wall_time=1_750_000_000 + 86400
        ) as harness:  # the next day
            visitor = await harness.visitor("Cyd", lang="en")
            await visitor.say("How much does shipping cost?")
            await visitor.next_reply()
    assert len(model.requests) == 2


async def test_documents_folder_is_retrieved_as_context(
    agentbot_harness: HarnessFactory, faq_file: Path, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "returns.md").write_text(
        "# Returns\n\nYou can return an unused bike within 30 days of delivery.\n\n"
        "# Warranty\n\nFrames carry a 5 year warranty.\n",
        encoding="utf-8",
    )
    (docs / "ignored.pdf").write_bytes(b"%PDF")
    async with serving(FakeChatModel(["You can return it within 30 days."])) as model:
        config = options(model, faq_file, documents=str(docs))
        async with agentbot_harness(plugins=["llm_answer"], config=config) as harness:
            visitor = await harness.visitor("Ada", lang="en")
            await visitor.say("Can I return an unused bike?")
            assert (await visitor.next_reply()).text == "You can return it within 30 days."
    (prompt,) = model.prompts
    assert "[doc:returns.md#1]\nReturns\nYou can return an unused bike within 30 days" in prompt
    assert "[shipping]" not in prompt


async def test_default_hybrid_retrieval_answers_a_paraphrase(
    agentbot_harness: HarnessFactory, faq_file: Path
) -> None:
    async with serving(FakeChatModel(["We are open Monday to Friday, 9-17."])) as model:
        config = options(model, faq_file)
        del config["plugins"]["llm_answer"]["method"]
        async with agentbot_harness(plugins=["llm_answer"], config=config) as harness:
            visitor = await harness.visitor("Ada", lang="en")
            await visitor.say("when are you open?")
            assert (await visitor.next_reply()).text == "We are open Monday to Friday, 9-17."
    assert "[hours]" in model.prompts[0]


@pytest.mark.parametrize(
    ("answer", "context", "invented"),
    [
        ("It costs 5 EUR.", "Shipping costs 5 EUR.", []),
        ("Free over 1200 CZK.", "free over 1 200 CZK", []),
        ("Free over 1,200 CZK.", "free over 1 200 CZK", []),
        ("Fee 1,5 %.", "a fee of 1.5 %", []),
        ("Fee 15 %.", "a fee of 1.5 %", ["15"]),
        ("Open 9-17.", "Open 9:00-17:00", []),
        ("Open 9-18.", "Open 9:00-17:00", ["18"]),
        ("Returns within 14 days.", "Returns within 30 days.", ["14"]),
        ("No numbers here.", "", []),
    ],
)
def test_ungrounded_numbers(answer: str, context: str, invented: list[str]) -> None:
    assert ungrounded_numbers(answer, context) == invented


def test_chunk_document_keeps_headings_and_paragraph_boundaries() -> None:
    text = "Intro line.\n\n# Returns\n\n" + "\n\n".join(["x" * 300] * 4) + "\n\n## Other\n\nEnd."
    chunks = chunk_document(text, max_chars=800)
    assert chunks[0] == "Intro line."
    assert all(c.startswith("Returns\n") for c in chunks[1:-1])
    assert len(chunks[1:-1]) == 2
    assert chunks[-1] == "Other\nEnd."


def test_config_refuses_a_bad_base_url(faq_file: Path) -> None:
    with pytest.raises(ValueError, match="base_url must start with http"):
        LlmAnswerConfig(faq_file=faq_file, base_url="localhost:11434/v1", model="m")
