"""Telegram channel with images: webhook (secret-token verified) or long polling, one update handler for both.

credentials.yml::

    channels.telegram.TelegramInput:
      access_token: "123456:ABC..."          # from @BotFather
      # webhook mode (public HTTPS URL); without webhook_url the bot long-polls getUpdates
      webhook_url: "https://bot.example.org/webhooks/qaid_telegram/webhook"
      secret_token: "a-long-random-string"   # required with webhook_url

Photos (largest size), image/DICOM documents, captions, locations and inline-keyboard replies reach actions
as ``qaid/CONTRACTS.md`` metadata; bot images from our media store are uploaded as real photos.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
from typing import Any

import aiohttp
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.buttons import ButtonPayloads
from channels.download import fetch_media
from channels.intake import location_metadata
from channels.media import MediaStore, check_declared_type, check_size, content_type_for
from channels.provider import CHOOSE, NamespacedOutput, OnNewMessage, ProviderInput
from channels.settings import ChannelSettings
from channels.signing import local_media_name
from qaid.images import ImageError

logger = logging.getLogger(__name__)

DEFAULT_API = "https://api.telegram.org"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "callback_query"]
POLL_TIMEOUT_S = 25
MAX_TEXT = 4096
MAX_PHOTO_BYTES = 10 * 1024 * 1024
CALLBACK_DATA_BYTES = 64
EXPIRED_BUTTON = "That button has expired. Please type your answer or ask again."
UNSUPPORTED_KINDS = ("voice", "audio", "video", "video_note", "sticker", "animation", "contact", "poll")
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
# Telegram's standard bot commands, mapped onto the assistant's intents.
BOT_COMMANDS = {"/start": "/greet", "/help": "/ask_capabilities"}


class TelegramError(RuntimeError):
    """The Bot API answered ``ok: false`` or could not be reached."""


class TelegramApi:
    """The few Bot API methods the channel uses (https://core.telegram.org/bots/api)."""

    def __init__(self, session: aiohttp.ClientSession, token: str, api_base: str = DEFAULT_API) -> None:
        self.session = session
        self.token = token
        self.api_base = api_base.rstrip("/")

    async def call(self, method: str, data: Any = None, timeout_s: float = 30) -> Any:
        """POST a method (JSON dict or multipart FormData) and return its ``result``."""
        url = f"{self.api_base}/bot{self.token}/{method}"
        kwargs = {"data": data} if isinstance(data, aiohttp.FormData) else {"json": data or {}}
        try:
            async with self.session.post(url, timeout=aiohttp.ClientTimeout(total=timeout_s), **kwargs) as resp:
                body = await resp.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:  # noqa: UP041 (Python 3.10)
            raise TelegramError(f"{method}: {type(exc).__name__}") from exc
        if not isinstance(body, dict) or not body.get("ok"):
            description = body.get("description") if isinstance(body, dict) else "bad response"
            raise TelegramError(f"{method}: {description}")
        return body.get("result")

    async def download_file(self, file_id: str) -> bytes:
        """getFile, then the file download endpoint; raises ImageError on any failure."""
        try:
            info = await self.call("getFile", {"file_id": file_id})
        except TelegramError as exc:
            logger.warning("telegram getFile failed: %s", exc)
            raise ImageError("download_failed") from exc
        check_size(info.get("file_size"))
        file_path = info.get("file_path")
        if not isinstance(file_path, str) or not file_path or ".." in file_path.split("/"):
            raise ImageError("download_failed")
        return await fetch_media(self.session, f"{self.api_base}/file/bot{self.token}/{file_path}")


class TelegramOutput(NamespacedOutput):
    """Sends text, inline keyboards and photos to a Telegram chat."""

    namespace = "telegram"

    @classmethod
    def name(cls) -> str:
        """Output channel name."""
        return "qaid_telegram"

    def __init__(
        self, api: TelegramApi, settings: ChannelSettings, store: MediaStore, payloads: ButtonPayloads
    ) -> None:
        self.api = api
        self.settings = settings
        self.store = store
        self.payloads = payloads

    async def _send(self, method: str, data: Any) -> None:
        try:
            await self.api.call(method, data)
        except TelegramError as exc:
            logger.error("telegram %s failed: %s", method, exc)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """sendMessage, split into 4096-character parts."""
        for start in range(0, len(text), MAX_TEXT):
            await self._send("sendMessage", {"chat_id": recipient_id, "text": text[start : start + MAX_TEXT]})

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """sendMessage with an inline keyboard, one button per row."""
        keyboard = [
            [{"text": str(b.get("title", "")), "callback_data": self.payloads.encode(str(b.get("payload", "")))}]
            for b in buttons
        ]
        await self._send(
            "sendMessage",
            {"chat_id": recipient_id, "text": text[:MAX_TEXT] or CHOOSE, "reply_markup": {"inline_keyboard": keyboard}},
        )

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        """Our own media is uploaded as bytes (photo, or document when too big / not a photo); others by URL."""
        name = local_media_name(image, self.settings)
        path = self.store.path_for(name) if name else None
        if path is None:
            await self._send("sendPhoto", {"chat_id": recipient_id, "photo": image})
            return
        media_type = content_type_for(path.name)
        as_photo = media_type in ("image/png", "image/jpeg") and path.stat().st_size <= MAX_PHOTO_BYTES
        form = aiohttp.FormData()
        form.add_field("chat_id", recipient_id)
        field = "photo" if as_photo else "document"
        form.add_field(field, path.read_bytes(), filename=path.name, content_type=media_type)
        await self._send("sendPhoto" if as_photo else "sendDocument", form)


class TelegramInput(ProviderInput):
    """Telegram input channel (see module docstring)."""

    media_channel = "telegram"

    @classmethod
    def name(cls) -> str:
        """Channel name; the webhook is ``/webhooks/qaid_telegram/webhook``."""
        return "qaid_telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TelegramInput:
        """Build from credentials.yml; raises when the token (or, with a webhook URL, the secret) is missing."""
        credentials = cls.required(credentials, "access_token")
        return cls(
            access_token=str(credentials["access_token"]),
            settings=ChannelSettings.from_credentials(credentials),
            webhook_url=credentials.get("webhook_url"),
            secret_token=credentials.get("secret_token"),
            api_base=credentials.get("api_base", DEFAULT_API),
        )

    def __init__(
        self,
        access_token: str,
        settings: ChannelSettings,
        webhook_url: str | None = None,
        secret_token: str | None = None,
        api_base: str = DEFAULT_API,
        store: MediaStore | None = None,
    ) -> None:
        super().__init__(settings, store)
        if webhook_url and not (secret_token and _SECRET_TOKEN.match(secret_token)):
            raise ValueError("Telegram webhook mode needs a secret_token of 1-256 characters A-Z a-z 0-9 _ -")
        self.access_token = access_token
        self.webhook_url = webhook_url
        self.secret_token = secret_token
        self.api_base = api_base
        self.payloads = ButtonPayloads(CALLBACK_DATA_BYTES)
        self._poller: asyncio.Task | None = None

    @property
    def polling(self) -> bool:
        """Long polling when no webhook URL is configured."""
        return not self.webhook_url

    def api(self) -> TelegramApi:
        """Bot API client on the channel's session."""
        return TelegramApi(self.session(), self.access_token, self.api_base)

    def get_output_channel(self) -> TelegramOutput:
        """Output channel for proactive messages (reminders, transcript confirmations)."""
        return TelegramOutput(self.api(), self.settings, self.store, self.payloads)

    def health(self) -> dict[str, Any]:
        """Health plus whether the channel long-polls or waits for webhooks."""
        return {"status": "ok", "mode": "polling" if self.polling else "webhook"}

    def verify_secret(self, request: Request) -> int | None:
        """None when the request carries our secret token, else the HTTP status to refuse it with."""
        if self.polling:
            return 403
        given = request.headers.get(SECRET_HEADER)
        if not given:
            return 401
        if not hmac.compare_digest(given.encode(), str(self.secret_token).encode()):
            return 403
        return None

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """``POST /webhook`` (webhook mode); in polling mode a getUpdates loop runs while the server does."""
        blueprint = self.new_blueprint()

        @blueprint.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            refused = self.verify_secret(request)
            if refused:
                logger.warning("telegram webhook: refused a request without a valid secret token")
                return response.json({"error": "forbidden"}, status=refused)
            try:
                update = json.loads(request.body)
            except ValueError:
                return response.json({"error": "invalid JSON"}, status=400)
            if isinstance(update, dict):
                self.accept_update(update, on_new_message)
            return response.json({"ok": True})

        @blueprint.listener("after_server_start")
        async def start(app: Any, loop: Any) -> None:
            if self.polling:
                self._poller = asyncio.ensure_future(self.poll(on_new_message))
            else:
                await self.register_webhook()

        return blueprint

    async def close(self) -> None:
        """Stop polling first, then background work and the HTTP session."""
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
        await super().close()

    async def register_webhook(self) -> None:
        """setWebhook with our URL and secret token (errors are logged; the server keeps running)."""
        try:
            await self.api().call(
                "setWebhook",
                {"url": self.webhook_url, "secret_token": self.secret_token, "allowed_updates": ALLOWED_UPDATES},
            )
            logger.info("telegram webhook set to %s", self.webhook_url)
        except TelegramError as exc:
            logger.error("telegram setWebhook failed: %s", exc)

    async def poll(self, on_new_message: OnNewMessage) -> None:
        """getUpdates long polling: the developer mode that needs only a token, no public URL."""
        api = self.api()
        offset: int | None = None
        backoff = 1.0
        try:
            await api.call("deleteWebhook", {"drop_pending_updates": False})
        except TelegramError as exc:
            logger.warning("telegram deleteWebhook failed: %s", exc)
        logger.info("telegram: long polling for updates")
        while True:
            try:
                params: dict[str, Any] = {"timeout": POLL_TIMEOUT_S, "allowed_updates": ALLOWED_UPDATES}
                if offset is not None:
                    params["offset"] = offset
                updates = await api.call("getUpdates", params, timeout_s=POLL_TIMEOUT_S + 10)
                backoff = 1.0
            except TelegramError as exc:
                logger.warning("telegram getUpdates failed (%s); retrying in %.0f s", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            for update in updates or []:
                if isinstance(update, dict) and isinstance(update.get("update_id"), int):
                    offset = update["update_id"] + 1
                    self.accept_update(update, on_new_message)

    def accept_update(self, update: dict[str, Any], on_new_message: OnNewMessage) -> None:
        """Queue one update (webhook or polling) for its chat; repeated update ids are dropped."""
        if not self.seen.first_time(update.get("update_id")):
            logger.info("telegram: dropped repeated update %s", update.get("update_id"))
            return
        chat_id = _chat_id(update)
        if chat_id is None:
            return
        self.enqueue(str(chat_id), lambda: self.handle_update(update, on_new_message))

    async def handle_update(self, update: dict[str, Any], on_new_message: OnNewMessage) -> None:
        """Turn a message or button press into a UserMessage with contract metadata."""
        output = self.get_output_channel()
        callback = update.get("callback_query")
        if isinstance(callback, dict):
            await self._handle_callback(callback, output, on_new_message)
            return
        message = update.get("message")
        if not isinstance(message, dict):
            return
        chat_id = str(message["chat"]["id"])
        text = _command_to_intent(message.get("text")) or message.get("caption")
        metadata = await self._message_metadata(message)
        if text is None and not metadata:
            return
        await self.deliver(on_new_message, output, chat_id, text, metadata, message_id=_message_id(message))

    async def _message_metadata(self, message: dict[str, Any]) -> dict[str, Any]:
        api = self.api()
        if message.get("photo"):
            largest = max(message["photo"], key=_photo_area)
            return await self.image_from_download(self._download(api, largest))
        document = message.get("document")
        if isinstance(document, dict):
            return await self.image_from_download(self._download(api, document), document.get("file_name"))
        location = message.get("location")
        if isinstance(location, dict):
            return location_metadata(location.get("latitude"), location.get("longitude")) or {}
        if any(kind in message for kind in UNSUPPORTED_KINDS):
            return self.unsupported()
        return {}

    @staticmethod
    async def _download(api: TelegramApi, file: dict[str, Any]) -> bytes:
        check_size(file.get("file_size"))
        check_declared_type(file.get("mime_type"))
        return await api.download_file(str(file.get("file_id")))

    async def _handle_callback(
        self, callback: dict[str, Any], output: TelegramOutput, on_new_message: OnNewMessage
    ) -> None:
        try:
            await output.api.call("answerCallbackQuery", {"callback_query_id": callback.get("id")})
        except TelegramError as exc:
            logger.warning("telegram answerCallbackQuery failed: %s", exc)
        chat_id = str(callback["message"]["chat"]["id"])
        payload = self.payloads.decode(str(callback.get("data") or ""))
        if payload is None:
            await output.send_text_message(chat_id, EXPIRED_BUTTON)
            return
        await self.deliver(on_new_message, output, chat_id, payload, {})


def _photo_area(photo: dict[str, Any]) -> tuple[int, int]:
    """Sort key for PhotoSize objects: pixels, then bytes."""
    return photo.get("width", 0) * photo.get("height", 0), photo.get("file_size", 0)


def _command_to_intent(text: str | None) -> str | None:
    """``/start`` and ``/help`` (optionally ``@BotName`` and arguments) become intents; other text is kept."""
    if text and text.startswith("/"):
        command = text.split()[0].split("@")[0].lower()
        return BOT_COMMANDS.get(command, text)
    return text


def _chat_id(update: dict[str, Any]) -> int | None:
    try:
        if "callback_query" in update:
            return int(update["callback_query"]["message"]["chat"]["id"])
        if "message" in update:
            return int(update["message"]["chat"]["id"])
    except (KeyError, TypeError, ValueError):
        logger.warning("telegram: update without a chat id ignored")
    return None


def _message_id(message: dict[str, Any]) -> str | None:
    return f"tg-{message['chat']['id']}-{message['message_id']}" if "message_id" in message else None
