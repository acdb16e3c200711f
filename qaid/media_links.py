"""Signed, expiring links to files of the media store: the only links the Rasa server's ``/media`` serves.

A link is ``/media/<name>?expires=<unix s>&signature=<hex>``, the signature an HMAC-SHA256 of
``<name>:<expires>`` under the one media secret (:func:`qaid.state.media_secret`). Channels sign the links
they show patients (a day); transcripts sign the links a hospital's doctor opens (:data:`TRANSCRIPT_LINK_TTL_S`).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import datetime
from urllib.parse import urlencode

MEDIA_PATH_PREFIX = "/media/"
TRANSCRIPT_LINK_TTL_S = 30 * 86400  # a doctor may open a transcript weeks after it arrived


def media_signature(secret: str, name: str, expires: int) -> str:
    """HMAC-SHA256 over ``<name>:<expires>``, hex."""
    return hmac.new(secret.encode(), f"{name}:{expires}".encode(), hashlib.sha256).hexdigest()


def signed_media_path(secret: str, name: str, expires: int) -> str:
    """``/media/<name>?expires=..&signature=..``, valid until ``expires`` (Unix seconds)."""
    query = urlencode({"expires": expires, "signature": media_signature(secret, name, expires)})
    return f"{MEDIA_PATH_PREFIX}{name}?{query}"


def expiry(ttl_s: int, now: float | None = None) -> int:
    """Unix seconds ``ttl_s`` from ``now`` (default: the current time)."""
    return int((now if now is not None else time.time()) + ttl_s)


def transcript_link_expiry(created_at: str) -> int:
    """When a transcript's links expire: :data:`TRANSCRIPT_LINK_TTL_S` after its ISO ``created_at``, so that
    rendering one transcript twice gives the same links."""
    issued = datetime.fromisoformat(created_at).timestamp() if created_at else None
    return expiry(TRANSCRIPT_LINK_TTL_S, issued)


def verify_media_signature(secret: str, name: str, expires: str | None, signature: str | None,
                           now: float | None = None) -> bool:
    """True when ``signature`` was made by :func:`media_signature` for ``name`` and has not expired."""
    if not expires or not signature or not expires.isdigit():
        return False
    if int(expires) < (now if now is not None else time.time()):
        return False
    expected = media_signature(secret, name, int(expires)).encode()
    return hmac.compare_digest(expected, signature.encode("utf-8", "surrogateescape"))


def transcript_media_url(public_url: str, secret: str, path: str | None, created_at: str) -> str | None:
    """The signed link a doctor opens for a stored ``media/<name>`` path of a transcript, or None without one."""
    if not path or not path.startswith("media/"):
        return None
    name = path.split("/", 1)[1]
    return public_url.rstrip("/") + signed_media_path(secret, name, transcript_link_expiry(created_at))
