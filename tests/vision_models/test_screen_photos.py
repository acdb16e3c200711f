"""The screen-photo simulator: shapes, ranges, reproducibility, and the two parameter sets really differ."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from vision_models.classifier import train_classifier
from vision_models.engine import TrainSettings
from vision_models.screen_photos import ROBUSTNESS, TRAINING, ScreenPhotoParams, photograph, screen_photo_bytes


def _images(channels: int) -> torch.Tensor:
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, 64), torch.linspace(-1, 1, 64), indexing="ij")
    disc = ((xx ** 2 + yy ** 2) < 0.5).float()
    return disc.expand(4, channels, 64, 64).clone()


@pytest.mark.parametrize("channels", [1, 3])
def test_photos_keep_the_shape_and_range_and_change_the_image(channels: int) -> None:
    images = _images(channels)
    photos = photograph(images, torch.Generator().manual_seed(0))
    assert photos.shape == images.shape
    assert float(photos.min()) >= 0.0 and float(photos.max()) <= 1.0
    assert float((photos - images).abs().mean()) > 0.02  # something was photographed, not copied


def test_the_same_seed_gives_the_same_photos_and_another_seed_others() -> None:
    images = _images(3)
    first = photograph(images, torch.Generator().manual_seed(7))
    assert torch.equal(first, photograph(images, torch.Generator().manual_seed(7)))
    assert not torch.equal(first, photograph(images, torch.Generator().manual_seed(8)))


def test_a_frame_shows_background_outside_the_displayed_image() -> None:
    small = ScreenPhotoParams(**{**TRAINING.__dict__, "fill": (0.5, 0.5), "rotate_deg": (0.0, 0.0),
                                 "tilt": (0.0, 0.0), "shift": (0.0, 0.0), "order": ("frame",)})
    white = torch.ones(2, 1, 64, 64)
    photo = photograph(white, torch.Generator().manual_seed(0), small)
    assert float(photo[:, :, 24:40, 24:40].min()) == pytest.approx(1.0)  # the screen, in the middle
    assert float(photo[:, :, :4, :4].max()) < 1.0  # the room around it


def test_the_robustness_set_uses_other_ranges_and_another_order_and_is_a_jpeg() -> None:
    assert ROBUSTNESS.order != TRAINING.order and ROBUSTNESS.fill != TRAINING.fill
    source = io.BytesIO()
    Image.fromarray((np.asarray(_images(3)[0].permute(1, 2, 0)) * 255).astype(np.uint8)).save(source, format="PNG")
    data = screen_photo_bytes(source.getvalue(), seed=3, size=96)
    assert data[:2] == b"\xff\xd8" and Image.open(io.BytesIO(data)).size == (96, 96)
    assert data == screen_photo_bytes(source.getvalue(), seed=3, size=96)


def test_an_unknown_step_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown"):
        photograph(_images(1), torch.Generator(), ScreenPhotoParams(**{**TRAINING.__dict__, "order": ("tv",)}))


def test_a_classifier_trained_on_larger_photos_reads_them_at_its_input_size() -> None:
    seen: list[tuple[int, ...]] = []

    class Recorder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.head = torch.nn.Linear(1, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            seen.append(tuple(x.shape[1:]))
            return self.head(x.mean(dim=(1, 2, 3)).unsqueeze(1))

    images = (np.random.default_rng(0).random((8, 1, 64, 64)) * 255).astype(np.uint8)
    settings = TrainSettings(epochs=1, batch_size=4, max_steps=2)
    train_classifier(Recorder(), images, np.array([0, 1] * 4), 2, settings, torch.Generator().manual_seed(0), 0.5,
                     0.25, screen_photo_probability=0.5, cropped_photo_share=0.5, input_size=32)
    assert seen and set(seen) == {(1, 32, 32)}
