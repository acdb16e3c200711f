"""Configuration and network factory of the brain-MRI FLAIR-abnormality segmenter."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

from vision_models.engine import TrainSettings
from vision_models.networks import build_network

BUNDLE_NAME = "segmentation"
DEFAULT_BUNDLE = Path(__file__).resolve().parent.parent / "weights" / BUNDLE_NAME
# vision_models.networks' BasicUNet with batch normalisation (``norm``); with ``refine_head``, the UNet runs at
# ``unet_size`` and a small head draws the outline at ``input_size``.
ARCHITECTURE = "basic_unet"
REFINED_ARCHITECTURE = "refined_basic_unet"


@dataclass
class SegmentationConfig:
    """Hyper-parameters of the segmenter: network, input size, sampling, crops, test-time flip and post-processing."""

    input_size: int = 128
    unet_size: int = 128
    refine_features: int = 16
    refine_hidden: int = 8
    channels: int = 3
    features: tuple[int, ...] = (16, 32, 64, 128, 224, 16)
    norm: str = "batch"
    crop_size: int = 128
    lesion_crop_probability: float = 0.5
    empty_slices_per_epoch: int = 300
    tuning_patients: int = 8
    bf16: bool = True
    brain_threshold: float = 0.04
    grey_probability: float = 0.2
    screen_photo_probability: float = 0.0  # share of training slices seen as the finder's crop of a screen photo
    flip_tta: bool = True
    settings: TrainSettings = field(default_factory=lambda: TrainSettings(
        epochs=44, batch_size=16, learning_rate=3e-3, weight_decay=1e-4, threads=1))

    @property
    def architecture(self) -> str:
        """``refined_basic_unet`` when the input is larger than the UNet's resolution, else ``basic_unet``."""
        return REFINED_ARCHITECTURE if self.input_size > self.unet_size else ARCHITECTURE

    @property
    def downsample(self) -> int:
        """How many input pixels one UNet pixel spans, along each side (1 without the refinement head)."""
        if self.architecture == ARCHITECTURE:
            return 1
        if self.input_size % self.unet_size:
            raise ValueError(f"Input size {self.input_size} is not a multiple of the UNet's {self.unet_size}.")
        return self.input_size // self.unet_size

    def network_params(self) -> dict[str, Any]:
        """Factory parameters recorded in the bundle."""
        params = {"in_channels": self.channels, "out_channels": 1, "features": list(self.features), "norm": self.norm}
        if self.architecture == REFINED_ARCHITECTURE:
            params.update(downsample=self.downsample, hidden=self.refine_hidden, head_features=self.refine_features)
        return params


def create_network(config: SegmentationConfig) -> nn.Module:
    """Build an untrained segmentation network for ``config``."""
    return build_network(config.architecture, config.network_params())
