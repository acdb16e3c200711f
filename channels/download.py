"""Bounded downloads from a provider's media API: size limit, timeout, credentials kept on the provider's origin."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urljoin, urlsplit

import aiohttp

from channels.media import IMAGE_LIMIT
from qaid.images import ImageError

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 30.0
MAX_REDIRECTS = 3
CHUNK = 64 * 1024


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


async def fetch_media(
    session: aiohttp.ClientSession,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    auth: aiohttp.BasicAuth | None = None,
    max_bytes: int = IMAGE_LIMIT,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> bytes:
    """GET ``url`` and return at most ``max_bytes`` of body.

    Redirects are followed (at most three), but ``headers`` and ``auth`` are only sent to the first URL's
    origin. Raises ImageError ``too_large`` or ``download_failed``.
    """
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    origin = _origin(url)
    try:
        for _ in range(MAX_REDIRECTS + 1):
            same_origin = _origin(url) == origin
            async with session.get(
                url,
                headers=headers if same_origin else None,
                auth=auth if same_origin else None,
                allow_redirects=False,
                timeout=timeout,
            ) as resp:
                if resp.status in (301, 302, 303, 307, 308) and resp.headers.get("Location"):
                    url = urljoin(url, resp.headers["Location"])
                    continue
                if resp.status != 200:
                    logger.warning("media download from %s failed: HTTP %s", origin[1], resp.status)
                    raise ImageError("download_failed")
                if (resp.content_length or 0) > max_bytes:
                    raise ImageError("too_large", limit_bytes=max_bytes)
                body = bytearray()
                async for chunk in resp.content.iter_chunked(CHUNK):
                    body.extend(chunk)
                    if len(body) > max_bytes:
                        raise ImageError("too_large", limit_bytes=max_bytes)
                return bytes(body)
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:  # noqa: UP041 (Python 3.10: not the builtin)
        logger.warning("media download from %s failed: %s", origin[1], exc)
        raise ImageError("download_failed") from exc
    logger.warning("media download from %s: too many redirects", origin[1])
    raise ImageError("download_failed")
