"""A photo of a screen is cropped to the displayed image at intake, and every model reads the crop (issue 18)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image
from rasa_sdk.executor import CollectingDispatcher

from actions.images import ActionProcessImage
from actions.runtime import Services, screen_cropper
from qaid.settings import load_settings
from tests.support.actions import load_tracker
from tests.support.media import put_in_media
from tests.support.phantoms import head_phantom, png_bytes
from vision_models.screen_crop import ScreenFinding

CORNERS = ((-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5))


class StandInFinder:
    """Calls every image a screen photo (or none), with the displayed image in the middle half."""

    def __init__(self, screen: bool) -> None:
        self.screen = screen

    def crop(self, image: Any) -> tuple[Image.Image, ScreenFinding]:
        finding = ScreenFinding(self.screen, 0.9 if self.screen else 0.1, CORNERS)
        return (image.crop((16, 16, 48, 48)) if self.screen else image), finding


def _photo(services: Services) -> dict[str, Any]:
    return put_in_media(services.settings.var_dir, png_bytes(head_phantom(64)), "png")


def test_a_photo_of_a_screen_is_stored_cropped_with_the_photo_beside_it(services: Services) -> None:
    services.intake.cropper = StandInFinder(screen=True)  # type: ignore[assignment]
    reference = _photo(services)
    stored = services.intake.ingest(reference, "patient-a")
    assert stored.source_path == reference["path"] and stored.path != reference["path"]
    assert (stored.width, stored.height, stored.media_type) == (32, 32, "image/png")
    assert stored.screen == {"probability": 0.9, "corners": [list(c) for c in CORNERS]}
    assert Image.open(services.settings.var_dir / stored.path).size == (32, 32)
    erased = services.intake.erase("patient-a", stored.to_slot())
    assert not (services.settings.var_dir / stored.path).exists()
    assert not (services.settings.var_dir / reference["path"]).exists() and erased == []


def test_a_file_is_stored_as_sent(services: Services) -> None:
    services.intake.cropper = StandInFinder(screen=False)  # type: ignore[assignment]
    reference = _photo(services)
    stored = services.intake.ingest(reference, "patient-a")
    assert stored.path == reference["path"] and stored.source_path is None and stored.screen is None


async def test_the_patient_sees_the_crop_the_models_read(services: Services) -> None:
    services.intake.cropper = StandInFinder(screen=True)  # type: ignore[assignment]
    tracker = load_tracker("image", consent_given=True, images=None)
    tracker.latest_message["metadata"]["image"]["path"] = _photo(services)["path"]
    dispatcher = CollectingDispatcher()
    events = await ActionProcessImage().run(dispatcher, tracker, {})
    [record] = next(e["value"] for e in events if e.get("name") == "images")
    shown = [m for m in dispatcher.messages if m.get("image")]
    assert shown and "straightened" in shown[0]["text"] and shown[0]["image"].endswith(record["path"])
    assert record["screen"]["probability"] == 0.9
    assert services.hospitals.calls[0][0] == "screen"


def test_services_yml_names_the_committed_finder(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.screen_crop == "screen_crop"
    finder = screen_cropper(settings)
    assert finder is not None and finder.config.name == "screen_crop"
