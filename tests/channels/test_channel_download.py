"""Bounded provider downloads: timeout, size limit (declared and streamed), HTTP errors, redirect limits."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

from channels.download import fetch_media
from tests.support.fake_providers import FakeServer
from vision_models.imaging import ImageError

pytestmark = pytest.mark.asyncio


class Misbehaving(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.app.router.add_get("/slow", self.slow)
        self.app.router.add_get("/big", self.big)
        self.app.router.add_get("/chunked-big", self.chunked_big)
        self.app.router.add_get("/missing", self.missing)
        self.app.router.add_get("/loop", self.loop)
        self.app.router.add_get("/ok", self.ok)

    async def slow(self, request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.Response(body=b"late")

    async def big(self, request: web.Request) -> web.Response:
        return web.Response(body=b"x" * 2048)

    async def chunked_big(self, request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for _ in range(64):
            await resp.write(b"y" * 256)
        return resp

    async def missing(self, request: web.Request) -> web.Response:
        return web.Response(status=404)

    async def loop(self, request: web.Request) -> web.Response:
        raise web.HTTPFound("/loop")

    async def ok(self, request: web.Request) -> web.Response:
        return web.Response(body=b"fine")


@pytest_asyncio.fixture
async def server():
    fake = await Misbehaving().start()
    yield fake
    await fake.stop()


@pytest.mark.parametrize(
    "path, kwargs, code",
    [
        ("/slow", {"timeout_s": 0.3}, "download_failed"),
        ("/big", {"max_bytes": 1024}, "too_large"),
        ("/chunked-big", {"max_bytes": 1024}, "too_large"),
        ("/missing", {}, "download_failed"),
        ("/loop", {}, "download_failed"),
    ],
)
async def test_failures_become_patient_safe_errors(server, path, kwargs, code):
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ImageError) as caught:
            await fetch_media(session, server.base_url + path, **kwargs)
    assert caught.value.code == code
    assert caught.value.reason


async def test_unreachable_host(server):
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ImageError) as caught:
            await fetch_media(session, "http://127.0.0.1:9/file", timeout_s=2)
    assert caught.value.code == "download_failed"


async def test_success(server):
    async with aiohttp.ClientSession() as session:
        assert await fetch_media(session, server.base_url + "/ok") == b"fine"
