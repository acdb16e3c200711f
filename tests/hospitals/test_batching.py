"""Concurrent calls to one model are served together (hospitals/batching.py)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from hospitals.batching import Batcher
from hospitals.local import LocalHospital
from hospitals.types import HospitalError
from qaid.settings import Settings
from tests.support.hospitals import CallLog, png_bytes, registry_for


class Doubler:
    """A model whose batch call doubles numbers, records each batch's size, and fails on negative numbers."""

    def __init__(self, hold: threading.Event | None = None) -> None:
        self.sizes: list[int] = []
        self.hold = hold

    def __call__(self, calls: Sequence[tuple[Any, ...]]) -> list[int]:
        self.sizes.append(len(calls))
        if self.hold is not None:
            self.hold.wait(5)
        if any(value < 0 for value, in calls):
            raise ValueError("negative")
        return [2 * value for value, in calls]


@pytest.mark.asyncio
async def test_calls_made_together_run_as_one_batch_with_each_result_to_its_caller() -> None:
    model = Doubler()
    batcher = Batcher(model)
    assert await asyncio.gather(*(batcher.call(n) for n in range(6))) == [0, 2, 4, 6, 8, 10]
    assert model.sizes == [6]


@pytest.mark.asyncio
async def test_a_lone_call_runs_at_once_and_calls_made_meanwhile_form_the_next_batch() -> None:
    hold = threading.Event()
    model = Doubler(hold)
    batcher = Batcher(model)
    first = asyncio.ensure_future(batcher.call(1))
    while not model.sizes:  # the first call runs alone, without waiting for company
        await asyncio.sleep(0.01)
    later = [asyncio.ensure_future(batcher.call(n)) for n in (2, 3, 4)]
    await asyncio.sleep(0.05)
    hold.set()
    assert [await first, *await asyncio.gather(*later)] == [2, 4, 6, 8]
    assert model.sizes == [1, 3]


@pytest.mark.asyncio
async def test_a_failing_call_fails_only_its_caller() -> None:
    model = Doubler()
    batcher = Batcher(model)
    results = await asyncio.gather(batcher.call(1), batcher.call(-1), batcher.call(3), return_exceptions=True)
    assert results[0] == 2 and results[2] == 6
    assert isinstance(results[1], ValueError)
    assert model.sizes == [3, 1, 1, 1]  # the batch, then each call alone


@pytest.mark.asyncio
async def test_batches_are_capped() -> None:
    model = Doubler()
    batcher = Batcher(model, max_batch=4)
    assert await asyncio.gather(*(batcher.call(n) for n in range(10))) == [2 * n for n in range(10)]
    assert model.sizes == [4, 4, 2]


def test_a_batcher_serves_a_new_event_loop() -> None:
    batcher = Batcher(Doubler())
    assert asyncio.run(batcher.call(2)) == 4
    assert asyncio.run(batcher.call(5)) == 10


@pytest.mark.asyncio
async def test_a_shut_down_executor_fails_the_waiting_calls_instead_of_hanging() -> None:
    executor = ThreadPoolExecutor(1)
    executor.shutdown()
    batcher = Batcher(Doubler(), executor)
    with pytest.raises(RuntimeError):
        await asyncio.wait_for(batcher.call(1), 5)


@pytest.mark.asyncio
async def test_a_hospital_screens_concurrent_uploads_in_one_batch_and_refuses_only_the_bad_file(
    settings: Settings, log: CallLog
) -> None:
    hospital = LocalHospital(settings.hospitals[0], settings.bundle_path, registry_for(log))
    await hospital.start()
    model = hospital._models["prefilter"]
    sizes: list[int] = []
    batch = model.predict_batch
    model.predict_batch = lambda images: sizes.append(len(images)) or batch(images)
    uploads = [png_bytes(), png_bytes(colour=True), b"not an image", png_bytes()]
    verdicts = await asyncio.gather(*(hospital.prefilter(data) for data in uploads), return_exceptions=True)
    assert [v.is_medical for v in (verdicts[0], verdicts[1], verdicts[3])] == [True, False, True]
    assert isinstance(verdicts[2], HospitalError) and verdicts[2].code == "not_an_image"
    assert sizes[0] == 4
