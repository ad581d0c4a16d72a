"""Scripted visitors against the real in-process sandbox, on a virtual clock.

The visitor's pauses (``wait``, ``typing_seconds``) go through a virtual sleep that moves the
sandbox's clock, so the printed timings are exact and the tests never sleep for real.
"""

from __future__ import annotations

import anyio
import anyio.lowlevel
import pytest

from agentbot.sandbox import SandboxConfig, SandboxControl, create_app
from agentbot.sandbox.player import TranscriptFollower, TranscriptLine, play_scenario
from agentbot.sandbox.scenario import load_packaged_scenario, parse_scenario

BOUND_SECONDS = 10  # a generous bound on anything that should happen at once


class VirtualClock:
    """A clock that only moves when the scripted visitor pauses."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await anyio.lowlevel.checkpoint()


def make_control(clock: VirtualClock) -> tuple[SandboxControl, SandboxConfig]:
    config = SandboxConfig(clock=clock)
    control: SandboxControl = create_app(config).state.control
    return control, config


async def answer_every_message(
    control: SandboxControl, config: SandboxConfig, replies: list[str]
) -> None:
    """Act as the bot through the control API: typing on, the reply, typing off."""
    sandbox = control.sandbox
    await sandbox.wait_until(lambda: bool(control.chats()["chats"]))
    chat_id = control.chats()["chats"][0]["id"]

    def visitor_messages() -> int:
        entries = control.transcript(chat_id)["entries"]
        return sum(e["kind"] == "message" and e["by"] == "visitor" for e in entries)

    for answered, reply in enumerate(replies):
        await sandbox.wait_until(lambda n=answered: visitor_messages() > n)
        control.agent_typing(chat_id, True, agent_id=config.bot.id)
        control.agent_message(chat_id, reply, agent_id=config.bot.id)
        control.agent_typing(chat_id, False, agent_id=config.bot.id)


async def test_demo_scenario_prints_a_timed_transcript_when_every_message_is_answered() -> None:
    clock = VirtualClock()
    control, config = make_control(clock)
    scenario = load_packaged_scenario("demo")
    lines: list[TranscriptLine] = []
    replies = ["Hello! How can I help?", "We are open 9–17, Monday to Friday.", "Sure, hold on."]
    with anyio.fail_after(BOUND_SECONDS):
        async with anyio.create_task_group() as tg:
            tg.start_soon(answer_every_message, control, config, replies)
            result = await play_scenario(
                control,
                scenario,
                on_line=lines.append,
                agent_names={config.bot.id: "bot"},
                clock=clock,
                sleep=clock.sleep,
            )
    assert result.replies == 3
    assert result.unanswered_steps == ()
    assert result.chat_id == control.chats()["chats"][0]["id"]
    assert [line.format() for line in lines] == [
        "+0.8s — chat opened —",
        "+0.8s Ada: Hi there!",
        "+0.8s bot is typing…",
        "+0.8s bot: Hello! How can I help?",
        "+1.8s Ada is typing…",
        "+3.3s Ada: What are your opening hours?",
        "+3.3s bot is typing…",
        "+3.3s bot: We are open 9–17, Monday to Friday.",
        "+4.8s Ada is typing…",
        "+6.3s Ada: Thanks! Can I talk to a human, please?",
        "+6.3s bot is typing…",
        "+6.3s bot: Sure, hold on.",
    ]
    assert clock.slept == [0.8, 1.0, 1.5, 1.5, 1.5]
    visitor = control.visitors()["visitors"][0]
    assert visitor["name"] == "Ada"
    assert visitor["pageUrl"] == "https://shop.example/pricing"
    # The visitor stopped typing after each message it sent (typing before the first message
    # has no chat to go to yet, so only its "stopped" is recorded).
    typing = [
        e["is"]
        for e in control.transcript(result.chat_id)["entries"]
        if e["kind"] == "typing" and e["by"] == "visitor"
    ]
    assert typing == [False, True, False, True, False]


async def test_a_reply_that_does_not_come_is_listed_and_the_visitor_goes_on() -> None:
    clock = VirtualClock()
    control, _config = make_control(clock)
    scenario = parse_scenario(
        '[[steps]]\nsay = "Anyone?"\n[[steps]]\nwait_for_reply = true\n'
        '[[steps]]\nsay = "Hello?"\n[[steps]]\nwait_for_reply = 5\n',
        source="silent.toml",
    )
    lines: list[TranscriptLine] = []
    with anyio.fail_after(BOUND_SECONDS):
        result = await play_scenario(
            control,
            scenario,
            on_line=lines.append,
            reply_timeout_cap_seconds=0.01,  # nobody answers: do not wait the full timeout
            clock=clock,
            sleep=clock.sleep,
        )
    assert result.unanswered_steps == (2, 4)
    assert result.replies == 0
    texts = [line.format() for line in lines]
    assert "+0.0s visitor: Anyone?" in texts
    assert "+0.0s visitor: Hello?" in texts
    assert texts.count("+0.0s (no reply within 0.01s)") == 2


async def test_a_reply_already_given_before_the_wait_counts() -> None:
    clock = VirtualClock()
    control, config = make_control(clock)
    scenario = parse_scenario(
        '[[steps]]\nsay = "Hi"\n[[steps]]\nwait = 3\n[[steps]]\nwait_for_reply = 1\n',
        source="late.toml",
    )

    async def sleep_and_answer(seconds: float) -> None:
        await clock.sleep(seconds)
        chat_id = control.chats()["chats"][0]["id"]
        control.agent_message(chat_id, "Hi, I'm here.", agent_id=config.human.id)

    with anyio.fail_after(BOUND_SECONDS):
        result = await play_scenario(control, scenario, clock=clock, sleep=sleep_and_answer)
    assert result.replies == 1
    assert result.unanswered_steps == ()


async def test_follower_reports_only_new_entries_of_every_chat() -> None:
    clock = VirtualClock()
    control, config = make_control(clock)
    old = control.create_visitor(name="Old")["visitor"]["id"]
    control.visitor_message(old, "before")
    follower = TranscriptFollower(
        control, start=clock(), names={config.human.id: config.human.nickname}
    )
    follower.skip_existing()
    assert follower.poll() == []

    clock.now += 2.5
    new = control.create_visitor(name="New")["visitor"]["id"]
    chat_id = control.visitor_message(new, "after")["chat"]["id"]
    control.agent_join(chat_id, agent_id=config.human.id)
    control.close_chat(chat_id, by="agent", agent_id=config.human.id)
    lines = follower.poll()
    assert [line.format() for line in lines] == [
        "+2.5s — chat opened —",
        "+2.5s New: after",
        f"+2.5s — {config.human.nickname} joined the chat —",
        f"+2.5s — chat closed by {config.human.nickname} —",
    ]
    assert {line.chat_id for line in lines} == {chat_id}
    assert follower.poll() == []


@pytest.mark.parametrize(
    ("line", "text"),
    [
        (TranscriptLine(seconds=0.04, who="Ada", kind="message", text="Hi"), "+0.0s Ada: Hi"),
        (TranscriptLine(seconds=2.06, who="bot", kind="typing"), "+2.1s bot is typing…"),
        (TranscriptLine(seconds=12.0, who="", kind="note", text="(x)"), "+12.0s (x)"),
    ],
)
def test_transcript_lines_format_with_timings(line: TranscriptLine, text: str) -> None:
    assert line.format() == text
