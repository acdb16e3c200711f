"""Action server entry point: rasa-sdk's app plus our services started with it.

``python -m actions.server --port 5055`` registers every action in this package, loads the
embedded hospitals' models once, starts the transcript delivery worker (and the embedded
hospital inbox), and serves rasa-sdk's ``/webhook``, ``/actions`` and ``/health``.

Only ``/health`` is open. Every other request must carry the shared secret in the
``X-Qaid-Action-Secret`` header (:func:`qaid.state.action_secret`; ``python -m bot.cli`` configures
the Rasa server to send it), else it is answered 401; compressed bodies are refused (415), and no
CORS headers are sent: browsers have no business here.
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os
import sys

import torch
from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.runtime import get_services, stop_services
from qaid.state import ACTION_SECRET_HEADER, action_secret

logger = logging.getLogger("actions")


OPEN_PATHS = {"/health"}


def build_app(secret: bytes | None = None) -> Sanic:
    """rasa-sdk's Sanic app with our actions registered, the shared secret required (default
    :func:`qaid.state.action_secret`) and our services tied to its lifecycle."""
    executor = ActionExecutor()
    executor.register_package("actions")
    app = create_app(executor, cors_origins="")
    expected = secret if secret is not None else action_secret()

    @app.on_request
    async def require_secret(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        given = request.headers.get(ACTION_SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, expected):
            return response.json({"error": f"missing or wrong {ACTION_SECRET_HEADER}"}, status=401)
        if request.headers.get("Content-Encoding", "identity").lower() != "identity":
            return response.json({"error": "compressed bodies are not accepted"}, status=415)
        return None

    @app.before_server_start
    async def start_services(*_: object) -> None:
        services = await get_services()
        logger.info("Action server ready with hospitals: %s", ", ".join(h.name for h in services.settings.hospitals))

    @app.after_server_stop
    async def shutdown(*_: object) -> None:
        await stop_services()

    return app


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and serve until stopped."""
    parser = argparse.ArgumentParser(prog="python -m actions.server", description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("QAID_ACTION_PORT", 5055)))
    parser.add_argument("--host", default=os.environ.get("QAID_ACTION_HOST", "127.0.0.1"))
    args = parser.parse_args(argv)
    # Inference already runs in a thread pool (services.yml: aggregator.inference_threads); one torch
    # thread per call keeps latency steady instead of oversubscribing the cores.
    torch.set_num_threads(int(os.environ.get("QAID_TORCH_THREADS", "1")))
    logging.basicConfig(level=os.environ.get("QAID_LOG_LEVEL", "INFO"), format="%(levelname)s %(name)s: %(message)s")
    app = build_app()
    app.run(host=args.host, port=args.port, single_process=True, access_log=False, motd=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
