"""The data contracts between the Rasa server's channels and the action server (see ``qaid/CONTRACTS.md``).

Typed here once, for both interpreters: what a channel puts in a user message's metadata and what an action
reads from it.
"""

from __future__ import annotations

import re
from typing import TypedDict

# The only image reference an action accepts: a file a channel stored in the media store.
MEDIA_REFERENCE = re.compile(r"^media/(?P<name>(?P<digest>[0-9a-f]{64})\.(?:png|jpg|gif|webp|bmp|tif|dcm))$")


class _ImageRequired(TypedDict):
    path: str  # media/<sha256>.<ext>, relative to the state folder
    sha256: str
    media_type: str
    size: int
    channel: str


class ImageMetadata(_ImageRequired, total=False):
    """``metadata["image"]``: an accepted image, already stored and checked by the channel."""

    filename: str  # display only, sanitised


class ImageErrorMetadata(TypedDict):
    """``metadata["image_error"]``: an inbound file the channel refused; ``reason`` is safe to show a patient."""

    code: str
    reason: str


class LocationMetadata(TypedDict):
    """``metadata["location"]``: a shared location, WGS84 degrees, range-checked."""

    latitude: float
    longitude: float


class MessageMetadata(TypedDict, total=False):
    """The metadata of one user message, as channels build it (other keys a client sent are kept as they are)."""

    image: ImageMetadata
    image_error: ImageErrorMetadata
    location: LocationMetadata
    caption_of: str  # on the caption of an image sent with one: that image's sha256
