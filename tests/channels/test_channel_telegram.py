"""Telegram: webhook secret, polling, photos/documents/locations/buttons via a fake Bot API on loopback."""

from __future__ import annotations

import asyncio
import copy
import hashlib

import pytest
import pytest_asyncio
from rasa.core.channels.channel import UserMessage

from channels.provider import LOOKING, LOOKING_WHEN_IN_FLIGHT
from channels.settings import ChannelSettings
from channels.telegram import SECRET_HEADER, TelegramInput
from tests.support.channel_images import dicom_bytes, jpeg_bytes, png_bytes
from tests.support.fake_providers import FakeTelegram

pytestmark = pytest.mark.asyncio

TOKEN = "123456:TEST-token"
SECRET = "s3cret-Token_1"
WEBHOOK = "/webhooks/qaid_telegram/webhook"
CHAT = {"id": 1111111, "first_name": "Test", "username": "Test", "type": "private"}
FROM = {"id": 1111111, "is_bot": False, "first_name": "Test", "username": "Test", "language_code": "en"}


def update(update_id: int, **message_fields) -> dict:
    """An update shaped like the Bot API documentation's examples."""
    message = {"message_id": 1000 + update_id, "from": FROM, "chat": CHAT, "date": 1441645532}
    message.update(message_fields)
    return {"update_id": update_id, "message": message}


PHOTO_SIZES = [
    {"file_id": "AgAD-small", "file_unique_id": "AQADs", "file_size": 1000, "width": 90, "height": 90},
    {"file_id": "AgAD-large", "file_unique_id": "AQADl", "file_size": 4000, "width": 800, "height": 600},
    {"file_id": "AgAD-medium", "file_unique_id": "AQADm", "file_size": 2000, "width": 320, "height": 240},
]


@pytest_asyncio.fixture
async def telegram():
    fake = await FakeTelegram(TOKEN).start()
    yield fake
    await fake.stop()


def webhook_channel(telegram, media_store, public_url="http://localhost:5005") -> TelegramInput:
    return TelegramInput(
        TOKEN,
        ChannelSettings(public_url=public_url),
        webhook_url="https://bot.example.org" + WEBHOOK,
        secret_token=SECRET,
        api_base=telegram.base_url,
        store=media_store,
    )


async def post_update(http, server, payload, secret=SECRET):
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    async with http.post(server.base_url + WEBHOOK, json=payload, headers=headers) as resp:
        return resp.status


async def test_photo_with_caption_fetches_largest_size(serve, http, media_store, telegram):
    data = jpeg_bytes()
    telegram.add_file("AgAD-large", data, path="photos/file_7.jpg")
    channel = webhook_channel(telegram, media_store)
    server = await serve(channel)
    assert await post_update(http, server, update(1, photo=PHOTO_SIZES, caption="Is this normal?")) == 200
    await channel.workers.drain()
    message, caption = server.bot.messages  # an image with a caption: the image first, then the question
    digest = hashlib.sha256(data).hexdigest()
    expected = ("/send_image", "telegram:1111111", "qaid_telegram")
    assert (message.text, message.sender_id, message.input_channel) == expected
    assert (caption.text, caption.sender_id) == ("Is this normal?", "telegram:1111111")
    assert caption.metadata == {"caption_of": message.metadata["image"]["sha256"]}
    assert message.metadata == {
        "image": {
            "path": f"media/{digest}.jpg",
            "sha256": digest,
            "media_type": "image/jpeg",
            "size": len(data),
            "channel": "telegram",
        }
    }
    assert [c.data["file_id"] for c in telegram.named("getFile")] == ["AgAD-large"]
    assert telegram.named("setWebhook")[0].data["secret_token"] == SECRET


async def test_dicom_document_without_caption(serve, http, media_store, telegram):
    telegram.add_file("BQAD-dcm", dicom_bytes(), path="documents/file_3.dcm")
    channel = webhook_channel(telegram, media_store)
    server = await serve(channel)
    document = {"file_name": "brain.dcm", "mime_type": "application/dicom", "file_id": "BQAD-dcm",
                "file_unique_id": "AgADd", "file_size": len(dicom_bytes())}
    await post_update(http, server, update(2, document=document))
    await channel.workers.drain()
    message = server.bot.messages[0]
    assert message.text == "/send_image"
    assert message.metadata["image"]["media_type"] == "application/dicom"
    assert message.metadata["image"]["filename"] == "brain.dcm"


@pytest.mark.parametrize(
    "message_fields, code, downloads",
    [
        ({"document": {"file_name": "report.pdf", "mime_type": "application/pdf", "file_id": "pdf", "file_size": 9}},
         "not_an_image", 0),
        ({"document": {"file_name": "x.png", "mime_type": "image/png", "file_id": "fake-png", "file_size": 20}},
         "not_an_image", 1),
        ({"photo": [{"file_id": "huge", "file_unique_id": "h", "file_size": 25_000_000, "width": 9000,
                     "height": 9000}]}, "too_large", 0),
        ({"document": {"file_name": "gone.jpg", "mime_type": "image/jpeg", "file_id": "unknown", "file_size": 5}},
         "download_failed", 1),
        ({"voice": {"file_id": "v", "file_unique_id": "v", "duration": 2, "mime_type": "audio/ogg"}},
         "not_an_image", 0),
    ],
)
async def test_refused_media_gets_an_image_error(serve, http, media_store, telegram, message_fields, code, downloads):
    telegram.add_file("fake-png", b"this is plain text, not a png", path="documents/x.png")
    channel = webhook_channel(telegram, media_store)
    server = await serve(channel)
    await post_update(http, server, update(3, **message_fields))
    await channel.workers.drain()
    message = server.bot.messages[0]
    assert message.text == "/send_image"
    assert message.metadata["image_error"]["code"] == code
    assert len(telegram.named("getFile")) == downloads


async def test_declared_size_lies_are_caught_while_downloading(serve, http, media_store, telegram):
    telegram.add_file("liar", b"\xff\xd8\xff" + b"\x00" * (20 * 1024 * 1024 + 10), size=100)
    channel = webhook_channel(telegram, media_store)
    server = await serve(channel)
    photo = [{"file_id": "liar", "file_unique_id": "l", "file_size": 100, "width": 10, "height": 10}]
    await post_update(http, server, update(4, photo=photo))
    await channel.workers.drain()
    assert server.bot.messages[0].metadata["image_error"]["code"] == "too_large"


async def test_location_and_start_command(serve, http, media_store, telegram):
    channel = webhook_channel(telegram, media_store)
    server = await serve(channel)
    await post_update(http, server, update(5, location={"latitude": 52.52, "longitude": 13.405}))
    await post_update(http, server, update(6, text="/start@QAidBot"))
    await channel.workers.drain()
    location, start = server.bot.messages
    assert location.text == "/give_location"
    assert location.metadata == {"location": {"latitude": 52.52, "longitude": 13.405}}
    assert start.text == "/greet"


@pytest.mark.parametrize("secret, status", [(None, 401), ("wrong-token", 403)])
async def test_forged_webhook_requests_are_refused(serve, http, media_store, telegram, secret, status):
    channel = webhook_channel(telegram, media_store)
    server = await serve(channel)
    assert await post_update(http, server, update(7, text="hi"), secret=secret) == status
    await channel.workers.drain()
    assert server.bot.messages == []


async def test_replayed_update_is_processed_once(serve, http, media_store, telegram):
    channel = webhook_channel(telegram, media_store)
    server = await serve(channel)
    payload = update(8, text="hello")
    assert await post_update(http, server, payload) == 200
    assert await post_update(http, server, copy.deepcopy(payload)) == 200
    await channel.workers.drain()
    assert [m.text for m in server.bot.messages] == ["hello"]


async def test_updates_that_are_not_messages_are_ignored(serve, http, media_store, telegram):
    channel = webhook_channel(telegram, media_store)
    server = await serve(channel)
    edited = {"update_id": 9, "edited_message": update(9, text="edit")["message"]}
    member = {"update_id": 10, "my_chat_member": {"chat": CHAT, "from": FROM, "date": 1}}
    joined = update(11, new_chat_members=[FROM])
    for payload in (edited, member, joined):
        assert await post_update(http, server, payload) == 200
    await channel.workers.drain()
    assert server.bot.messages == []


async def reply_with_buttons_and_images(message: UserMessage) -> None:
    out = message.output_channel
    long_payload = '/choose_hospital{"hospital": "St. Elisabeth University Hospital, Department of Radiology"}'
    await out.send_response(
        message.sender_id,
        {"text": "Which hospital?", "buttons": [{"title": "Yes", "payload": "/affirm"},
                                                {"title": "St. Elisabeth", "payload": long_payload}]},
    )
    await out.send_response(message.sender_id, {"image": message.metadata["overlay"]})
    await out.send_response(message.sender_id, {"image": "https://example.org/external.png"})


async def test_outbound_buttons_and_images_and_callback_round_trip(serve, http, media_store, telegram):
    overlay = media_store.store(png_bytes(color=(0, 255, 0)))
    channel = webhook_channel(telegram, media_store)

    async def reply(message: UserMessage) -> None:
        if message.text == "hi":
            message.metadata["overlay"] = f"http://localhost:5005/media/{overlay.name}"
            await reply_with_buttons_and_images(message)

    server = await serve(channel, reply=reply)
    await post_update(http, server, update(12, text="hi"))
    await channel.workers.drain()
    send = telegram.named("sendMessage")[0].data
    keyboard = send["reply_markup"]["inline_keyboard"]
    assert send["chat_id"] == "1111111" and send["text"] == "Which hospital?"
    assert keyboard[0] == [{"text": "Yes", "callback_data": "/affirm"}]
    token = keyboard[1][0]["callback_data"]
    assert len(token.encode()) <= 64
    photos = telegram.named("sendPhoto")
    assert photos[0].files["photo"] == png_bytes(color=(0, 255, 0))
    assert photos[0].data["photo_content_type"] == "image/png"
    assert photos[1].data["photo"] == "https://example.org/external.png"

    callback = {"update_id": 13, "callback_query": {
        "id": "4382bfdwdsb323b2d9", "from": FROM, "chat_instance": "-42", "data": token,
        "message": {"message_id": 1366, "from": FROM, "chat": CHAT, "date": 1441645550, "text": "Which hospital?"}}}
    await post_update(http, server, callback)
    expired = copy.deepcopy(callback) | {"update_id": 14}
    expired["callback_query"]["data"] = "qb:unknown"
    await post_update(http, server, expired)
    await channel.workers.drain()
    assert server.bot.messages[1].text.startswith('/choose_hospital{"hospital": "St. Elisabeth')
    assert len(telegram.named("answerCallbackQuery")) == 2
    assert "expired" in telegram.named("sendMessage")[-1].data["text"]
    assert len(server.bot.messages) == 2


async def test_bot_failure_sends_an_apology(serve, http, media_store, telegram):
    channel = webhook_channel(telegram, media_store)

    async def broken(message: UserMessage) -> None:
        raise RuntimeError("agent crashed")

    server = await serve(channel, reply=broken)
    await post_update(http, server, update(15, text="hello"))
    await channel.workers.drain()
    assert "went wrong" in telegram.named("sendMessage")[0].data["text"]


async def test_an_image_is_acknowledged_at_once_when_many_messages_are_in_flight(serve, http, media_store, telegram):
    channel = webhook_channel(telegram, media_store)
    server = await serve(channel)
    telegram.add_file("AgAD-large", jpeg_bytes(), path="photos/file_8.jpg")
    release = asyncio.Event()
    for other in range(LOOKING_WHEN_IN_FLIGHT - 1):  # other patients' messages still being handled
        channel.workers.submit(f"other-{other}", release.wait)
    await post_update(http, server, update(16, photo=PHOTO_SIZES))
    for _ in range(100):
        if server.bot.messages:
            break
        await asyncio.sleep(0.02)
    assert [m.data["text"] for m in telegram.named("sendMessage")][:1] == [LOOKING]
    assert server.bot.messages[0].metadata["image"]["path"]  # and the image still reaches the bot
    release.set()
    await channel.workers.drain()

    quiet = await post_update(http, server, update(17, photo=PHOTO_SIZES))
    await channel.workers.drain()
    assert quiet == 200 and [m.data["text"] for m in telegram.named("sendMessage")].count(LOOKING) == 1


async def test_long_polling_shares_the_update_handler(serve, media_store, telegram):
    data = png_bytes()
    telegram.add_file("AgAD-large", data)
    telegram.updates = [update(20, photo=PHOTO_SIZES), update(21, text="what is this?")]
    channel = TelegramInput(TOKEN, ChannelSettings(), api_base=telegram.base_url, store=media_store)
    server = await serve(channel)
    photo, question = await server.bot.wait_for(2)
    assert photo.text == "/send_image" and photo.metadata["image"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert question.text == "what is this?"
    assert telegram.named("deleteWebhook")
    offsets = [c.data.get("offset") for c in telegram.named("getUpdates")]
    assert 22 in offsets


async def test_polling_mode_refuses_webhook_posts(serve, http, media_store, telegram):
    channel = TelegramInput(TOKEN, ChannelSettings(), api_base=telegram.base_url, store=media_store)
    server = await serve(channel)
    assert await post_update(http, server, update(30, text="hi")) == 403
    async with http.get(server.base_url + "/webhooks/qaid_telegram/") as resp:
        assert await resp.json() == {"status": "ok", "mode": "polling"}


async def test_webhook_mode_requires_a_valid_secret():
    with pytest.raises(ValueError):
        TelegramInput(TOKEN, ChannelSettings(), webhook_url="https://x.org/webhook", secret_token=None)
    with pytest.raises(ValueError):
        TelegramInput(TOKEN, ChannelSettings(), webhook_url="https://x.org/webhook", secret_token="bad token!")


async def test_outbound_dicom_goes_as_a_document(serve, http, media_store, telegram):
    stored = media_store.store(dicom_bytes())
    channel = webhook_channel(telegram, media_store)

    async def reply(message: UserMessage) -> None:
        await message.output_channel.send_response(message.sender_id, {"image": f"/media/{stored.name}"})

    server = await serve(channel, reply=reply)
    await post_update(http, server, update(40, text="send it back"))
    await channel.workers.drain()
    document = telegram.named("sendDocument")[0]
    assert document.files["document"] == (media_store.root / stored.name).read_bytes()  # the de-identified copy
    assert document.data["document_content_type"] == "application/dicom"
    assert not telegram.named("sendPhoto")
