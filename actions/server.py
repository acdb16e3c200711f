"""Action server entry point: rasa-sdk's app plus our services started with it.

``python -m actions.server --port 5055`` registers every action in this package, loads the
embedded hospitals' models once, starts the transcript delivery worker (and the embedded
hospital inbox), and serves rasa-sdk's ``/webhook``, ``/actions`` and ``/health``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

import torch
from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor

from actions.runtime import get_services, stop_services

logger = logging.getLogger("actions")


def build_app():
    """rasa-sdk's Sanic app with our actions registered and our services tied to its lifecycle."""
    executor = ActionExecutor()
    executor.register_package("actions")
    app = create_app(executor)

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
