"""Command line of the client side: the configured hospitals as the action server sees them.

    python -m hospitals list [--config services.yml] [--lat 51.5 --lon -0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from hospitals.network import HospitalNetwork
from hospitals.types import to_dict
from qaid.settings import Location, SettingsError, load_settings


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
    """Entry point of ``python -m hospitals``."""
    parser = argparse.ArgumentParser(prog="python -m hospitals", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    list_parser = commands.add_parser("list", help="list hospitals and their available capabilities")
    list_parser.add_argument("--config", default=None, help="services.yml (default: $QAID_SERVICES or repo root)")
    list_parser.add_argument("--lat", type=float, default=None)
    list_parser.add_argument("--lon", type=float, default=None)
    list_parser.set_defaults(func=list_hospitals)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except SettingsError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
