"""credentials.yml snippets from the README load through Rasa's own channel factory and serve side by side."""

from __future__ import annotations

import textwrap

import pytest
import pytest_asyncio
from rasa.core.run import create_http_input_channels
from rasa.shared.exceptions import RasaException

from channels.rest import MediaRestInput
from channels.settings import media_secret
from channels.signing import signed_media_path
from channels.telegram import TelegramInput
from channels.twilio import TwilioWhatsAppInput
from channels.webchat import WebChatInput
from channels.whatsapp import WhatsAppCloudInput
from tests.support.channel_images import png_bytes
from tests.support.fake_providers import FakeTelegram

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def telegram():
    fake = await FakeTelegram("123:abc").start()
    yield fake
    await fake.stop()


def write_credentials(tmp_path, telegram_api: str) -> str:
    path = tmp_path / "credentials.yml"
    path.write_text(textwrap.dedent(f"""
        rest:
        channels.rest.MediaRestInput:
        channels.webchat.WebChatInput:
          title: "Q&Aid"
        channels.telegram.TelegramInput:
          access_token: "123:abc"
          api_base: "{telegram_api}"
        channels.whatsapp.WhatsAppCloudInput:
          access_token: "EAAG"
          phone_number_id: "1234567890"
          app_secret: "app-secret"
          verify_token: "verify"
        channels.twilio.TwilioWhatsAppInput:
          account_sid: "AC123"
          auth_token: "token"
          twilio_number: "whatsapp:+14155238886"
          public_url: "https://bot.example.org"
          media_secret: "shared-secret"
    """))
    return str(path)


async def test_all_channels_load_and_serve_together(tmp_path, telegram, serve, http, media_store):
    channels = create_http_input_channels(None, write_credentials(tmp_path, telegram.base_url))
    kinds = [type(c) for c in channels][1:]
    assert kinds == [MediaRestInput, WebChatInput, TelegramInput, WhatsAppCloudInput, TwilioWhatsAppInput]
    twilio = channels[-1]
    assert twilio.webhook_url == "https://bot.example.org/webhooks/qaid_twilio/webhook"
    assert twilio.settings.media_secret == media_secret()  # one secret for every channel; the entry is ignored
    server = await serve(*channels, cors="*")
    for prefix in ("rest", "qaid_rest", "qaid_telegram", "qaid_whatsapp", "qaid_twilio"):
        async with http.get(f"{server.base_url}/webhooks/{prefix}/") as resp:
            assert resp.status == 200, prefix
    stored = media_store.store(png_bytes())
    async with http.get(f"{server.base_url}/media/{stored.name}") as resp:
        assert resp.status == 403  # unsigned
    async with http.get(server.base_url + signed_media_path(twilio.settings, stored.name)) as resp:
        assert resp.status == 200
    headers = {"Origin": "https://clinic.example.org"}
    async with http.post(f"{server.base_url}/webhooks/webchat/webhook", data={"sender": "s", "message": "hi"},
                         headers=headers) as resp:
        assert resp.status == 200
        assert resp.headers.getall("Access-Control-Allow-Origin") == [headers["Origin"]]


@pytest.mark.parametrize(
    "entry",
    [
        "channels.telegram.TelegramInput:\n  webhook_url: https://x.org/hook\n",
        "channels.whatsapp.WhatsAppCloudInput:\n  access_token: t\n",
        "channels.twilio.TwilioWhatsAppInput:\n  account_sid: AC1\n",
    ],
)
async def test_missing_credentials_are_reported(tmp_path, entry):
    path = tmp_path / "credentials.yml"
    path.write_text(entry)
    with pytest.raises(RasaException):
        create_http_input_channels(None, str(path))
