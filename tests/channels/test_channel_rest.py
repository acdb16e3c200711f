"""qaid_rest: JSON, base64 and multipart images; metadata per qaid/CONTRACTS.md; the media route."""

from __future__ import annotations

import base64
import hashlib
import json

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage

from channels.rest import MediaRestInput
from channels.sessions import SESSION_HEADER
from channels.settings import ChannelSettings
from channels.signing import signed_media_path, signed_media_url
from tests.support.channel_images import dicom_bytes, png_bytes

pytestmark = pytest.mark.asyncio

WEBHOOK = "/webhooks/qaid_rest/webhook"


async def answer_with_text_and_image(message: UserMessage) -> None:
    await message.output_channel.send_text_message(message.sender_id, f"got: {message.text}")
    await message.output_channel.send_image_url(message.sender_id, "http://localhost:5005/media/x.png")


async def test_plain_text_message_is_passed_through(serve, http, media_store):
    server = await serve(MediaRestInput(store=media_store), reply=answer_with_text_and_image)
    async with http.post(server.base_url + WEBHOOK, json={"sender": "p1", "message": "hello"}) as resp:
        assert resp.status == 200
        body = await resp.json()
    assert body[0] == {"recipient_id": "rest:p1", "text": "got: hello"}
    assert body[1]["image"].startswith("http://localhost:5005/media/x.png?expires=")  # our media: a signed link
    assert "&signature=" in body[1]["image"]
    message = server.bot.messages[0]
    assert (message.text, message.sender_id, message.input_channel) == ("hello", "rest:p1", "qaid_rest")
    assert message.metadata == {}


async def test_multipart_upload_is_stored_content_addressed(serve, http, media_store):
    server = await serve(MediaRestInput(store=media_store))
    data = png_bytes()
    form = aiohttp.FormData()
    form.add_field("sender", "p2")
    form.add_field("message", "is there a fracture?")
    form.add_field("image", data, filename="../../xray.png", content_type="image/jpeg")
    async with http.post(server.base_url + WEBHOOK, data=form) as resp:
        assert resp.status == 200
    message, caption = server.bot.messages  # an image with a caption: the image first, then the question
    digest = hashlib.sha256(data).hexdigest()
    assert message.text == "/send_image"
    assert (caption.text, caption.metadata) == ("is there a fracture?", {"caption_of": digest})
    assert message.metadata == {
        "image": {
            "path": f"media/{digest}.png",
            "sha256": digest,
            "media_type": "image/png",
            "size": len(data),
            "channel": "rest",
            "filename": "xray.png",
        }
    }
    assert (media_store.root / f"{digest}.png").read_bytes() == data


async def test_upload_without_caption_becomes_send_image(serve, http, media_store):
    server = await serve(MediaRestInput(store=media_store))
    form = aiohttp.FormData()
    form.add_field("sender", "p3")
    form.add_field("image", dicom_bytes(), filename="scan.dcm", content_type="application/octet-stream")
    async with http.post(server.base_url + WEBHOOK, data=form) as resp:
        assert resp.status == 200
    message = server.bot.messages[0]
    assert message.text == "/send_image"
    assert message.metadata["image"]["media_type"] == "application/dicom"
    assert message.metadata["image"]["path"].endswith(".dcm")


async def test_base64_metadata_is_decoded_and_stored(serve, http, media_store):
    server = await serve(MediaRestInput(store=media_store))
    data = png_bytes(color=(1, 2, 3))
    payload = {
        "sender": "p4",
        "message": "what organ is this?",
        "metadata": {"image": {"base64": base64.b64encode(data).decode(), "filename": "a.png"}, "lang": "en"},
    }
    async with http.post(server.base_url + WEBHOOK, json=payload) as resp:
        assert resp.status == 200
    metadata = server.bot.messages[0].metadata
    assert metadata["lang"] == "en"
    assert metadata["image"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert "base64" not in metadata["image"]
    assert (media_store.root.parent / metadata["image"]["path"]).read_bytes() == data


@pytest.mark.parametrize(
    "image, code",
    [
        ({"base64": base64.b64encode(b"%PDF-1.4 not an image").decode()}, "not_an_image"),
        ({"base64": "!!!not base64!!!"}, "unreadable"),
        ({"base64": base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40).decode()}, "unreadable"),
        ({"url": "file:///etc/passwd"}, "unsupported_source"),
        ({"path": "media/../../etc/passwd"}, "not_found"),
        ({"path": "media/" + "0" * 64 + ".png"}, "not_found"),
    ],
)
async def test_refused_images_reach_actions_as_image_error(serve, http, media_store, image, code):
    server = await serve(MediaRestInput(store=media_store))
    async with http.post(server.base_url + WEBHOOK, json={"sender": "p5", "metadata": {"image": image}}) as resp:
        assert resp.status == 200
    message = server.bot.messages[0]
    assert message.text == "/send_image"
    assert message.metadata["image_error"]["code"] == code
    assert message.metadata["image_error"]["reason"]
    assert "image" not in message.metadata


async def test_too_large_upload_is_refused_without_storing(serve, http, media_store):
    server = await serve(MediaRestInput(store=media_store))
    form = aiohttp.FormData()
    form.add_field("sender", "p6")
    form.add_field("image", b"\xff\xd8\xff" + b"\x00" * (20 * 1024 * 1024), filename="big.jpg")
    async with http.post(server.base_url + WEBHOOK, data=form) as resp:
        assert resp.status == 200
    assert server.bot.messages[0].metadata["image_error"]["code"] == "too_large"
    assert not media_store.root.exists() or not any(media_store.root.iterdir())


async def test_previously_stored_path_is_accepted(serve, http, media_store):
    stored = media_store.store(png_bytes())
    server = await serve(MediaRestInput(store=media_store))
    payload = {"sender": "p7", "message": "and now?", "metadata": {"image": {"path": stored.relative_path}}}
    async with http.post(server.base_url + WEBHOOK, json=payload) as resp:
        assert resp.status == 200
    assert server.bot.messages[0].metadata["image"]["sha256"] == stored.sha256


async def test_location_metadata_is_validated(serve, http, media_store):
    server = await serve(MediaRestInput(store=media_store))
    good = {"sender": "p8", "metadata": {"location": {"latitude": "52.5", "longitude": 13.4}}}
    bad = {"sender": "p8", "message": "hi", "metadata": {"location": {"latitude": 500, "longitude": 0}}}
    headers = {}
    for payload in (good, bad):
        async with http.post(server.base_url + WEBHOOK, json=payload, headers=headers) as resp:
            assert resp.status == 200
            headers = {SESSION_HEADER: resp.headers[SESSION_HEADER]}
    first, second = server.bot.messages
    assert first.text == "/give_location"
    assert first.metadata == {"location": {"latitude": 52.5, "longitude": 13.4}}
    assert second.metadata == {}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"json": {"message": "no sender"}},
        {"json": {"sender": "p9"}},
        {"json": {"sender": "p9", "message": "x", "metadata": "nope"}},
        {"data": b"{not json", "headers": {"Content-Type": "application/json"}},
        {"data": {"sender": "p9", "message": "x", "metadata": "{bad"}},
    ],
)
async def test_malformed_requests_get_400(serve, http, media_store, kwargs):
    server = await serve(MediaRestInput(store=media_store))
    async with http.post(server.base_url + WEBHOOK, **kwargs) as resp:
        assert resp.status == 400
        assert "error" in await resp.json()
    assert server.bot.messages == []


async def test_media_route_serves_stored_files_only(serve, http, media_store):
    stored = media_store.store(png_bytes())
    (media_store.root.parent / "secret.txt").write_text("do not serve")
    channel = MediaRestInput(store=media_store)
    server = await serve(channel)
    async with http.get(server.base_url + signed_media_path(channel.settings, stored.name)) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "image/png"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert await resp.read() == png_bytes()
    for name in ("secret.txt", "missing.png"):  # even with a valid signature
        async with http.get(server.base_url + signed_media_path(channel.settings, name)) as resp:
            assert resp.status == 404, name
    for name in ("..%2Fsecret.txt", "%2E%2E%2Fsecret.txt"):
        async with http.get(f"{server.base_url}/media/{name}") as resp:
            assert resp.status in (403, 404), name


async def test_media_route_checks_signatures(serve, http, media_store):
    stored = media_store.store(png_bytes())
    settings = ChannelSettings(media_secret="s3cret")
    server = await serve(MediaRestInput(settings, media_store))
    signed = signed_media_url(ChannelSettings(public_url=server.base_url, media_secret="s3cret"), stored.name)
    async with http.get(signed) as resp:
        assert resp.status == 200
    forged = signed_media_url(ChannelSettings(public_url=server.base_url, media_secret="other"), stored.name)
    expired = signed_media_url(
        ChannelSettings(public_url=server.base_url, media_secret="s3cret", signed_url_ttl_s=10), stored.name, now=0
    )
    for url in (f"{server.base_url}/media/{stored.name}", forged, expired):
        async with http.get(url) as resp:
            assert resp.status == 403, url


async def test_stream_mode_returns_newline_delimited_messages(serve, http, media_store):
    server = await serve(MediaRestInput(store=media_store), reply=answer_with_text_and_image)
    async with http.post(server.base_url + WEBHOOK + "?stream=true", json={"sender": "s", "message": "hi"}) as resp:
        lines = [json.loads(line) for line in (await resp.text()).splitlines() if line]
    assert lines[0]["text"] == "got: hi"
