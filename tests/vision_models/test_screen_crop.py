"""The screen finder: corners from the simulator, rectification, training, the API, CLI and evaluation."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vision_models.__main__ import main
from vision_models.labeller.model import Labeller
from vision_models.prefilter.model import Prefilter
from vision_models.screen_crop import ScreenCropper
from vision_models.screen_crop.config import ScreenCropConfig
from vision_models.screen_crop.model import rectify
from vision_models.screen_crop.train import evaluate, train
from vision_models.screen_photos import (
    FULL_FRAME,
    ROBUSTNESS,
    photograph,
    photograph_cropped,
    photograph_cropped_with_masks,
    photograph_with_corners,
    screen_photo,
    screen_photo_bytes,
)


def _pattern(size: int = 64) -> torch.Tensor:
    """A picture whose every quadrant differs, so that a wrong corner order shows."""
    ys, xs = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    return torch.stack([xs, ys, (xs * ys).sqrt()])[None]


@pytest.fixture(scope="module")
def finder_bundle(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = ScreenCropConfig(input_size=32, features=(4, 8))
    config.settings.epochs, config.settings.batch_size, config.settings.max_steps = 1, 8, 3
    out = tmp_path_factory.mktemp("screen_crop_bundle")
    train(data_root, out, config, eval_split=None)
    return out


def test_the_corners_are_where_the_displayed_image_went_and_the_photo_is_unchanged() -> None:
    plain = dataclasses.replace(ROBUSTNESS, order=("frame",), tilt=(0.0, 0.0), rotate_deg=(10.0, 10.0),
                                shift=(0.0, 0.0), fill=(0.7, 0.7))
    image = _pattern()
    photo, corners = photograph_with_corners(image, torch.Generator().manual_seed(3), plain)
    assert torch.equal(photo, photograph(image, torch.Generator().manual_seed(3), plain))
    expected = FULL_FRAME * 0.7
    angle = np.deg2rad(10.0)
    rotation = torch.tensor([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]], dtype=torch.float32)
    assert torch.allclose(corners[0], expected @ rotation.T, atol=1e-5)
    without_frame = dataclasses.replace(plain, order=("blur",))
    assert torch.equal(photograph_with_corners(image, torch.Generator(), without_frame)[1][0], FULL_FRAME)


def test_rectifying_the_true_corners_gives_back_the_displayed_image() -> None:
    plain = dataclasses.replace(ROBUSTNESS, order=("frame",), tilt=(0.05, 0.05), rotate_deg=(-12.0, -12.0),
                                shift=(0.05, 0.05), fill=(0.75, 0.75))
    image = _pattern(128)
    photo, corners = photograph_with_corners(image, torch.Generator().manual_seed(1), plain)
    pixels = (photo[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    cropped = rectify(Image.fromarray(pixels), corners[0].numpy())
    assert 80 <= cropped.width <= 110 and 80 <= cropped.height <= 110  # about the displayed image's size
    back = np.asarray(cropped.resize((32, 32)), dtype=np.float32) / 255
    original = np.asarray(Image.fromarray((image[0].permute(1, 2, 0).numpy() * 255).astype(np.uint8)).resize(
        (32, 32)), dtype=np.float32) / 255
    assert np.abs(back - original)[2:-2, 2:-2].mean() < 0.03


def test_the_training_crop_of_a_photo_is_the_displayed_image_missed_by_the_finder_s_error() -> None:
    plain = dataclasses.replace(ROBUSTNESS, order=("frame",), tilt=(0.05, 0.05), rotate_deg=(15.0, 15.0),
                                shift=(0.05, 0.05), fill=(0.7, 0.7))
    image = _pattern(96).expand(4, 3, 96, 96).contiguous()
    exact = photograph_cropped(image, torch.Generator().manual_seed(2), plain, corner_sigma=0.0)
    assert exact.shape == image.shape
    assert (exact - image)[..., 4:-4, 4:-4].abs().mean() < 0.03  # upright again, the bezel and desk cut away
    missed = photograph_cropped(image, torch.Generator().manual_seed(2), plain, corner_sigma=0.08)
    error = (missed - image)[..., 4:-4, 4:-4].abs().mean()
    assert 0.03 < error < 0.3  # off by the finder's typical miss, still mostly the displayed image


def test_a_mask_moves_with_its_image_through_the_photo_and_the_crop() -> None:
    plain = dataclasses.replace(ROBUSTNESS, order=("frame",), tilt=(0.1, 0.1), rotate_deg=(-15.0, 15.0),
                                shift=(-0.05, 0.05), fill=(0.7, 0.9))
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, 96), torch.linspace(-1, 1, 96), indexing="ij")
    disc = (((xs - 0.2) ** 2 + (ys + 0.1) ** 2) < 0.3 ** 2).float()[None, None].expand(6, 1, 96, 96).contiguous()
    crops, masks = photograph_cropped_with_masks(disc.expand(6, 3, 96, 96).contiguous(), disc,
                                                 torch.Generator().manual_seed(4), plain)
    assert crops.shape == (6, 3, 96, 96) and masks.shape == (6, 1, 96, 96)
    assert set(masks.unique().tolist()) <= {0.0, 1.0}
    shown = crops[:, :1, 16:-16, 16:-16] > 0.5  # the disc where the crop shows it (the edges may show the desk)
    marked = masks[:, :, 16:-16, 16:-16] > 0.5
    iou = (shown & marked).sum(dim=(1, 2, 3)) / (shown | marked).sum(dim=(1, 2, 3))
    assert iou.min() > 0.9, iou


def test_a_robustness_photo_comes_with_its_corners(tmp_path: Path) -> None:
    source = tmp_path / "scan.png"
    Image.fromarray((_pattern()[0].permute(1, 2, 0).numpy() * 255).astype(np.uint8)).save(source)
    data, corners = screen_photo(source, seed=5)
    assert data == screen_photo_bytes(source, seed=5) and corners.shape == (4, 2)
    assert Image.open(io.BytesIO(data)).format == "JPEG"


def test_the_finder_trains_loads_and_crops_only_what_it_calls_a_screen(finder_bundle: Path) -> None:
    finder = ScreenCropper.load(finder_bundle)
    image = Image.new("RGB", (90, 70), (120, 40, 200))
    [finding] = finder.find_batch([image])
    assert len(finding.corners) == 4 and 0.0 <= finding.probability <= 1.0
    finder.threshold = 2.0  # nothing is a screen
    same, finding = finder.crop(image)
    assert same.size == (90, 70) and not finding.screen
    finder.threshold = -1.0  # everything is
    cropped, finding = finder.crop(image)
    assert finding.screen and cropped.mode == "RGB" and min(cropped.size) >= 32


@pytest.mark.parametrize(("offset", "screen"), [(0.05, False), (0.3, True)])
def test_a_screen_that_fills_the_whole_photo_is_nothing_to_crop(finder_bundle: Path, monkeypatch: pytest.MonkeyPatch,
                                                                offset: float, screen: bool) -> None:
    """Found chatting: a radiograph file with a dark border was 'found on the screen' with the photo's own corners."""
    finder = ScreenCropper.load(finder_bundle)
    corners = FULL_FRAME * (1.0 - offset)
    monkeypatch.setattr(finder, "outputs", lambda batch: torch.cat([corners.reshape(1, 8), torch.tensor([[5.0]])], 1))
    image = Image.new("RGB", (90, 70), (120, 40, 200))
    kept, finding = finder.crop(image)
    assert finding.probability > 0.99 and finding.screen is screen
    assert (kept.size == (90, 70)) is not screen


def test_cli_predict_and_evaluate(finder_bundle: Path, data_root: Path, prefilter_bundle: Path,
                                  labeller_bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    image = tmp_path / "photo.png"
    Image.new("RGB", (60, 60), (10, 200, 30)).save(image)
    assert main(["predict", "screen_crop", str(image), "--bundle", str(finder_bundle),
                 "--out", str(tmp_path / "crop.png")]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert len(printed["corners"]) == 4 and (tmp_path / "crop.png").is_file()
    metrics = evaluate(ScreenCropper.load(finder_bundle), data_root, "val", batch_size=4,
                       prefilter=Prefilter.load(prefilter_bundle), labeller=Labeller.load(labeller_bundle))
    assert set(metrics["pipeline"]) == {"photos_as_sent", "photos_cropped", "files_as_sent", "files_through_finder"}
    assert 0.0 <= metrics["corner_error_mean"] and metrics["n"] > metrics["n_medical"] > 0
    for figures in metrics["pipeline"].values():
        assert set(figures) == {"medical_recall", "non_medical_refused", "labeller_accuracy"}
