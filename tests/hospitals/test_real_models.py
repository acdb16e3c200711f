"""LocalHospital with the real vision_models classes, loading tiny untrained bundles built here."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch

from hospitals import HospitalNetwork
from qaid.settings import load_settings
from tests.support.hospitals import png_bytes, write_services
from vision_models.bundle import BundleConfig, save_bundle
from vision_models.labeller import config as labeller_config
from vision_models.prefilter import config as prefilter_config
from vision_models.segmentation import config as segmentation_config


def tiny_bundles(weights: Path) -> None:
    """Untrained networks in real bundle format (the outputs are meaningless, the plumbing is real)."""
    torch.manual_seed(0)
    prefilter = prefilter_config.PrefilterConfig(input_size=32, features=(4, 8))
    save_bundle(prefilter_config.create_network(prefilter),
                BundleConfig(name="prefilter", architecture=prefilter.architecture, params=prefilter.network_params(),
                             input_size=32, channels=3, classes=prefilter_config.CLASSES, version="0.0.1",
                             extra={"threshold": 0.0}),
                weights / "prefilter")
    classes = ["brain_mri", "chest_xray"]
    labeller = labeller_config.LabellerConfig(input_size=32, features=(4, 8))
    save_bundle(labeller_config.create_network(labeller, len(classes)),
                BundleConfig(name="labeller", architecture=labeller.architecture,
                             params=labeller.network_params(len(classes)), input_size=32, channels=1,
                             classes=classes, version="0.0.1"),
                weights / "labeller")
    segmenter = segmentation_config.SegmentationConfig(input_size=32, features=(4, 4, 8, 8, 16, 4))
    save_bundle(segmentation_config.create_network(segmenter),
                BundleConfig(name="segmentation", architecture=segmentation_config.ARCHITECTURE,
                             params=segmenter.network_params(), input_size=32, channels=3, version="0.0.1"),
                weights / "segmentation")


@pytest.mark.asyncio
async def test_real_model_classes_serve_through_the_network(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    weights = tmp_path / "weights"
    tiny_bundles(weights)
    hospitals = [
        {"name": "Screen", "city": "A", "location": {"lat": 1, "lon": 1}, "local": True,
         "capabilities": {"prefilter": "prefilter", "label": "labeller", "vqa": "vqa_rad_only"}},
        {"name": "Segment", "city": "B", "location": {"lat": 2, "lon": 2}, "local": True,
         "capabilities": {"segmentation": "segmentation"}, "image_types": ["brain_mri"]},
    ]
    settings = load_settings(write_services(tmp_path, hospitals), env={})
    network = HospitalNetwork.from_settings(settings)
    with caplog.at_level(logging.WARNING):
        await network.start()
    try:
        assert "vqa_rad_only" in caplog.text  # not built here: the capability is dropped with a warning
        screening = await network.screen(png_bytes(size=64))
        assert screening.hospital == "Screen" and 0.0 <= screening.probability <= 1.0
        if screening.is_medical:
            assert screening.label is not None and 0.0 <= screening.label.confidence <= 1.0
        report = await network.segment(png_bytes(size=64), "brain_mri")
        assert report.hospital == "Segment" and report.brain_pixels >= 0 and 0.0 <= report.lesion_fraction <= 1.0
        assert (settings.var_dir / report.overlay_path).is_file()
        answer = await network.ask(png_bytes(size=64), "Is there a tumour?", {"PRES": 1.0}, "brain_mri")
        assert (answer.asked, answer.answer) == (0, None)
    finally:
        await network.close()
