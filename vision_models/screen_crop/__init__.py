"""Finding the displayed image in a photo of a screen, and rectifying it (issue 18)."""

from vision_models.screen_crop.model import ScreenCropper, ScreenFinding

__all__ = ["ScreenCropper", "ScreenFinding"]
