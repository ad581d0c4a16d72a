"""``agentbot data erase`` and retention (issue 14 item 4), on a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from agentbot import hookimpl
from agentbot.cli import main
from agentbot.data_erase import erase_for_config, erase_person
from agentbot.runtime.config import BotConfig, RuntimeSettings, SmartsuppSettings, load_config
from agentbot.runtime.ledger import Ledger, OutboxEntry
from agentbot.runtime.retention import prune_retention
from agentbot.runtime.storage import Storage

DAY = 86400.0
NOW = 1_750_000_000.0


def fill(storage: Storage) -> None:
    """Two visitors' chats in the ledger, and plugin entries about both."""
    ledger = Ledger(storage, "ns", wall_clock=lambda: NOW)
    ledger.receive("m1", "chat-ada", "hi, mail me at Ada@Example.org")
    ledger.receive("m2", "chat-ada", "thanks")
    ledger.receive("m3", "chat-bob", "hello")
    ledger.plan([OutboxEntry(entry_id="e1", chat_id="chat-ada", visitor_id="v-ada", text="ok")])
    ledger.plan([OutboxEntry(entry_id="e2", chat_id="chat-bob", visitor_id="v-bob", text="ok")])
    leads = storage.plugin_store("after_hours")
    leads.set("outbox:L1", {"payload": {"email": "ada@example.org", "visitor_id": "v-ada"}})
    leads.set("outbox:L2", {"payload": {"email": "bob@example.org", "visitor_id": "v-bob"}})
    storage.plugin_store("greeter").set("visitor:v-ada", True)
    storage.plugin_store("greeter").set("visitor:v-bob", True)
    storage.plugin_store("faq").set(
        "gap:1:m1", {"text": "mail me at [email]", "chat_id": "chat-ada"}
    )
    storage.plugin_store("faq").set("hits", {"e1": 3})


def remaining(storage: Storage) -> dict[str, list[str]]:
    return {
        "inbox": [r[0] for r in storage.execute("SELECT message_id FROM inbox").rows],
        "outbox": [r[0] for r in storage.execute("SELECT entry_id FROM outbox").rows],
        "kv": [f"{r[0]}/{r[1]}" for r in storage.execute("SELECT plugin, key FROM plugin_kv").rows],
    }


def test_erasing_a_visitor_removes_their_chats_and_entries_only(tmp_path: Path) -> None:
    with Storage(tmp_path / "bot.sqlite3") as storage:
        fill(storage)
        report = erase_person(storage, visitor_id="v-ada", email=None)
        left = remaining(storage)
    assert report == {
        "ledger inbox": 2,
        "ledger outbox": 1,
        "ledger chat_state": 0,
        "plugin after_hours": 1,
        "plugin greeter": 1,
        "plugin faq": 1,  # the gap of Ada's chat, though its text is masked
    }
    assert sorted(left["inbox"]) == ["m3"]
    assert left["outbox"] == ["e2"]
    assert sorted(left["kv"]) == ["after_hours/outbox:L2", "faq/hits", "greeter/visitor:v-bob"]


def test_erasing_by_email_is_case_insensitive_and_finds_the_chat(tmp_path: Path) -> None:
    with Storage(tmp_path / "bot.sqlite3") as storage:
        fill(storage)
        report = erase_person(storage, visitor_id=None, email="ADA@example.ORG")
        left = remaining(storage)
    assert report["ledger inbox"] == 2  # the chat where the address was written
    assert report["plugin after_hours"] == 1
    assert "after_hours/outbox:L2" in left["kv"]


class Crm:
    def __init__(self) -> None:
        self.asked: list[tuple[str | None, str | None]] = []

    @hookimpl
    def on_erase(self, visitor_id: str | None, email: str | None) -> int:
        self.asked.append((visitor_id, email))
        return 4


async def test_plugins_take_part_through_on_erase(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    with Storage(path) as storage:
        fill(storage)
    config = BotConfig(
        path=None,
        smartsupp=SmartsuppSettings(agent_id="bot-1", key="k", send_via="socket"),
        runtime=RuntimeSettings(storage_path=path),
    )
    crm = Crm()
    report = await erase_for_config(
        config, visitor_id="v-ada", email=None, plugins=[("crm", crm)], entry_points={}
    )
    assert crm.asked == [("v-ada", None)]
    assert report["plugin crm"] == 4
    assert report["ledger inbox"] == 2


def test_the_command_prints_counts_per_store(tmp_path: Path) -> None:
    with Storage(tmp_path / "bot.sqlite3") as storage:
        fill(storage)
    (tmp_path / "bot.toml").write_text(
        '[smartsupp]\nagent_id = "bot-1"\nkey = "k"\nsend_via = "socket"\n'
        '[runtime]\nstorage_path = "bot.sqlite3"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        main, ["data", "erase", "--visitor", "v-bob", "-c", str(tmp_path / "bot.toml")]
    )
    assert result.exit_code == 0, result.output
    assert "erased visitor v-bob" in result.output
    assert "  ledger inbox: 1\n" in result.output
    assert "  plugin greeter: 1\n" in result.output
    assert "  total: 4\n" in result.output
    refused = CliRunner().invoke(main, ["data", "erase", "-c", str(tmp_path / "bot.toml")])
    assert refused.exit_code == 2
    assert "--visitor ID or --email ADDRESS" in refused.output


def test_retention_forgets_old_delivered_leads_and_questions_not_pending_ones(
    tmp_path: Path,
) -> None:
    (tmp_path / "bot.toml").write_text(
        '[smartsupp]\nagent_id = "bot-1"\nkey = "k"\n'
        "[runtime]\nlead_retention_days = 30\nhandoff_note_retention_days = 7\n"
        "question_retention_days = 10\n",
        encoding="utf-8",
    )
    config = load_config(tmp_path / "bot.toml", env={})
    with Storage(tmp_path / "bot.sqlite3") as storage:
        leads, notes = storage.plugin_store("after_hours"), storage.plugin_store("handoff")
        leads.set("outbox:old", {"payload": {}, "delivered_at": NOW - 31 * DAY})
        leads.set("outbox:recent", {"payload": {}, "delivered_at": NOW - 29 * DAY})
        leads.set("outbox:pending", {"payload": {}, "delivered_at": None})
        notes.set("outbox:old", {"payload": {}, "delivered_at": NOW - 8 * DAY})
        notes.set("outbox:new", {"payload": {}, "delivered_at": NOW - 6 * DAY})
        storage.plugin_store("faq").set("gap:1", {"text": "?"})
        storage.plugin_store("faq").set("hits", {})
        # plugin_kv stamps rows with the real time; the questions are "old" 11 days on.
        later = storage.execute("SELECT max(updated_at) FROM plugin_kv").rows[0][0] + 11 * DAY
        assert prune_retention(storage, config, now=NOW) == {
            "leads": 1,
            "handoff notes": 1,
            "questions": 0,
        }
        assert prune_retention(storage, config, now=later)["questions"] == 1
        keys = sorted(
            f"{r[0]}/{r[1]}" for r in storage.execute("SELECT plugin, key FROM plugin_kv").rows
        )
    assert "after_hours/outbox:pending" in keys
    assert "faq/hits" in keys
    assert "faq/gap:1" not in keys


@pytest.mark.parametrize("key", ["lead_retention_days", "question_retention_days"])
def test_retention_settings_must_be_positive(tmp_path: Path, key: str) -> None:
    from agentbot.errors import ConfigError

    (tmp_path / "bot.toml").write_text(
        f'[smartsupp]\nagent_id = "b"\nkey = "k"\n[runtime]\n{key} = 0\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=key):
        load_config(tmp_path / "bot.toml", env={})
