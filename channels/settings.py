"""Settings shared by every Q&Aid channel, read from a channel's credentials.yml entry or the environment."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from typing import Any

DEFAULT_PUBLIC_URL = "http://localhost:5005"
DEFAULT_SIGNED_URL_TTL_S = 3600

# Used when no secret is configured: signed URLs then stay valid only while this process runs.
_PROCESS_SECRET = secrets.token_hex(32)


@dataclass(frozen=True)
class ChannelSettings:
    """Base URL of the Rasa server, the media-URL signing secret and how /media is protected."""

    public_url: str = DEFAULT_PUBLIC_URL
    media_secret: str = _PROCESS_SECRET
    signed_url_ttl_s: int = DEFAULT_SIGNED_URL_TTL_S
    require_signed_media: bool = False

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> ChannelSettings:
        """Credentials keys ``public_url``, ``media_secret``, ``signed_url_ttl_s``, ``require_signed_media``
        win over the environment (``QAID_PUBLIC_URL``, ``QAID_MEDIA_SECRET``)."""
        credentials = credentials or {}
        public_url = credentials.get("public_url") or os.environ.get("QAID_PUBLIC_URL") or DEFAULT_PUBLIC_URL
        secret = credentials.get("media_secret") or os.environ.get("QAID_MEDIA_SECRET") or _PROCESS_SECRET
        return cls(
            public_url=str(public_url).rstrip("/"),
            media_secret=str(secret),
            signed_url_ttl_s=int(credentials.get("signed_url_ttl_s") or DEFAULT_SIGNED_URL_TTL_S),
            require_signed_media=_as_bool(credentials.get("require_signed_media", False)),
        )


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)
