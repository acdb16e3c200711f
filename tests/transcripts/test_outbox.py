"""The durable outbox: idempotent queueing, leases, backoff, dead letters, erasure."""

from __future__ import annotations

from pathlib import Path

import pytest

from transcripts.outbox import DEAD, DELIVERED, PENDING, Attempt, NewDelivery, Outbox
from transcripts.worker import backoff_delay

DAY = 86400.0


@pytest.fixture
def outbox(tmp_path: Path) -> Outbox:
    box = Outbox(f"sqlite:///{tmp_path}/outbox.sqlite", dead_letter_after_s=3 * DAY)
    box.create()
    return box


def item(key: str, conversation: str = "c1") -> NewDelivery:
    return NewDelivery(key, conversation, "t1", "North", "http://127.0.0.1:1/intake/north", '{"x": 1}')


def attempt(delivery_id: str, worker: str, at: float, error: str | None = "HTTP 503") -> Attempt:
    return Attempt(delivery_id, worker, at, 503 if error else 200, error, 12.5)


def test_queueing_the_same_key_twice_keeps_one_delivery(outbox: Outbox) -> None:
    first = outbox.enqueue([item("k1"), item("k2")], now=100.0)
    again = outbox.enqueue([item("k1")], now=200.0)
    assert again == first[:1] and len(set(first)) == 2
    assert outbox.counts() == {PENDING: 2}


def test_a_leased_delivery_is_not_claimed_twice_until_the_lease_expires(outbox: Outbox) -> None:
    [delivery_id] = outbox.enqueue([item("k1")], now=100.0)
    assert [d.id for d in outbox.claim("w1", 10, lease_s=60, now=100.0)] == [delivery_id]
    assert outbox.claim("w2", 10, lease_s=60, now=130.0) == []
    [reclaimed] = outbox.claim("w2", 10, lease_s=60, now=161.0)  # w1 died: its lease ran out
    assert reclaimed.id == delivery_id and reclaimed.lease_owner == "w2"


def test_failures_back_off_then_dead_letter_and_retry_requeues(outbox: Outbox) -> None:
    [delivery_id] = outbox.enqueue([item("k1")], now=0.0)
    outbox.claim("w1", 10, 60, now=0.0)
    assert outbox.mark_failed(attempt(delivery_id, "w1", 1.0), next_attempt_at=50.0) == PENDING
    assert outbox.claim("w1", 10, 60, now=49.0) == []  # not due yet
    outbox.claim("w1", 10, 60, now=50.0)
    assert outbox.mark_failed(attempt(delivery_id, "w1", 3 * DAY + 1), next_attempt_at=3 * DAY + 100) == DEAD
    [dead] = outbox.find(status=DEAD)
    assert dead.attempts == 2 and dead.last_error == "HTTP 503"
    assert [a.error for a in outbox.attempts_of(delivery_id)] == ["HTTP 503", "HTTP 503"]
    assert outbox.claim("w1", 10, 60, now=10 * DAY) == []
    assert outbox.retry(None, now=10 * DAY) == 1
    [again] = outbox.claim("w1", 10, 60, now=10 * DAY)
    outbox.mark_delivered(attempt(again.id, "w1", 10 * DAY + 1, error=None))
    [done] = outbox.find()
    assert done.status == DELIVERED and done.attempts == 3 and done.expires_at == pytest.approx(13 * DAY)


def test_a_stale_worker_cannot_overwrite_a_re_leased_delivery(outbox: Outbox) -> None:
    [delivery_id] = outbox.enqueue([item("k1")], now=0.0)
    outbox.claim("old", 10, lease_s=5, now=0.0)
    outbox.claim("new", 10, lease_s=5, now=10.0)
    assert outbox.mark_failed(attempt(delivery_id, "old", 11.0), next_attempt_at=500.0) == PENDING
    assert outbox.find()[0].lease_owner == "new" and outbox.find()[0].next_attempt_at == 0.0


def test_delete_conversation_erases_deliveries_and_attempts(outbox: Outbox) -> None:
    ids = outbox.enqueue([item("k1", "c1"), item("k2", "c1"), item("k3", "c2")], now=0.0)
    outbox.claim("w", 10, 60, now=0.0)
    outbox.mark_failed(attempt(ids[0], "w", 1.0), next_attempt_at=2.0)
    assert outbox.delete_conversation("c1") == 2
    assert [d.conversation_id for d in outbox.find()] == ["c2"] and outbox.attempts_of(ids[0]) == []


def test_backoff_is_exponential_capped_and_jittered() -> None:
    assert backoff_delay(1, 2.0, 600.0, rng=lambda: 1.0) == pytest.approx(2.0)
    assert backoff_delay(4, 2.0, 600.0, rng=lambda: 0.0) == pytest.approx(8.0)
    assert backoff_delay(30, 2.0, 600.0, rng=lambda: 0.999) <= 600.0
    delays = {backoff_delay(3, 2.0, 600.0) for _ in range(20)}
    assert len(delays) > 1 and all(4.0 <= d <= 8.0 for d in delays)
