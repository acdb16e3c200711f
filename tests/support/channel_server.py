"""Channel-test fixtures: a real Sanic server on loopback with a scripted bot standing in for the Rasa agent.

The bot also stands in for the agent's tracker store (``exists``), so the channels' session checks run as
they do in ``rasa run``. Conftests import the fixtures from here.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from rasa.core.channels.channel import InputChannel, UserMessage, register
from rasa.server import configure_cors
from sanic import Sanic

from bot.servers import free_port
from channels.media import MediaStore

Reply = Callable[[UserMessage], Awaitable[None]]


@dataclass
class RecordingBot:
    """Stands in for the Rasa agent: records every UserMessage and answers through its output channel."""

    messages: list[UserMessage] = field(default_factory=list)
    reply: Reply | None = None
    received: asyncio.Event = field(default_factory=asyncio.Event)

    async def exists(self, sender_id: str) -> bool:
        """The tracker store's question: has this conversation started?"""
        return any(m.sender_id == sender_id for m in self.messages)

    async def __call__(self, message: UserMessage) -> None:
        self.messages.append(message)
        self.received.set()
        if self.reply is not None:
            await self.reply(message)

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[UserMessage]:
        async def _wait() -> None:
            while len(self.messages) < count:
                self.received.clear()
                await self.received.wait()

        await asyncio.wait_for(_wait(), timeout)
        return self.messages


@dataclass
class RunningServer:
    base_url: str
    app: Sanic
    bot: RecordingBot


@pytest.fixture
def media_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MediaStore:
    monkeypatch.setenv("QAID_VAR_DIR", str(tmp_path / "var"))
    return MediaStore()


@pytest_asyncio.fixture
async def serve() -> AsyncIterator[Callable[..., Awaitable[RunningServer]]]:
    """``await serve(channel, ...)`` mounts channels with Rasa's own ``register`` (as ``rasa run`` does) on loopback."""
    servers: list[Any] = []

    async def _serve(*channels: InputChannel, reply: Reply | None = None, cors: str | None = None) -> RunningServer:
        Sanic.test_mode = True
        app = Sanic(f"qaid_test_{uuid.uuid4().hex[:8]}")
        if cors:
            configure_cors(app, cors)
        bot = RecordingBot(reply=reply)
        app.ctx.agent = SimpleNamespace(handle_message=bot, tracker_store=bot)
        register(list(channels), app, route="/webhooks/")
        port = free_port()
        server = await app.create_server(
            host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
        )
        await server.startup()
        await server.before_start()
        await server.after_start()
        servers.append(server)
        return RunningServer(f"http://127.0.0.1:{port}", app, bot)

    yield _serve
    for server in servers:
        await server.before_stop()
        await server.close()
        await server.after_stop()


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session

