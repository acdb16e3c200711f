"""Configuration and network factory of the medical-image prefilter."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

from vision_models.engine import TrainSettings
from vision_models.networks import build_network

BUNDLE_NAME = "prefilter"
DEFAULT_BUNDLE = Path(__file__).resolve().parent.parent / "weights" / BUNDLE_NAME
# "document": documents, screenshots and text photos (vision_models.documents), refused with their own reason.
CLASSES = ["non_medical", "medical", "document"]


@dataclass
class PrefilterConfig:
    """Hyper-parameters of the prefilter."""

    architecture: str = "compact_cnn"
    input_size: int = 64
    channels: int = 3
    features: tuple[int, ...] = (16, 32, 64, 128)
    threshold: float = 0.5
    grey_probability_non_medical: float = 0.3
    screen_photo_probability: float = 0.5  # share of training samples (both classes) seen as photos of a screen
    cropped_photo_share: float = 0.0  # share of those photos seen as the screen finder crops them
    photo_size: int = 64  # side at which training images are loaded and photographed, then resized to input_size
    dev_fraction: float = 0.0  # per-group share of `train` kept out of training to compare recipes (0: none)
    lgg_train_slices: int = 400
    documents: dict[str, int] = field(default_factory=lambda: {"train": 900, "val": 300})  # generated per split
    settings: TrainSettings = field(default_factory=lambda: TrainSettings(
        epochs=6, batch_size=64, learning_rate=3e-3, weight_decay=1e-4))

    def network_params(self) -> dict:
        """Factory parameters recorded in the bundle."""
        params: dict[str, Any] = {"in_channels": self.channels, "num_classes": len(CLASSES)}
        if self.architecture == "compact_cnn":
            params["features"] = list(self.features)
        return params


def create_network(config: PrefilterConfig) -> nn.Module:
    """Build an untrained prefilter network for ``config``."""
    return build_network(config.architecture, config.network_params())
