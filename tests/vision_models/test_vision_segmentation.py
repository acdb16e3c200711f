"""Segmentation: outline overlay, per-volume Dice on known masks, one training step, the API and CLI."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vision_models.__main__ import main
from vision_models.data import read_slices
from vision_models.imaging import load_image
from vision_models.segmentation import SegmentationResult, Segmenter
from vision_models.segmentation.model import lesion_side
from vision_models.segmentation.overlay import outline, overlay_png
from vision_models.segmentation.postprocess import PostProcessing
from vision_models.segmentation.train import evaluate_slices


def test_outline_is_the_mask_border() -> None:
    mask = np.zeros((7, 7), bool)
    mask[1:6, 1:6] = True
    edge = outline(mask)
    assert edge.sum() == 16 and not edge[3, 3] and edge[1, 1]


def test_overlay_draws_red_outline() -> None:
    mask = np.zeros((20, 20), bool)
    mask[5:15, 5:15] = True
    png = Image.open(io.BytesIO(overlay_png(np.full((20, 20, 3), 0.5), mask)))
    arr = np.asarray(png)
    assert png.size == (20, 20) and tuple(arr[5, 5]) == (255, 48, 48) and tuple(arr[10, 10]) == (128, 128, 128)


class _Oracle:
    """Stands in for a Segmenter: probability 1 on the true mask, shifted by 4 columns for one patient."""

    def __init__(self, slices, shift_patient: str) -> None:
        self.post = PostProcessing()
        self.maps = {}
        for item in slices:
            truth = (np.asarray(Image.open(item.mask)) > 127).astype(np.float32)
            key = np.asarray(load_image(item.image)).tobytes()
            self.maps[key] = np.roll(truth, 4, axis=1) if item.patient == shift_patient else truth

    def probabilities(self, images):
        return [self.maps[np.asarray(image).tobytes()] for image in images]


def test_evaluate_slices_known_dice(lgg_root: Path) -> None:
    slices = read_slices(lgg_root, "val")
    metrics = evaluate_slices(_Oracle(slices, "Pval1"), slices)
    # 8x8 squares shifted by 4 columns: overlap 32 of 64 -> Dice 0.5 on every tumour slice of Pval1.
    assert metrics["per_volume"] == {"Pval0": 1.0, "Pval1": pytest.approx(0.5)}
    assert metrics["per_volume_dice"] == pytest.approx(0.75)
    assert metrics["pixel_dice"] == pytest.approx((2 * 128 + 2 * 64) / (256 + 256))
    assert metrics["empty_slice_specificity"] == 1.0
    assert (metrics["n"], metrics["patients"]) == (8, 2)
    assert metrics["post_processing"] == PostProcessing().as_dict()
    assert metrics["post_processing_ablation"]["none (threshold 0.5)"]["per_volume_dice"] == pytest.approx(0.75)


def test_segmenter_result_at_input_resolution(segmentation_bundle: Path, lgg_root: Path) -> None:
    segmenter = Segmenter.load(segmentation_bundle)
    image = Image.open(lgg_root / "val" / "Pval0" / "Pval0_1.png").resize((60, 50))
    result = segmenter.predict(image)
    assert isinstance(result, SegmentationResult)
    assert result.mask.shape == (50, 60) and result.mask.dtype == bool
    assert result.lesion_pixels == int(result.mask.sum())
    assert result.brain_pixels >= result.lesion_pixels
    assert 0.0 <= result.lesion_fraction <= 1.0
    assert Image.open(io.BytesIO(result.overlay_png)).size == (60, 50)


def test_flip_tta_makes_the_probability_map_mirror_equivariant(segmentation_bundle: Path, lgg_root: Path) -> None:
    segmenter = Segmenter.load(segmentation_bundle)
    assert segmenter.flip_tta  # the default training records it
    image = Image.open(lgg_root / "val" / "Pval0" / "Pval0_1.png")
    plain, mirrored = segmenter.probabilities([image, image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)])
    np.testing.assert_allclose(mirrored, plain[:, ::-1], atol=1e-5)
    segmenter.flip_tta = False
    single = segmenter.probabilities([image])[0]
    assert single.shape == plain.shape and not np.allclose(single, plain, atol=1e-6)


def test_lesion_fraction_uses_non_background_pixels(segmentation_bundle: Path) -> None:
    segmenter = Segmenter.load(segmentation_bundle)
    segmenter.post = PostProcessing(threshold=2.0)  # nothing can reach it: no lesion
    image = np.zeros((40, 40, 3), np.uint8)
    image[10:30, 10:30] = 120
    result = segmenter.predict(Image.fromarray(image))
    assert (result.lesion_pixels, result.brain_pixels, result.lesion_fraction) == (0, 400, 0.0)
    assert result.lesion_side == "none"


def test_lesion_side_is_the_half_of_the_brain_that_holds_the_lesion() -> None:
    brain = np.zeros((40, 60), bool)
    brain[5:35, 20:60] = True  # off-centre head: midline at column 39.5, not 29.5
    lesion = np.zeros_like(brain)
    lesion[10:14, 30:36] = True  # left of the brain's midline, though right of the image's centre
    assert lesion_side(lesion, brain) == "left"
    assert lesion_side(np.fliplr(lesion), np.fliplr(brain)) == "right"
    lesion[10:14, 42:46] = True  # 24 of 40 pixels on the left: not one side
    assert lesion_side(lesion, brain) == "both"
    assert lesion_side(np.zeros_like(brain), brain) == "none"


def test_trained_bundle_records_metrics(segmentation_bundle: Path) -> None:
    config = json.loads((segmentation_bundle / "config.json").read_text())
    assert config["architecture"] == "basic_unet" and config["params"]["norm"] == "batch"
    assert config["metrics"]["split"] == "val" and config["metrics"]["patients"] == 2
    assert config["extra"]["training"]["steps"] == 1
    # one of the two train patients is held out to tune the post-processing, which the bundle records
    assert config["extra"]["tuning"]["patients"] in (["Ptrain0"], ["Ptrain1"])
    assert config["extra"]["training"]["train_slices"] == 4
    assert config["extra"]["flip_tta"] is True and config["extra"]["training"]["channels_last"] is True
    assert set(config["extra"]["post_processing"]) == {"threshold", "min_blob_area", "min_component_fraction"}


def test_cli_predict_writes_overlay(segmentation_bundle: Path, lgg_root: Path, tmp_path: Path, capsys) -> None:
    overlay = tmp_path / "overlay.png"
    image = lgg_root / "val" / "Pval0" / "Pval0_1.png"
    assert main(["predict", "segmentation", str(image), "--bundle", str(segmentation_bundle),
                 "--overlay", str(overlay)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["brain_pixels"] > 0 and Image.open(overlay).format == "PNG"


def test_cli_evaluate_json(segmentation_bundle: Path, lgg_root: Path, capsys) -> None:
    assert main(["evaluate", "segmentation", "--data", str(lgg_root), "--bundle", str(segmentation_bundle),
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["model"], result["split"], result["n"]) == ("segmentation", "val", 8)
    assert 0.0 <= result["metrics"]["per_volume_dice"] <= 1.0
    ablation = result["metrics"]["post_processing_ablation"]
    assert set(ablation) == {"none (threshold 0.5)", "threshold", "threshold + 2-D blobs (per-slice API)",
                              "threshold + 3-D components", "threshold + 2-D blobs + 3-D components"}


def test_predict_volume_one_result_per_slice(segmentation_bundle: Path, lgg_root: Path) -> None:
    segmenter = Segmenter.load(segmentation_bundle)
    paths = [lgg_root / "val" / "Pval0" / f"Pval0_{s}.png" for s in range(1, 5)]
    results = segmenter.predict_volume(paths)
    assert [r.mask.shape for r in results] == [(48, 48)] * 4
    with pytest.raises(ValueError, match="same size"):
        segmenter.predict_volume([paths[0], Image.open(paths[1]).resize((40, 40))])


def test_cli_train_from_scratch(lgg_root: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "bundle"
    assert main(["train", "segmentation", "--data", str(lgg_root), "--out", str(out), "--epochs", "1",
                 "--max-steps", "1", "--empty-slices", "1", "--crop-size", "64", "--tuning-patients", "1",
                 "--no-bf16", "--no-flip-tta"]) == 0
    result = json.loads(capsys.readouterr().out.splitlines()[-1])
    config = json.loads((out / "config.json").read_text())
    assert result["metrics"]["patients"] == 2 and config["extra"]["training"]["crop_size"] == 64
    assert config["extra"]["training"]["bf16_autocast"] is False and (out / "MODEL_CARD.md").is_file()
    assert config["extra"]["flip_tta"] is False


def test_training_is_deterministic_with_bf16(lgg_root: Path, tmp_path: Path) -> None:
    from vision_models.segmentation.config import SegmentationConfig
    from vision_models.segmentation.train import train

    weights = []
    for run in ("a", "b"):
        config = SegmentationConfig(input_size=32, features=(4, 4, 8, 8, 16, 4), empty_slices_per_epoch=2,
                                    crop_size=24, tuning_patients=1)
        config.settings.epochs, config.settings.batch_size, config.settings.max_steps = 1, 2, 2
        bundle = train(lgg_root, tmp_path / run, config, eval_split=None)
        weights.append(bundle.network.state_dict())
    assert bundle.config.extra["training"]["bf16_autocast"] is True
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])


def test_refinement_head_trains_saves_and_predicts_at_full_resolution(lgg_root: Path, tmp_path: Path) -> None:
    from vision_models.segmentation.config import SegmentationConfig
    from vision_models.segmentation.train import train

    config = SegmentationConfig(input_size=32, unet_size=16, features=(4, 4, 8, 8, 16, 4), empty_slices_per_epoch=2,
                                tuning_patients=1, refine_features=4, refine_hidden=2)
    config.settings.epochs, config.settings.batch_size, config.settings.max_steps = 1, 2, 2
    train(lgg_root, tmp_path / "refined", config, eval_split=None)
    segmenter = Segmenter.load(tmp_path / "refined")
    assert segmenter.config.architecture == "refined_basic_unet"
    assert segmenter.config.params["downsample"] == 2 and segmenter.config.input_size == 32
    image = load_image(read_slices(lgg_root, "val")[0].image)
    (probabilities,) = segmenter.probabilities([image])
    assert probabilities.shape == (image.height, image.width)
    assert tuple(segmenter.bundle.network(torch.zeros(1, 3, 32, 32)).shape) == (1, 1, 32, 32)


def test_refinement_needs_a_whole_downsampling_factor() -> None:
    from vision_models.segmentation.config import SegmentationConfig

    with pytest.raises(ValueError, match="multiple"):
        SegmentationConfig(input_size=200, unet_size=128).network_params()
