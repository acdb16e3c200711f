"""Attack: call the action server directly, bypassing the Rasa server (and every channel's checks).

Before the fix port 5055 ran any action for anyone, with any tracker (consent, images, transcripts), and
answered every browser origin with CORS headers. Now only ``/health`` is open; every other request needs
the shared secret header, compressed bodies are refused, and no CORS header is sent.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest_asyncio
from sanic import Sanic

from actions.runtime import Services
from actions.server import build_app
from bot.servers import free_port
from qaid.state import ACTION_SECRET_HEADER
from tests.support.actions import load_tracker

SECRET = b"s3cret-for-this-test"


def _call(action: str) -> dict:
    tracker = load_tracker("greeting")
    return {"next_action": action, "sender_id": tracker.sender_id, "tracker": tracker.current_state(),
            "domain": {}, "version": "3.6.21"}


@pytest_asyncio.fixture
async def action_server(services: Services) -> AsyncIterator[str]:
    Sanic.test_mode = True
    app = build_app(SECRET)
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
    await server.startup()
    await server.before_start()
    await server.after_start()
    yield f"http://127.0.0.1:{port}"
    await server.before_stop()
    await server.close()
    await server.after_stop()


async def test_health_is_open_and_nothing_else(action_server: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{action_server}/health") as resp:
            assert resp.status == 200
        non_ascii = "sécret".encode().decode("latin-1")
        for headers in ({}, {ACTION_SECRET_HEADER: "wrong"}, {ACTION_SECRET_HEADER: non_ascii}):
            call = _call("action_set_consent")
            async with http.post(f"{action_server}/webhook", json=call, headers=headers) as resp:
                assert resp.status == 401, headers
            async with http.get(f"{action_server}/actions", headers=headers) as resp:
                assert resp.status == 401, headers


async def test_the_rasa_server_with_its_secret_is_served(action_server: str) -> None:
    headers = {ACTION_SECRET_HEADER: SECRET.decode(), "Origin": "https://evil.example.org"}
    async with aiohttp.ClientSession() as http:
        call = _call("action_set_consent")
        async with http.post(f"{action_server}/webhook", json=call, headers=headers) as resp:
            assert resp.status == 200
            assert "Access-Control-Allow-Origin" not in resp.headers
            events = (await resp.json())["events"]
    assert any(e.get("name") == "consent_given" for e in events)


async def test_compressed_bodies_are_refused(action_server: str) -> None:
    body = gzip.compress(json.dumps(_call("action_set_consent")).encode())
    headers = {ACTION_SECRET_HEADER: SECRET.decode(), "Content-Encoding": "gzip", "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{action_server}/webhook", data=body, headers=headers) as resp:
            assert resp.status == 415
