"""Channel-side media links: signed with the channel settings' TTL (:mod:`qaid.media_links`), and
recognising links to our own ``/media/<name>``."""

from __future__ import annotations

from urllib.parse import urlsplit

from channels.settings import ChannelSettings
from qaid import media_links
from qaid.media_links import MEDIA_PATH_PREFIX, expiry

_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}


def signed_media_path(settings: ChannelSettings, name: str, now: float | None = None) -> str:
    """``/media/<name>?expires=..&signature=..`` valid for ``settings.signed_url_ttl_s`` (server-relative)."""
    return media_links.signed_media_path(settings.media_secret, name, expiry(settings.signed_url_ttl_s, now))


def signed_media_url(settings: ChannelSettings, name: str, now: float | None = None) -> str:
    """:func:`signed_media_path` under ``settings.public_url``."""
    return f"{settings.public_url}{signed_media_path(settings, name, now)}"


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
