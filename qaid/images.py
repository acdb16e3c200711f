"""What an image may be, and what a patient reads when one is refused: one table for both interpreters.

Channels (Rasa server), the action server's image intake and the model loader (``vision_models.imaging``,
``vision_models.dicom``) raise :class:`ImageError` with a code from :data:`REFUSALS`; the code travels in
message metadata (``qaid.contracts.ImageErrorMetadata``) and the reason is the sentence shown.
"""

from __future__ import annotations

MIB = 1024 * 1024
# The default largest image file; ``services.yml: storage.max_image_bytes`` sets the action server's.
MAX_FILE_BYTES = 20 * MIB
# The largest width x height decoded (a decompression bomb is refused before it is decoded).
MAX_PIXELS = 50_000_000

# The sentence for each refusal code (``unsupported_message`` is the ``not_an_image`` sentence for a voice
# note, sticker or other message that carries no file).
REFUSALS: dict[str, str] = {
    "too_large": "The file is larger than {limit_mb} MB; please send a smaller image.",
    "too_many_pixels": "The image dimensions are too large; please send a smaller image.",
    "empty": "The file is empty; please send the image again.",
    "not_an_image": "This file is not an image I can read. Please send a JPEG or PNG photo, or a DICOM file.",
    "unreadable": "I could not read this image; it may be damaged. Please send it again.",
    "download_failed": "I could not receive your image. Please try sending it again.",
    "missing": "I did not receive an image with that message. Please attach it again.",
    "not_found": "I could not find that image any more; please send it again.",
    "unsupported_source": "Please attach the image file itself rather than a link to it.",
    "unsupported_message": (
        "I can read text, photos, image files and DICOM files, and shared locations. Please send one of those."
    ),
    "dicom_unreadable": "This DICOM file is damaged or incomplete and cannot be read.",
    "dicom_no_image": "This DICOM file holds no image (it may be a report); please send an image.",
    "dicom_unsupported": (
        "This DICOM image is stored in a way I cannot display; please export it as PNG or JPEG and send that."
    ),
}


def refusal(code: str, limit_bytes: int = MAX_FILE_BYTES) -> str:
    """The sentence a patient reads for refusal ``code`` (``limit_bytes``: the size limit that applied)."""
    return REFUSALS[code].format(limit_mb=round(limit_bytes / MIB))


class ImageError(ValueError):
    """An input that cannot be used as an image; ``reason`` is safe to show a patient.

    ``reason`` defaults to the table's sentence for ``code``; pass one only for messages no patient reads
    (a developer's file path on the command line).
    """

    def __init__(self, code: str, reason: str | None = None, limit_bytes: int = MAX_FILE_BYTES) -> None:
        reason = reason if reason is not None else refusal(code, limit_bytes)
        super().__init__(reason)
        self.code = code
        self.reason = reason
