"""Settings shared by every Q&Aid channel, read from a channel's credentials.yml entry or the environment."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

from qaid.state import media_secret

logger = logging.getLogger(__name__)
DEFAULT_PUBLIC_URL = "http://localhost:5005"
DEFAULT_SIGNED_URL_TTL_S = 86400  # a day: the web chat shows a conversation's images again after a reload


@dataclass(frozen=True)
class ChannelSettings:
    """Base URL of the Rasa server, the media-URL signing secret and how long signed links last.

    ``GET /media/<name>`` serves only signed, unexpired links; the secret is one for all channels
    (:func:`media_secret`), never per channel, so any channel's links work on the one route.
    """

    public_url: str = DEFAULT_PUBLIC_URL
    media_secret: str = field(default_factory=media_secret)
    signed_url_ttl_s: int = DEFAULT_SIGNED_URL_TTL_S

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> ChannelSettings:
        """Credentials keys ``public_url`` and ``signed_url_ttl_s``; ``public_url`` falls back to
        ``QAID_PUBLIC_URL``."""
        credentials = credentials or {}
        for retired in ("media_secret", "require_signed_media"):
            if retired in credentials:
                logger.warning("credentials.yml: %r is no longer a channel setting and is ignored: every /media link "
                               "is signed, with QAID_MEDIA_SECRET or var/secrets/media.key (SECURITY.md).", retired)
        public_url = credentials.get("public_url") or os.environ.get("QAID_PUBLIC_URL") or DEFAULT_PUBLIC_URL
        return cls(
            public_url=str(public_url).rstrip("/"),
            signed_url_ttl_s=int(credentials.get("signed_url_ttl_s") or DEFAULT_SIGNED_URL_TTL_S),
        )
