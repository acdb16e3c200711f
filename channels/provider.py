"""Common ground of the messaging-platform channels (Telegram, WhatsApp Cloud, Twilio)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.intake import image_metadata, user_messages
from channels.media import MediaStore, image_error_metadata
from channels.serving import MediaServingBlueprint
from channels.sessions import namespaced, platform_id
from channels.settings import ChannelSettings
from channels.tasks import ConversationWorkers, Overloaded, SeenIds
from qaid.events import EVENT_KEY
from qaid.images import ImageError, refusal

logger = logging.getLogger(__name__)

SORRY = "Sorry, something went wrong on my side. Please send your message again in a moment."
BUSY = "I'm receiving a lot of messages right now and couldn't take that one. Please send it again in a minute."
LOOKING = "One moment, I'm looking at your image."
LOOKING_WHEN_IN_FLIGHT = 4  # messages being handled at once (this one included) from which an image is acknowledged
CHOOSE = "Please choose:"

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


class NamespacedOutput(OutputChannel):
    """Base of platform output channels: Rasa addresses ``<namespace>:<id>``, the platform ``<id>``."""

    namespace = ""

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Send ``message`` to the platform id inside the namespaced ``recipient_id``; Q&Aid's own events
        (:mod:`qaid.events`) are for the web chat and are not sent to a messaging platform."""
        custom = message.get("custom")
        if isinstance(custom, dict) and EVENT_KEY in custom:
            message = {k: v for k, v in message.items() if k != "custom"}
        await super().send_response(platform_id(self.namespace, recipient_id), message)


class ProviderInput(InputChannel):
    """Shared plumbing: HTTP session, media intake, ordered background delivery, replay protection."""

    media_channel = "provider"

    def __init__(self, settings: ChannelSettings, store: MediaStore | None = None) -> None:
        self.settings = settings
        self.store = store or MediaStore()
        self.workers = ConversationWorkers()
        self.seen = SeenIds()
        self._apologies: set[asyncio.Future] = set()
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        """The channel's HTTP client session (created on first use, inside the server's loop)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def close(self) -> None:
        """Stop background work and close the HTTP session."""
        await self.workers.cancel()
        if self._session is not None:
            await self._session.close()

    @classmethod
    def required(cls, credentials: dict[str, Any] | None, *keys: str) -> dict[str, Any]:
        """The credentials, or Rasa's missing-credentials error when one of ``keys`` is empty."""
        if not credentials or not all(credentials.get(key) for key in keys):
            cls.raise_missing_credentials_exception()
            raise AssertionError("unreachable: Rasa's missing-credentials error was not raised")
        return credentials

    def health(self) -> dict[str, Any]:
        """Body of ``GET /webhooks/<name>/``."""
        return {"status": "ok"}

    def new_blueprint(self) -> Blueprint:
        """A blueprint with ``GET /`` (health), the shared /media route and shutdown of the channel."""
        blueprint = MediaServingBlueprint(f"{self.name()}_webhook", self.settings, self.store)

        @blueprint.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json(self.health())

        @blueprint.listener("before_server_stop")
        async def stop(app: Any, loop: Any) -> None:
            await self.close()

        return blueprint

    async def image_from_download(self, download: Awaitable[bytes], filename: str | None = None) -> dict[str, Any]:
        """Await ``download`` and store the bytes; every failure becomes ``image_error`` metadata."""
        try:
            data = await download
        except ImageError as error:
            return image_error_metadata(error)
        return await asyncio.to_thread(image_metadata, self.store, data, self.media_channel, filename)

    def enqueue(self, sender: str, job: Callable[[], Awaitable[None]]) -> None:
        """Queue ``job`` behind ``sender``'s earlier messages; when the queue is full, tell the patient instead."""
        try:
            self.workers.submit(sender, job)
        except Overloaded as exc:
            logger.warning("%s: shedding a message from %s (%s)", self.name(), sender, exc)
            apology = asyncio.ensure_future(self.get_output_channel().send_text_message(sender, BUSY))
            self._apologies.add(apology)
            apology.add_done_callback(self._apologies.discard)

    @staticmethod
    def unsupported() -> dict[str, Any]:
        """``image_error`` metadata for media the assistant cannot use (voice, video, stickers...)."""
        return image_error_metadata(ImageError("not_an_image", refusal("unsupported_message")))

    async def deliver(
        self,
        on_new_message: OnNewMessage,
        output: OutputChannel,
        sender: str,
        text: str | None,
        metadata: dict[str, Any],
        message_id: str | None = None,
    ) -> None:
        """Hand one inbound message to Rasa (an image with a caption as two, :func:`user_messages`); if that
        fails, apologise to the patient instead of going silent. When many messages are being handled at once,
        an image is acknowledged first (:data:`LOOKING`): under load screening it takes seconds."""
        try:
            if "image" in metadata and self.workers.in_flight >= LOOKING_WHEN_IN_FLIGHT:
                await output.send_text_message(sender, LOOKING)
            for index, (part, part_metadata) in enumerate(user_messages(text, metadata)):
                part_id = message_id if index == 0 or message_id is None else f"{message_id}:caption"
                await on_new_message(UserMessage(
                    part, output, namespaced(self.media_channel, sender), input_channel=self.name(),
                    metadata=part_metadata, message_id=part_id,
                ))
        except Exception:
            logger.exception("%s: handling a message from %s failed", self.name(), sender)
            try:
                await output.send_text_message(sender, SORRY)
            except Exception:
                logger.exception("%s: could not send the apology to %s", self.name(), sender)
