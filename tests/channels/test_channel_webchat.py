"""Web chat channel: page and assets, multipart upload with the webchat metadata, server-relative media URLs."""

from __future__ import annotations

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage

from channels.rest import MediaRestInput
from channels.signing import signed_media_path
from channels.webchat import WebChatInput
from tests.support.channel_images import png_bytes

pytestmark = pytest.mark.asyncio

BASE = "/webhooks/webchat"


async def test_page_embeds_the_widget_and_escapes_the_title(serve, http, media_store):
    server = await serve(WebChatInput(store=media_store, title="Q&Aid <clinic>"))
    for path in (BASE, BASE + "/"):
        async with http.get(server.base_url + path) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"].startswith("text/html")
            page = await resp.text()
        assert f'src="{BASE}/static/widget.js"' in page
        assert "<title>Q&amp;Aid &lt;clinic&gt;</title>" in page
        assert 'name="viewport"' in page


async def test_static_assets_are_served_from_an_allowlist(serve, http, media_store):
    server = await serve(WebChatInput(store=media_store))
    async with http.get(f"{server.base_url}{BASE}/static/widget.js") as resp:
        assert resp.status == 200 and "javascript" in resp.headers["Content-Type"]
        assert "QAidWebChat" in await resp.text()
    async with http.get(f"{server.base_url}{BASE}/static/widget.css") as resp:
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/css")
    for name in ("index.html", "..%2Fchannel.py", "%2E%2E%2F__init__.py", "nope.js"):
        async with http.get(f"{server.base_url}{BASE}/static/{name}") as resp:
            assert resp.status == 404, name


async def test_upload_and_reply_with_server_relative_media(serve, http, media_store):
    overlay = media_store.store(png_bytes(color=(0, 200, 0)))

    async def reply(message: UserMessage) -> None:
        out = message.output_channel
        if message.text == "/send_image":
            await out.send_text_message(message.sender_id, "This looks like a brain MRI.")
            return
        await out.send_text_message(message.sender_id, "Here is the overlay.")
        await out.send_image_url(message.sender_id, f"http://localhost:5005/media/{overlay.name}")
        await out.send_image_url(message.sender_id, "https://cdn.example.org/x.png")

    server = await serve(WebChatInput(store=media_store), reply=reply)
    form = aiohttp.FormData()
    form.add_field("sender", "browser-1")
    form.add_field("message", "Where is the lesion?")
    form.add_field("image", png_bytes(), filename="mri.png", content_type="image/png")
    async with http.post(f"{server.base_url}{BASE}/webhook", data=form) as resp:
        assert resp.status == 200
        answer = await resp.json()
    assert answer[2]["image"].startswith(f"/media/{overlay.name}?expires=")  # signed, server-relative
    assert answer == [  # the image is screened first, then the caption answered: one HTTP answer for both
        {"recipient_id": "webchat:browser-1", "text": "This looks like a brain MRI."},
        {"recipient_id": "webchat:browser-1", "text": "Here is the overlay."},
        {"recipient_id": "webchat:browser-1", "image": answer[2]["image"]},
        {"recipient_id": "webchat:browser-1", "image": "https://cdn.example.org/x.png"},
    ]
    message, caption = server.bot.messages
    assert (message.text, caption.text) == ("/send_image", "Where is the lesion?")
    assert caption.metadata == {"caption_of": message.metadata["image"]["sha256"]}
    assert message.input_channel == "webchat"
    assert message.metadata["image"]["channel"] == "webchat"
    assert message.metadata["image"]["filename"] == "mri.png"
    async with http.get(server.base_url + answer[2]["image"]) as resp:
        assert resp.status == 200 and await resp.read() == png_bytes(color=(0, 200, 0))


async def test_webchat_and_rest_together_mount_media_once(serve, http, media_store):
    stored = media_store.store(png_bytes())
    webchat = WebChatInput(store=media_store)
    server = await serve(webchat, MediaRestInput(store=media_store))
    async with http.get(server.base_url + signed_media_path(webchat.settings, stored.name)) as resp:
        assert resp.status == 200
    async with http.get(f"{server.base_url}/webhooks/qaid_rest/") as resp:
        assert await resp.json() == {"status": "ok"}
