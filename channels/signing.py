"""Signed, expiring URLs for files in the media store (handed to third parties such as Twilio)."""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlencode, urlsplit

from channels.settings import ChannelSettings

MEDIA_PATH_PREFIX = "/media/"
_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}


def media_signature(secret: str, name: str, expires: int) -> str:
    """HMAC-SHA256 over ``<name>:<expires>``."""
    return hmac.new(secret.encode(), f"{name}:{expires}".encode(), hashlib.sha256).hexdigest()


def signed_media_url(settings: ChannelSettings, name: str, now: float | None = None) -> str:
    """``<public_url>/media/<name>?expires=..&signature=..`` valid for ``settings.signed_url_ttl_s``."""
    expires = int((now if now is not None else time.time()) + settings.signed_url_ttl_s)
    query = urlencode({"expires": expires, "signature": media_signature(settings.media_secret, name, expires)})
    return f"{settings.public_url}{MEDIA_PATH_PREFIX}{name}?{query}"


def verify_media_signature(
    secret: str, name: str, expires: str | None, signature: str | None, now: float | None = None
) -> bool:
    """True when ``signature`` was made by :func:`media_signature` for ``name`` and has not expired."""
    if not expires or not signature or not expires.isdigit():
        return False
    if int(expires) < (now if now is not None else time.time()):
        return False
    return hmac.compare_digest(media_signature(secret, name, int(expires)), signature)


def local_media_name(url: str, settings: ChannelSettings) -> str | None:
    """The media name when ``url`` points at our own ``/media/<name>`` (public URL, loopback or relative)."""
    parts = urlsplit(url)
    if not parts.path.startswith(MEDIA_PATH_PREFIX):
        return None
    name = parts.path[len(MEDIA_PATH_PREFIX):]
    if not name or "/" in name:
        return None
    if not parts.netloc:
        return name
    public = urlsplit(settings.public_url)
    if parts.netloc == public.netloc or (parts.hostname or "") in _LOOPBACK_HOSTS:
        return name
    return None
