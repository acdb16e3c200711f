"""Configuration, classes and network factory of the image-type labeller."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

from vision_models.engine import TrainSettings
from vision_models.networks import build_network

BUNDLE_NAME = "labeller"
DEFAULT_BUNDLE = Path(__file__).resolve().parent.parent / "weights" / BUNDLE_NAME
@dataclass
class LabellerConfig:
    """Hyper-parameters of the labeller, its calibration and abstention rule."""

    architecture: str = "compact_cnn"
    input_size: int = 64
    channels: int = 1
    features: tuple[int, ...] = (16, 32, 64, 128)
    calibration_fraction: float = 0.15
    target_accepted_accuracy: float = 0.99
    threshold_floor: float = 0.5
    screen_photo_probability: float = 0.5  # share of training samples seen as photos of a screen (and the
    # calibration carve-out is scored both as files and as photos cropped by the screen finder)
    cropped_photo_share: float = 0.5  # share of those photos seen as the screen finder crops them
    photo_size: int = 128  # side at which training images are loaded and photographed, then resized to
    # input_size (a phone photographs a screen at more pixels than the network reads)
    settings: TrainSettings = field(default_factory=lambda: TrainSettings(
        epochs=8, batch_size=64, learning_rate=3e-3, weight_decay=1e-4))

    def network_params(self, num_classes: int) -> dict:
        """Factory parameters recorded in the bundle."""
        params: dict[str, Any] = {"in_channels": self.channels, "num_classes": num_classes}
        if self.architecture == "compact_cnn":
            params["features"] = list(self.features)
        return params


def create_network(config: LabellerConfig, num_classes: int) -> nn.Module:
    """Build an untrained labeller network for ``config``."""
    return build_network(config.architecture, config.network_params(num_classes))
