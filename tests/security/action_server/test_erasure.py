"""Attack/audit: after "delete my data", nothing of the patient is left in the state folder.

Before the fix the raw DICOM (with ``PatientName`` and ``PatientID``) stayed in ``var/media`` for good,
as did TIFF originals (stored as ``.tif``, looked for as ``.tiff``), images screened out as non-medical,
images sent before consent was refused; and deleting one patient's file removed another patient's
identical upload. Each test drives the real actions over the real intake and scans every file under
the var folder for the patient's bytes and identity.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.consent import ActionSetConsent
from actions.consultation import ActionDeleteData
from actions.images import ActionProcessImage
from actions.runtime import Services
from tests.support.actions import load_tracker
from tests.support.dicom import PATIENT_ID, PATIENT_NAME, dicom_file
from tests.support.media import put_in_media
from tests.support.phantoms import head_phantom, png_bytes


def _tracker(sender: str, reference: dict[str, Any], **slots: Any) -> Tracker:
    tracker = load_tracker("image", **slots)
    tracker.sender_id = tracker.sender_id if sender is None else sender
    tracker.latest_message["metadata"] = {"image": reference}
    return tracker


async def _send_image(sender: str, reference: dict[str, Any], **slots: Any) -> list[dict[str, Any]]:
    slots = {"consent_given": True, "images": None} | slots
    return await ActionProcessImage().run(CollectingDispatcher(), _tracker(sender, reference, **slots), {})


async def _delete(sender: str, **slots: Any) -> str:
    tracker = load_tracker("question", **slots)
    tracker.sender_id = sender
    dispatcher = CollectingDispatcher()
    await ActionDeleteData().run(dispatcher, tracker, {})
    return "\n".join(m.get("text") or "" for m in dispatcher.messages)


def _images_slot(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return next(e["value"] for e in events if e.get("name") == "images")


def _files(var_dir: Path) -> list[Path]:
    return [p for p in (var_dir / "media").rglob("*") if p.is_file()] if (var_dir / "media").exists() else []


def _containing(var_dir: Path, needle: bytes) -> list[Path]:
    return [p for p in var_dir.rglob("*") if p.is_file() and needle in p.read_bytes()]


def _tiff() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(head_phantom(48)).save(buffer, format="TIFF")
    return buffer.getvalue()


async def test_raw_dicom_is_gone_once_its_clean_copy_exists(services: Services) -> None:
    var = services.settings.var_dir
    raw = dicom_file(head_phantom(48).astype(np.uint16) * 4)
    reference = put_in_media(var, raw, "dcm")
    events = await _send_image("telegram:42", reference)
    stored = _images_slot(events)[-1]
    assert stored["source_path"].endswith(".dcm") and (var / stored["source_path"]).is_file()
    for identity in (PATIENT_NAME.encode(), PATIENT_ID.encode(), raw[128:]):
        assert _containing(var, identity) == []  # PHI never at rest, not even before "delete my data"

    text = await _delete("telegram:42", images=_images_slot(events))
    assert text.startswith("Done")
    assert _files(var) == []


async def test_tiff_original_and_screened_out_images_are_erased(services: Services) -> None:
    var = services.settings.var_dir
    tiff = put_in_media(var, _tiff(), "tif")
    events = await _send_image("webchat:p1", tiff)
    services.hospitals.medical = False
    photo = put_in_media(var, png_bytes(head_phantom(40)), "png")
    assert await _send_image("webchat:p1", photo) == []
    assert not (var / photo["path"]).exists()  # a refused image is not kept at all
    assert len(_files(var)) == 1

    assert (await _delete("webchat:p1", images=_images_slot(events))).startswith("Done")
    assert _files(var) == []


async def test_image_sent_before_consent_was_refused_is_erased(services: Services) -> None:
    var = services.settings.var_dir
    reference = put_in_media(var, png_bytes(head_phantom(36)), "png")
    events = await _send_image("rest:p2", reference, consent_given=None)
    pending = next(e["value"] for e in events if e.get("name") == "pending_image")
    refusal = load_tracker("greeting", pending_image=pending)
    refusal.sender_id = "rest:p2"
    refusal.latest_message["intent"] = {"name": "refuse_consent", "confidence": 1.0}
    events = await ActionSetConsent().run(CollectingDispatcher(), refusal, {})
    assert {"event": "slot", "name": "pending_image", "value": None, "timestamp": None} in events
    assert _files(var) == []


async def test_shared_upload_survives_until_its_last_holder_erases(services: Services) -> None:
    var = services.settings.var_dir
    data = png_bytes(head_phantom(44))
    first = _images_slot(await _send_image("telegram:1", put_in_media(var, data, "png")))
    second = _images_slot(await _send_image("whatsapp:447700900123", put_in_media(var, data, "png")))
    assert first[-1]["path"] == second[-1]["path"]

    assert (await _delete("telegram:1", images=first)).startswith("Done")
    assert (var / second[-1]["path"]).is_file()  # still the other patient's
    assert (await _delete("whatsapp:447700900123", images=second)).startswith("Done")
    assert _files(var) == []
