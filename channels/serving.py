"""``GET /media/<name>``: serves the media store from the Rasa server, mounted once at the root.

Only signed, unexpired links (:mod:`channels.signing`) are served; anything else is a 403, so a file name
(a content hash) alone gives nobody a patient's image.
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.media import MediaStore, content_type_for
from channels.settings import ChannelSettings
from qaid.media_links import verify_media_signature

MEDIA_ROUTE = "/media/<name>"
MEDIA_ROUTE_NAME = "qaid_media"


def add_media_route(app: Sanic, settings: ChannelSettings, store: MediaStore) -> None:
    """Register the media route on ``app`` unless a channel did already."""
    if getattr(app.ctx, "qaid_media_route", False):
        return
    app.ctx.qaid_media_route = True

    async def serve_media(request: Request, name: str) -> HTTPResponse:
        if not verify_media_signature(
            settings.media_secret, name, request.args.get("expires"), request.args.get("signature")
        ):
            return response.json({"error": "invalid or expired signature"}, status=403)
        path = store.path_for(name)
        if path is None:
            return response.json({"error": "not found"}, status=404)
        media_type = content_type_for(name)
        disposition = "inline" if media_type.startswith("image/") else "attachment"
        headers = {
            "Cache-Control": "private, max-age=86400, immutable",
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": f'{disposition}; filename="{name}"',
        }
        if request.method == "HEAD":
            headers["Content-Length"] = str(path.stat().st_size)
            return response.empty(headers=headers | {"Content-Type": media_type})
        return await response.file(path, mime_type=media_type, headers=headers)

    app.add_route(serve_media, MEDIA_ROUTE, methods=["GET", "HEAD"], name=MEDIA_ROUTE_NAME)


class MediaServingBlueprint(Blueprint):
    """A channel blueprint that also mounts ``GET /media/<name>`` at the app root when registered."""

    def __init__(self, name: str, settings: ChannelSettings, store: MediaStore, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.ctx.media_settings = settings
        self.ctx.media_store = store

    def register(self, app: Sanic, options: Any) -> None:
        """Register the channel routes, then the shared media route."""
        super().register(app, options)
        add_media_route(app, self.ctx.media_settings, self.ctx.media_store)
