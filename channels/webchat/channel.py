"""``webchat``: the chat page, the one-script-tag widget and its REST + multipart endpoint.

credentials.yml::

    channels.webchat.WebChatInput:
      title: "Q&Aid"                         # optional page / widget title

Chat page: ``<server>/webhooks/webchat/``. Embed on any site (the server must allow CORS, e.g. ``rasa run --cors``)::

    <script src="https://bot.example.org/webhooks/webchat/static/widget.js" defer></script>

The widget posts ``multipart/form-data`` (``sender``, ``message``, optional ``image``) to
``/webhooks/webchat/webhook`` and renders the bot messages it gets back.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.media import MediaStore
from channels.rest import MediaCollectingOutput, MediaRestInput
from channels.settings import ChannelSettings

STATIC_DIR = Path(__file__).resolve().parent / "static"
ASSETS = {"widget.js": "application/javascript; charset=utf-8", "widget.css": "text/css; charset=utf-8"}
DEFAULT_TITLE = "Q&Aid"


class WebChatOutput(MediaCollectingOutput):
    """Collects bot messages for the HTTP answer; our media URLs become signed server-relative links
    (``/media/<name>?expires=..&signature=..``) so that the page works under whatever host name the browser used."""

    def __init__(self, settings: ChannelSettings) -> None:
        super().__init__(settings, relative=True)

    @classmethod
    def name(cls) -> str:
        """Output channel name."""
        return "webchat"


class WebChatInput(MediaRestInput):
    """Web chat input channel (see module docstring)."""

    media_channel = "webchat"

    @classmethod
    def name(cls) -> str:
        """Channel name; page at ``/webhooks/webchat/``."""
        return "webchat"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WebChatInput:
        """Build from credentials.yml (optional ``title`` plus the shared channel settings)."""
        credentials = credentials or {}
        return cls(ChannelSettings.from_credentials(credentials), title=str(credentials.get("title") or DEFAULT_TITLE))

    def __init__(
        self, settings: ChannelSettings | None = None, store: MediaStore | None = None, title: str = DEFAULT_TITLE
    ) -> None:
        super().__init__(settings, store)
        self.title = title

    async def index(self, request: Request) -> HTTPResponse:
        """The full-page chat."""
        base = request.path.rstrip("/")
        page = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
        page = page.replace("{{TITLE}}", html.escape(self.title)).replace(
            "{{WIDGET_SRC}}", html.escape(f"{base}/static/widget.js")
        )
        return response.html(page, headers={"Cache-Control": "no-cache"})

    def output_channel_for(self, request: Request) -> CollectingOutputChannel:
        """Collector with our media URLs made server-relative."""
        return WebChatOutput(self.settings)

    def add_routes(self, blueprint: Blueprint) -> None:
        """``GET /static/widget.js`` and ``/static/widget.css``."""

        @blueprint.route("/static/<name>", methods=["GET"])
        async def asset(request: Request, name: str) -> HTTPResponse:
            if name not in ASSETS:
                return response.json({"error": "not found"}, status=404)
            return await response.file(
                STATIC_DIR / name, mime_type=ASSETS[name], headers={"Cache-Control": "no-cache"}
            )
