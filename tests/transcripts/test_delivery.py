"""Signed delivery to the inbox over loopback HTTP, the inbox's checks, and TranscriptService."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.servers import free_port
from hospital_service.inbox import EmbeddedInbox, InboxStore, accounts_from_settings, create_inbox_app
from qaid.settings import Settings, load_settings
from tests.support.transcripts import services_config, write_config
from transcripts.model import Transcript
from transcripts.service import TranscriptError, TranscriptService, envelope
from transcripts.signing import signed_headers


@pytest.fixture
def store(settings: Settings) -> InboxStore:
    inbox = InboxStore(settings.inbox.database_url)
    inbox.create()
    return inbox


async def inbox_client(settings: Settings, store: InboxStore) -> TestClient:
    app = create_inbox_app(store, accounts_from_settings(settings), settings.inbox.max_body_bytes,
                           settings.inbox.timestamp_window_s)
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


def signed(transcript: Transcript, key: str = "t:North", secret: str = "north-secret", **kwargs) -> tuple[bytes, dict]:
    body = envelope(transcript, "North", key, "http://localhost:5005").encode()
    return body, signed_headers(secret, body, key, **kwargs)


@pytest.mark.asyncio
async def test_valid_delivery_is_stored_once(settings: Settings, store: InboxStore, transcript: Transcript) -> None:
    client = await inbox_client(settings, store)
    try:
        body, headers = signed(transcript)
        response = await client.post("/intake/north", data=body, headers=headers)
        assert response.status == 200 and (await response.json())["status"] == "stored"
        await asyncio.sleep(0.002)
        body, headers = signed(transcript)  # a retry: new timestamp, same idempotency key
        response = await client.post("/intake/north", data=body, headers=headers)
        assert response.status == 200 and (await response.json())["status"] == "duplicate"
        [stored] = store.find()
        assert stored.hospital == "North" and stored.conversation_id == "conv-42"
        assert json.loads(stored.body)["fhir"]["resourceType"] == "Bundle"
    finally:
        await client.close()


@pytest.mark.asyncio
async def test_bad_requests_are_rejected_and_nothing_is_stored(
    settings: Settings, store: InboxStore, transcript: Transcript
) -> None:
    client = await inbox_client(settings, store)
    try:
        body, good = signed(transcript)
        stale_ms = int((time.time() - 120) * 1000)
        cases = [
            ("/intake/north", body, {**good, "X-QAid-Signature": "sha256=" + "0" * 64}, 401, "bad_signature"),
            ("/intake/north", body, signed(transcript, secret="south-secret")[1], 401, "bad_signature"),
            ("/intake/north", body, signed(transcript, now_ms=stale_ms)[1], 401, "stale_timestamp"),
            ("/intake/north", body, {"Idempotency-Key": "t:North"}, 401, "missing_signature"),
            ("/intake/nowhere", body, good, 404, "unknown_hospital"),
            ("/intake/north", b"{not json", signed_headers("north-secret", b"{not json", "t:North"), 400,
             "malformed_json"),
            ("/intake/north", body, {**signed(transcript)[1], "Idempotency-Key": "other"}, 400, "bad_idempotency_key"),
        ]
        invalid = json.dumps({"idempotency_key": "k", "transcript": {"conversation_id": "x"}}).encode()
        invalid_headers = signed_headers("north-secret", invalid, "k")
        cases.append(("/intake/north", invalid, invalid_headers, 422, "invalid_transcript"))
        huge = b'{"pad": "' + b"x" * 400_000 + b'"}'
        cases.append(("/intake/north", huge, signed_headers("north-secret", huge, "k"), 413, "too_large"))
        for path, data, headers, status, code in cases:
            response = await client.post(path, data=data, headers=headers)
            assert (response.status, (await response.json())["code"]) == (status, code), code
        assert store.count() == 0
    finally:
        await client.close()


@pytest.mark.asyncio
async def test_a_replayed_request_is_refused(settings: Settings, store: InboxStore, transcript: Transcript) -> None:
    client = await inbox_client(settings, store)
    try:
        body, headers = signed(transcript)
        assert (await client.post("/intake/north", data=body, headers=headers)).status == 200
        replay = await client.post("/intake/north", data=body, headers=headers)
        assert replay.status == 409 and (await replay.json())["code"] == "replay"
        assert store.count() == 1
    finally:
        await client.close()


@pytest.mark.asyncio
async def test_service_delivers_to_the_embedded_inbox(settings: Settings, transcript: Transcript) -> None:
    service, inbox = TranscriptService.from_settings(settings), EmbeddedInbox(settings)
    await inbox.start()
    await service.start()
    try:
        ids = await asyncio.to_thread(service.queue, transcript, ["North", "South", "North"])
        assert len(ids) == 2
        assert await asyncio.to_thread(service.queue, transcript, ["South"]) == ids[1:]
        for _ in range(100):
            if service.outbox.counts() == {"delivered": 2}:
                break
            await asyncio.sleep(0.05)
        assert service.outbox.counts() == {"delivered": 2}
        received = InboxStore(settings.inbox.database_url).find()
        assert sorted(r.hospital for r in received) == ["North", "South"]
        assert all(len(service.outbox.attempts_of(i)) == 1 for i in ids)
    finally:
        await service.stop()
        await inbox.stop()
    with pytest.raises(TranscriptError, match="no intake"):
        service.queue(transcript, ["NoIntake"])
    with pytest.raises(TranscriptError, match="Unknown hospital"):
        service.queue(transcript, ["Atlantis"])
    assert service.delete_conversation("conv-42") == 2 and service.outbox.counts() == {}


@pytest.mark.asyncio
async def test_worker_retries_until_the_inbox_is_up(tmp_path: Path, transcript: Transcript) -> None:
    port = free_port()
    config = services_config(tmp_path, port)
    config["inbox"]["embedded"] = False
    settings = load_settings(write_config(tmp_path, config), env={})
    service = TranscriptService.from_settings(settings)
    await service.start()
    try:
        [delivery_id] = await asyncio.to_thread(service.queue, transcript, ["North"])
        for _ in range(100):
            if len(service.outbox.attempts_of(delivery_id)) >= 2:
                break
            await asyncio.sleep(0.05)
        failed = service.outbox.attempts_of(delivery_id)
        assert len(failed) >= 2 and all(a.status_code is None and a.error for a in failed)
        store = InboxStore(settings.inbox.database_url)
        store.create()
        runner = aiohttp.web.AppRunner(create_inbox_app(store, accounts_from_settings(settings), 300_000, 30))
        await runner.setup()
        await aiohttp.web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            for _ in range(100):
                if service.outbox.counts() == {"delivered": 1}:
                    break
                await asyncio.sleep(0.05)
            assert service.outbox.counts() == {"delivered": 1}
            assert service.outbox.attempts_of(delivery_id)[-1].status_code == 200 and store.count() == 1
        finally:
            await runner.cleanup()
    finally:
        await service.stop()


@pytest.mark.asyncio
async def test_worker_can_run_outside_the_action_server(tmp_path: Path, transcript: Transcript) -> None:
    config = services_config(tmp_path, free_port(), embedded_worker=False)
    service = TranscriptService.from_settings(load_settings(write_config(tmp_path, config), env={}))
    await service.start()
    try:
        await asyncio.to_thread(service.queue, transcript, ["North"])
        assert not [t for t in asyncio.all_tasks() if t.get_name() == "transcript-delivery-worker"]
        assert service.outbox.counts() == {"pending": 1}  # left to `python -m transcripts outbox deliver`
    finally:
        await service.stop()
