"""Exactly-once delivery with real processes on loopback: a flaky inbox that also goes down,
a worker killed mid-batch, and an inbox refusing forged, replayed, oversized and malformed requests."""

from __future__ import annotations

import json
import signal
import time
import urllib.error
import urllib.request
from collections import Counter

from tests.support.reliability import Cluster, make_transcript, wait_until
from transcripts.service import envelope
from transcripts.signing import signed_headers


def assert_exactly_once(cluster: Cluster, ids: list[str]) -> None:
    outbox = cluster.service.outbox
    assert outbox.counts() == {"delivered": len(ids)}
    expected = {d.idempotency_key for d in outbox.find(limit=len(ids) + 10)}
    stored = Counter(item.idempotency_key for item in cluster.inbox_store.find(limit=len(ids) + 10))
    assert set(stored) == expected and set(stored.values()) == {1}


def test_flaky_inbox_that_goes_down_receives_everything_exactly_once(cluster: Cluster) -> None:
    inbox = cluster.start_inbox(fail_rate=0.3)
    worker = cluster.start_worker()
    ids = cluster.queue(20)
    wait_until(lambda: cluster.delivered() >= 10, 30, "the first deliveries")
    cluster.stop(inbox, signal.SIGKILL)  # the hospital goes down mid-stream
    ids += cluster.queue(10, first=20)  # queued while it is down

    def failed_while_down() -> bool:
        outbox = cluster.service.outbox
        return any(a.status_code is None for d in outbox.find(status="pending", limit=100)
                   for a in outbox.attempts_of(d.id))

    wait_until(failed_while_down, 30, "the worker to hit the inbox while it was down")
    cluster.start_inbox(fail_rate=0.3)
    wait_until(lambda: cluster.delivered() == len(ids), 60, "every delivery after recovery")
    assert worker.poll() is None
    assert_exactly_once(cluster, ids)
    outcomes = Counter(entry["outcome"] for entry in cluster.log())
    assert outcomes["refused"] > 0 and outcomes["lost_ack:stored"] > 0
    assert outcomes["duplicate"] + outcomes["lost_ack:duplicate"] > 0  # re-deliveries after lost acks were absorbed


def test_worker_killed_mid_batch_loses_and_duplicates_nothing(cluster: Cluster) -> None:
    cluster.start_inbox(delay=0.15)
    ids = cluster.queue(30)
    worker = cluster.start_worker()

    def mid_batch() -> bool:
        pending = cluster.service.outbox.find(status="pending", limit=100)
        return cluster.delivered() >= 5 and any(d.lease_owner for d in pending)

    wait_until(mid_batch, 30, "the worker to be in the middle of a batch")
    cluster.stop(worker, signal.SIGKILL)
    assert 0 < cluster.delivered() < len(ids)
    cluster.start_worker()
    wait_until(lambda: cluster.delivered() == len(ids), 60, "every delivery after the restart")
    assert_exactly_once(cluster, ids)


def _status_and_code(port: int, body: bytes, headers: dict[str, str]) -> tuple[int, str | None]:
    """POST to North's intake; the status and the error code (None on success)."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/intake/north", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read()).get("code")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())["code"]


def test_real_inbox_rejects_forged_replayed_oversized_and_malformed(cluster: Cluster) -> None:
    cluster.start_inbox(faulty=False)
    key = "t-1:North"
    body = envelope(make_transcript(1), "North", key, "http://localhost:5005").encode()
    good = signed_headers("north-secret", body, key)
    forged = signed_headers("guessed-secret", body, key)
    tampered = body.replace(b'"no"', b'"yes"')
    huge = b'{"pad":"' + b"x" * 250_000 + b'"}'
    malformed = b'{"idempotency_key": "t-1:North", '
    checks = [
        (body, forged, 401, "bad_signature"),
        (tampered, good, 401, "bad_signature"),
        (body, signed_headers("north-secret", body, key, now_ms=int((time.time() - 3600) * 1000)), 401,
         "stale_timestamp"),
        (huge, signed_headers("north-secret", huge, key), 413, "too_large"),
        (malformed, signed_headers("north-secret", malformed, key), 400, "malformed_json"),
    ]
    for data, headers, status, code in checks:
        assert _status_and_code(cluster.port, data, headers) == (status, code)
    assert cluster.inbox_store.count() == 0
    assert _status_and_code(cluster.port, body, good) == (200, None)
    assert _status_and_code(cluster.port, body, good) == (409, "replay")
    assert cluster.inbox_store.count() == 1
