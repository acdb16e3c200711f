"""Operator commands for transcript delivery (the hospital's side: ``python -m hospital_service inbox``).

    python -m transcripts outbox list [--status pending|delivered|dead] [--conversation ID] [--json]
    python -m transcripts outbox attempts DELIVERY_ID
    python -m transcripts outbox retry (DELIVERY_ID ... | --dead)
    python -m transcripts outbox deliver [--once]

Every command reads ``--config`` (default ``$QAID_SERVICES`` or ``services.yml``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
import time

import aiohttp

from qaid.settings import Settings, SettingsError, load_settings
from transcripts.db import shown_time
from transcripts.outbox import PENDING
from transcripts.service import TranscriptService


def outbox_list(settings: Settings, args: argparse.Namespace) -> int:
    outbox = TranscriptService.from_settings(settings).outbox
    outbox.create()
    rows = outbox.find(args.status, args.conversation, args.limit)
    if args.json:
        print(json.dumps([{k: v for k, v in vars(r).items() if k != "body"} for r in rows], indent=2))
        return 0
    print(f"{'id':36}  {'status':9}  {'tries':>5}  {'hospital':24}  {'created':19}  {'next/delivered':19}  last error")
    for row in rows:
        settled = row.delivered_at if row.delivered_at else (row.next_attempt_at if row.status == PENDING else None)
        created, next_or_done = shown_time(row.created_at), shown_time(settled)
        print(f"{row.id:36}  {row.status:9}  {row.attempts:>5}  {row.hospital[:24]:24}  {created:19}  "
              f"{next_or_done:19}  {(row.last_error or '')[:60]}")
    counts = outbox.counts()
    print("totals: " + (", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "empty"))
    return 0


def outbox_attempts(settings: Settings, args: argparse.Namespace) -> int:
    outbox = TranscriptService.from_settings(settings).outbox
    outbox.create()
    for attempt in outbox.attempts_of(args.delivery_id):
        print(f"{shown_time(attempt.attempted_at)}  {attempt.status_code or '-':>4}  {attempt.duration_ms:8.1f} ms  "
              f"{attempt.worker}  {attempt.error or 'ok'}")
    return 0


def outbox_retry(settings: Settings, args: argparse.Namespace) -> int:
    if not args.dead and not args.ids:
        print("Give delivery ids or --dead.", file=sys.stderr)
        return 2
    outbox = TranscriptService.from_settings(settings).outbox
    outbox.create()
    count = outbox.retry(None if args.dead else args.ids, time.time())
    print(f"{count} deliveries queued again.")
    return 0


def outbox_deliver(settings: Settings, args: argparse.Namespace) -> int:
    service = TranscriptService.from_settings(settings)
    service.outbox.create()

    async def once() -> int:
        total = 0
        timeout = aiohttp.ClientTimeout(total=settings.delivery.timeout_s)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            started = time.time()  # retries scheduled by this run are left for the next one
            while attempted := await service.worker.deliver_due(session, due_by=started):
                total += attempted
        return total

    async def forever() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await service.worker.run(stop)

    if args.once:
        print(f"{asyncio.run(once())} delivery attempts made.")
    else:
        asyncio.run(forever())
    return 0


def parser() -> argparse.ArgumentParser:
    """The command-line parser."""
    root = argparse.ArgumentParser(prog="python -m transcripts", description="Transcript outbox.")
    root.add_argument("--config", default=None, help="services.yml (default: $QAID_SERVICES or the repo's)")
    groups = root.add_subparsers(dest="group", required=True)
    outbox = groups.add_parser("outbox").add_subparsers(dest="command", required=True)
    listing = outbox.add_parser("list", help="deliveries, newest first")
    listing.add_argument("--status", choices=["pending", "delivered", "dead"])
    listing.add_argument("--conversation")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=outbox_list)
    attempts = outbox.add_parser("attempts", help="every attempt of one delivery")
    attempts.add_argument("delivery_id")
    attempts.set_defaults(func=outbox_attempts)
    retry = outbox.add_parser("retry", help="queue dead (or given) deliveries again")
    retry.add_argument("ids", nargs="*")
    retry.add_argument("--dead", action="store_true", help="every dead-lettered delivery")
    retry.set_defaults(func=outbox_retry)
    deliver = outbox.add_parser("deliver", help="run the delivery worker")
    deliver.add_argument("--once", action="store_true", help="deliver what is due now, then exit")
    deliver.set_defaults(func=outbox_deliver)
    return root


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m transcripts``."""
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings(args.config)
    except SettingsError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    return int(args.func(settings, args))


if __name__ == "__main__":
    sys.exit(main())
