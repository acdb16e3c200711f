"""Attack: make the action server read a file of the attacker's choosing through the image metadata.

Before the fix, ``file://`` URLs and any path under the state folder were opened, labelled, answered
and outlined (the overlay carried the pixels back), and "missing" vs "not an image" replies told which
files existed. Now only ``media/<sha256>.<ext>`` files whose bytes hash to their name are read, and every
other reference gets the one "please attach it again" reply, with no model called and no slot set.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions.images import ActionProcessImage
from actions.runtime import Services
from qaid.images import refusal
from tests.support.actions import load_tracker
from tests.support.media import put_in_media
from tests.support.phantoms import head_phantom, png_bytes

REPO = Path(__file__).resolve().parents[3]


def _secret_png(tmp_path: Path) -> Path:
    secret = tmp_path / "secret scan.png"
    secret.write_bytes(png_bytes(head_phantom(32)))
    return secret


def _references(tmp_path: Path, var_dir: Path) -> list[dict[str, Any]]:
    secret = _secret_png(tmp_path)
    inside_var = var_dir / "rasa_tracker_copy.png"
    inside_var.parent.mkdir(parents=True, exist_ok=True)
    inside_var.write_bytes(secret.read_bytes())
    digest = hashlib.sha256(secret.read_bytes()).hexdigest()
    link = var_dir / "media" / f"{digest}.png"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(secret)
    return [
        {"url": secret.as_uri()},
        {"url": "file:///etc/passwd"},
        {"url": "file:///no/such/file.png"},
        {"path": str(secret)},
        {"path": "/etc/passwd"},
        {"path": "rasa_tracker_copy.png"},
        {"path": "media/../rasa_tracker_copy.png"},
        {"path": f"media/../../{secret.name}"},
        {"path": f"media/{digest}.png"},  # a symlink planted in the media folder
        {"base64": "iVBORw0KGgo="},
        {"path": ["media/x.png"]},
    ]


async def _send(services: Services, reference: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    tracker = load_tracker("image", consent_given=True, images=None)
    tracker.latest_message["metadata"] = {"image": reference}
    dispatcher = CollectingDispatcher()
    events = await ActionProcessImage().run(dispatcher, tracker, {})
    return events, "\n".join(m.get("text") or "" for m in dispatcher.messages)


async def test_no_reference_outside_the_media_store_is_read(services: Services, tmp_path: Path) -> None:
    replies = set()
    for reference in _references(tmp_path, services.settings.var_dir):
        events, text = await _send(services, reference)
        assert events == [], reference
        assert text.startswith(refusal("missing")), (reference, text)
        replies.add(text)
    assert len(replies) == 1  # one reply whatever exists: no oracle
    assert services.hospitals.calls == []


async def test_a_media_file_that_does_not_match_its_hash_is_refused(services: Services) -> None:
    reference = put_in_media(services.settings.var_dir, png_bytes(head_phantom(32)), "png")
    target = services.settings.var_dir / reference["path"]
    target.write_bytes(png_bytes(head_phantom(40)))  # replaced behind the channel's back
    events, text = await _send(services, reference)
    assert events == [] and text.startswith(refusal("missing")) and services.hospitals.calls == []


async def test_a_channel_stored_image_is_still_accepted(services: Services) -> None:
    reference = put_in_media(services.settings.var_dir, png_bytes(head_phantom(32)), "png")
    events, text = await _send(services, reference)
    assert "This looks like a brain MRI" in text
    assert [e["name"] for e in events] == ["images"]


@pytest.mark.parametrize("header", [b"P6\n32 32\n255\n", b"%!PS-Adobe-3.0 EPSF-3.0\n"])
async def test_pillow_opens_only_the_accepted_formats(services: Services, header: bytes) -> None:
    data = header + bytes(32 * 32 * 3)
    digest = hashlib.sha256(data).hexdigest()
    reference = put_in_media(services.settings.var_dir, data, "png")
    assert reference["path"] == f"media/{digest}.png"
    events, text = await _send(services, reference)
    assert events == [] and "not an image I can read" in text and services.hospitals.calls == []


def test_rasa_rest_channel_is_not_enabled_by_default() -> None:
    """Rasa's plain ``rest`` channel passes client metadata through; the embedded default must not serve it."""
    channels = yaml.safe_load((REPO / "credentials.yml").read_text())
    assert "rest" not in channels
    assert "channels.rest.MediaRestInput" in channels
