"""Services configs and the shared fixtures (tracker dump, transcript, settings) of the transcript and attack tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.servers import free_port
from qaid.settings import Settings, load_settings
from transcripts.build import transcript_from_events
from transcripts.model import Transcript

DATA = Path(__file__).resolve().parents[1] / "transcripts" / "data"


def services_config(tmp_path: Path, port: int, **delivery: Any) -> dict[str, Any]:
    """A services.yml mapping with two hospitals delivering to an inbox on ``port``."""
    intake = f"http://127.0.0.1:{port}/intake"
    hospital = {"local": True, "capabilities": {}, "location": {"lat": 51.5, "lon": -0.1}}
    return {
        "storage": {"var_dir": str(tmp_path / "var")},
        "delivery": {"poll_interval_s": 0.1, "backoff_base_s": 0.05, "backoff_max_s": 0.2, "timeout_s": 2,
                     "lease_s": 2, **delivery},
        "inbox": {"embedded": True, "port": port, "max_body_bytes": 300_000, "timestamp_window_s": 30},
        "hospitals": [
            {**hospital, "name": "North", "intake": {"url": f"{intake}/north", "secret": "north-secret"}},
            {**hospital, "name": "South", "intake": {"url": f"{intake}/south", "secret": "south-secret"}},
            {**hospital, "name": "NoIntake"},
        ],
    }


def write_config(tmp_path: Path, data: dict[str, Any]) -> Path:
    """Write ``data`` to ``tmp_path/services.yml``; returns its path."""
    path = tmp_path / "services.yml"
    path.write_text(yaml.safe_dump(data))
    return path


# Fixtures: the conftests of tests/transcripts and tests/security/action_server import them from here.


@pytest.fixture
def tracker() -> dict[str, Any]:
    return json.loads((DATA / "tracker.json").read_text())


@pytest.fixture
def transcript(tracker: dict[str, Any]) -> Transcript:
    return transcript_from_events(tracker["sender_id"], tracker["events"], {"urgent": True})


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(write_config(tmp_path, services_config(tmp_path, free_port())), env={})
