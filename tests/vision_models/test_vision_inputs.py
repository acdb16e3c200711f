"""Bad and unusual inputs give a clear ImageError (code + patient-safe reason) from every capability."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vision_models.imaging import ImageError, load_image, to_tensor_array
from vision_models.labeller import Labeller
from vision_models.prefilter import Prefilter
from vision_models.segmentation import Segmenter


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


BAD_INPUTS = {
    "zero_byte": (b"", "empty"),
    "corrupt": (_png(Image.new("L", (64, 64), 128))[:60], "not_an_image"),
    "non_image": (b"%PDF-1.7\nthis is a document, not an image\n" * 20, "not_an_image"),
    "huge_dimensions": (_png(Image.new("1", (8000, 8000))), "too_many_pixels"),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_load_image_refuses_bad_input(name: str) -> None:
    data, code = BAD_INPUTS[name]
    with pytest.raises(ImageError) as info:
        load_image(data)
    assert info.value.code == code
    assert info.value.reason.endswith(".") and "Traceback" not in info.value.reason


def test_zero_byte_file_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    with pytest.raises(ImageError) as info:
        load_image(path)
    assert info.value.code == "empty"


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_every_capability_refuses_bad_input(name: str, prefilter_bundle: Path, labeller_bundle: Path,
                                            segmentation_bundle: Path) -> None:
    data, code = BAD_INPUTS[name]
    for model in (Prefilter.load(prefilter_bundle), Labeller.load(labeller_bundle),
                  Segmenter.load(segmentation_bundle)):
        with pytest.raises(ImageError) as info:
            model.predict(data)
        assert info.value.code == code


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "P", "I;16", "LA"])
def test_any_mode_normalises_to_unit_range(mode: str) -> None:
    rng = np.random.default_rng(0)
    if mode == "I;16":
        image = Image.fromarray(rng.integers(0, 65535, (30, 50), dtype=np.uint16))
    else:
        image = Image.fromarray(rng.integers(0, 255, (30, 50, 3), dtype=np.uint8), mode="RGB").convert(mode)
    for channels in (1, 3):
        arr = to_tensor_array(load_image(_png(image)), 24, channels)
        assert arr.shape == (channels, 24, 24) and arr.dtype == np.float32
        assert 0.0 <= arr.min() and arr.max() <= 1.0 and arr.max() > 0.0
