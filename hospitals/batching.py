"""Concurrent calls to one model served together (opportunistic micro-batching, issue 20).

When fifty patients send a scan in the same second, each upload asks the prefilter, the labeller and three VQA
models for a first look. One image at a time, most of a small network's cost on a CPU is per call, not per
image: a batch of eight costs about a third per image (``bench/README.md``). A :class:`Batcher` keeps at most one
batch of its model in flight; calls made meanwhile wait and go together in the next batch. There is no waiting
window, so a call made while the model is idle runs at once: one patient alone waits no longer than before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Any

logger = logging.getLogger(__name__)

# Calls batched together at most: the gain per image levels off after about eight (bench/README.md).
MAX_BATCH = 16

BatchFunction = Callable[[Sequence[tuple[Any, ...]]], Sequence[Any]]


class Batcher:
    """Runs ``batch_fn(calls) -> results`` (one result per call's argument tuple) in ``executor``.

    A batch that raises is run again call by call, so that one bad image or question fails only its own caller.
    Bound to the event loop of its first call; a new loop (as in tests) starts it afresh.
    """

    def __init__(self, batch_fn: BatchFunction, executor: Executor | None = None, max_batch: int = MAX_BATCH) -> None:
        self._batch_fn = batch_fn
        self._executor = executor
        self._max_batch = max_batch
        self._waiting: list[tuple[tuple[Any, ...], asyncio.Future[Any]]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._draining = False

    async def call(self, *args: Any) -> Any:
        """The result of this call's arguments, computed in a batch with whatever calls are waiting."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop, self._waiting, self._draining = loop, [], False
        future: asyncio.Future[Any] = loop.create_future()
        self._waiting.append((args, future))
        if not self._draining:
            self._draining = True
            loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        """Run batches until no call waits."""
        loop = asyncio.get_running_loop()
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[: self._max_batch], self._waiting[self._max_batch:]
                try:
                    outcomes = await loop.run_in_executor(self._executor, self._run, [args for args, _ in batch])
                except Exception as exc:  # the executor itself failed (shut down): no caller may wait forever
                    outcomes = [(None, exc)] * len(batch)
                for (_, future), (result, error) in zip(batch, outcomes):
                    if future.done():  # the caller gave up (a deadline)
                        continue
                    if error is not None:
                        future.set_exception(error)
                    else:
                        future.set_result(result)
        finally:
            self._draining = False

    def _run(self, calls: list[tuple[Any, ...]]) -> list[tuple[Any, BaseException | None]]:
        """(result, None) or (None, error) for each call: the whole batch, or each call alone if the batch fails."""
        try:
            results = list(self._batch_fn(calls))
        except Exception as exc:
            if len(calls) == 1:
                return [(None, exc)]
            logger.debug("A batch of %d failed (%s); running its calls one by one.", len(calls), exc)
            return [self._run([call])[0] for call in calls]
        if len(results) != len(calls):
            error = RuntimeError(f"a batch of {len(calls)} calls gave {len(results)} results")
            return [(None, error)] * len(calls)
        return [(result, None) for result in results]
