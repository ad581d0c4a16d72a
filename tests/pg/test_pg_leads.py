"""Lead deliveries on a store shared by replicas: each lead is posted by one replica, once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import anyio
import anyio.lowlevel

from agentbot.runtime.pg_storage import PgStorage
from agentbot_plugins._shared.leads import Outbox, WebhookConfig, WebhookError

CONFIG = WebhookConfig(url="http://127.0.0.1:9/leads")


class Receiver:
    """Stands in for the webhook: records what each replica posted; can refuse."""

    def __init__(self, log: list[tuple[str, Any]], name: str, *, fail: bool = False) -> None:
        self.log, self.name, self.fail = log, name, fail

    async def post(self, payload: Mapping[str, Any]) -> int:
        await anyio.lowlevel.checkpoint()
        if self.fail:
            raise WebhookError("webhook answered HTTP 503")
        self.log.append((self.name, payload["id"]))
        return 200


async def test_two_replicas_deliver_every_lead_exactly_once(pg_dsn: str) -> None:
    posted: list[tuple[str, Any]] = []
    with PgStorage(pg_dsn, namespace="ns") as a:
        outbox_a = Outbox(a.plugin_store("after_hours"), config=CONFIG)
        for n in range(6):
            outbox_a.add_payload({"id": f"lead-{n}"}, created_at=100.0)
        await a.wait_flushed()
        b = PgStorage(pg_dsn, namespace="ns")  # opened now: it too sees all six pending
        outbox_b = Outbox(b.plugin_store("after_hours"), config=CONFIG)
        assert len(outbox_b.pending()) == 6

        async def deliver(outbox: Outbox, name: str) -> None:
            await outbox.deliver_due(Receiver(posted, name), now=200.0)  # type: ignore[arg-type]

        async with anyio.create_task_group() as tg:  # the two replicas' loops, side by side
            tg.start_soon(deliver, outbox_a, "a")
            tg.start_soon(deliver, outbox_b, "b")
        await a.wait_flushed()
        await b.wait_flushed()
        # Later rounds find nothing left to post, on either replica.
        assert await outbox_a.deliver_due(Receiver(posted, "a"), now=300.0) is None  # type: ignore[arg-type]
        assert await outbox_b.deliver_due(Receiver(posted, "b"), now=300.0) is None  # type: ignore[arg-type]
        b.close()
    assert sorted(lead for _replica, lead in posted) == [f"lead-{n}" for n in range(6)]
    assert {replica for replica, _lead in posted} <= {"a", "b"}
    with PgStorage(pg_dsn, namespace="ns") as fresh:
        records = Outbox(fresh.plugin_store("after_hours"), config=CONFIG).records()
    assert all(record["delivered_at"] == 200.0 for record in records)


async def test_a_failed_post_is_retried_later_by_whichever_replica_claims_it(
    pg_dsn: str,
) -> None:
    posted: list[tuple[str, Any]] = []
    with PgStorage(pg_dsn, namespace="ns") as a, PgStorage(pg_dsn, namespace="ns") as b:
        outbox_a = Outbox(a.plugin_store("after_hours"), config=CONFIG)
        outbox_a.add_payload({"id": "lead-1"}, created_at=100.0)
        next_due = await outbox_a.deliver_due(Receiver(posted, "a", fail=True), now=200.0)  # type: ignore[arg-type]
        assert next_due == 205.0  # retry_initial_seconds later
        await a.wait_flushed()
        outbox_b = Outbox(b.plugin_store("after_hours"), config=CONFIG)
        await outbox_b.deliver_due(Receiver(posted, "b"), now=200.5)  # type: ignore[arg-type]
        assert posted == []  # not due yet: nobody posts
        await outbox_b.deliver_due(Receiver(posted, "b"), now=next_due)  # type: ignore[arg-type]
    assert posted == [("b", "lead-1")]
