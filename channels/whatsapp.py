"""Meta WhatsApp Cloud API channel with images.

credentials.yml::

    channels.whatsapp.WhatsAppCloudInput:
      access_token: "EAAG..."          # system-user token with whatsapp_business_messaging
      phone_number_id: "1234567890"    # the business number's id (WhatsApp Manager)
      app_secret: "abc123"             # App Dashboard > Settings > Basic; signs X-Hub-Signature-256
      verify_token: "my-verify-token"  # what you type as "Verify token" when subscribing the webhook

Webhook URL: ``https://<host>/webhooks/qaid_whatsapp/webhook`` (fields: messages).
Inbound text, image, document (incl. DICOM), location and interactive/button replies; media is
downloaded through the Graph API media endpoint with the access token. Outbound text, images
(uploaded from our media store) and interactive reply buttons or lists.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.buttons import ButtonPayloads
from channels.download import fetch_media
from channels.intake import location_metadata
from channels.media import (
    MediaStore,
    check_declared_type,
    check_size,
    content_type_for,
)
from channels.provider import CHOOSE, NamespacedOutput, OnNewMessage, ProviderInput
from channels.settings import ChannelSettings
from channels.signing import local_media_name
from qaid.images import ImageError

logger = logging.getLogger(__name__)

DEFAULT_GRAPH = "https://graph.facebook.com"
DEFAULT_VERSION = "v21.0"
SIGNATURE_HEADER = "X-Hub-Signature-256"
# Hosts the Graph API hands out media download URLs on; the access token is sent nowhere else.
MEDIA_HOST_SUFFIXES = (".fbsbx.com", ".facebook.com", ".whatsapp.net", ".fbcdn.net")
MAX_TEXT = 4096
MAX_BUTTONS = 3
MAX_LIST_ROWS = 10
BUTTON_TITLE = 20
ROW_TITLE = 24
BUTTON_ID_BYTES = 256
MAX_IMAGE_BYTES = 5 * 1024 * 1024
TIMEOUT = aiohttp.ClientTimeout(total=30)
UNSUPPORTED_TYPES = ("audio", "video", "sticker", "contacts", "reaction", "unsupported")


class GraphError(RuntimeError):
    """The Graph API refused a call or could not be reached."""


class GraphApi:
    """The Cloud API endpoints the channel uses."""

    def __init__(
        self, session: aiohttp.ClientSession, token: str, phone_number_id: str, graph_url: str, version: str
    ) -> None:
        self.session = session
        self.token = token
        self.phone_number_id = phone_number_id
        self.base = f"{graph_url.rstrip('/')}/{version}"
        self.graph_host = urlsplit(graph_url).hostname or ""

    @property
    def auth(self) -> dict[str, str]:
        """Bearer authorisation header."""
        return {"Authorization": f"Bearer {self.token}"}

    async def _request(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            async with self.session.request(method, url, headers=self.auth, timeout=TIMEOUT, **kwargs) as resp:
                body = await resp.json(content_type=None)
                if resp.status != 200:
                    raise GraphError(f"{method} {urlsplit(url).path}: HTTP {resp.status} {body}")
                return body
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:  # noqa: UP041 (Python 3.10)
            raise GraphError(f"{method} {urlsplit(url).path}: {type(exc).__name__}") from exc

    async def send(self, recipient: str, message: dict[str, Any]) -> None:
        """POST /<phone_number_id>/messages (errors are logged, never raised)."""
        payload = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": recipient} | message
        try:
            await self._request("POST", f"{self.base}/{self.phone_number_id}/messages", json=payload)
        except GraphError as exc:
            logger.error("whatsapp send failed: %s", exc)

    async def upload(self, data: bytes, media_type: str, filename: str) -> str:
        """POST /<phone_number_id>/media; returns the media id."""
        form = aiohttp.FormData()
        form.add_field("messaging_product", "whatsapp")
        form.add_field("type", media_type)
        form.add_field("file", data, filename=filename, content_type=media_type)
        body = await self._request("POST", f"{self.base}/{self.phone_number_id}/media", data=form)
        return str(body["id"])

    def _trusted_media_url(self, url: str) -> bool:
        parts = urlsplit(url)
        host = parts.hostname or ""
        return host == self.graph_host or (parts.scheme == "https" and host.endswith(MEDIA_HOST_SUFFIXES))

    async def download_media(self, media_id: str) -> bytes:
        """GET /<media_id> for the URL, then download it with the token; raises ImageError."""
        try:
            info = await self._request("GET", f"{self.base}/{media_id}")
        except GraphError as exc:
            logger.warning("whatsapp media lookup failed: %s", exc)
            raise ImageError("download_failed") from exc
        check_size(info.get("file_size"))
        url = info.get("url")
        if not isinstance(url, str) or not self._trusted_media_url(url):
            logger.warning("whatsapp media URL on an unexpected host refused: %s", urlsplit(str(url)).hostname)
            raise ImageError("download_failed")
        data = await fetch_media(self.session, url, headers=self.auth)
        expected = info.get("sha256")
        if expected and hashlib.sha256(data).hexdigest() != str(expected).lower():
            raise ImageError("unreadable")
        return data


class WhatsAppCloudOutput(NamespacedOutput):
    """Sends text, reply buttons / lists and images to a WhatsApp user."""

    namespace = "whatsapp"

    @classmethod
    def name(cls) -> str:
        """Output channel name."""
        return "qaid_whatsapp"

    def __init__(self, api: GraphApi, settings: ChannelSettings, store: MediaStore, payloads: ButtonPayloads) -> None:
        self.api = api
        self.settings = settings
        self.store = store
        self.payloads = payloads

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Text messages, split into 4096-character parts."""
        for start in range(0, len(text), MAX_TEXT):
            await self.api.send(recipient_id, {"type": "text", "text": {"body": text[start : start + MAX_TEXT]}})

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Up to 3 reply buttons, up to 10 as a list message, otherwise numbered text."""
        options = [(str(b.get("title", "")), self.payloads.encode(str(b.get("payload", "")))) for b in buttons]
        body = {"text": text[:1024] or CHOOSE}
        action: dict[str, Any]
        if len(options) <= MAX_BUTTONS:
            action = {"buttons": [{"type": "reply", "reply": {"id": pid, "title": title[:BUTTON_TITLE]}}
                                  for title, pid in options]}
            interactive = {"type": "button", "body": body, "action": action}
        elif len(options) <= MAX_LIST_ROWS:
            rows = [{"id": pid, "title": title[:ROW_TITLE]} for title, pid in options]
            action = {"button": "Choose", "sections": [{"title": "Options", "rows": rows}]}
            interactive = {"type": "list", "body": body, "action": action}
        else:
            lines = [text] + [f"{i}. {title}" for i, (title, _) in enumerate(options, 1)]
            await self.send_text_message(recipient_id, "\n".join(lines))
            return
        await self.api.send(recipient_id, {"type": "interactive", "interactive": interactive})

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        """Our media is uploaded (image, or document when not JPEG/PNG or over 5 MB); other URLs by link."""
        name = local_media_name(image, self.settings)
        path = self.store.path_for(name) if name else None
        if path is None:
            await self.api.send(recipient_id, {"type": "image", "image": {"link": image}})
            return
        media_type = content_type_for(path.name)
        kind = "image" if media_type in ("image/png", "image/jpeg") and path.stat().st_size <= MAX_IMAGE_BYTES \
            else "document"
        try:
            media_id = await self.api.upload(path.read_bytes(), media_type, path.name)
        except GraphError as exc:
            logger.error("whatsapp media upload failed: %s", exc)
            return
        content: dict[str, Any] = {"id": media_id}
        if kind == "document":
            content["filename"] = path.name
        await self.api.send(recipient_id, {"type": kind, kind: content})


class WhatsAppCloudInput(ProviderInput):
    """WhatsApp Cloud API input channel (see module docstring)."""

    media_channel = "whatsapp"

    @classmethod
    def name(cls) -> str:
        """Channel name; the webhook is ``/webhooks/qaid_whatsapp/webhook``."""
        return "qaid_whatsapp"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WhatsAppCloudInput:
        """Build from credentials.yml; all four secrets are required."""
        credentials = cls.required(credentials, "access_token", "phone_number_id", "app_secret", "verify_token")
        return cls(
            access_token=str(credentials["access_token"]),
            phone_number_id=str(credentials["phone_number_id"]),
            app_secret=str(credentials["app_secret"]),
            verify_token=str(credentials["verify_token"]),
            settings=ChannelSettings.from_credentials(credentials),
            graph_url=credentials.get("graph_url", DEFAULT_GRAPH),
            api_version=credentials.get("api_version", DEFAULT_VERSION),
        )

    def __init__(
        self,
        access_token: str,
        phone_number_id: str,
        app_secret: str,
        verify_token: str,
        settings: ChannelSettings,
        graph_url: str = DEFAULT_GRAPH,
        api_version: str = DEFAULT_VERSION,
        store: MediaStore | None = None,
    ) -> None:
        super().__init__(settings, store)
        self.access_token = access_token
        self.phone_number_id = phone_number_id
        self.app_secret = app_secret
        self.verify_token = verify_token
        self.graph_url = graph_url
        self.api_version = api_version
        self.payloads = ButtonPayloads(BUTTON_ID_BYTES)

    def api(self) -> GraphApi:
        """Graph API client on the channel's session."""
        return GraphApi(self.session(), self.access_token, self.phone_number_id, self.graph_url, self.api_version)

    def get_output_channel(self) -> WhatsAppCloudOutput:
        """Output channel (also for proactive messages inside WhatsApp's 24-hour window)."""
        return WhatsAppCloudOutput(self.api(), self.settings, self.store, self.payloads)

    def verify_signature(self, request: Request) -> int | None:
        """None when X-Hub-Signature-256 is the HMAC-SHA256 of the raw body with the app secret, else 401/403."""
        given = request.headers.get(SIGNATURE_HEADER, "")
        if not given.startswith("sha256="):
            return 401
        expected = hmac.new(self.app_secret.encode(), request.body, hashlib.sha256).hexdigest()
        return None if hmac.compare_digest(given[len("sha256="):].lower(), expected) else 403

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """``GET /webhook`` (subscription challenge) and ``POST /webhook`` (signed notifications)."""
        blueprint = self.new_blueprint()

        @blueprint.route("/webhook", methods=["GET"])
        async def subscribe(request: Request) -> HTTPResponse:
            mode, token = request.args.get("hub.mode"), request.args.get("hub.verify_token") or ""
            if mode == "subscribe" and hmac.compare_digest(token.encode(), self.verify_token.encode()):
                return response.text(request.args.get("hub.challenge", ""))
            return response.text("verification failed", status=403)

        @blueprint.route("/webhook", methods=["POST"])
        async def notify(request: Request) -> HTTPResponse:
            refused = self.verify_signature(request)
            if refused:
                logger.warning("whatsapp webhook: refused a request with a missing or wrong signature")
                return response.json({"error": "invalid signature"}, status=refused)
            try:
                payload = json.loads(request.body)
            except ValueError:
                return response.json({"error": "invalid JSON"}, status=400)
            for message in _messages(payload, self.phone_number_id):
                self.accept_message(message, on_new_message)
            return response.json({"status": "received"})

        return blueprint

    def accept_message(self, message: dict[str, Any], on_new_message: OnNewMessage) -> None:
        """Queue one inbound message per sender; re-delivered message ids are dropped."""
        sender, message_id = message.get("from"), message.get("id")
        if not sender or not self.seen.first_time(message_id):
            return
        self.enqueue(sender, lambda: self.handle_message(message, on_new_message))

    async def handle_message(self, message: dict[str, Any], on_new_message: OnNewMessage) -> None:
        """Turn one Cloud API message object into a UserMessage with contract metadata."""
        kind = message.get("type")
        content = message.get(kind) if isinstance(kind, str) else None
        content = content if isinstance(content, dict) else {}
        text: str | None = None
        metadata: dict[str, Any] = {}
        if kind == "text":
            text = content.get("body")
        elif kind in ("image", "document"):
            text = content.get("caption")
            metadata = await self.image_from_download(self._download(content), content.get("filename"))
        elif kind == "location":
            metadata = location_metadata(content.get("latitude"), content.get("longitude")) or {}
        elif kind == "interactive":
            reply = content.get("button_reply") or content.get("list_reply") or {}
            text = self._payload(reply.get("id"), reply.get("title"))
        elif kind == "button":
            text = self._payload(content.get("payload"), content.get("text"))
        elif kind in UNSUPPORTED_TYPES:
            metadata = self.unsupported()
        if text is None and not metadata:
            return
        sender = str(message["from"])
        await self.deliver(
            on_new_message, self.get_output_channel(), sender, text, metadata, message_id=message.get("id")
        )

    def _payload(self, data: Any, title: Any) -> str | None:
        payload = self.payloads.decode(str(data)) if data else None
        return payload if payload is not None else (str(title) if title else None)

    async def _download(self, content: dict[str, Any]) -> bytes:
        check_declared_type(content.get("mime_type"))
        media_id = content.get("id")
        if not media_id:
            raise ImageError("download_failed")
        return await self.api().download_media(str(media_id))


def _messages(payload: Any, phone_number_id: str) -> list[dict[str, Any]]:
    """Message objects sent to our number; status updates, other fields and other numbers are skipped."""
    found: list[dict[str, Any]] = []
    if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
        return found
    for entry in payload.get("entry") or []:
        for change in (entry or {}).get("changes") or []:
            value = (change or {}).get("value") or {}
            if change.get("field") != "messages" or not isinstance(value, dict):
                continue
            if str((value.get("metadata") or {}).get("phone_number_id", phone_number_id)) != phone_number_id:
                continue
            found.extend(m for m in value.get("messages") or [] if isinstance(m, dict))
    return found
