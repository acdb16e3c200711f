"""Image intake for actions: resolve the image a channel attached to a message, validate and store it.

The trust boundary for images: channels of ours validate every inbound file and store it in the
content-addressed media store, then put ``{"image": {"path": "media/<sha256>.<ext>", ...}}`` in the
message metadata. Intake accepts nothing else: no ``file://`` URL, no absolute or relative path outside
the media folder, no base64 bytes, and a file whose bytes do not hash to its name is treated as absent.
Every refused reference gets the same reply as a missing one, so the reply tells nothing about which
files exist on the server. Intake then checks that the bytes decode as an image, de-identifies DICOM
files (deleting the original, which carries the patient's identity, as soon as the clean copy exists)
and renders them to PNG. With a screen finder (``services.yml: storage.screen_crop``), a photo of a screen is
cropped to the displayed image, upright, and that crop (PNG) is what every model reads; the photo as sent is
kept beside it as ``source_path``. Every file it reads or writes for a conversation is recorded in the
:class:`MediaLedger`, so :meth:`ImageIntake.erase` can remove them all. Only the returned
:class:`StoredImage` (a reference) goes into the tracker, never the bytes.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from actions.media_ledger import MediaLedger
from qaid.contracts import MEDIA_REFERENCE
from qaid.images import ImageError
from vision_models.imaging import is_dicom, load_image
from vision_models.screen_crop import ScreenCropper

IMAGE_FORMATS = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
    "BMP": "image/bmp",
    "TIFF": "image/tiff",
    "MPO": "image/jpeg",  # Pillow's name for a JPEG with extra frames (phone cameras)
}
# The extension the channels' media store writes for each media type (channels/media.py).
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp",
              "image/bmp": "bmp", "image/tiff": "tif"}


def media_name(reference: dict[str, Any]) -> str | None:
    """The file name of a well-formed ``media/<sha256>.<ext>`` reference, else None."""
    path = reference.get("path") if isinstance(reference, dict) else None
    match = MEDIA_REFERENCE.match(path) if isinstance(path, str) else None
    return match["name"] if match else None


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
    screen: dict[str, Any] | None = None  # a photo of a screen, cropped: the finder's probability and corners

    def to_slot(self) -> dict[str, Any]:
        """JSON-ready dict for the ``images`` slot."""
        return {k: v for k, v in asdict(self).items() if v is not None}


class ImageIntake:
    """Validates and stores images referenced by message metadata, and erases a conversation's files."""

    def __init__(self, var_dir: Path, max_bytes: int, cropper: ScreenCropper | None = None) -> None:
        self.var_dir = var_dir.resolve()
        self.media_dir = self.var_dir / "media"
        self.max_bytes = max_bytes
        self.cropper = cropper
        self.ledger = MediaLedger(self.var_dir / "media_holders.db")

    def _media_file(self, reference: dict[str, Any]) -> Path:
        """The media-store file of a reference; ``missing`` for anything that is not one (see module docstring)."""
        name = media_name(reference)
        if name is None:
            raise ImageError("missing")
        path = self.media_dir / name
        if path.is_symlink() or not path.is_file() or path.resolve().parent != self.media_dir.resolve():
            raise ImageError("missing")
        return path

    def read_reference(self, reference: dict[str, Any]) -> bytes:
        """Bytes of the media-store image a channel referenced; :class:`ImageError` when absent or refused."""
        path = self._media_file(reference)
        if path.stat().st_size > self.max_bytes:
            raise ImageError("too_large", limit_bytes=self.max_bytes)
        data = path.read_bytes()
        if not path.name.startswith(hashlib.sha256(data).hexdigest() + "."):
            raise ImageError("missing")
        if not data:
            raise ImageError("empty")
        return data

    def _store(self, data: bytes, extension: str) -> tuple[str, Path]:
        digest = hashlib.sha256(data).hexdigest()
        self.media_dir.mkdir(parents=True, exist_ok=True)
        path = self.media_dir / f"{digest}.{extension}"
        if not path.exists():
            temporary = path.with_suffix(path.suffix + ".part")
            temporary.write_bytes(data)
            temporary.replace(path)
        return digest, path

    def hold(self, sender: str, *references: dict[str, Any]) -> None:
        """Record that ``sender``'s conversation holds these media references (uploads, overlays)."""
        self.ledger.record(sender, [name for name in map(media_name, references) if name])

    def ingest(self, reference: dict[str, Any], sender: str) -> StoredImage:
        """Validate the referenced image and store it for ``sender``; DICOM is de-identified and rendered to PNG."""
        self.hold(sender, reference)
        data = self.read_reference(reference)
        channel = str(reference.get("channel", "unknown"))
        if is_dicom(data):
            stored = self._ingest_dicom(data, channel)
            original = self._media_file(reference)
            if original.name != Path(stored.source_path or "").name:
                original.unlink(missing_ok=True)  # the original carries the patient's identity
        else:
            image = load_image(data)
            media_type = IMAGE_FORMATS.get(image.format or "", "application/octet-stream")
            digest, path = self._store(data, EXTENSIONS.get(media_type, "bin"))
            stored = StoredImage(
                sha256=digest,
                path=str(path.relative_to(self.var_dir)),
                media_type=media_type,
                size=len(data),
                width=image.width,
                height=image.height,
                channel=channel,
            )
            if self.cropper is not None:
                stored = self._crop_screen(self.cropper, image, stored)
        self.hold(sender, *({"path": p} for p in (stored.path, stored.source_path) if p))
        return stored

    def _crop_screen(self, cropper: ScreenCropper, image: Image.Image, stored: StoredImage) -> StoredImage:
        """``stored`` itself, or, when it is a photo of a screen, the displayed image cropped upright (PNG)."""
        cropped, finding = cropper.crop(image)
        if not finding.screen:
            return stored
        return self._store_png(cropped, stored.channel, stored.path, screen={
            "probability": round(finding.probability, 4),
            "corners": [[round(x, 4), round(y, 4)] for x, y in finding.corners]})

    def _ingest_dicom(self, data: bytes, channel: str) -> StoredImage:
        from vision_models.dicom import deidentify, render_dicom

        clean = deidentify(data)
        rendered = render_dicom(clean)
        _, dicom_path = self._store(clean, "dcm")
        return self._store_png(rendered.image, channel, str(dicom_path.relative_to(self.var_dir)),
                               dicom=dict(rendered.metadata))

    def _store_png(self, image: Image.Image, channel: str, source_path: str, **facts: Any) -> StoredImage:
        """Store ``image``, derived from the stored file ``source_path``, as the PNG the models read."""
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        png = buffer.getvalue()
        digest, path = self._store(png, "png")
        return StoredImage(sha256=digest, path=str(path.relative_to(self.var_dir)), media_type="image/png",
                           size=len(png), width=image.width, height=image.height, channel=channel,
                           source_path=source_path, **facts)

    def load(self, stored: dict[str, Any]) -> bytes:
        """Bytes of an image previously stored (from the ``images`` slot)."""
        return self.read_reference(stored)

    def release(self, sender: str, *references: dict[str, Any]) -> list[str]:
        """Drop ``sender``'s hold on these references, deleting files nobody else holds; returns what failed."""
        names = [name for name in map(media_name, references) if name]
        return self._delete(self.ledger.release(sender, names))

    def erase(self, sender: str, *references: dict[str, Any]) -> list[str]:
        """Delete every media file ``sender``'s conversation holds (``references`` too) and no other does.

        Returns the names that could not be deleted; the conversation keeps its hold on them, so a
        later erase tries again.
        """
        self.hold(sender, *references)
        failed = self._delete(self.ledger.release(sender))
        self.ledger.record(sender, failed)
        return failed

    def _delete(self, names: list[str]) -> list[str]:
        failed = []
        for name in names:
            try:
                (self.media_dir / name).unlink(missing_ok=True)
            except OSError:
                failed.append(name)
        return failed
