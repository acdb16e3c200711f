"""Command line for hospitals.

    python -m actions.hospitals serve --config services.yml --hospital "Charite Imaging" --port 5101
    python -m actions.hospitals list --config services.yml [--lat 51.5 --lon -0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web

from actions.hospitals.local import LocalHospital, ModelRegistry
from actions.hospitals.network import HospitalNetwork
from actions.hospitals.service import create_app
from actions.hospitals.types import to_dict
from actions.settings import Location, SettingsError, load_settings


def serve(args: argparse.Namespace) -> int:
    """Serve one configured hospital's models over HTTP (loaded in-process here)."""
    settings = load_settings(args.config)
    config = settings.hospital(args.hospital)
    executor = ThreadPoolExecutor(settings.aggregator.inference_threads, thread_name_prefix="hospital-model")
    hospital = LocalHospital(config, settings.bundle_path, ModelRegistry(), executor)
    app = create_app(hospital, settings.max_image_bytes)
    print(f"Serving {config.name} on http://{args.host}:{args.port} (OpenAPI at /openapi.json)", flush=True)
    web.run_app(app, host=args.host, port=args.port, print=None)
    executor.shutdown(wait=False, cancel_futures=True)
    return 0


def list_hospitals(args: argparse.Namespace) -> int:
    """Print the configured hospitals with their available capabilities (and distances from --lat/--lon)."""
    settings = load_settings(args.config)
    location = Location(args.lat, args.lon) if args.lat is not None and args.lon is not None else None

    async def run() -> list[dict]:
        network = HospitalNetwork.from_settings(settings)
        try:
            await network.start()
            return [to_dict(info) for info in await network.nearest(location)]
        finally:
            await network.close()

    print(json.dumps(asyncio.run(run()), indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m actions.hospitals``."""
    parser = argparse.ArgumentParser(prog="python -m actions.hospitals", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="serve one hospital over HTTP")
    serve_parser.add_argument("--config", default=None, help="services.yml (default: $QAID_SERVICES or repo root)")
    serve_parser.add_argument("--hospital", required=True, help="hospital name as in the config")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=5101)
    serve_parser.set_defaults(func=serve)
    list_parser = commands.add_parser("list", help="list hospitals and their available capabilities")
    list_parser.add_argument("--config", default=None)
    list_parser.add_argument("--lat", type=float, default=None)
    list_parser.add_argument("--lon", type=float, default=None)
    list_parser.set_defaults(func=list_hospitals)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except SettingsError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
