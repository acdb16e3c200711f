"""Attack: act as another patient by posting their sender id.

Before the fix trackers were keyed by the bare sender id across all channels, and the REST channels took
whatever ``sender`` a client posted: a stranger posting ``"sender": "447700900123"`` continued that
WhatsApp patient's conversation. Now every channel namespaces its sender ids, and a REST or web chat
message for a conversation that exists must carry the session token issued with its first message.
Each refused request is a 401 that reaches no bot and stores nothing.
"""

from __future__ import annotations

import json

import aiohttp
import pytest

from channels.rest import SESSION_REQUIRED, MediaRestInput
from channels.sessions import SESSION_HEADER, SessionSigner, session_secret
from channels.webchat import WebChatInput
from tests.support.phantoms import head_phantom, png_bytes

REST = "/webhooks/qaid_rest/webhook"
WEBCHAT = "/webhooks/webchat/webhook"
PHONE = "447700900123"


async def _post(http, url, sender, message="hello", token=None, image=None):
    headers = {SESSION_HEADER: token} if token is not None else {}
    if image is None:
        async with http.post(url, json={"sender": sender, "message": message}, headers=headers) as resp:
            return resp.status, resp.headers.get(SESSION_HEADER), await resp.text()
    form = aiohttp.FormData()
    form.add_field("sender", sender)
    form.add_field("message", message)
    form.add_field("image", image, filename="scan.png", content_type="image/png")
    async with http.post(url, data=form, headers=headers) as resp:
        return resp.status, resp.headers.get(SESSION_HEADER), await resp.text()


def _media_files(media_store) -> list[str]:
    return sorted(p.name for p in media_store.root.glob("*")) if media_store.root.exists() else []


async def test_each_channel_has_its_own_namespace(serve, http, media_store):
    server = await serve(MediaRestInput(store=media_store), WebChatInput(store=media_store))
    for url, sender in ((REST, PHONE), (REST, f"whatsapp:{PHONE}"), (WEBCHAT, PHONE)):
        status, _, _ = await _post(http, server.base_url + url, sender)
        assert status == 200
    assert [m.sender_id for m in server.bot.messages] == [f"rest:{PHONE}", f"rest:whatsapp:{PHONE}",
                                                           f"webchat:{PHONE}"]


@pytest.mark.parametrize("url", [REST, WEBCHAT])
async def test_a_later_message_needs_its_session_token(serve, http, media_store, url):
    server = await serve(MediaRestInput(store=media_store), WebChatInput(store=media_store))
    status, token, _ = await _post(http, server.base_url + url, "patient-7")
    assert status == 200 and token
    stolen = SessionSigner(b"another server's secret").token("rest:patient-7")
    other = (await _post(http, server.base_url + url, "patient-8"))[1]
    before = _media_files(media_store)
    for attempt in (None, "", "v1.forged", stolen, other, token + "x"):
        status, issued, body = await _post(http, server.base_url + url, "patient-7", "what did I say?", attempt,
                                           image=png_bytes(head_phantom(32)))
        assert (status, issued) == (401, None), attempt
        assert json.loads(body) == {"error": SESSION_REQUIRED}
    assert _media_files(media_store) == before  # the refused upload was not stored
    assert [m.text for m in server.bot.messages] == ["hello", "hello"]

    status, again, _ = await _post(http, server.base_url + url, "patient-7", "and now?", token)
    assert (status, again) == (200, token)
    assert server.bot.messages[-1].text == "and now?"


async def test_non_ascii_session_header_is_a_401_not_a_500(serve, http, media_store):
    server = await serve(MediaRestInput(store=media_store))
    assert (await _post(http, server.base_url + REST, "p-ascii"))[0] == 200
    raw = "v1.ünïcødé".encode().decode("latin-1")
    status, _, _ = await _post(http, server.base_url + REST, "p-ascii", token=raw)
    assert status == 401


def test_session_secret_is_created_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("QAID_SESSION_SECRET", raising=False)
    first = session_secret(tmp_path)
    path = tmp_path / "secrets" / "session.key"
    assert path.stat().st_mode & 0o777 == 0o600 and len(first) == 64
    assert session_secret(tmp_path) == first  # a restart keeps every issued token valid
    monkeypatch.setenv("QAID_SESSION_SECRET", "configured")
    assert session_secret(tmp_path) == b"configured"
