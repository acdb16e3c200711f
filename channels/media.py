"""Content-addressed media store shared by every channel (``var/media/<sha256>.<ext>``).

Channels hand every inbound file to :meth:`MediaStore.store`: it enforces the size limit,
sniffs the real bytes (the declared type is never trusted), checks that raster images can be
opened, and returns the ``image`` metadata that actions read (see ``qaid/CONTRACTS.md``).
Failures raise :class:`vision_models.imaging.ImageError` whose ``reason`` is safe to show a patient.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from PIL import Image, ImageOps, UnidentifiedImageError

from qaid.contracts import MEDIA_REFERENCE
from qaid.images import MIB, ImageError
from qaid.settings import image_size_limit
from qaid.state import var_dir
from vision_models.dicom import deidentify
from vision_models.imaging import ACCEPTED_FORMATS, is_dicom

MEDIA_SUBDIR = "media"

EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/bmp": "bmp",
    "image/tiff": "tif",
    "application/dicom": "dcm",
}
CONTENT_TYPES = {ext: media_type for media_type, ext in EXTENSIONS.items()}
CONTENT_TYPES["jpeg"] = "image/jpeg"

_MEDIA_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}\.[A-Za-z0-9]{1,8}$")

# The largest image a channel takes (services.yml: storage.max_image_bytes, 20 MiB by default), and the largest
# request body the Rasa server reads: such an image base64-encoded in JSON, plus 1 MiB for the rest. Larger
# bodies are refused (413) from their Content-Length, before they are read.
IMAGE_LIMIT = image_size_limit()
MAX_REQUEST_BYTES = IMAGE_LIMIT * 4 // 3 + MIB


def sniff_media_type(data: bytes) -> str | None:
    """Return the media type the bytes really are (magic numbers), or None when not a supported image."""
    if is_dicom(data):
        return "application/dicom"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:2] == b"BM" and len(data) > 26:
        return "image/bmp"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    return None


def check_size(size: int | None) -> None:
    """Raise ``too_large`` when a declared or received size exceeds the image-size limit."""
    if size is not None and size > IMAGE_LIMIT:
        raise ImageError("too_large", limit_bytes=IMAGE_LIMIT)


def check_declared_type(media_type: str | None) -> None:
    """Raise ``not_an_image`` before downloading when a provider declares a type that cannot be an image.

    Only a hint to save a download: whatever is declared, the bytes are sniffed after download.
    """
    declared = (media_type or "").split(";")[0].strip().lower()
    maybe_image = declared.startswith("image/") or declared in ("application/dicom", "application/octet-stream")
    if declared and not maybe_image:
        raise ImageError("not_an_image")


def _verify_raster(data: bytes) -> None:
    try:
        with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageError("unreadable") from exc


# Formats whose camera metadata (EXIF with GPS position, XMP, comments, PNG text) is removed before storage,
# and how each is re-encoded then. Other formats are stored as sent.
REENCODED = {"image/jpeg": ("JPEG", {"quality": 95}), "image/png": ("PNG", {}), "image/webp": ("WEBP", {"quality": 95})}


def strip_metadata(data: bytes, media_type: str) -> bytes:
    """``data`` without EXIF (GPS included), XMP, comments or PNG text; the EXIF orientation is applied to the
    pixels first, so a phone photo keeps its way up. Bytes without such metadata are returned unchanged."""
    if media_type not in REENCODED:
        return data
    with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as image:
        text = getattr(image, "text", None) or {}
        if not (image.getexif() or text or {"exif", "xmp", "XML:com.adobe.xmp", "comment"} & set(image.info)):
            return data
        upright = ImageOps.exif_transpose(image)
        upright.info = {}  # Pillow re-writes comments and EXIF it finds here
        fmt, options = REENCODED[media_type]
        if "icc_profile" in image.info:
            options = {**options, "icc_profile": image.info["icc_profile"]}
        buffer = io.BytesIO()
        upright.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def image_error_metadata(error: ImageError) -> dict[str, Any]:
    """The ``image_error`` metadata for an image a channel refused."""
    return {"image_error": {"code": error.code, "reason": error.reason}}


@dataclass(frozen=True)
class StoredMedia:
    """A file in the media store."""

    name: str
    sha256: str
    media_type: str
    size: int

    @property
    def relative_path(self) -> str:
        """Path relative to the var dir, as written into message metadata."""
        return f"{MEDIA_SUBDIR}/{self.name}"

    def metadata(self, channel: str, filename: str | None = None) -> dict[str, Any]:
        """The ``image`` metadata actions read (``qaid/CONTRACTS.md``)."""
        image: dict[str, Any] = {
            "path": self.relative_path,
            "sha256": self.sha256,
            "media_type": self.media_type,
            "size": self.size,
            "channel": channel,
        }
        if filename:
            image["filename"] = safe_filename(filename)
        return {"image": image}


def safe_filename(filename: str) -> str:
    """A display-only file name: percent-decoded last path component, printable, at most 120 characters."""
    base = re.split(r"[\\/]", unquote(filename))[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip()
    return cleaned[:120]


class MediaStore:
    """Reads and writes ``<var>/media``; every name written is ``<sha256>.<ext>`` of the real bytes."""

    def __init__(self, root: Path | None = None, max_bytes: int = IMAGE_LIMIT) -> None:
        self.root = Path(root) if root is not None else var_dir() / MEDIA_SUBDIR
        self.max_bytes = max_bytes

    def store(self, data: bytes) -> StoredMedia:
        """Validate ``data`` and store it once under its content hash.

        Raises ImageError with code ``empty``, ``too_large``, ``not_an_image`` or ``unreadable``.
        """
        if not data:
            raise ImageError("empty")
        if len(data) > self.max_bytes:
            raise ImageError("too_large", limit_bytes=self.max_bytes)
        media_type = sniff_media_type(data)
        if media_type is None:
            raise ImageError("not_an_image")
        if media_type == "application/dicom":
            data = deidentify(data)  # the patient's name and ids never reach the disk
        else:
            _verify_raster(data)
            data = strip_metadata(data, media_type)
        digest = hashlib.sha256(data).hexdigest()
        name = f"{digest}.{EXTENSIONS[media_type]}"
        target = self.root / name
        if not target.exists():
            self.root.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".upload-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        return StoredMedia(name=name, sha256=digest, media_type=media_type, size=len(data))

    def store_base64(self, encoded: str) -> StoredMedia:
        """Decode a base64 (optionally ``data:`` URL) payload and store it."""
        if not isinstance(encoded, str):
            raise ImageError("not_an_image")
        if encoded.startswith("data:") and "," in encoded:
            encoded = encoded.split(",", 1)[1]
        if len(encoded) > (self.max_bytes * 4) // 3 + 8:
            raise ImageError("too_large", limit_bytes=self.max_bytes)
        try:
            data = base64.b64decode("".join(encoded.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ImageError("unreadable") from exc
        return self.store(data)

    def path_for(self, name: str) -> Path | None:
        """The file for a media ``name`` (no directories, no traversal), or None when absent or unsafe."""
        if not _MEDIA_NAME.match(name):
            return None
        path = self.root / name
        try:
            resolved = path.resolve(strict=True)
        except (FileNotFoundError, RuntimeError, OSError):
            return None
        if resolved.parent != self.root.resolve() or not resolved.is_file():
            return None
        return resolved

    def lookup(self, relative_path: str) -> StoredMedia | None:
        """The stored file for a contract path ``media/<sha256>.<ext>``, re-checked against its bytes."""
        match = MEDIA_REFERENCE.match(relative_path or "")
        if not match:
            return None
        path = self.path_for(match["name"])
        if path is None or path.stat().st_size > self.max_bytes:
            return None
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        media_type = sniff_media_type(data)
        if not match["name"].startswith(digest) or media_type is None:
            return None
        return StoredMedia(name=match["name"], sha256=digest, media_type=media_type, size=len(data))


def content_type_for(name: str) -> str:
    """HTTP content type for a stored media name, from its extension."""
    ext = name.rsplit(".", 1)[-1].lower()
    return CONTENT_TYPES.get(ext, "application/octet-stream")
