"""Image intake for actions: resolve the image a channel attached to a message, validate and store it.

Channels put a reference in the user message metadata (see the contracts in the README): a
path under the shared media store, base64 bytes, or a ``file://`` URL. Intake reads the bytes,
checks the size limit and that they really decode as an image, de-identifies DICOM files and
renders them to PNG, and stores everything content-addressed under ``var/media``. Only the
returned :class:`StoredImage` (a reference) goes into the tracker, never the bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from vision_models.imaging import ImageError, is_dicom, load_image

IMAGE_FORMATS = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
    "BMP": "image/bmp",
    "TIFF": "image/tiff",
}
MISSING = "I did not receive an image with that message. Please attach it again."


@dataclass
class StoredImage:
    """A validated image in the media store; ``path`` is what the models read (PNG for DICOM)."""

    sha256: str
    path: str
    media_type: str
    size: int
    width: int
    height: int
    channel: str
    source_path: str | None = None
    dicom: dict[str, Any] | None = None

    def to_slot(self) -> dict[str, Any]:
        """JSON-ready dict for the ``images`` slot."""
        return {k: v for k, v in asdict(self).items() if v is not None}


class ImageIntake:
    """Validates and stores images referenced by message metadata."""

    def __init__(self, var_dir: Path, max_bytes: int) -> None:
        self.var_dir = var_dir.resolve()
        self.media_dir = self.var_dir / "media"
        self.max_bytes = max_bytes

    def read_reference(self, reference: dict[str, Any]) -> bytes:
        """Bytes of the image a channel referenced; :class:`ImageError` when absent or unreachable."""
        if reference.get("base64"):
            try:
                data = base64.b64decode(reference["base64"], validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ImageError("bad_base64", "The image data was damaged in transit. Please send it again.") from exc
        elif reference.get("path"):
            data = self._read_local(self._inside_var(reference["path"]))
        elif str(reference.get("url", "")).startswith("file://"):
            data = self._read_local(Path(unquote(urlparse(reference["url"]).path)))
        else:
            raise ImageError("missing", MISSING)
        if len(data) > self.max_bytes:
            raise ImageError("too_large", "The file is larger than 20 MB; please send a smaller image.")
        if not data:
            raise ImageError("empty", "The file is empty; please send the image again.")
        return data

    def _inside_var(self, relative: str) -> Path:
        path = (self.var_dir / relative).resolve()
        if self.var_dir not in path.parents:
            raise ImageError("missing", MISSING)
        return path

    def _read_local(self, path: Path) -> bytes:
        if not path.is_file():
            raise ImageError("missing", MISSING)
        if path.stat().st_size > self.max_bytes:
            raise ImageError("too_large", "The file is larger than 20 MB; please send a smaller image.")
        return path.read_bytes()

    def _store(self, data: bytes, extension: str) -> tuple[str, Path]:
        digest = hashlib.sha256(data).hexdigest()
        self.media_dir.mkdir(parents=True, exist_ok=True)
        path = self.media_dir / f"{digest}.{extension}"
        if not path.exists():
            temporary = path.with_suffix(path.suffix + ".part")
            temporary.write_bytes(data)
            temporary.replace(path)
        return digest, path

    def ingest(self, reference: dict[str, Any]) -> StoredImage:
        """Validate the referenced image and store it; DICOM is de-identified and rendered to PNG."""
        data = self.read_reference(reference)
        channel = str(reference.get("channel", "unknown"))
        if is_dicom(data):
            return self._ingest_dicom(data, channel)
        image = load_image(data)
        media_type = IMAGE_FORMATS.get(image.format or "", "application/octet-stream")
        extension = media_type.rsplit("/", 1)[-1].replace("jpeg", "jpg")
        digest, path = self._store(data, extension)
        return StoredImage(
            sha256=digest,
            path=str(path.relative_to(self.var_dir)),
            media_type=media_type,
            size=len(data),
            width=image.width,
            height=image.height,
            channel=channel,
        )

    def _ingest_dicom(self, data: bytes, channel: str) -> StoredImage:
        from vision_models.dicom import deidentify, render_dicom

        clean = deidentify(data)
        rendered = render_dicom(clean)
        _, dicom_path = self._store(clean, "dcm")
        buffer = io.BytesIO()
        rendered.image.save(buffer, format="PNG")
        png = buffer.getvalue()
        digest, path = self._store(png, "png")
        return StoredImage(
            sha256=digest,
            path=str(path.relative_to(self.var_dir)),
            media_type="image/png",
            size=len(png),
            width=rendered.image.width,
            height=rendered.image.height,
            channel=channel,
            source_path=str(dicom_path.relative_to(self.var_dir)),
            dicom=dict(rendered.metadata),
        )

    def load(self, stored: dict[str, Any]) -> bytes:
        """Bytes of an image previously stored (from the ``images`` slot)."""
        return self._read_local(self._inside_var(stored["path"]))

    def delete(self, stored: dict[str, Any]) -> None:
        """Remove an image (and its DICOM source) from the media store."""
        for key in ("path", "source_path"):
            if stored.get(key):
                self._inside_var(stored[key]).unlink(missing_ok=True)
