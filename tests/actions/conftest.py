"""Fixtures for action tests: services with a recording hospital network, and an image in the media store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import actions.runtime as runtime
from tests.support.actions import install_services
from tests.support.media import put_in_media
from tests.support.phantoms import head_phantom, png_bytes


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> runtime.Services:
    """Real intake and transcript outbox in a temporary var folder; a recording hospital network."""
    return install_services(tmp_path, monkeypatch)


@pytest.fixture
def stored_image(services: runtime.Services) -> dict[str, Any]:
    """A brain-MRI-like image already in the media store, as the ``images`` slot holds it."""
    reference = put_in_media(services.settings.var_dir, png_bytes(head_phantom(64)), "png")
    stored = services.intake.ingest(reference, "patient-a")
    return stored.to_slot() | {"label": "brain_mri", "confidence": 0.97}
