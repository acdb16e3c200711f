"""Attack: make the Rasa server read a 100 MB request body (Sanic's default limit) into memory.

The servers now start with ``SANIC_REQUEST_MAX_SIZE`` at the channels' own limit (a 20 MB image in base64
JSON plus 1 MB), so a larger body is answered 413 from its Content-Length, before it is read, and no
message reaches the bot.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit

from bot.cli import Ports, child_environment
from channels.media import MAX_REQUEST_BYTES
from channels.rest import MediaRestInput


async def _status_of_huge_post(base_url: str, length: int) -> int:
    parts = urlsplit(base_url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    writer.write((f"POST /webhooks/qaid_rest/webhook HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                  f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n").encode())
    writer.write(b"{" + b" " * 65536)  # the start of the body; the rest never needs to be sent
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), 10)
    writer.close()
    return int(status_line.split()[1])


def test_both_servers_start_with_the_channels_limit(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("SANIC_REQUEST_MAX_SIZE", raising=False)
    env = child_environment(Ports(rasa=6005, actions=6055), tmp_path)
    assert int(env["SANIC_REQUEST_MAX_SIZE"]) == MAX_REQUEST_BYTES < 30 * 1024 * 1024


async def test_a_100_mb_body_is_refused_before_it_is_read(serve, media_store, monkeypatch) -> None:
    monkeypatch.setenv("SANIC_REQUEST_MAX_SIZE", str(MAX_REQUEST_BYTES))
    server = await serve(MediaRestInput(store=media_store))
    assert server.app.config.REQUEST_MAX_SIZE == MAX_REQUEST_BYTES
    assert await _status_of_huge_post(server.base_url, 100 * 1000 * 1000) == 413
    assert server.bot.messages == []
