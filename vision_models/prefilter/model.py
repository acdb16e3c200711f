"""Inference API of the medical-image prefilter."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vision_models.bundle import load_bundle
from vision_models.calibration import softmax
from vision_models.classifier import ClassifierRuntime
from vision_models.imaging import ImageSource, load_image
from vision_models.networks import network_from_config
from vision_models.prefilter.checks import DOCUMENT, NOT_MEDICAL, Rejection, check_image
from vision_models.prefilter.config import DEFAULT_BUNDLE


@dataclass(frozen=True)
class PrefilterResult:
    """Whether an image is a usable medical image; ``code``/``reason`` explain a refusal."""

    is_medical: bool
    probability: float
    code: str | None = None
    reason: str | None = None


class Prefilter:
    """Medical vs everyday image, plus rule checks (too small, extreme aspect ratio, blank).

    ``probability`` is the network's probability that the image is medical (0.0 when a rule
    rejected it before the network ran). Thread-safe; weights are loaded once.
    """

    def __init__(self, runtime: ClassifierRuntime) -> None:
        self.runtime = runtime
        self.threshold = float(runtime.config.extra.get("threshold", 0.5))
        classes = runtime.config.classes
        self._medical = classes.index("medical")
        self._everyday = classes.index("non_medical")
        self._document = classes.index("document") if "document" in classes else None

    @classmethod
    def load(cls, location: Path | str = DEFAULT_BUNDLE, cache_dir: Path | None = None) -> Prefilter:
        """Load a bundle from a folder or an ``http(s)://`` URL (checksum verified)."""
        return cls(ClassifierRuntime(load_bundle(location, network_from_config, cache_dir)))

    def predict(self, image: ImageSource) -> PrefilterResult:
        """Judge one image (bytes, path or PIL image)."""
        return self.predict_batch([image])[0]

    def predict_batch(self, images: Sequence[ImageSource]) -> list[PrefilterResult]:
        """Judge several images with one forward pass for those that pass the rule checks."""
        decoded = [load_image(im) for im in images]
        rejections = [check_image(im) for im in decoded]
        to_score = [im for im, rejection in zip(decoded, rejections) if rejection is None]
        scored = iter(softmax(self.runtime.logits(to_score)).tolist())
        results = []
        for rejection in rejections:
            if rejection is not None:
                results.append(PrefilterResult(False, 0.0, rejection.code, rejection.reason))
                continue
            probabilities = next(scored)
            p = probabilities[self._medical]
            if p >= self.threshold:
                results.append(PrefilterResult(True, p))
            else:
                refusal = self._refusal(probabilities)
                results.append(PrefilterResult(False, p, refusal.code, refusal.reason))
        return results

    def _refusal(self, probabilities: list[float]) -> Rejection:
        """``document`` when the bundle has that class and it beats the everyday-photo class, else ``not_medical``."""
        if self._document is not None and probabilities[self._document] > probabilities[self._everyday]:
            return DOCUMENT
        return NOT_MEDICAL
