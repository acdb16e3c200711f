"""Operator commands: outbox list / attempts / retry / deliver --once (``python -m transcripts``) and the
hospital's inbox list / show (``python -m hospital_service``)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from hospital_service.__main__ import main as hospital_main
from hospital_service.inbox import EmbeddedInbox
from qaid.settings import Settings
from transcripts.__main__ import main
from transcripts.model import Transcript
from transcripts.outbox import Attempt
from transcripts.service import TranscriptService


def test_outbox_commands_show_and_requeue_dead_deliveries(
    settings: Settings, transcript: Transcript, capsys: pytest.CaptureFixture[str]
) -> None:
    service = TranscriptService.from_settings(settings)
    [delivery_id] = service.queue(transcript, ["North"])
    outbox = service.outbox
    assert [d.id for d in outbox.claim("op-test", 10, 60, now=time.time() + 1)] == [delivery_id]
    later = time.time() + 4 * 86400  # past the 3-day dead-letter period
    outbox.mark_failed(Attempt(delivery_id, "op-test", later, None, "ConnectionRefused", 3.0), next_attempt_at=later)
    config = ["--config", str(settings.path)]

    assert main([*config, "outbox", "list", "--status", "dead"]) == 0
    listing = capsys.readouterr().out
    assert delivery_id in listing and "ConnectionRefused" in listing and "dead=1" in listing

    assert main([*config, "outbox", "attempts", delivery_id]) == 0
    assert "ConnectionRefused" in capsys.readouterr().out

    assert main([*config, "outbox", "retry"]) == 2
    assert main([*config, "outbox", "retry", "--dead"]) == 0
    assert "1 deliveries queued again" in capsys.readouterr().out

    assert main([*config, "outbox", "list", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["id"] == delivery_id and row["status"] == "pending" and "body" not in row


def test_deliver_once_reports_attempts_and_inbox_list_is_empty_without_inbox(
    settings: Settings, transcript: Transcript, capsys: pytest.CaptureFixture[str]
) -> None:
    TranscriptService.from_settings(settings).queue(transcript, ["North", "South"])
    config = ["--config", str(settings.path)]
    assert main([*config, "outbox", "deliver", "--once"]) == 0  # nobody listens: both attempts fail
    assert "2 delivery attempts made" in capsys.readouterr().out
    assert hospital_main([*config, "inbox", "list"]) == 0
    assert capsys.readouterr().out == ""


def test_bad_config_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(tmp_path / "missing.yml"), "outbox", "list"]) == 2
    assert "Configuration error" in capsys.readouterr().err


@pytest.mark.asyncio
async def test_inbox_list_and_show_a_delivered_transcript(
    settings: Settings, transcript: Transcript, capsys: pytest.CaptureFixture[str]
) -> None:
    service, inbox = TranscriptService.from_settings(settings), EmbeddedInbox(settings)
    await inbox.start()
    await service.start()
    try:
        await asyncio.to_thread(service.queue, transcript, ["South"])
        for _ in range(100):
            if service.outbox.counts() == {"delivered": 1}:
                break
            await asyncio.sleep(0.05)
    finally:
        await service.stop()
        await inbox.stop()
    config = ["--config", str(settings.path)]
    assert hospital_main([*config, "inbox", "list", "--hospital", "South"]) == 0
    key = f"{transcript.transcript_id}:South"
    assert key in capsys.readouterr().out
    assert hospital_main([*config, "inbox", "show", key]) == 0
    assert capsys.readouterr().out.startswith("<!DOCTYPE html>")
    assert hospital_main([*config, "inbox", "show", key, "--format", "fhir"]) == 0
    assert json.loads(capsys.readouterr().out)["resourceType"] == "Bundle"
    assert hospital_main([*config, "inbox", "show", "nope"]) == 1
