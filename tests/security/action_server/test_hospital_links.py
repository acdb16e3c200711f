"""Attacks on the links to hospitals: plain-text or mis-secured transcripts, inbox parsing, stuck retries,
and copies left in hospital inboxes after "delete my data".

Before the fix: an inbox URL on another host could be plain http and keep the built-in
``local-dev-secret-*`` secret; the inbox checked the signature over whatever part of the body happened to
be buffered; a non-ASCII signature header made ``compare_digest`` raise (500); a permanent refusal from an
inbox (422, 401, a redirect) was retried for three days; and redirects were followed.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from hospital_service.inbox import InboxStore, accounts_from_settings, create_inbox_app
from qaid.settings import Settings, SettingsError, parse_settings
from tests.support.transcripts import services_config
from transcripts.model import Transcript
from transcripts.outbox import DEAD, PENDING, NewDelivery, Outbox
from transcripts.service import TranscriptService, envelope
from transcripts.signing import SIGNATURE_HEADER, signed_headers
from transcripts.worker import DeliveryWorker


def _with_intake(tmp_path: Path, url: str, secret: str) -> dict:
    config = services_config(tmp_path, 5056)
    config["hospitals"][0]["intake"] = {"url": url, "secret": secret}
    return config


@pytest.mark.parametrize(("url", "secret", "problem"), [
    ("http://inbox.example.org/intake/north", "a-real-secret", "https"),
    ("https://inbox.example.org/intake/north", "local-dev-secret-north", "own secret"),
])
def test_settings_refuse_plain_http_and_built_in_secrets_off_this_machine(tmp_path, url, secret, problem) -> None:
    with pytest.raises(SettingsError, match=problem):
        parse_settings(_with_intake(tmp_path, url, secret), tmp_path / "services.yml", {})


def test_settings_accept_https_with_a_secret_and_loopback_with_the_built_in_one(tmp_path) -> None:
    for url, secret in (("https://inbox.example.org/intake/north", "a-real-secret"),
                        ("http://127.0.0.1:5056/intake/north", "local-dev-secret-north")):
        parsed = parse_settings(_with_intake(tmp_path, url, secret), tmp_path / "s.yml", {})
        assert parsed.hospitals[0].intake.url == url
    remote = services_config(tmp_path, 5056)
    remote["hospitals"][2] = {"name": "Far", "url": "http://hip.example.org", "location": {"lat": 1, "lon": 1}}
    with pytest.raises(SettingsError, match="https"):
        parse_settings(remote, tmp_path / "s.yml", {})


async def _inbox(settings: Settings) -> tuple[TestClient, InboxStore]:
    store = InboxStore(settings.inbox.database_url)
    store.create()
    app = create_inbox_app(store, accounts_from_settings(settings), settings.inbox.max_body_bytes,
                           settings.inbox.timestamp_window_s)
    client = TestClient(TestServer(app))
    await client.start_server()
    return client, store


async def test_the_inbox_verifies_the_whole_body_even_when_it_arrives_in_pieces(
    settings: Settings, transcript: Transcript
) -> None:
    client, store = await _inbox(settings)
    body = envelope(transcript, "North", "t:North", "http://localhost:5005").encode()
    headers = signed_headers("north-secret", body, "t:North")

    async def slowly():
        for start in range(0, len(body), 1024):
            yield body[start:start + 1024]
            await asyncio.sleep(0.005)

    try:
        response = await client.post("/intake/north", data=slowly(), headers=headers)
        assert response.status == 200, await response.text()
        assert [item.conversation_id for item in store.find()] == ["conv-42"]
        non_ascii = {**signed_headers("north-secret", body, "t:North"), SIGNATURE_HEADER: "sha256=é"}
        response = await client.post("/intake/north", data=body, headers=non_ascii)
        assert response.status == 401
    finally:
        await client.close()


@pytest.mark.parametrize(("status", "expected"),
                         [(422, DEAD), (401, DEAD), (307, DEAD), (429, PENDING), (503, PENDING)])
async def test_a_permanent_refusal_is_dead_lettered_at_once(settings: Settings, status: int, expected: str) -> None:
    async def refuse(request: web.Request) -> web.Response:
        return web.Response(status=status, headers={"Location": "http://127.0.0.1:1/elsewhere"})

    app = web.Application()
    app.router.add_post("/intake/north", refuse)
    server = TestServer(app)
    await server.start_server()
    outbox = Outbox(settings.delivery.database_url, dead_letter_after_s=3 * 86400)
    outbox.create()
    outbox.enqueue([NewDelivery("k1", "c1", "t1", "North", str(server.make_url("/intake/north")), "{}")], time.time())
    worker = DeliveryWorker(outbox, settings.delivery, lambda hospital: "north-secret")
    try:
        async with aiohttp.ClientSession() as session:
            assert await worker.deliver_due(session) == 1
    finally:
        await server.close()
    [delivery] = outbox.find()
    assert delivery.status == expected and delivery.attempts == 1


async def _delivered_to_both(settings: Settings, transcript: Transcript) -> TranscriptService:
    service = TranscriptService.from_settings(settings)
    service.queue(transcript, ["North", "South"])
    async with aiohttp.ClientSession() as session:
        assert await service.worker.deliver_due(session) == 2
    return service


async def test_delete_my_data_erases_the_copies_hospitals_received(settings: Settings, transcript: Transcript) -> None:
    store = InboxStore(settings.inbox.database_url)
    store.create()
    app = create_inbox_app(store, accounts_from_settings(settings), settings.inbox.max_body_bytes,
                           settings.inbox.timestamp_window_s)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", settings.inbox.port).start()
    try:
        service = await _delivered_to_both(settings, transcript)
        assert {item.hospital for item in store.find()} == {"North", "South"}
        assert await service.erase_conversation(transcript.conversation_id) == []
        assert store.find() == [] and service.outbox.find() == []
    finally:
        await runner.cleanup()


async def test_an_unreachable_inbox_is_named_not_hidden(settings: Settings, transcript: Transcript) -> None:
    service = TranscriptService.from_settings(settings)
    service.queue(transcript, ["North"])  # queued; the inbox is down
    assert await service.erase_conversation(transcript.conversation_id) == ["North"]
    assert service.outbox.find() == []  # nothing more will be sent
