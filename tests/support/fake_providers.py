"""Fake provider APIs on loopback (aiohttp) so the channels' real HTTP client code runs in tests."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.servers import free_port


@dataclass
class Call:
    """One request the fake received: the API method and its JSON body or multipart fields."""

    method: str
    data: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


class FakeServer:
    """Base: an aiohttp app on a free loopback port that records calls."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.app = web.Application(client_max_size=64 * 1024 * 1024)
        self.runner: web.AppRunner | None = None
        self.base_url = ""

    async def start(self) -> FakeServer:
        self.runner = web.AppRunner(self.app, access_log=None)
        await self.runner.setup()
        port = free_port()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    @staticmethod
    async def read_request(request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
        if request.content_type == "multipart/form-data":
            data: dict[str, Any] = {}
            files: dict[str, bytes] = {}
            async for part in await request.multipart():
                if part.filename:
                    files[part.name] = await part.read()
                    data[f"{part.name}_content_type"] = part.headers.get("Content-Type")
                else:
                    data[part.name] = await part.text()
            return data, files
        if request.content_type == "application/x-www-form-urlencoded":
            return dict(await request.post()), {}
        if request.can_read_body:
            return await request.json(), {}
        return dict(request.query), {}

    def named(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]


class FakeTelegram(FakeServer):
    """Bot API: getFile + /file/bot<token>/<path>, send*, getUpdates with a queue, webhook methods."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self.files: dict[str, tuple[str, bytes, int]] = {}
        self.updates: list[dict[str, Any]] = []
        self.app.router.add_post(f"/bot{token}/{{method}}", self.method)
        self.app.router.add_get(f"/file/bot{token}/{{path:.+}}", self.download)

    def add_file(self, file_id: str, data: bytes, path: str = "photos/file_1.jpg", size: int | None = None) -> None:
        self.files[file_id] = (path, data, len(data) if size is None else size)

    async def method(self, request: web.Request) -> web.Response:
        name = request.match_info["method"]
        data, files = await self.read_request(request)
        self.calls.append(Call(name, data, files))
        if name == "getFile":
            if data["file_id"] not in self.files:
                error = {"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"}
                return web.json_response(error)
            path, _, size = self.files[data["file_id"]]
            result = {"file_id": data["file_id"], "file_unique_id": "u1", "file_size": size, "file_path": path}
            return web.json_response({"ok": True, "result": result})
        if name == "getUpdates":
            if not self.updates:  # long polling: hold the request a little while nothing is queued
                await asyncio.sleep(min(float(data.get("timeout", 0)), 0.5))
            pending, self.updates = self.updates, []
            return web.json_response({"ok": True, "result": pending})
        return web.json_response({"ok": True, "result": True if "Webhook" in name or "Callback" in name else {}})

    async def download(self, request: web.Request) -> web.Response:
        for path, data, _ in self.files.values():
            if path == request.match_info["path"]:
                return web.Response(body=data, content_type="application/octet-stream")
        return web.Response(status=404)


class FakeGraph(FakeServer):
    """Graph API: GET /<version>/<media_id> (metadata), the media download URL, /messages and /media."""

    def __init__(self, token: str, version: str = "v21.0") -> None:
        super().__init__()
        self.token = token
        self.version = version
        self.media: dict[str, tuple[bytes, str, str | None]] = {}
        self.app.router.add_get(f"/{version}/{{media_id}}", self.media_info)
        self.app.router.add_get("/download/{media_id}", self.download)
        self.app.router.add_post(f"/{version}/{{phone_id}}/messages", self.messages)
        self.app.router.add_post(f"/{version}/{{phone_id}}/media", self.upload)

    def add_media(self, media_id: str, data: bytes, mime_type: str = "image/jpeg", sha256: str | None = None) -> None:
        self.media[media_id] = (data, mime_type, sha256)

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.token}"

    async def media_info(self, request: web.Request) -> web.Response:
        media_id = request.match_info["media_id"]
        self.calls.append(Call("media_info", {"id": media_id}, headers=dict(request.headers)))
        if not self._authorised(request):
            return web.json_response({"error": {"message": "Invalid OAuth access token"}}, status=401)
        if media_id not in self.media:
            return web.json_response({"error": {"message": "Unsupported get request"}}, status=400)
        data, mime_type, sha256 = self.media[media_id]
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "url": f"{self.base_url}/download/{media_id}",
                "mime_type": mime_type,
                "sha256": sha256 or hashlib.sha256(data).hexdigest(),
                "file_size": len(data),
                "id": media_id,
            }
        )

    async def download(self, request: web.Request) -> web.Response:
        self.calls.append(Call("download", {"id": request.match_info["media_id"]}))
        if not self._authorised(request):
            return web.Response(status=401)
        data, mime_type, _ = self.media[request.match_info["media_id"]]
        return web.Response(body=data, content_type=mime_type)

    async def messages(self, request: web.Request) -> web.Response:
        data, _ = await self.read_request(request)
        self.calls.append(Call("messages", data, headers=dict(request.headers)))
        return web.json_response({"messaging_product": "whatsapp", "messages": [{"id": "wamid.OUT"}]})

    async def upload(self, request: web.Request) -> web.Response:
        data, files = await self.read_request(request)
        self.calls.append(Call("upload", data, files))
        return web.json_response({"id": f"media-{len(self.calls)}"})


class FakeTwilio(FakeServer):
    """Twilio REST: media URLs under /2010-04-01/Accounts/<sid>/Messages/<MM>/Media/<ME> (basic auth, redirect
    to a CDN path that must not receive credentials) and Messages.json for outbound messages."""

    def __init__(self, account_sid: str, auth_token: str) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.media: dict[str, tuple[bytes, str]] = {}
        prefix = f"/2010-04-01/Accounts/{account_sid}"
        self.app.router.add_get(prefix + "/Messages/{message}/Media/{media}", self.media_redirect)
        self.app.router.add_get("/cdn/{media}", self.cdn)
        self.app.router.add_post(prefix + "/Messages.json", self.send)

    def media_url(self, media_id: str) -> str:
        return f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Messages/MM1/Media/{media_id}"

    def add_media(self, media_id: str, data: bytes, content_type: str = "image/jpeg") -> None:
        self.media[media_id] = (data, content_type)

    async def media_redirect(self, request: web.Request) -> web.Response:
        import aiohttp

        auth = aiohttp.BasicAuth.decode(request.headers.get("Authorization", "Basic Og=="))
        self.calls.append(Call("media", {"id": request.match_info["media"], "login": auth.login}))
        if (auth.login, auth.password) != (self.account_sid, self.auth_token):
            return web.Response(status=401)
        # The CDN lives on another origin in production; 'localhost' vs '127.0.0.1' makes it one here too.
        cdn = self.base_url.replace("127.0.0.1", "localhost")
        raise web.HTTPFound(f"{cdn}/cdn/{request.match_info['media']}")

    async def cdn(self, request: web.Request) -> web.Response:
        self.calls.append(Call("cdn", {"authorization": request.headers.get("Authorization")}))
        data, content_type = self.media[request.match_info["media"]]
        return web.Response(body=data, content_type=content_type)

    async def send(self, request: web.Request) -> web.Response:
        form = await request.post()
        data = {k: form.getall(k) if len(form.getall(k)) > 1 else form[k] for k in set(form)}
        self.calls.append(Call("send", data, headers=dict(request.headers)))
        return web.json_response({"sid": f"SM{len(self.calls)}", "status": "queued"}, status=201)
