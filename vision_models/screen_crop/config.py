"""Configuration and network factory of the screen finder (the displayed image's corners in a photo)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

from vision_models.engine import TrainSettings
from vision_models.networks import build_network

BUNDLE_NAME = "screen_crop"
DEFAULT_BUNDLE = Path(__file__).resolve().parent.parent / "weights" / BUNDLE_NAME
# Outputs: the displayed image's 4 corners (x, y in [-1, 1] across the photo; top-left, top-right, bottom-right,
# bottom-left) and one logit: is this a photo of a screen at all?
OUTPUTS = ["x0", "y0", "x1", "y1", "x2", "y2", "x3", "y3", "screen"]
COORDINATE_CHANNELS = 2  # x and y maps appended to the RGB input, so that pooled features know where they are


@dataclass
class ScreenCropConfig:
    """Hyper-parameters of the screen finder."""

    architecture: str = "compact_cnn"
    input_size: int = 96
    channels: int = 3
    features: tuple[int, ...] = (16, 32, 64, 128)
    photo_probability: float = 0.6  # share of training samples photographed off a screen (the rest: files)
    screen_threshold: float = 0.5  # below it, the image is used as it is
    settings: TrainSettings = field(default_factory=lambda: TrainSettings(
        epochs=12, batch_size=64, learning_rate=3e-3, weight_decay=1e-4))

    def network_params(self) -> dict[str, Any]:
        """Factory parameters recorded in the bundle."""
        return {"in_channels": self.channels + COORDINATE_CHANNELS, "num_classes": len(OUTPUTS),
                "features": list(self.features), "dropout": 0.0}


def create_network(config: ScreenCropConfig) -> nn.Module:
    """Build an untrained screen finder for ``config``."""
    return build_network(config.architecture, config.network_params())
