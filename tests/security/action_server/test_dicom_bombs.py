"""Attack: exhaust the action server's memory with a small DICOM file.

A deflated data set (transfer syntax 1.2.840.10008.1.2.1.99) was inflated whole by pydicom, so a few
hundred kilobytes could become gigabytes; and only rows x columns was bounded, not the frames, samples
and bytes of the whole pixel buffer. Both are now refused with a clear reply before any decoding, no
model is called and nothing is kept.
"""

from __future__ import annotations

import io
import time

import numpy as np
import pydicom
import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.images import ActionProcessImage
from actions.runtime import Services
from tests.support.actions import load_tracker
from tests.support.dicom import dicom_file
from tests.support.media import put_in_media
from vision_models.dicom import render_dicom
from vision_models.imaging import ImageError

INFLATED_BYTES = 64 * 1024 * 1024


def _deflated_bomb() -> bytes:
    """A DICOM whose deflated data set inflates to 64 MB of zero pixels (the file is well under 1 MB)."""
    ds = pydicom.dcmread(io.BytesIO(dicom_file(np.zeros((32, 32), dtype=np.uint16))))
    ds.Rows = ds.Columns = 4096
    ds.NumberOfFrames = INFLATED_BYTES // (4096 * 4096 * 2)
    ds.PixelData = bytes(INFLATED_BYTES)
    ds.file_meta.TransferSyntaxUID = pydicom.uid.DeflatedExplicitVRLittleEndian
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def _declared_giant() -> bytes:
    """Uncompressed header claiming 2,000 frames of 4096x4096 (64 GB) over a tiny pixel buffer."""
    ds = pydicom.dcmread(io.BytesIO(dicom_file(np.zeros((32, 32), dtype=np.uint16))))
    ds.Rows = ds.Columns = 4096
    ds.NumberOfFrames = 2000
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def test_the_bomb_is_small_on_the_wire() -> None:
    assert len(_deflated_bomb()) < 1024 * 1024


@pytest.mark.parametrize(("make", "code"),
                         [(_deflated_bomb, "dicom_unsupported"), (_declared_giant, "too_many_pixels")])
def test_render_refuses_before_decoding(make, code) -> None:
    data = make()
    started = time.monotonic()
    with pytest.raises(ImageError) as refused:
        render_dicom(data)
    assert refused.value.code == code
    assert time.monotonic() - started < 5  # refused from the header, not after inflating


@pytest.mark.parametrize("make", [_deflated_bomb, _declared_giant])
async def test_the_patient_gets_a_clear_reply_and_nothing_is_kept(services: Services, make) -> None:
    var = services.settings.var_dir
    tracker = load_tracker("image", consent_given=True, images=None)
    tracker.latest_message["metadata"] = {"image": put_in_media(var, make(), "dcm")}
    dispatcher = CollectingDispatcher()
    assert await ActionProcessImage().run(dispatcher, tracker, {}) == []
    text = dispatcher.messages[0]["text"]
    assert "cannot display" in text or "too large" in text
    assert services.hospitals.calls == []
    assert list((var / "media").iterdir()) == []
