"""Configuration and network factory of the brain-MRI FLAIR-abnormality segmenter."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monai.networks.nets import BasicUNet
from torch import nn

from vision_models.bundle import BundleConfig
from vision_models.engine import TrainSettings
from vision_models.networks import network_from_config as generic_network_from_config

BUNDLE_NAME = "segmentation"
DEFAULT_BUNDLE = Path(__file__).resolve().parent.parent / "weights" / BUNDLE_NAME
# MONAI BasicUNet with a choice of normalisation (the generic "basic_unet" of vision_models.networks has
# instance normalisation only; bundles of that architecture still load through the generic factory).
ARCHITECTURE = "basic_unet_norm"


@dataclass
class SegmentationConfig:
    """Hyper-parameters of the segmenter: network, input size, sampling, crops and post-processing search."""

    input_size: int = 128
    channels: int = 3
    features: tuple[int, ...] = (16, 32, 64, 128, 224, 16)
    norm: str = "batch"
    crop_size: int = 128
    lesion_crop_probability: float = 0.5
    empty_slices_per_epoch: int = 900
    tuning_patients: int = 8
    bf16: bool = True
    brain_threshold: float = 0.04
    grey_probability: float = 0.2
    settings: TrainSettings = field(default_factory=lambda: TrainSettings(
        epochs=16, batch_size=16, learning_rate=3e-3, weight_decay=1e-4, threads=1))

    def network_params(self) -> dict[str, Any]:
        """Factory parameters recorded in the bundle."""
        return {"in_channels": self.channels, "out_channels": 1, "features": list(self.features), "norm": self.norm}


def build_unet(params: dict[str, Any]) -> nn.Module:
    """MONAI 2-D BasicUNet from recorded ``params`` (``norm``: ``batch`` or ``instance``)."""
    norms = {"batch": ("batch", {}), "instance": ("instance", {"affine": True})}
    if params.get("norm") not in norms:
        raise ValueError(f"Unknown normalisation {params.get('norm')!r}; known: {sorted(norms)}")
    return BasicUNet(spatial_dims=2, in_channels=params["in_channels"], out_channels=params.get("out_channels", 1),
                     features=tuple(params["features"]), norm=norms[params["norm"]])


def network_from_config(config: BundleConfig) -> nn.Module:
    """Bundle factory: this package's network, or a generic ``vision_models.networks`` one for older bundles."""
    if config.architecture == ARCHITECTURE:
        return build_unet(config.params)
    return generic_network_from_config(config)


def create_network(config: SegmentationConfig) -> nn.Module:
    """Build an untrained segmentation network for ``config``."""
    return build_unet(config.network_params())
