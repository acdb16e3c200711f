"""Inference API of the image-type labeller."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from qaid.image_types import UNSURE, display_name
from vision_models.bundle import load_bundle
from vision_models.calibration import softmax
from vision_models.classifier import ClassifierRuntime
from vision_models.imaging import ImageSource, load_image
from vision_models.labeller.config import DEFAULT_BUNDLE
from vision_models.networks import network_from_config


@dataclass(frozen=True)
class LabelResult:
    """Calibrated image type; ``label`` is ``None`` and ``unsure`` true below the confidence threshold."""

    label: str | None
    display_name: str
    confidence: float
    probabilities: dict[str, float]
    unsure: bool


class Labeller:
    """Which kind of medical image this is, with temperature-scaled probabilities.

    The temperature and the abstention threshold were chosen on a calibration split at training
    time and are read from the bundle. Thread-safe; weights are loaded once.
    """

    def __init__(self, runtime: ClassifierRuntime) -> None:
        self.runtime = runtime
        self.classes = list(runtime.config.classes)
        self.temperature = float(runtime.config.extra.get("temperature", 1.0))
        self.threshold = float(runtime.config.extra.get("threshold", 0.0))

    @classmethod
    def load(cls, location: Path | str = DEFAULT_BUNDLE, cache_dir: Path | None = None) -> Labeller:
        """Load a bundle from a folder or an ``http(s)://`` URL (checksum verified)."""
        return cls(ClassifierRuntime(load_bundle(location, network_from_config, cache_dir)))

    def predict(self, image: ImageSource) -> LabelResult:
        """Label one image (bytes, path or PIL image)."""
        return self.predict_batch([image])[0]

    def predict_batch(self, images: Sequence[ImageSource]) -> list[LabelResult]:
        """Label several images in one forward pass."""
        decoded = [load_image(im) for im in images]
        results = []
        for row in softmax(self.runtime.logits(decoded), self.temperature):
            best = int(row.argmax())
            confidence = float(row[best])
            unsure = confidence < self.threshold
            label = None if unsure else self.classes[best]
            results.append(LabelResult(
                label=label,
                display_name=UNSURE if unsure else display_name(self.classes[best]),
                confidence=confidence,
                probabilities={name: float(p) for name, p in zip(self.classes, row)},
                unsure=unsure,
            ))
        return results
