"""Post-processing of predicted lesion masks: small 2-D blobs per slice, 3-D components per volume.

Both filters act on boolean masks and return new boolean masks of the same shape. The 2-D size limit is a
fraction of the slice's pixels, so that it means the same at any input resolution; the 3-D one is a
fraction of the volume's largest component.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

# 8-connectivity in a slice; in a volume, 26-connectivity (slices touch through edges and corners too).
_STRUCTURE_2D = np.ones((3, 3), dtype=bool)
_STRUCTURE_3D = np.ones((3, 3, 3), dtype=bool)


@dataclass(frozen=True)
class PostProcessing:
    """Settings of the two filters; the defaults change nothing.

    - ``threshold``: probability at or above which a pixel is lesion.
    - ``min_blob_area``: 2-D connected blobs smaller than this fraction of the slice's pixels are dropped
      from each slice (1/1024 = 64 pixels of a 256x256 slice).
    - ``min_component_fraction``: 3-D components smaller than this fraction of the volume's largest
      component are dropped (1.0 keeps only the largest; 0.0 keeps everything).
    """

    threshold: float = 0.5
    min_blob_area: float = 0.0
    min_component_fraction: float = 0.0

    def slice_mask(self, probability: np.ndarray) -> np.ndarray:
        """Threshold one slice's probability map and drop its small blobs."""
        return remove_small_blobs(probability >= self.threshold, round(self.min_blob_area * probability.size))

    def volume_masks(self, probabilities: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Masks of a volume's slices (in slice order, same shape): per-slice filter, then the 3-D one."""
        masks = [self.slice_mask(p) for p in probabilities]
        if not masks or self.min_component_fraction <= 0.0:
            return masks
        return list(filter_components_3d(np.stack(masks), self.min_component_fraction))

    def as_dict(self) -> dict[str, float]:
        """Settings as recorded in a bundle's config."""
        return {"threshold": self.threshold, "min_blob_area": self.min_blob_area,
                "min_component_fraction": self.min_component_fraction}


def remove_small_blobs(mask: np.ndarray, min_pixels: int) -> np.ndarray:
    """``mask`` without its 8-connected blobs of fewer than ``min_pixels`` pixels."""
    mask = np.asarray(mask, dtype=bool)
    if min_pixels <= 1 or not mask.any():
        return mask.copy()
    labels, count = ndimage.label(mask, structure=_STRUCTURE_2D)
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    keep = sizes >= min_pixels
    keep[0] = False
    return keep[labels]


def filter_components_3d(volume: np.ndarray, min_fraction: float) -> np.ndarray:
    """``volume`` (slices x H x W, bool) keeping the 26-connected components of at least ``min_fraction``
    of the largest component's voxels (the largest one is always kept)."""
    volume = np.asarray(volume, dtype=bool)
    if volume.ndim != 3:
        raise ValueError(f"Expected a volume of shape (slices, H, W), got {volume.shape}.")
    labels, count = ndimage.label(volume, structure=_STRUCTURE_3D)
    if count <= 1:
        return volume.copy()
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    sizes[0] = 0
    keep = sizes >= min_fraction * sizes.max()
    keep[0] = False
    return keep[labels]
