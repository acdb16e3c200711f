"""One intake for every channel: bytes, locations and captions become (text, metadata) per ``qaid/CONTRACTS.md``."""

from __future__ import annotations

import logging
import math
from typing import Any

from channels.media import MediaStore, image_error_metadata
from qaid.images import ImageError

logger = logging.getLogger(__name__)

SEND_IMAGE = "/send_image"
GIVE_LOCATION = "/give_location"


def image_metadata(
    store: MediaStore, data: bytes, channel: str, filename: str | None = None
) -> dict[str, Any]:
    """Store ``data`` and return ``{"image": ...}``, or ``{"image_error": ...}`` when it is refused."""
    try:
        stored = store.store(data)
    except ImageError as error:
        logger.info("%s: refused inbound file (%s)", channel, error.code)
        return image_error_metadata(error)
    return stored.metadata(channel, filename)


def location_metadata(latitude: Any, longitude: Any) -> dict[str, Any] | None:
    """``{"location": {...}}`` for valid WGS84 coordinates, None otherwise."""
    try:
        lat, lon = float(latitude), float(longitude)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return {"location": {"latitude": lat, "longitude": lon}}


def user_text(text: str | None, metadata: dict[str, Any]) -> str | None:
    """The message text: the caption if any, else ``/send_image`` or ``/give_location`` for bare media."""
    if text and text.strip():
        return text.strip()
    if "image" in metadata or "image_error" in metadata:
        return SEND_IMAGE
    if "location" in metadata:
        return GIVE_LOCATION
    return text



def user_messages(text: str | None, metadata: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The (text, metadata) messages Rasa receives for one inbound message, in order.

    An accepted image with a caption is an image plus a question: first ``/send_image`` with the image, so it
    is screened and labelled, then the caption, without the image but naming it (``caption_of``: its sha256),
    answered (or acted on) about it. A refused
    image keeps its caption out: the patient is asked to send the image again, and answering the caption
    about an older image would mislead. Anything else is one message (:func:`user_text`).
    """
    caption = text.strip() if text and text.strip() else None
    if "image" in metadata and caption and not caption.startswith("/"):
        rest = {k: v for k, v in metadata.items() if k != "image"}
        return [(SEND_IMAGE, metadata), (caption, rest | {"caption_of": metadata["image"].get("sha256")})]
    if "image_error" in metadata:
        return [(SEND_IMAGE, metadata)]
    single = user_text(text, metadata)
    return [(single, metadata)] if single else []
