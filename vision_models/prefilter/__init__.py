"""Medical-image prefilter: is this a usable medical image at all?"""

from vision_models.prefilter.model import Prefilter, PrefilterResult

__all__ = ["Prefilter", "PrefilterResult"]
