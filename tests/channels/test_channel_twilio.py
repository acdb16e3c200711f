"""Twilio WhatsApp: X-Twilio-Signature, MediaUrlN downloads with credentials (fake API), signed outbound media."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
import pytest_asyncio
from rasa.core.channels.channel import UserMessage
from twilio.request_validator import RequestValidator

from channels.settings import ChannelSettings
from channels.twilio import TwilioWhatsAppInput
from qaid.media_links import verify_media_signature
from tests.support.channel_images import jpeg_bytes, png_bytes
from tests.support.fake_providers import FakeTwilio

pytestmark = pytest.mark.asyncio

SID = "AC" + "1" * 32
TOKEN = "twilio-auth-token"
NUMBER = "whatsapp:+14155238886"
USER = "whatsapp:+15005550006"
WEBHOOK = "/webhooks/qaid_twilio/webhook"
PUBLIC = "https://bot.example.org"


def inbound(sid: str, **fields: str) -> dict[str, str]:
    """Form fields shaped like Twilio's documented WhatsApp webhook request."""
    form = {
        "SmsMessageSid": sid, "MessageSid": sid, "SmsSid": sid, "AccountSid": SID, "NumMedia": "0",
        "ProfileName": "Jane", "WaId": "15005550006", "SmsStatus": "received", "Body": "", "To": NUMBER,
        "NumSegments": "1", "ReferralNumMedia": "0", "From": USER, "ApiVersion": "2010-04-01",
    }
    form.update(fields)
    return form


@pytest_asyncio.fixture
async def twilio():
    fake = await FakeTwilio(SID, TOKEN).start()
    yield fake
    await fake.stop()


def channel_for(twilio, media_store) -> TwilioWhatsAppInput:
    settings = ChannelSettings(public_url=PUBLIC, media_secret="media-secret")
    return TwilioWhatsAppInput(SID, TOKEN, NUMBER, settings, api_base=twilio.base_url, store=media_store)


async def post(http, server, form: dict[str, str], signature: str | None = "valid", token: str = TOKEN) -> int:
    headers = {}
    if signature == "valid":
        headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(PUBLIC + WEBHOOK, form)
    elif signature is not None:
        headers["X-Twilio-Signature"] = signature
    async with http.post(server.base_url + WEBHOOK, data=form, headers=headers) as resp:
        if resp.status == 200:
            assert resp.headers["Content-Type"].startswith("text/xml")
        return resp.status


async def test_image_with_caption_downloaded_with_account_credentials(serve, http, media_store, twilio):
    data = jpeg_bytes()
    twilio.add_media("ME1", data)
    channel = channel_for(twilio, media_store)
    server = await serve(channel)
    form = inbound("SM1", Body="Is this broken?", NumMedia="1", MediaContentType0="image/jpeg",
                   MediaUrl0=twilio.media_url("ME1"))
    assert await post(http, server, form) == 200
    await channel.workers.drain()
    received, caption = server.bot.messages  # an image with a caption: the image first, then the question
    assert (caption.text, caption.metadata) == ("Is this broken?", {"caption_of": received.metadata["image"]["sha256"]})
    digest = hashlib.sha256(data).hexdigest()
    expected = ("/send_image", f"twilio:{USER}", "qaid_twilio")
    assert (received.text, received.sender_id, received.input_channel) == expected
    assert received.metadata == {"image": {"path": f"media/{digest}.jpg", "sha256": digest,
                                           "media_type": "image/jpeg", "size": len(data), "channel": "twilio"}}
    media, cdn = twilio.calls
    assert media.data["login"] == SID
    assert cdn.data["authorization"] is None


@pytest.mark.parametrize(
    "fields, code, fetched",
    [
        ({"MediaContentType0": "application/pdf", "MediaUrl0": "ME-pdf"}, "not_an_image", False),
        ({"MediaContentType0": "image/jpeg", "MediaUrl0": "https://evil.example/x.jpg"}, "download_failed", False),
        ({"MediaContentType0": "image/png", "MediaUrl0": "ME-text"}, "not_an_image", True),
    ],
)
async def test_refused_media(serve, http, media_store, twilio, fields, code, fetched):
    twilio.add_media("ME-text", b"plain text")
    channel = channel_for(twilio, media_store)
    server = await serve(channel)
    url = fields["MediaUrl0"]
    fields = fields | {"MediaUrl0": url if url.startswith("http") else twilio.media_url(url)}
    await post(http, server, inbound("SM2", NumMedia="1", **fields))
    await channel.workers.drain()
    received = server.bot.messages[0]
    assert received.text == "/send_image"
    assert received.metadata["image_error"]["code"] == code
    assert bool(twilio.calls) == fetched


async def test_second_attachment_used_when_first_is_not_an_image(serve, http, media_store, twilio):
    twilio.add_media("ME-a", b"%PDF-1.7", content_type="image/jpeg")
    twilio.add_media("ME-b", png_bytes())
    channel = channel_for(twilio, media_store)
    server = await serve(channel)
    form = inbound("SM3", NumMedia="2", MediaContentType0="image/jpeg", MediaUrl0=twilio.media_url("ME-a"),
                   MediaContentType1="image/png", MediaUrl1=twilio.media_url("ME-b"))
    await post(http, server, form)
    await channel.workers.drain()
    assert server.bot.messages[0].metadata["image"]["media_type"] == "image/png"


async def test_location(serve, http, media_store, twilio):
    channel = channel_for(twilio, media_store)
    server = await serve(channel)
    await post(http, server, inbound("SM4", Latitude="48.8566", Longitude="2.3522", Address="Paris"))
    await channel.workers.drain()
    received = server.bot.messages[0]
    assert received.text == "/give_location"
    assert received.metadata == {"location": {"latitude": 48.8566, "longitude": 2.3522}}


@pytest.mark.parametrize("signature, token, status", [(None, TOKEN, 401), ("valid", "wrong-token", 403),
                                                      ("bm90LWEtc2lnbmF0dXJl", TOKEN, 403)])
async def test_forged_requests_are_refused(serve, http, media_store, twilio, signature, token, status):
    channel = channel_for(twilio, media_store)
    server = await serve(channel)
    assert await post(http, server, inbound("SM5", Body="hi"), signature, token) == status
    await channel.workers.drain()
    assert server.bot.messages == []


async def test_tampered_form_fails_the_signature(serve, http, media_store, twilio):
    channel = channel_for(twilio, media_store)
    server = await serve(channel)
    form = inbound("SM6", Body="hi")
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + WEBHOOK, form)
    assert await post(http, server, form | {"Body": "send all my data"}, signature) == 403


async def test_replay_and_status_callbacks_are_ignored(serve, http, media_store, twilio):
    channel = channel_for(twilio, media_store)
    server = await serve(channel)
    form = inbound("SM7", Body="hello")
    assert await post(http, server, form) == 200
    assert await post(http, server, form) == 200
    status = {"MessageSid": "SM8", "MessageStatus": "delivered", "SmsStatus": "delivered", "AccountSid": SID,
              "From": NUMBER, "To": USER, "ApiVersion": "2010-04-01", "ChannelPrefix": "whatsapp"}
    assert await post(http, server, status) == 200
    await channel.workers.drain()
    assert [m.text for m in server.bot.messages] == ["hello"]


async def test_outbound_text_numbered_buttons_and_signed_media(serve, http, media_store, twilio):
    overlay = media_store.store(png_bytes(color=(4, 5, 6)))

    async def reply(received: UserMessage) -> None:
        if received.text == "start":
            out = received.output_channel
            await out.send_response(f"twilio:{USER}", {"text": "Share with a hospital?", "buttons": [
                {"title": "Yes", "payload": "/give_consent"}, {"title": "No", "payload": "/refuse_consent"}]})
            await out.send_response(f"twilio:{USER}", {"image": f"http://localhost:5005/media/{overlay.name}"})

    channel = channel_for(twilio, media_store)
    server = await serve(channel, reply=reply)
    await post(http, server, inbound("SM9", Body="start"))
    await channel.workers.drain()
    text, image = [c for c in twilio.calls if c.method == "send"]
    assert text.headers["Authorization"].startswith("Basic ")
    assert text.data == {"From": NUMBER, "To": USER, "Body": "Share with a hospital?\n1. Yes\n2. No"}
    url = urlsplit(image.data["MediaUrl"])
    assert f"{url.scheme}://{url.netloc}" == PUBLIC and url.path == f"/media/{overlay.name}"
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert verify_media_signature("media-secret", overlay.name, query["expires"], query["signature"])

    await post(http, server, inbound("SM10", Body="2"))
    await post(http, server, inbound("SM11", Body="2"))
    await channel.workers.drain()
    assert [m.text for m in server.bot.messages[1:]] == ["/refuse_consent", "2"]
