"""Fixtures for the attack tests: the action server's real intake and outbox in a temporary var folder."""

from __future__ import annotations

from pathlib import Path

import pytest

import actions.runtime as runtime
from tests.support.actions import install_services
from tests.support.transcripts import settings, tracker, transcript  # noqa: F401  (shared fixtures)


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> runtime.Services:
    """Real intake and transcript outbox under ``tmp_path/var``; a recording hospital network."""
    return install_services(tmp_path / "var", monkeypatch)
