"""Fixtures for the hospital tests: bundle configs written to a temporary weights folder and small stand-in
models (defined in :mod:`tests.support.hospitals`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qaid.settings import Settings, load_settings
from tests.support.hospitals import ACCURACY, HOSPITALS, QUESTION_TYPES, CallLog, write_bundle, write_services


@pytest.fixture
def weights(tmp_path: Path) -> Path:
    folder = tmp_path / "weights"
    for name in ("prefilter", "labeller", "segmentation"):
        write_bundle(folder, name)
    for name, accuracy in ACCURACY.items():
        by_type = {qtype: accuracy for qtype in QUESTION_TYPES}
        write_bundle(folder, name, {"val_accuracy": accuracy, "val_accuracy_by_type": by_type})
    return folder


@pytest.fixture
def settings(tmp_path: Path, weights: Path) -> Settings:
    return load_settings(write_services(tmp_path, HOSPITALS), env={})


@pytest.fixture
def log() -> CallLog:
    return CallLog()
