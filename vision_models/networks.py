"""Network definitions and the single factory that rebuilds them from a bundle config.

Every bundle records ``architecture`` and ``params``; :func:`build_network` turns those two
fields back into a ``torch.nn.Module``. Architectures:

- ``compact_cnn``: a small 2-D classifier (four MONAI convolution stages + global pooling),
  made for 64x64 inputs.
- ``densenet121``: MONAI's 2-D DenseNet121 (the network the original Q&Aid used), for comparison.
- ``basic_unet``: MONAI's 2-D BasicUNet for segmentation, with instance (default) or batch normalisation
  (``norm``); ``basic_unet_norm`` is the name segmentation bundles of version 2.0.0 recorded for it.
- ``refined_basic_unet``: the same BasicUNet run on the input shrunk by ``downsample``, followed by a small
  head at the input's full resolution that sees the upsampled UNet features next to the full-resolution
  image, so that outlines are drawn at the input's resolution for little more compute.

A model package whose network is its own (the VQA network, ``mevf-ban-san-milqt``) adds its factory with
:func:`register_architecture` when it is imported, so that this module imports no model package.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from monai.networks.blocks import Convolution
from monai.networks.nets import BasicUNet, DenseNet121
from torch import nn

from vision_models.bundle import BundleConfig


class CompactCNN(nn.Module):
    """Small classifier: ``len(features)`` stages of two 3x3 convolutions and a 2x2 max-pool."""

    def __init__(self, in_channels: int, num_classes: int, features: Sequence[int] = (16, 32, 64, 128),
                 dropout: float = 0.2) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = in_channels
        for width in features:
            layers += [
                Convolution(2, channels, width, act="RELU", norm="BATCH"),
                Convolution(2, width, width, act="RELU", norm="BATCH"),
                nn.MaxPool2d(2),
            ]
            channels = width
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout),
                                  nn.Linear(channels, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def _compact_cnn(params: dict[str, Any]) -> nn.Module:
    return CompactCNN(
        in_channels=params["in_channels"],
        num_classes=params["num_classes"],
        features=tuple(params.get("features", (16, 32, 64, 128))),
        dropout=params.get("dropout", 0.2),
    )


def _densenet121(params: dict[str, Any]) -> nn.Module:
    return DenseNet121(spatial_dims=2, in_channels=params["in_channels"], out_channels=params["num_classes"])


# Normalisation layers of ``basic_unet`` by the name its ``norm`` parameter records (MONAI's default: instance).
UNET_NORMS: dict[str, tuple[str, dict[str, Any]]] = {"instance": ("instance", {"affine": True}), "batch": ("batch", {})}


def _basic_unet(params: dict[str, Any]) -> nn.Module:
    norm = params.get("norm", "instance")
    if norm not in UNET_NORMS:
        raise ValueError(f"Unknown normalisation {norm!r}; known: {sorted(UNET_NORMS)}")
    return BasicUNet(
        spatial_dims=2,
        in_channels=params["in_channels"],
        out_channels=params.get("out_channels", 1),
        features=tuple(params["features"]),
        norm=UNET_NORMS[norm],
        dropout=params.get("dropout", 0.0),
    )


class RefinedUNet(nn.Module):
    """BasicUNet at ``1/downsample`` of the input's resolution plus a full-resolution refinement head.

    The UNet turns the area-averaged input into ``hidden`` feature maps; these are upsampled (bilinear) to the
    input's size, concatenated with the input, and two convolutions (``head_features`` channels, then one
    output channel) give the logits at full resolution.
    """

    def __init__(self, unet: nn.Module, in_channels: int, hidden: int, head_features: int, downsample: int) -> None:
        super().__init__()
        self.unet = unet
        self.downsample = downsample
        self.head = nn.Sequential(
            Convolution(2, in_channels + hidden, head_features, act="RELU", norm="BATCH"),
            nn.Conv2d(head_features, 1, kernel_size=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        coarse = self.unet(F.avg_pool2d(x, self.downsample))
        up = F.interpolate(coarse, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return self.head(torch.cat([x, up], dim=1))


def _refined_basic_unet(params: dict[str, Any]) -> nn.Module:
    hidden = params.get("hidden", 8)
    unet = _basic_unet({**params, "out_channels": hidden})
    return RefinedUNet(unet, params["in_channels"], hidden, params.get("head_features", 16),
                       params.get("downsample", 2))


Factory = Callable[[dict[str, Any]], nn.Module]
ARCHITECTURES: dict[str, Factory] = {
    "compact_cnn": _compact_cnn,
    "densenet121": _densenet121,
    "basic_unet": _basic_unet,
    "basic_unet_norm": _basic_unet,
    "refined_basic_unet": _refined_basic_unet,
}


def register_architecture(name: str) -> Callable[[Factory], Factory]:
    """Decorator: ``factory`` builds the networks of bundles that record ``architecture: name``."""
    def register(factory: Factory) -> Factory:
        if ARCHITECTURES.get(name, factory) is not factory:
            raise ValueError(f"Architecture {name!r} is registered twice")
        ARCHITECTURES[name] = factory
        return factory
    return register


def build_network(architecture: str, params: dict[str, Any]) -> nn.Module:
    """Build the network named ``architecture`` with its factory ``params``."""
    try:
        builder = ARCHITECTURES[architecture]
    except KeyError as exc:
        raise ValueError(f"Unknown architecture {architecture!r}; known: {sorted(ARCHITECTURES)}") from exc
    return builder(params)


def network_from_config(config: BundleConfig) -> nn.Module:
    """Bundle factory: rebuild the network a bundle config describes."""
    return build_network(config.architecture, config.params)


def count_parameters(network: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in network.parameters() if p.requires_grad)
