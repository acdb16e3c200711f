"""Background processing for webhook channels: answer the provider at once, handle messages in order per chat."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable

logger = logging.getLogger(__name__)


MAX_PENDING = 1000  # jobs waiting or running in one channel process
MAX_PENDING_PER_KEY = 10  # of one conversation: a flooding client cannot starve the others


class Overloaded(RuntimeError):
    """The job was not queued: too many are waiting, in all or for this conversation."""


class ConversationWorkers:
    """Runs jobs in the background, one after another per conversation key, in arrival order.

    Providers expect a webhook to answer within seconds and retry otherwise; a photo followed by a
    question must still reach Rasa in that order even though the photo takes longer to download.
    The queue is bounded (``max_pending`` in all, ``max_per_key`` per conversation): beyond that
    :meth:`submit` raises :class:`Overloaded` instead of letting memory and latency grow without end.
    """

    def __init__(self, max_pending: int = MAX_PENDING, max_per_key: int = MAX_PENDING_PER_KEY) -> None:
        self.max_pending = max_pending
        self.max_per_key = max_per_key
        self._locks: dict[Hashable, asyncio.Lock] = {}
        self._waiting: dict[Hashable, int] = {}
        self._tasks: set[asyncio.Task] = set()

    @property
    def in_flight(self) -> int:
        """Jobs waiting or running, for every conversation."""
        return len(self._tasks)

    def submit(self, key: Hashable, job: Callable[[], Awaitable[None]]) -> asyncio.Task:
        """Schedule ``job`` after every job already submitted for ``key``; errors are logged.

        Raises :class:`Overloaded` when the queue is full, in all or for ``key``.
        """
        if len(self._tasks) >= self.max_pending or self._waiting.get(key, 0) >= self.max_per_key:
            raise Overloaded(f"{len(self._tasks)} jobs pending, {self._waiting.get(key, 0)} for this conversation")
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1

        async def run() -> None:
            try:
                async with lock:
                    await job()
            except Exception:
                logger.exception("background job for %r failed", key)
            finally:
                self._waiting[key] -= 1
                if not self._waiting[key]:
                    del self._waiting[key]
                    del self._locks[key]

        task = asyncio.ensure_future(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def drain(self) -> None:
        """Wait until every submitted job has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def cancel(self) -> None:
        """Cancel running jobs (server shutdown)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)


class SeenIds:
    """Remembers the last ``capacity`` ids, to drop replayed or re-delivered webhook events."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._ids: OrderedDict[Hashable, None] = OrderedDict()

    def first_time(self, key: Hashable) -> bool:
        """True the first time ``key`` is seen, False for a repeat."""
        if key in self._ids:
            return False
        self._ids[key] = None
        if len(self._ids) > self.capacity:
            self._ids.popitem(last=False)
        return True
