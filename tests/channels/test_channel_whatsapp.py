"""WhatsApp Cloud API: verification challenge, X-Hub-Signature-256, inbound kinds, Graph media via a fake."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
import pytest_asyncio
from rasa.core.channels.channel import UserMessage

from channels.settings import ChannelSettings
from channels.whatsapp import WhatsAppCloudInput
from tests.support.channel_images import dicom_bytes, jpeg_bytes, png_bytes
from tests.support.fake_providers import FakeGraph

pytestmark = pytest.mark.asyncio

TOKEN = "EAAG-test-token"
APP_SECRET = "app-secret"
VERIFY = "verify-me"
PHONE_ID = "106540352242922"
WEBHOOK = "/webhooks/qaid_whatsapp/webhook"
USER = "16505551234"


def notification(*messages: dict, statuses: list | None = None) -> dict:
    """A webhook notification shaped like Meta's documented examples."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_ID},
        "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": USER}],
    }
    if messages:
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = statuses
    return {"object": "whatsapp_business_account",
            "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}]}


def message(mid: str, kind: str, content: dict) -> dict:
    return {"from": USER, "id": f"wamid.{mid}", "timestamp": "1749416383", "type": kind, kind: content}


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest_asyncio.fixture
async def graph():
    fake = await FakeGraph(TOKEN).start()
    yield fake
    await fake.stop()


def channel_for(graph, media_store) -> WhatsAppCloudInput:
    return WhatsAppCloudInput(TOKEN, PHONE_ID, APP_SECRET, VERIFY, ChannelSettings(),
                              graph_url=graph.base_url, store=media_store)


async def post(http, server, payload: dict, signature: str | None = "valid") -> int:
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if signature == "valid":
        headers["X-Hub-Signature-256"] = sign(body)
    elif signature is not None:
        headers["X-Hub-Signature-256"] = signature
    async with http.post(server.base_url + WEBHOOK, data=body, headers=headers) as resp:
        return resp.status


async def test_verification_challenge(serve, http, media_store, graph):
    server = await serve(channel_for(graph, media_store))
    good = {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"}
    async with http.get(server.base_url + WEBHOOK, params=good) as resp:
        assert resp.status == 200 and await resp.text() == "1158201444"
    async with http.get(server.base_url + WEBHOOK, params=good | {"hub.verify_token": "nope"}) as resp:
        assert resp.status == 403


async def test_image_with_caption_is_downloaded_via_graph(serve, http, media_store, graph):
    data = jpeg_bytes()
    graph.add_media("1003383421387256", data)
    channel = channel_for(graph, media_store)
    server = await serve(channel)
    image = {"caption": "Is this ok?", "mime_type": "image/jpeg", "sha256": hashlib.sha256(data).hexdigest(),
             "id": "1003383421387256"}
    assert await post(http, server, notification(message("IMG", "image", image))) == 200
    await channel.workers.drain()
    received, caption = server.bot.messages  # an image with a caption: the image first, then the question
    assert (caption.text, caption.metadata) == ("Is this ok?", {"caption_of": received.metadata["image"]["sha256"]})
    digest = hashlib.sha256(data).hexdigest()
    expected = ("/send_image", f"whatsapp:{USER}", "qaid_whatsapp")
    assert (received.text, received.sender_id, received.input_channel) == expected
    assert received.metadata == {"image": {"path": f"media/{digest}.jpg", "sha256": digest,
                                           "media_type": "image/jpeg", "size": len(data), "channel": "whatsapp"}}
    assert [c.method for c in graph.calls] == ["media_info", "download"]


async def test_dicom_document_text_and_location(serve, http, media_store, graph):
    graph.add_media("doc-1", dicom_bytes(), mime_type="application/dicom")
    channel = channel_for(graph, media_store)
    server = await serve(channel)
    document = {"filename": "head.dcm", "mime_type": "application/dicom", "id": "doc-1"}
    payload = notification(
        message("DOC", "document", document),
        message("TXT", "text", {"body": "what does it show?"}),
        message("LOC", "location", {"latitude": 37.483307, "longitude": -122.148981, "name": "Pablo Morales",
                                    "address": "1 Hacker Way, Menlo Park, CA 94025"}),
    )
    await post(http, server, payload)
    await channel.workers.drain()
    document_msg, text_msg, location_msg = server.bot.messages
    assert document_msg.text == "/send_image"
    assert document_msg.metadata["image"]["media_type"] == "application/dicom"
    assert document_msg.metadata["image"]["filename"] == "head.dcm"
    assert text_msg.text == "what does it show?" and text_msg.metadata == {}
    assert location_msg.text == "/give_location"
    assert location_msg.metadata == {"location": {"latitude": 37.483307, "longitude": -122.148981}}


@pytest.mark.parametrize(
    "kind, content, code",
    [
        ("document", {"filename": "r.pdf", "mime_type": "application/pdf", "id": "pdf"}, "not_an_image"),
        ("image", {"mime_type": "image/jpeg", "id": "missing"}, "download_failed"),
        ("image", {"mime_type": "image/jpeg", "id": "bad-sha"}, "unreadable"),
        ("image", {"mime_type": "image/png", "id": "text"}, "not_an_image"),
        ("audio", {"mime_type": "audio/ogg; codecs=opus", "id": "voice", "voice": True}, "not_an_image"),
    ],
)
async def test_refused_media(serve, http, media_store, graph, kind, content, code):
    graph.add_media("bad-sha", png_bytes(), sha256="0" * 64)
    graph.add_media("text", b"hello, I am not a picture", mime_type="image/png")
    channel = channel_for(graph, media_store)
    server = await serve(channel)
    await post(http, server, notification(message("BAD", kind, content)))
    await channel.workers.drain()
    received = server.bot.messages[0]
    assert received.text == "/send_image"
    assert received.metadata["image_error"]["code"] == code


async def test_media_url_on_foreign_host_is_not_given_the_token(serve, http, media_store, graph):
    channel = WhatsAppCloudInput(TOKEN, PHONE_ID, APP_SECRET, VERIFY, ChannelSettings(),
                                 graph_url=graph.base_url.replace("127.0.0.1", "localhost"), store=media_store)
    graph.add_media("m1", png_bytes())
    server = await serve(channel)
    await post(http, server, notification(message("FOREIGN", "image", {"mime_type": "image/png", "id": "m1"})))
    await channel.workers.drain()
    assert server.bot.messages[0].metadata["image_error"]["code"] == "download_failed"
    assert [c.method for c in graph.calls] == ["media_info"]


@pytest.mark.parametrize("signature, status", [(None, 401), ("sha256=" + "0" * 64, 403), ("md5=abc", 401)])
async def test_forged_notifications_are_refused(serve, http, media_store, graph, signature, status):
    channel = channel_for(graph, media_store)
    server = await serve(channel)
    assert await post(http, server, notification(message("X", "text", {"body": "hi"})), signature) == status
    body = json.dumps(notification(message("Y", "text", {"body": "hi"}))).encode()
    async with http.post(server.base_url + WEBHOOK, data=body,
                         headers={"X-Hub-Signature-256": sign(body, "other-secret")}) as resp:
        assert resp.status == 403
    await channel.workers.drain()
    assert server.bot.messages == []


async def test_replayed_notification_is_processed_once(serve, http, media_store, graph):
    channel = channel_for(graph, media_store)
    server = await serve(channel)
    payload = notification(message("SAME", "text", {"body": "hello"}))
    assert await post(http, server, payload) == 200
    assert await post(http, server, payload) == 200
    await channel.workers.drain()
    assert [m.text for m in server.bot.messages] == ["hello"]


async def test_status_updates_and_other_numbers_are_ignored(serve, http, media_store, graph):
    channel = channel_for(graph, media_store)
    server = await serve(channel)
    statuses = [{"id": "wamid.OUT", "status": "delivered", "timestamp": "1749416400", "recipient_id": USER,
                 "conversation": {"id": "c1", "origin": {"type": "service"}},
                 "pricing": {"billable": True, "pricing_model": "CBP", "category": "service"}}]
    assert await post(http, server, notification(statuses=statuses)) == 200
    other_number = notification(message("OTHER", "text", {"body": "hi"}))
    other_number["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999"
    assert await post(http, server, other_number) == 200
    await channel.workers.drain()
    assert server.bot.messages == []


async def test_outbound_buttons_lists_images_and_interactive_replies(serve, http, media_store, graph):
    overlay = media_store.store(png_bytes(color=(9, 9, 9)))
    long_payload = '/choose_hospital{"hospital": "' + "x" * 300 + '"}'

    async def reply(received: UserMessage) -> None:
        out = received.output_channel
        if received.text != "start":
            return
        await out.send_response(f"whatsapp:{USER}", {"text": "Consent?", "buttons": [
            {"title": "Yes, I agree to share", "payload": "/give_consent"}, {"title": "No", "payload": long_payload}]})
        await out.send_response(f"whatsapp:{USER}", {"text": "Pick one", "buttons": [
            {"title": f"Hospital {i}", "payload": f"/choose_hospital{{\"n\": {i}}}"} for i in range(5)]})
        await out.send_response(f"whatsapp:{USER}", {"image": f"http://localhost:5005/media/{overlay.name}"})
        await out.send_response(f"whatsapp:{USER}", {"image": "https://example.org/a.png"})

    channel = channel_for(graph, media_store)
    server = await serve(channel, reply=reply)
    await post(http, server, notification(message("S", "text", {"body": "start"})))
    await channel.workers.drain()
    sent = [c.data for c in graph.named("messages")]
    assert all(c.headers["Authorization"] == f"Bearer {TOKEN}" for c in graph.named("messages"))
    buttons = sent[0]["interactive"]
    assert buttons["type"] == "button" and buttons["body"]["text"] == "Consent?"
    titles = [b["reply"]["title"] for b in buttons["action"]["buttons"]]
    assert titles == ["Yes, I agree to shar", "No"]
    long_id = buttons["action"]["buttons"][1]["reply"]["id"]
    assert len(long_id) <= 256
    assert sent[1]["interactive"]["type"] == "list"
    assert len(sent[1]["interactive"]["action"]["sections"][0]["rows"]) == 5
    upload = graph.named("upload")[0]
    assert upload.files["file"] == png_bytes(color=(9, 9, 9)) and upload.data["type"] == "image/png"
    assert sent[2] == {"messaging_product": "whatsapp", "recipient_type": "individual", "to": USER,
                       "type": "image", "image": {"id": "media-" + str(graph.calls.index(upload) + 1)}}
    assert sent[3]["image"] == {"link": "https://example.org/a.png"}

    interactive = {"type": "button_reply", "button_reply": {"id": long_id, "title": "No"}}
    listed = {"type": "list_reply", "list_reply": {"id": '/choose_hospital{"n": 3}', "title": "Hospital 3"}}
    await post(http, server, notification(message("R1", "interactive", interactive),
                                          message("R2", "interactive", listed)))
    await channel.workers.drain()
    assert [m.text for m in server.bot.messages[1:]] == [long_payload, '/choose_hospital{"n": 3}']
