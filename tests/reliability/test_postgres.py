"""The outbox, the inbox and a full delivery on PostgreSQL (a throw-away local cluster).

Skipped when the PostgreSQL server binaries (``initdb``, ``pg_ctl``) are not installed.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bot.servers import LocalPostgres, free_port
from hospital_service.inbox import DUPLICATE, REPLAY, STORED, EmbeddedInbox, InboxStore, ReceivedTranscript
from qaid.settings import load_settings
from tests.support.reliability import make_transcript, wait_until
from transcripts.outbox import DELIVERED, NewDelivery, Outbox
from transcripts.service import TranscriptService

pytestmark = pytest.mark.skipif(not (shutil.which("initdb") and shutil.which("pg_ctl")),
                                reason="PostgreSQL server binaries are not installed")


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    cluster = LocalPostgres().start()
    try:
        yield cluster.url("psycopg")
    finally:
        cluster.stop()


def test_outbox_and_inbox_work_on_postgres(postgres_url: str) -> None:
    outbox = Outbox(postgres_url, dead_letter_after_s=60)
    outbox.create()
    item = NewDelivery("pg-k1", "pg-c1", "t1", "North", "http://127.0.0.1:1/intake/north", "{}")
    [first] = outbox.enqueue([item], now=0.0)
    assert outbox.enqueue([item], now=1.0) == [first]
    assert [d.id for d in outbox.claim("w1", 5, 30, now=2.0)] == [first]
    assert outbox.claim("w2", 5, 30, now=3.0) == []
    store = InboxStore(postgres_url)
    store.create()
    received = ReceivedTranscript("pg-k1", "North", "pg-c1", "t1", time.time(), "{}")
    assert store.store("sig-1", received, 30) == STORED
    assert store.store("sig-1", received, 30) == REPLAY
    assert store.store("sig-2", received, 30) == DUPLICATE
    assert outbox.delete_conversation("pg-c1") == 1


def test_full_delivery_through_postgres(postgres_url: str, tmp_path: Path) -> None:
    port = free_port()
    config = {
        "storage": {"var_dir": str(tmp_path / "var")},
        "delivery": {"database_url": postgres_url, "poll_interval_s": 0.1, "backoff_base_s": 0.05},
        "inbox": {"embedded": True, "port": port, "database_url": postgres_url},
        "hospitals": [{"name": "PgHospital", "local": True, "location": {"lat": 1, "lon": 1}, "capabilities": {},
                       "intake": {"url": f"http://127.0.0.1:{port}/intake/pg", "secret": "pg-secret"}}],
    }
    path = tmp_path / "services.yml"
    path.write_text(yaml.safe_dump(config))
    settings = load_settings(path, env={})
    service, inbox = TranscriptService.from_settings(settings), EmbeddedInbox(settings)

    async def run() -> None:
        await inbox.start()
        await service.start()
        try:
            ids = await asyncio.to_thread(service.queue, make_transcript(7), ["PgHospital"])
            await asyncio.to_thread(
                wait_until, lambda: service.outbox.find(conversation_id="conv-7")[0].status == DELIVERED, 20,
                "the delivery on PostgreSQL",
            )
            assert len(ids) == 1
        finally:
            await service.stop()
            await inbox.stop()

    asyncio.run(run())
    assert [r.hospital for r in InboxStore(postgres_url).find(hospital="PgHospital")] == ["PgHospital"]
