"""Configuration and network factory of the brain-MRI FLAIR-abnormality segmenter."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from torch import nn

from vision_models.engine import TrainSettings
from vision_models.networks import build_network

BUNDLE_NAME = "segmentation"
DEFAULT_BUNDLE = Path(__file__).resolve().parent.parent / "weights" / BUNDLE_NAME
ARCHITECTURE = "basic_unet"


@dataclass
class SegmentationConfig:
    """Hyper-parameters of the segmenter: network, input size, sampling and post-processing."""

    input_size: int = 128
    channels: int = 3
    features: tuple[int, ...] = (16, 32, 64, 128, 224, 16)
    empty_slices_per_epoch: int = 350
    threshold: float = 0.5
    brain_threshold: float = 0.04
    grey_probability: float = 0.2
    settings: TrainSettings = field(default_factory=lambda: TrainSettings(
        epochs=9, batch_size=16, learning_rate=3e-3, weight_decay=1e-4))

    def network_params(self) -> dict:
        """Factory parameters recorded in the bundle."""
        return {"in_channels": self.channels, "out_channels": 1, "features": list(self.features)}


def create_network(config: SegmentationConfig) -> nn.Module:
    """Build an untrained segmentation network for ``config``."""
    return build_network(ARCHITECTURE, config.network_params())
