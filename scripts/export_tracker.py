"""Export a conversation from the tracker store as the tracker JSON the action server receives.

Used to refresh the real-tracker fixtures of the action tests (as Rasa's demo bots do):

    .venv-rasa/bin/python scripts/export_tracker.py --db var/rasa_tracker.db --sender SENDER > tracker.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import EventVerbosity

from bot.tracker_store import ErasableSQLTrackerStore


async def export(db: str, sender: str, domain_path: str) -> dict:
    """The conversation's current state, with every event, as a JSON-ready dict."""
    store = ErasableSQLTrackerStore(Domain.load(domain_path), dialect="sqlite", db=db)
    tracker = await store.retrieve(sender)
    if tracker is None:
        raise SystemExit(f"No conversation {sender!r} in {db}.")
    return tracker.current_state(EventVerbosity.ALL)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="SQLite tracker database (var/rasa_tracker.db)")
    parser.add_argument("--sender", required=True, help="conversation id")
    parser.add_argument("--domain", default="domain.yml")
    args = parser.parse_args()
    json.dump(asyncio.run(export(args.db, args.sender, args.domain)), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
