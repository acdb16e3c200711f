"""Image-type labeller: which kind of medical image (brain MRI, chest X-ray, ...)."""

from vision_models.labeller.model import Labeller, LabelResult

__all__ = ["LabelResult", "Labeller"]
