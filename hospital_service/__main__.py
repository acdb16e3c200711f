"""Command line of a hospital: its models over HTTP, and its transcript inbox.

    python -m hospital_service [--config services.yml] serve --hospital "Charite Imaging" [--port 5101]
    python -m hospital_service [--config services.yml] inbox serve [--host H] [--port N]
    python -m hospital_service [--config services.yml] inbox list [--hospital NAME]
    python -m hospital_service [--config services.yml] inbox show IDEMPOTENCY_KEY [--format html|fhir|transcript]

Every command reads ``--config`` (default ``$QAID_SERVICES`` or ``services.yml``).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web

from hospital_service.app import create_app
from hospital_service.inbox import InboxStore, inbox_app_from_settings
from hospitals.local import LocalHospital, ModelRegistry
from qaid.settings import Settings, SettingsError, load_settings
from transcripts.db import shown_time


def serve(settings: Settings, args: argparse.Namespace) -> int:
    """Serve one configured hospital's models over HTTP (loaded in-process here)."""
    config = settings.hospital(args.hospital)
    executor = ThreadPoolExecutor(settings.aggregator.inference_threads, thread_name_prefix="hospital-model")
    hospital = LocalHospital(config, settings.bundle_path, ModelRegistry(), executor)
    app = create_app(hospital, settings.max_image_bytes)
    print(f"Serving {config.name} on http://{args.host}:{args.port} (OpenAPI at /openapi.json)", flush=True)
    web.run_app(app, host=args.host, port=args.port, print=None)
    executor.shutdown(wait=False, cancel_futures=True)
    return 0


def inbox_serve(settings: Settings, args: argparse.Namespace) -> int:
    app, _ = inbox_app_from_settings(settings)
    host, port = args.host or settings.inbox.host, args.port or settings.inbox.port
    print(f"Hospital inbox on http://{host}:{port}/intake/<hospital>", flush=True)
    web.run_app(app, host=host, port=port, print=None, access_log=None)
    return 0


def inbox_list(settings: Settings, args: argparse.Namespace) -> int:
    store = InboxStore(settings.inbox.database_url)
    store.create()
    for item in store.find(args.hospital, args.limit):
        when, hospital, conversation = shown_time(item.received_at), item.hospital[:24], item.conversation_id[:24]
        print(f"{when}  {hospital:24}  {conversation:24}  {item.idempotency_key}")
    return 0


def inbox_show(settings: Settings, args: argparse.Namespace) -> int:
    store = InboxStore(settings.inbox.database_url)
    store.create()
    item = store.get(args.key)
    if item is None:
        print(f"No transcript with key {args.key!r} in the inbox.", file=sys.stderr)
        return 1
    envelope = json.loads(item.body)
    print(envelope["html"] if args.format == "html" else json.dumps(envelope[args.format], indent=2))
    return 0


def parser() -> argparse.ArgumentParser:
    """The command-line parser."""
    root = argparse.ArgumentParser(prog="python -m hospital_service", description=__doc__.splitlines()[0])
    root.add_argument("--config", default=None, help="services.yml (default: $QAID_SERVICES or the repo's)")
    commands = root.add_subparsers(dest="command", required=True)
    models = commands.add_parser("serve", help="serve one hospital's models over HTTP")
    models.add_argument("--hospital", required=True, help="hospital name as in the config")
    models.add_argument("--host", default="127.0.0.1")
    models.add_argument("--port", type=int, default=5101)
    models.set_defaults(func=serve)
    inbox = commands.add_parser("inbox").add_subparsers(dest="inbox_command", required=True)
    receiver = inbox.add_parser("serve", help="run the hospital inbox receiver")
    receiver.add_argument("--host")
    receiver.add_argument("--port", type=int)
    receiver.set_defaults(func=inbox_serve)
    received = inbox.add_parser("list", help="transcripts received")
    received.add_argument("--hospital")
    received.add_argument("--limit", type=int, default=50)
    received.set_defaults(func=inbox_list)
    show = inbox.add_parser("show", help="one received transcript in one of its renderings")
    show.add_argument("key", help="idempotency key, as printed by `inbox list`")
    show.add_argument("--format", choices=["html", "fhir", "transcript"], default="html")
    show.set_defaults(func=inbox_show)
    return root


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m hospital_service``."""
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(load_settings(args.config), args))
    except SettingsError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
