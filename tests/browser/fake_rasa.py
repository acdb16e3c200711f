"""A small stand-in for the Rasa server for the browser test: the REAL web chat channel and media route,
with a scripted bot instead of the trained assistant (the full assistant is covered by tests/e2e).

Prints one line ``READY {"url": ..., "image": ...}`` once it listens.
"""

from __future__ import annotations

import argparse
import io
import json
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from PIL import Image, ImageDraw
from rasa.core.channels.channel import UserMessage, register
from sanic import Sanic, response
from sanic.request import Request

EMBED_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Clinic home page</title></head>
<body><h1>St. Example Clinic</h1><p>Opening hours: 8-18.</p>
<script src="/webhooks/webchat/static/widget.js" data-title="Ask Q&amp;Aid" defer></script></body></html>"""


def png(color: tuple[int, int, int], size: int = 96, square: bool = False) -> bytes:
    """A small PNG; ``square`` draws a red box like a segmentation overlay."""
    image = Image.new("RGB", (size, size), color)
    if square:
        ImageDraw.Draw(image).rectangle((size // 4, size // 4, size // 2, size // 2), outline=(255, 0, 0), width=3)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


class ScriptedBot:
    """Answers like the assistant would: acknowledges images, answers questions with text + an overlay image."""

    def __init__(self, overlay_url: str) -> None:
        self.overlay_url = overlay_url
        self.received: list[dict[str, Any]] = []

    async def exists(self, sender_id: str) -> bool:
        """The tracker store's question, so the channel checks session tokens as under ``rasa run``."""
        return any(entry["sender"] == sender_id for entry in self.received)

    async def handle_message(self, message: UserMessage) -> None:
        self.received.append({"text": message.text, "sender": message.sender_id, "metadata": message.metadata})
        out, sender, metadata = message.output_channel, message.sender_id, message.metadata or {}
        if "image_error" in metadata:
            await out.send_text_message(sender, metadata["image_error"]["reason"])
        elif message.text == "/send_image":
            await out.send_text_message(sender, f"I received your image ({metadata['image']['media_type']}).")
        elif message.text.startswith("/"):
            await out.send_text_message(sender, f"You chose {message.text}")
        elif message.text == "delete my data":
            await out.send_response(sender, {"text": "Done: your data is deleted.",
                                             "custom": {"qaid_event": "conversation_erased"}})
        else:
            await out.send_response(sender, {"text": "Canned answer: the lesion is in the left frontal lobe.",
                                             "image": self.overlay_url})
            await out.send_response(sender, {"text": "Was this helpful?", "buttons": [
                {"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--var-dir", type=Path, required=True)
    args = parser.parse_args()
    os.environ["QAID_VAR_DIR"] = str(args.var_dir)
    base = f"http://127.0.0.1:{args.port}"
    os.environ["QAID_PUBLIC_URL"] = base

    from channels.media import MediaStore
    from channels.webchat import WebChatInput

    store = MediaStore()
    overlay = store.store(png((40, 40, 40), square=True))
    fixture = args.var_dir / "fixtures" / "scan.png"
    fixture.parent.mkdir(parents=True, exist_ok=True)
    fixture.write_bytes(png((90, 90, 90)))

    bot = ScriptedBot(f"{base}/media/{overlay.name}")
    app = Sanic("qaid_browser_fake_rasa")
    app.ctx.agent = SimpleNamespace(handle_message=bot.handle_message, tracker_store=bot)
    register([WebChatInput.from_credentials({"title": "Q&Aid test"})], app, route="/webhooks/")

    @app.get("/__received")
    async def received(request: Request) -> Any:
        return response.json(bot.received)

    @app.get("/embed.html")
    async def embed(request: Request) -> Any:
        return response.html(EMBED_PAGE)

    @app.listener("after_server_start")
    async def ready(app: Sanic, loop: Any) -> None:
        print("READY " + json.dumps({"url": base, "image": str(fixture)}), flush=True)

    app.run(host="127.0.0.1", port=args.port, access_log=False, motd=False)


if __name__ == "__main__":
    main()
