"""HospitalNetwork: choice by distance and capability, parallel asks with a deadline, fail-over."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest
import pytest_asyncio

from hospitals import HospitalError, HospitalNetwork
from hospitals.local import ModelRegistry
from qaid.settings import Location, Settings, load_settings
from tests.support.hospitals import (
    HOSPITALS,
    CallLog,
    png_bytes,
    registry_for,
    stand_in_loaders,
    write_services,
)

LONDON = {"latitude": 51.50, "longitude": -0.12}
STOCKHOLM = Location(59.33, 18.06)


@pytest_asyncio.fixture
async def network(settings: Settings, log: CallLog):
    net = HospitalNetwork.from_settings(settings, registry_for(log))
    await net.start()
    yield net
    await net.close()


@pytest.mark.asyncio
async def test_models_load_once_and_run_off_the_event_loop(network: HospitalNetwork, log: CallLog) -> None:
    assert sorted(log.loaded) == sorted(
        [("prefilter", "prefilter"), ("label", "labeller"), ("segmentation", "segmentation"),
         ("vqa", "vqa_rad_only"), ("vqa", "slake_only"), ("vqa", "vqa")]
    )
    await network.ask(png_bytes(), "Is there a tumour?", {"PRES": 0.9}, "brain_mri", LONDON)
    await network.screen(png_bytes())
    assert log.threads and all(name.startswith("hospital-model") for name in log.threads)
    assert threading.main_thread().name not in log.threads
    assert len(log.loaded) == 6


@pytest.mark.asyncio
async def test_nearest_sorts_by_distance_and_filters_by_capability(network: HospitalNetwork) -> None:
    everyone = await network.nearest(LONDON)
    assert [h.name for h in everyone] == ["London", "Paris", "Berlin", "Stockholm"]
    assert everyone[0].distance_km < 5 and everyone[1].distance_km == pytest.approx(343, abs=5)
    assert [h.name for h in await network.nearest(STOCKHOLM, capability="vqa")] == ["Berlin", "London", "Paris"]
    assert [h.name for h in await network.nearest(LONDON, capability="vqa", image_type="fundus")] == ["Paris"]
    assert (await network.nearest(None, capability="segmentation"))[0].distance_km is None


@pytest.mark.asyncio
async def test_ask_combines_by_confidence_and_accuracy(network: HospitalNetwork) -> None:
    answer = await network.ask(png_bytes(), "Is there a tumour?", {"PRES": 0.8, "ABN": 0.2}, "brain_mri", LONDON)
    # London yes 0.9×0.8, Paris yes 0.7×0.75, Berlin no 0.6×0.7
    assert answer.answer == "yes"
    assert (answer.answered, answer.asked) == (3, 3)
    assert answer.question_type == "PRES"
    assert answer.agreement == pytest.approx((0.72 + 0.525) / (0.72 + 0.525 + 0.42), abs=1e-3)
    assert answer.confidence == pytest.approx((0.72 + 0.525) / (0.8 + 0.75 + 0.7), abs=1e-3)
    assert [c.hospital for c in answer.contributions] == ["London", "Paris", "Berlin"]
    assert not answer.disagreement


@pytest.mark.asyncio
async def test_image_type_limits_the_hospitals_asked(network: HospitalNetwork) -> None:
    answer = await network.ask(png_bytes(), "What is shown?", None, "fundus", LONDON)
    assert [c.hospital for c in answer.contributions] == ["Paris"] and answer.asked == 1


@pytest.mark.asyncio
async def test_late_hospitals_are_left_out_by_the_deadline(tmp_path: Path, weights: Path, log: CallLog) -> None:
    settings = load_settings(write_services(tmp_path, HOSPITALS, aggregator={"deadline_s": 0.5}), env={})
    net = HospitalNetwork.from_settings(settings, registry_for(log, delays={"slake_only": 3.0}))
    await net.start()
    try:
        answer = await net.ask(png_bytes(), "Is it normal?", {"ABN": 1.0}, "brain_mri", LONDON)
    finally:
        await net.close()
    assert (answer.answered, answer.asked) == (2, 3)
    late = next(c for c in answer.contributions if c.hospital == "Berlin")
    assert late.error and "0.5s" in late.error and late.answer is None


@pytest.mark.asyncio
async def test_screen_refuses_non_medical_and_labels_medical(network: HospitalNetwork) -> None:
    refused = await network.screen(png_bytes(colour=True))
    assert refused.is_medical is False and refused.reason and refused.label is None
    accepted = await network.screen(png_bytes(), LONDON)
    assert accepted.is_medical and accepted.label.label == "brain_mri" and accepted.hospital == "London"


@pytest.mark.asyncio
async def test_unreadable_images_raise_a_patient_safe_error(network: HospitalNetwork) -> None:
    with pytest.raises(HospitalError) as caught:
        await network.screen(b"definitely not an image")
    assert caught.value.code == "not_an_image" and caught.value.status == 400


@pytest.mark.asyncio
async def test_segmentation_stores_the_overlay_in_media(network: HospitalNetwork, settings: Settings) -> None:
    report = await network.segment(png_bytes(), "brain_mri", LONDON)
    assert report.hospital == "Stockholm" and report.lesion_fraction == pytest.approx(0.1)
    assert report.lesion_side == "left"
    stored = settings.var_dir / report.overlay_path
    assert stored.is_file() and stored.name == f"{report.overlay_sha256}.png"


@pytest.mark.asyncio
async def test_insights_are_combined_per_key(network: HospitalNetwork) -> None:
    findings = {f.key: f for f in await network.insights(png_bytes(), "brain_mri", LONDON)}
    assert set(findings) == {"abnormal", "organ"}
    assert findings["organ"].result.answer == "brain" and findings["organ"].result.agreement == 1.0
    assert findings["abnormal"].result.answered == 3


@pytest.mark.asyncio
async def test_missing_bundle_drops_the_capability_with_a_warning(
    tmp_path: Path, weights: Path, log: CallLog, caplog: pytest.LogCaptureFixture
) -> None:
    (weights / "slake_only" / "config.json").unlink()
    settings = load_settings(write_services(tmp_path, HOSPITALS), env={})
    net = HospitalNetwork.from_settings(settings, registry_for(log))
    with caplog.at_level(logging.WARNING):
        await net.start()
    try:
        assert "slake_only" in caplog.text and "Berlin" in caplog.text
        berlin = next(h for h in await net.nearest(LONDON) if h.name == "Berlin")
        assert berlin.capabilities == ["label", "prefilter"]
        answer = await net.ask(png_bytes(), "Is there a tumour?", {"PRES": 1.0}, "brain_mri", LONDON)
        assert answer.asked == 2
    finally:
        await net.close()


@pytest.mark.asyncio
async def test_no_able_hospital_is_a_clear_error(tmp_path: Path, weights: Path, log: CallLog) -> None:
    settings = load_settings(write_services(tmp_path, HOSPITALS[:2]), env={})
    net = HospitalNetwork.from_settings(settings, registry_for(log))
    await net.start()
    try:
        with pytest.raises(HospitalError, match="segmentation") as caught:
            await net.segment(png_bytes())
        assert caught.value.code == "no_hospital"
    finally:
        await net.close()


@pytest.mark.asyncio
async def test_a_broken_bundle_costs_its_capability_not_the_server(
    settings: Settings, log: CallLog, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(path: Path) -> None:
        raise RuntimeError("Error(s) in loading state_dict: size mismatch")

    loaders = stand_in_loaders(log) | {"segmentation": broken}
    network = HospitalNetwork.from_settings(settings, ModelRegistry(loaders))
    with caplog.at_level(logging.ERROR):
        await network.start()
    try:
        assert "size mismatch" in caplog.text
        assert await network.nearest(None, capability="segmentation") == []
        assert (await network.ask(png_bytes(), "Is it normal?", {"ABN": 1.0}, "brain_mri")).answered == 3
    finally:
        await network.close()
