"""Twilio WhatsApp channel with images.

credentials.yml::

    channels.twilio.TwilioWhatsAppInput:
      account_sid: "ACxxxxxxxx"
      auth_token: "your-auth-token"               # validates X-Twilio-Signature, downloads media
      twilio_number: "whatsapp:+14155238886"      # the sender (sandbox or your WhatsApp sender)
      webhook_url: "https://bot.example.org/webhooks/qaid_twilio/webhook"   # exactly as set in the Twilio console
      public_url: "https://bot.example.org"       # Twilio fetches our images from <public_url>/media/...

Inbound ``Body``, ``NumMedia``/``MediaUrl{N}``/``MediaContentType{N}`` (downloaded from Twilio's API with the
account credentials), ``Latitude``/``Longitude`` and quick-reply ``ButtonPayload``. Outbound text, buttons as a
numbered list (the reply "2" selects the second), and images as signed, expiring URLs of our own.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from multidict import MultiDict
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from channels.download import fetch_media
from channels.intake import image_metadata, location_metadata
from channels.media import (
    MediaStore,
    check_declared_type,
    image_error_metadata,
)
from channels.provider import NamespacedOutput, OnNewMessage, ProviderInput
from channels.settings import ChannelSettings
from channels.signing import local_media_name, signed_media_url
from qaid.images import ImageError

logger = logging.getLogger(__name__)

DEFAULT_API = "https://api.twilio.com"
SIGNATURE_HEADER = "X-Twilio-Signature"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
MAX_BODY = 1600
TIMEOUT = aiohttp.ClientTimeout(total=30)


class TwilioOutput(NamespacedOutput):
    """Sends WhatsApp messages through Twilio's Messages API."""

    namespace = "twilio"

    @classmethod
    def name(cls) -> str:
        """Output channel name."""
        return "qaid_twilio"

    def __init__(self, channel: TwilioWhatsAppInput) -> None:
        self.channel = channel

    async def _send(self, recipient_id: str, fields: dict[str, str]) -> None:
        channel = self.channel
        url = f"{channel.api_base}/2010-04-01/Accounts/{channel.account_sid}/Messages.json"
        data = {"From": channel.twilio_number, "To": recipient_id} | fields
        try:
            async with channel.session().post(
                url, data=data, auth=aiohttp.BasicAuth(channel.account_sid, channel.auth_token), timeout=TIMEOUT
            ) as resp:
                if resp.status >= 300:
                    logger.error("twilio send failed: HTTP %s %s", resp.status, await resp.text())
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:  # noqa: UP041 (Python 3.10: not the builtin)
            logger.error("twilio send failed: %s", exc)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Text, split into 1600-character parts (Twilio's limit)."""
        for start in range(0, len(text), MAX_BODY):
            await self._send(recipient_id, {"Body": text[start : start + MAX_BODY]})

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Buttons as a numbered list; the patient answers with the number (or the words)."""
        self.channel.options[recipient_id] = [str(b.get("payload", "")) for b in buttons]
        lines = [text, *(f"{i}. {b.get('title', '')}" for i, b in enumerate(buttons, 1))]
        await self.send_text_message(recipient_id, "\n".join(lines))

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        """Our media goes out as a signed, expiring URL; other URLs unchanged."""
        name = local_media_name(image, self.channel.settings)
        if name and self.channel.store.path_for(name) is not None:
            image = signed_media_url(self.channel.settings, name)
        await self._send(recipient_id, {"MediaUrl": image})


class TwilioWhatsAppInput(ProviderInput):
    """Twilio WhatsApp input channel (see module docstring)."""

    media_channel = "twilio"

    @classmethod
    def name(cls) -> str:
        """Channel name; the webhook is ``/webhooks/qaid_twilio/webhook``."""
        return "qaid_twilio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TwilioWhatsAppInput:
        """Build from credentials.yml; account SID, auth token and number are required."""
        credentials = cls.required(credentials, "account_sid", "auth_token", "twilio_number")
        return cls(
            account_sid=str(credentials["account_sid"]),
            auth_token=str(credentials["auth_token"]),
            twilio_number=str(credentials["twilio_number"]),
            settings=ChannelSettings.from_credentials(credentials),
            webhook_url=credentials.get("webhook_url"),
            api_base=credentials.get("api_base", DEFAULT_API),
        )

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        twilio_number: str,
        settings: ChannelSettings,
        webhook_url: str | None = None,
        api_base: str = DEFAULT_API,
        store: MediaStore | None = None,
    ) -> None:
        super().__init__(settings, store)
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.twilio_number = twilio_number
        self.webhook_url = webhook_url or f"{settings.public_url}/webhooks/{self.name()}/webhook"
        self.api_base = api_base.rstrip("/")
        self.validator = RequestValidator(auth_token)
        self.options: dict[str, list[str]] = {}

    def get_output_channel(self) -> TwilioOutput:
        """Output channel (also for proactive messages)."""
        return TwilioOutput(self)

    def verify_signature(self, request: Request) -> int | None:
        """None when X-Twilio-Signature matches our webhook URL and the form, else 401/403."""
        signature = request.headers.get(SIGNATURE_HEADER)
        if not signature:
            return 401
        return None if self.validator.validate(self.webhook_url, _form(request), signature) else 403

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """``POST /webhook``: answered at once with empty TwiML, replies go through the Messages API."""
        blueprint = self.new_blueprint()

        @blueprint.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            refused = self.verify_signature(request)
            if refused:
                logger.warning("twilio webhook: refused a request with a missing or wrong signature")
                return response.text("invalid signature", status=refused)
            fields = _form(request)
            form = {key: fields.get(key) for key in fields}
            if form.get("AccountSid") != self.account_sid:
                return response.text("unknown account", status=403)
            if _is_inbound_message(form) and self.seen.first_time(form.get("MessageSid")):
                sender = str(form.get("From"))
                self.enqueue(sender, lambda: self.handle_message(form, on_new_message))
            return response.text(EMPTY_TWIML, content_type="text/xml")

        return blueprint

    async def handle_message(self, form: dict[str, Any], on_new_message: OnNewMessage) -> None:
        """Turn Twilio's form fields into a UserMessage with contract metadata."""
        sender = str(form["From"])
        text = form.get("ButtonPayload") or self._chosen_option(sender, form.get("Body")) or form.get("Body")
        metadata: dict[str, Any] = {}
        count = _int(form.get("NumMedia"))
        if count:
            metadata = await self._first_image(form, count)
        elif form.get("Latitude") and form.get("Longitude"):
            metadata = location_metadata(form["Latitude"], form["Longitude"]) or {}
        await self.deliver(
            on_new_message, self.get_output_channel(), sender, text, metadata, message_id=form.get("MessageSid")
        )

    def _chosen_option(self, sender: str, body: Any) -> str | None:
        options = self.options.get(sender)
        choice = _int(body)
        if options and 1 <= choice <= len(options):
            del self.options[sender]
            return options[choice - 1]
        return None

    async def _first_image(self, form: dict[str, Any], count: int) -> dict[str, Any]:
        """The first attachment that is an image; otherwise the error of the first one."""
        first_error: dict[str, Any] | None = None
        for index in range(min(count, 10)):
            url = str(form.get(f"MediaUrl{index}") or "")
            try:
                check_declared_type(form.get(f"MediaContentType{index}"))
                data = await self._download(url)
            except ImageError as error:
                first_error = first_error or image_error_metadata(error)
                continue
            result = await asyncio.to_thread(image_metadata, self.store, data, self.media_channel)
            if "image" in result:
                return result
            first_error = first_error or result
        return first_error or {}

    async def _download(self, url: str) -> bytes:
        """Only media under our account on Twilio's API is fetched, with the account credentials."""
        if not url.startswith(f"{self.api_base}/2010-04-01/Accounts/{self.account_sid}/"):
            logger.warning("twilio: refused to fetch media outside the account's API path")
            raise ImageError("download_failed")
        return await fetch_media(self.session(), url, auth=aiohttp.BasicAuth(self.account_sid, self.auth_token))


def _form(request: Request) -> MultiDict:
    """The url-encoded form including empty fields: Twilio signs ``Body=`` of a media-only message too."""
    return MultiDict(parse_qsl(request.body.decode("utf-8", errors="replace"), keep_blank_values=True))


def _is_inbound_message(form: dict[str, Any]) -> bool:
    """True for a received message; delivery/read status callbacks are not messages."""
    return not form.get("MessageStatus") and form.get("SmsStatus", "received") == "received" and bool(form.get("From"))


def _int(value: Any) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return 0
