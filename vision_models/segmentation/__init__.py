"""Brain-MRI FLAIR-abnormality segmentation (MONAI BasicUNet)."""

from vision_models.segmentation.model import SegmentationResult, Segmenter

__all__ = ["SegmentationResult", "Segmenter"]
