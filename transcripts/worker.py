"""The delivery worker: POSTs queued transcripts to hospital inboxes until each is acknowledged.

Each attempt is signed (HMAC-SHA256 over timestamp and body with the hospital's secret), carries
the delivery's idempotency key and is recorded. Failures are retried with exponential backoff and
jitter; past the dead-letter period a delivery becomes ``dead``. Database calls run in threads.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Callable

import aiohttp

from qaid.settings import DeliveryConfig
from transcripts.outbox import Attempt, Delivery, Outbox
from transcripts.signing import signed_headers

logger = logging.getLogger(__name__)
SecretLookup = Callable[[str], "str | None"]


# Answers that a retry cannot change (a redirect, or a refusal of the request itself): dead-lettered at once.
TRANSIENT_CLIENT_ERRORS = {408, 409, 425, 429}


def is_permanent_failure(status_code: int | None) -> bool:
    """True for an inbox answer no retry will change: 3xx (redirects are not followed) and 4xx but 408/409/425/429."""
    if status_code is None:
        return False
    return 300 <= status_code < 400 or (400 <= status_code < 500 and status_code not in TRANSIENT_CLIENT_ERRORS)


def backoff_delay(attempt_number: int, base_s: float, max_s: float, rng: Callable[[], float] = random.random) -> float:
    """Delay before retry number ``attempt_number`` (1-based): ``min(max, base·2^(n-1))`` scaled by a
    random factor in [0.5, 1) ("equal jitter") so that failed deliveries do not retry in lockstep."""
    ceiling = min(max_s, base_s * (2 ** max(0, attempt_number - 1)))
    return ceiling * (0.5 + 0.5 * rng())


class DeliveryWorker:
    """Delivers due outbox rows; run :meth:`run` as a background task or :meth:`deliver_due` once."""

    def __init__(
        self,
        outbox: Outbox,
        config: DeliveryConfig,
        secret_for: SecretLookup,
        worker_id: str | None = None,
        concurrency: int = 8,
    ) -> None:
        self.outbox = outbox
        self.config = config
        self.secret_for = secret_for
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._semaphore = asyncio.Semaphore(concurrency)
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def wake(self) -> None:
        """Ask a running worker to look for due deliveries now (callable from any thread)."""
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def deliver_due(self, session: aiohttp.ClientSession, due_by: float | None = None) -> int:
        """Claim one batch of deliveries due by ``due_by`` (default: now) and attempt each; returns how many."""
        moment = time.time() if due_by is None else due_by
        batch = await asyncio.to_thread(
            self.outbox.claim, self.worker_id, self.config.batch_size, self.config.lease_s, moment
        )
        await asyncio.gather(*(self._attempt(session, delivery) for delivery in batch))
        return len(batch)

    async def _attempt(self, session: aiohttp.ClientSession, delivery: Delivery) -> None:
        async with self._semaphore:
            started = time.time()
            status_code, error = await self._post(session, delivery)
            attempt = Attempt(
                delivery_id=delivery.id,
                worker=self.worker_id,
                attempted_at=started,
                status_code=status_code,
                error=error,
                duration_ms=round((time.time() - started) * 1000.0, 1),
            )
            if error is None:
                await asyncio.to_thread(self.outbox.mark_delivered, attempt)
                logger.info("Delivered %s to %s (attempt %d).", delivery.id, delivery.hospital, delivery.attempts + 1)
                return
            delay = backoff_delay(delivery.attempts + 1, self.config.backoff_base_s, self.config.backoff_max_s)
            permanent = is_permanent_failure(status_code)
            status = await asyncio.to_thread(self.outbox.mark_failed, attempt, time.time() + delay, permanent)
            level = logging.ERROR if status == "dead" else logging.WARNING
            logger.log(level, "Delivery %s to %s failed (%s); %s.", delivery.id, delivery.hospital, error,
                       "dead-lettered" if status == "dead" else f"retry in {delay:.1f}s")

    async def _post(self, session: aiohttp.ClientSession, delivery: Delivery) -> tuple[int | None, str | None]:
        secret = self.secret_for(delivery.hospital)
        if not secret:
            return None, f"no intake secret configured for {delivery.hospital}"
        body = delivery.body.encode("utf-8")
        headers = signed_headers(secret, body, delivery.idempotency_key)
        try:
            async with session.post(delivery.url, data=body, headers=headers, allow_redirects=False) as response:
                text = await response.text()
                if 200 <= response.status < 300:
                    return response.status, None
                return response.status, f"HTTP {response.status}: {text[:300]}"
        except (TimeoutError, aiohttp.ClientError) as exc:
            return None, f"{type(exc).__name__}: {exc}".strip()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set, polling every ``poll_interval_s`` when idle."""
        timeout = aiohttp.ClientTimeout(total=self.config.timeout_s)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            logger.info("Delivery worker %s started.", self.worker_id)
            self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
            while not stop.is_set():
                self._wake.clear()
                try:
                    attempted = await self.deliver_due(session)
                except Exception:  # a database hiccup must not end the worker
                    logger.exception("Delivery round failed; retrying after the poll interval.")
                    attempted = 0
                if attempted == 0:
                    await self._idle(stop)
            self._loop = self._wake = None
            logger.info("Delivery worker %s stopped.", self.worker_id)

    async def _idle(self, stop: asyncio.Event) -> None:
        """Sleep for the poll interval, or less when stopped or woken."""
        assert self._wake is not None
        waiters = [asyncio.create_task(stop.wait()), asyncio.create_task(self._wake.wait())]
        await asyncio.wait(waiters, timeout=self.config.poll_interval_s, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()
