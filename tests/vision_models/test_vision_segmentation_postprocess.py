"""Segmentation post-processing (2-D blobs, 3-D components, tuning) and the training helpers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vision_models.bundle import BundleConfig, save_bundle
from vision_models.data import Slice
from vision_models.networks import build_network
from vision_models.segmentation import Segmenter
from vision_models.segmentation.postprocess import PostProcessing, filter_components_3d, remove_small_blobs
from vision_models.segmentation.train import (
    BF16Autocast,
    Volume,
    random_crops,
    score,
    split_tuning_patients,
    tune_post_processing,
)


def test_remove_small_blobs_keeps_large_ones() -> None:
    mask = np.zeros((20, 20), bool)
    mask[1:3, 1:3] = True  # 4 pixels
    mask[10:16, 10:16] = True  # 36 pixels
    mask[5, 18] = mask[6, 19] = True  # two pixels touching diagonally: one 8-connected blob of 2
    kept = remove_small_blobs(mask, 5)
    assert kept.sum() == 36 and kept[12, 12] and not kept[1, 1]
    assert remove_small_blobs(mask, 2)[6, 19] and not remove_small_blobs(mask, 3)[6, 19]
    assert (remove_small_blobs(mask, 0) == mask).all()


def test_blob_limit_is_a_fraction_of_the_slice() -> None:
    post = PostProcessing(threshold=0.5, min_blob_area=1 / 256)  # 16 px of 64x64, 64 px of 128x128
    small = np.zeros((64, 64), np.float32)
    small[:4, :4] = 0.9  # 16 px: kept at 64x64
    large = np.zeros((128, 128), np.float32)
    large[:4, :4] = 0.9  # 16 px of 128x128: below 64, dropped
    assert post.slice_mask(small).sum() == 16 and post.slice_mask(large).sum() == 0


def test_filter_components_3d_links_slices_and_keeps_large_parts() -> None:
    volume = np.zeros((4, 10, 10), bool)
    volume[0, 2:6, 2:6] = True
    volume[1, 6, 6] = True  # touches slice 0's block only through a corner: same 26-connected component
    volume[3, 8:10, 8:10] = True  # separate, 4 voxels of the largest 17
    only_largest = filter_components_3d(volume, 1.0)
    assert only_largest.sum() == 17 and only_largest[1, 6, 6] and not only_largest[3].any()
    assert filter_components_3d(volume, 4 / 17).sum() == 21
    assert filter_components_3d(volume, 0.25).sum() == 17
    with pytest.raises(ValueError, match="slices, H, W"):
        filter_components_3d(volume[0], 1.0)


def test_volume_masks_apply_both_filters() -> None:
    probabilities = [np.zeros((16, 16), np.float32) for _ in range(3)]
    probabilities[0][2:8, 2:8] = 0.8
    probabilities[1][2:8, 2:8] = 0.7
    probabilities[2][12:14, 12:14] = 0.9  # a 4-pixel false positive on its own slice
    masks = PostProcessing(0.5, 0.0, 0.5).volume_masks(probabilities)
    assert [int(m.sum()) for m in masks] == [36, 36, 0]
    assert [int(m.sum()) for m in PostProcessing(0.75).volume_masks(probabilities)] == [36, 0, 4]


def _synthetic_volumes() -> list[Volume]:
    """Two patients: the lesion has probability 0.8; a faint false positive (0.55) sits on an empty slice."""
    volumes = []
    for name in ("A", "B"):
        truths, probabilities = [], []
        for s in range(4):
            truth = np.zeros((32, 32), bool)
            prob = np.full((32, 32), 0.05, np.float32)
            if s in (1, 2):
                truth[8:20, 8:20] = True
                prob[8:20, 8:20] = 0.8
            if s == 3:
                prob[26:30, 26:30] = 0.55
            truths.append(truth)
            probabilities.append(prob)
        volumes.append(Volume(name, probabilities, truths))
    return volumes


def test_tuning_finds_settings_that_remove_the_false_positive() -> None:
    volumes = _synthetic_volumes()
    untuned = score(volumes, PostProcessing())
    post, tuned = tune_post_processing(volumes)
    assert untuned["empty_slice_specificity"] == pytest.approx(0.5) and untuned["per_volume_dice"] < 1.0
    assert tuned == pytest.approx(1.0) and score(volumes, post)["empty_slice_specificity"] == 1.0
    # the false positive (16 px) is above every 2-D limit and 16/288 of the lesion's volume: the first (mildest)
    # setting that removes it at the lowest threshold drops 3-D components under 10% of the largest
    assert post == PostProcessing(threshold=0.3, min_blob_area=0.0, min_component_fraction=0.1)


def test_split_tuning_patients_is_seeded_and_disjoint() -> None:
    slices = [Slice(f"P{p}", s, Path("x.png"), Path("x_mask.png"), 0, "train") for p in range(6) for s in range(3)]
    fit, tuning = split_tuning_patients(slices, 2, seed=7)
    assert len({s.patient for s in tuning}) == 2 and len(fit) + len(tuning) == 18
    assert not {s.patient for s in fit} & {s.patient for s in tuning}
    assert split_tuning_patients(slices, 2, seed=7) == (fit, tuning)
    with pytest.raises(ValueError, match="tuning patients"):
        split_tuning_patients(slices, 6, seed=7)


def test_random_crops_contain_the_lesion_when_asked() -> None:
    images = torch.rand(8, 3, 64, 64)
    masks = torch.zeros(8, 1, 64, 64)
    masks[:, :, 50:54, 2:6] = 1.0
    generator = torch.Generator().manual_seed(0)
    x, y = random_crops(images, masks, 32, 1.0, generator)
    assert x.shape == (8, 3, 32, 32) and y.shape == (8, 1, 32, 32)
    assert (y.flatten(1).sum(1) > 0).all()
    # crops are taken from the same place in image and mask
    images[:, 0] = masks[:, 0]
    x, y = random_crops(images, masks, 32, 0.5, generator)
    assert torch.equal(x[:, :1], y)
    assert random_crops(images, masks, 64, 1.0, generator)[0] is images


def test_bf16_autocast_returns_float32() -> None:
    net = torch.nn.Conv2d(1, 1, 3)
    out = BF16Autocast(net)(torch.rand(1, 1, 8, 8))
    assert out.dtype == torch.float32 and out.shape == (1, 1, 6, 6)
    assert list(BF16Autocast(net).state_dict()) == ["network.weight", "network.bias"]


def test_loads_version_1_bundles(tmp_path: Path) -> None:
    """Bundles of the generic instance-norm ``basic_unet`` (version 1) still load, with their threshold."""
    params = {"in_channels": 3, "out_channels": 1, "features": [4, 4, 8, 8, 16, 4]}
    save_bundle(build_network("basic_unet", params),
                BundleConfig(name="segmentation", architecture="basic_unet", params=params, input_size=32, channels=3,
                             version="1.0.0", extra={"threshold": 0.4}), tmp_path)
    segmenter = Segmenter.load(tmp_path)
    assert segmenter.post == PostProcessing(threshold=0.4)
    assert segmenter.predict(Image.fromarray(np.zeros((20, 20, 3), np.uint8))).mask.shape == (20, 20)


def test_loads_version_2_0_bundles(tmp_path: Path) -> None:
    """Bundles of version 2.0.0 (architecture ``basic_unet_norm``, batch norm) still load with their weights."""
    params = {"in_channels": 3, "out_channels": 1, "features": [4, 4, 8, 8, 16, 4], "norm": "batch"}
    network = build_network("basic_unet", params)
    save_bundle(network, BundleConfig(name="segmentation", architecture="basic_unet_norm", params=params,
                                      input_size=32, channels=3, version="2.0.0"), tmp_path)
    loaded = Segmenter.load(tmp_path).bundle.network
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in loaded.modules())
    assert all(torch.equal(a, b) for a, b in zip(network.state_dict().values(), loaded.state_dict().values()))


def test_basic_unet_rejects_unknown_normalisation() -> None:
    with pytest.raises(ValueError, match="normalisation"):
        build_network("basic_unet", {"in_channels": 1, "features": [4, 4, 8, 8, 16, 4], "norm": "group"})
