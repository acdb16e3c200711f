"""The real inbox app in its own process, with injected faults (for the reliability tests only).

A share ``--fail-rate`` of requests fails: half are refused before reaching the inbox (503), half
are processed and stored but answered 500, so the sender never sees the acknowledgement and must
retry. ``--delay`` slows every request down. Each outcome is appended to ``--log`` as JSON lines.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
from collections.abc import Awaitable, Callable

from aiohttp import web

from hospital_service.inbox import inbox_app_from_settings
from qaid.settings import load_settings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--fail-rate", type=float, default=0.0)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    settings = load_settings(args.config)
    app, _ = inbox_app_from_settings(settings)
    rng = random.Random(args.seed)

    def record(key: str, outcome: str) -> None:
        with open(args.log, "a") as log:
            log.write(json.dumps({"key": key, "outcome": outcome}) + "\n")

    @web.middleware
    async def faults(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]):
        if request.path == "/health":
            return await handler(request)
        key = request.headers.get("Idempotency-Key", "")
        draw = rng.random()
        if draw < args.fail_rate / 2:
            record(key, "refused")
            return web.json_response({"code": "injected", "message": "injected failure"}, status=503)
        await asyncio.sleep(args.delay)
        response = await handler(request)
        body = json.loads(response.body) if isinstance(response, web.Response) and response.body else {}
        outcome = body.get("status") or body.get("code")
        if draw < args.fail_rate:
            record(key, f"lost_ack:{outcome}")
            return web.json_response({"code": "injected", "message": "acknowledgement lost"}, status=500)
        record(key, str(outcome))
        return response

    app.middlewares.append(faults)
    web.run_app(app, host=settings.inbox.host, port=settings.inbox.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
