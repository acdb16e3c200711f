"""HMAC-SHA256 request signatures between the delivery worker and hospital inboxes.

The signature covers ``<timestamp>.<body>`` with the hospital's shared secret; the timestamp is
Unix time in milliseconds, so every attempt has a distinct signature and a captured request
cannot be replayed (the inbox remembers signatures for the length of its time window).
"""

from __future__ import annotations

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "X-QAid-Timestamp"
SIGNATURE_HEADER = "X-QAid-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
PREFIX = "sha256="


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256(secret, timestamp + "." + body)."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return PREFIX + mac.hexdigest()


def signed_headers(secret: str, body: bytes, idempotency_key: str, now_ms: int | None = None) -> dict[str, str]:
    """Headers for one delivery attempt."""
    timestamp = str(now_ms if now_ms is not None else int(time.time() * 1000))
    return {
        "Content-Type": "application/json",
        IDEMPOTENCY_HEADER: idempotency_key,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }


def verify(secret: str, timestamp: str, body: bytes, presented: str) -> bool:
    """Constant-time check of a presented signature; compared as bytes, so any header (non-ASCII too) is safe."""
    given = (presented or "").encode("utf-8", "surrogateescape")
    return hmac.compare_digest(signature(secret, timestamp, body).encode("ascii"), given)
