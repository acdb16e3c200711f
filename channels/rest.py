"""``qaid_rest``: Rasa's REST channel plus image uploads (multipart or base64) and ``GET /media/<name>``.

POST ``/webhooks/qaid_rest/webhook`` with either

* JSON ``{"sender": "...", "message": "...", "metadata": {"image": {"base64": "...", "filename": "..."}}}``, or
* ``multipart/form-data`` with fields ``sender``, ``message`` (optional caption), ``metadata`` (optional JSON)
  and the file in ``image``.

The image is stored in the media store and actions receive ``{"image": {"path": "media/<sha256>.<ext>", ...}}``
(or ``{"image_error": ...}``); the answer is the list of bot messages, as with Rasa's ``rest`` channel.

Rasa sees the sender as ``rest:<sender>`` (``webchat:<sender>`` for the web chat). The answer to the first
message of a conversation carries its session token in the ``X-Qaid-Session`` header; every later message
must send it back in that request header, or it is refused with 401 before anything is stored or handled
(:mod:`channels.sessions`).
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
from asyncio import CancelledError
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from rasa.core.channels.channel import (
    CollectingOutputChannel,
    OutputChannel,
    UserMessage,
)
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.exceptions import InvalidUsage
from sanic.request import Request
from sanic.response import HTTPResponse, ResponseStream

from channels.intake import image_metadata, location_metadata, user_messages
from channels.media import MediaStore, image_error_metadata
from channels.serving import MediaServingBlueprint
from channels.sessions import SESSION_HEADER, SessionSigner, namespaced, session_secret
from channels.settings import ChannelSettings
from channels.signing import local_media_name, signed_media_path, signed_media_url
from qaid.images import ImageError

logger = logging.getLogger(__name__)

UPLOAD_FIELDS = ("image", "file")
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
SESSION_REQUIRED = f"This conversation belongs to another session; send its {SESSION_HEADER} token."


class BadRequest(ValueError):
    """The request is malformed; the message is returned to the client with status 400."""


@dataclass
class InboundRequest:
    """What a client posted: sender, caption/text, its metadata and an uploaded file, if any."""

    sender: str
    text: str | None
    metadata: dict[str, Any] = field(default_factory=dict)
    upload: bytes | None = None
    filename: str | None = None
    input_channel: str | None = None


class MediaCollectingOutput(CollectingOutputChannel):
    """Collects bot messages for the HTTP answer, turning links to our own media into signed links
    (absolute, under the public URL; server-relative with ``relative``, for the web chat page)."""

    def __init__(self, settings: ChannelSettings, relative: bool = False) -> None:
        super().__init__()
        self.settings = settings
        self.relative = relative

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        """Sign our own media URL, keep others."""
        name = local_media_name(image, self.settings)
        if name:
            image = (signed_media_path if self.relative else signed_media_url)(self.settings, name)
        await super().send_image_url(recipient_id, image, **kwargs)


class MediaRestInput(RestInput):
    """REST input channel whose messages may carry an image (see module docstring)."""

    media_channel = "rest"

    @classmethod
    def name(cls) -> str:
        """Channel name in credentials.yml and the webhook URL."""
        return "qaid_rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> MediaRestInput:
        """Build from the channel's credentials.yml entry (see :class:`ChannelSettings`)."""
        return cls(ChannelSettings.from_credentials(credentials))

    def __init__(
        self, settings: ChannelSettings | None = None, store: MediaStore | None = None,
        sessions: SessionSigner | None = None,
    ) -> None:
        self.settings = settings or ChannelSettings.from_credentials(None)
        self.store = store or MediaStore()
        self.sessions = sessions or SessionSigner(session_secret())

    def parse_request(self, request: Request) -> InboundRequest:
        """Read sender, text, metadata and an uploaded file from a JSON, multipart or url-encoded request."""
        if (request.content_type or "").startswith(FORM_TYPES):
            form = request.form
            raw_metadata = form.get("metadata")
            try:
                metadata = json.loads(raw_metadata) if raw_metadata else {}
            except json.JSONDecodeError as exc:
                raise BadRequest("metadata must be a JSON object") from exc
            upload = next((request.files.get(name) for name in UPLOAD_FIELDS if request.files.get(name)), None)
            body = {
                "sender": form.get("sender"),
                "message": form.get("message"),
                "metadata": metadata,
                "input_channel": form.get("input_channel"),
            }
        else:
            try:
                body = request.json
            except InvalidUsage as exc:
                raise BadRequest("body must be JSON or multipart/form-data") from exc
            upload = None
        if not isinstance(body, dict):
            raise BadRequest("body must be a JSON object")
        sender, text, metadata = body.get("sender"), body.get("message"), body.get("metadata") or {}
        if not isinstance(sender, str) or not sender.strip():
            raise BadRequest("sender is required")
        if text is not None and not isinstance(text, str):
            raise BadRequest("message must be a string")
        if not isinstance(metadata, dict):
            raise BadRequest("metadata must be a JSON object")
        return InboundRequest(
            sender=sender.strip(),
            text=text,
            metadata=metadata,
            upload=upload.body if upload is not None else None,
            filename=upload.name if upload is not None else None,
            input_channel=body.get("input_channel"),
        )

    def media_channel_for(self, inbound: InboundRequest) -> str:
        """The ``channel`` recorded in image metadata; the shell client identifies itself."""
        return "shell" if inbound.input_channel == "shell" else self.media_channel

    def inbound_metadata(self, inbound: InboundRequest) -> dict[str, Any]:
        """Client metadata with ``image``/``location`` replaced by what the channel itself verified and stored."""
        client = inbound.metadata
        metadata = {k: v for k, v in client.items() if k not in ("image", "image_error", "location")}
        channel = self.media_channel_for(inbound)
        image = client.get("image")
        if inbound.upload is not None:
            metadata.update(image_metadata(self.store, inbound.upload, channel, inbound.filename))
        elif isinstance(image, dict):
            metadata.update(self._client_image(image, channel))
        elif image is not None:
            metadata.update(image_error_metadata(ImageError("unsupported_source")))
        location = client.get("location")
        if isinstance(location, dict):
            metadata.update(location_metadata(location.get("latitude"), location.get("longitude")) or {})
        return metadata

    def _client_image(self, image: dict[str, Any], channel: str) -> dict[str, Any]:
        filename = image.get("filename") if isinstance(image.get("filename"), str) else None
        try:
            if "base64" in image:
                return self.store.store_base64(image["base64"]).metadata(channel, filename)
            if "path" in image:
                stored = self.store.lookup(str(image["path"]))
                if stored is None:
                    raise ImageError("not_found")
                return stored.metadata(channel, filename)
            raise ImageError("unsupported_source")
        except ImageError as error:
            return image_error_metadata(error)

    async def session_allowed(self, request: Request, sender_id: str) -> bool:
        """True when the request carries ``sender_id``'s token, or starts a conversation that does not exist yet."""
        token = request.headers.get(SESSION_HEADER)
        if token is not None:
            return self.sessions.verify(sender_id, token)
        store = getattr(getattr(request.app.ctx, "agent", None), "tracker_store", None)
        return store is None or not await store.exists(sender_id)

    async def index(self, request: Request) -> HTTPResponse:
        """``GET /`` of the channel: a health check."""
        return response.json({"status": "ok"})

    def output_channel_for(self, request: Request) -> CollectingOutputChannel:
        """The collector that gathers bot replies for the HTTP response."""
        return MediaCollectingOutput(self.settings)

    def add_routes(self, blueprint: Blueprint) -> None:
        """Extra routes of subclasses (the web chat page and assets)."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """``GET /`` (:meth:`index`), ``POST /webhook`` and the shared ``GET /media/<name>``."""
        blueprint = MediaServingBlueprint(f"{self.name()}_webhook", self.settings, self.store)

        @blueprint.route("/", methods=["GET"])
        async def index(request: Request) -> HTTPResponse:
            return await self.index(request)

        @blueprint.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> ResponseStream | HTTPResponse:
            try:
                inbound = self.parse_request(request)
            except BadRequest as exc:
                return response.json({"error": str(exc)}, status=400)
            sender = namespaced(self.media_channel, inbound.sender)
            if not await self.session_allowed(request, sender):
                return response.json({"error": SESSION_REQUIRED}, status=401)
            metadata = await asyncio.to_thread(self.inbound_metadata, inbound)  # hashing, decoding, writing
            parts = user_messages(inbound.text, metadata)  # an image with a caption: the image, then the caption
            if not parts:
                return response.json({"error": "message or image is required"}, status=400)
            input_channel = self.name()
            headers = {SESSION_HEADER: self.sessions.token(sender), "Access-Control-Expose-Headers": SESSION_HEADER}
            if request.args.get("stream", "").lower() == "true":
                streams = [self.stream_response(on_new_message, text, sender, input_channel, part_metadata)
                           for text, part_metadata in parts]

                async def stream_all(resp: Any) -> None:
                    for stream in streams:
                        await stream(resp)

                return response.stream(stream_all, content_type="text/event-stream", headers=headers)
            collector = self.output_channel_for(request)
            for text, part_metadata in parts:
                await self.handle(on_new_message, collector, text, sender, input_channel, part_metadata)
            return response.json(collector.messages, headers=headers)

        self.add_routes(blueprint)
        return blueprint

    @staticmethod
    async def handle(
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        output: OutputChannel,
        text: str,
        sender: str,
        input_channel: str,
        metadata: dict[str, Any],
    ) -> None:
        """Pass one message to Rasa; failures are logged, never raised into the HTTP layer."""
        try:
            await on_new_message(
                UserMessage(text, output, sender, input_channel=input_channel, metadata=metadata)
            )
        except CancelledError:
            logger.error("%s: message handling timed out (%r)", input_channel, copy.deepcopy(text))
        except Exception:
            logger.exception("%s: message handling failed (%r)", input_channel, copy.deepcopy(text))
