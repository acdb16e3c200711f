"""Shell client: /image PATH, pasted paths and numbered buttons go through the qaid_rest intake."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from rasa.core.channels.channel import UserMessage

from channels.rest import MediaRestInput
from channels.shell import Outgoing, ShellClient, parse_line
from tests.support.channel_images import dicom_bytes, png_bytes

WEBHOOK = "/webhooks/qaid_rest/webhook"


@pytest.fixture
def scan(tmp_path: Path) -> Path:
    path = tmp_path / "my scans" / "knee x-ray.png"
    path.parent.mkdir()
    path.write_bytes(png_bytes())
    return path


def test_parse_image_commands_and_pasted_paths(scan: Path):
    assert parse_line(f'/image "{scan}" is it broken?', []) == Outgoing(text="is it broken?", image=scan)
    assert parse_line(f"/image {str(scan).replace(' ', chr(92) + ' ')}", []) == Outgoing(image=scan)
    assert parse_line(f"'{scan}'", []) == Outgoing(image=scan)
    assert parse_line(f"file://{str(scan).replace(' ', '%20')}", []) == Outgoing(image=scan)
    assert parse_line("/image /no/such/file.png", []) == "No file at /no/such/file.png"
    assert parse_line("/image", []) == "Usage: /image PATH [question]"
    assert parse_line("what is 2/3 of this?", []) == Outgoing(text="what is 2/3 of this?")
    assert parse_line("/greet", []) == Outgoing(text="/greet")
    assert parse_line("   ", []) is None


def test_numbers_choose_buttons():
    buttons = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
    assert parse_line("2", buttons) == Outgoing(text="/deny")
    assert parse_line("3", buttons) == Outgoing(text="3")
    assert parse_line("42", []) == Outgoing(text="42")


@pytest.mark.asyncio
async def test_repl_uploads_images_and_saves_bot_images(serve, media_store, scan, tmp_path):
    overlay = media_store.store(png_bytes(color=(255, 0, 0)))

    async def reply(message: UserMessage) -> None:
        out = message.output_channel
        if message.text == "/send_image":
            await out.send_response(message.sender_id, {"text": "Got it. Share it?", "buttons": [
                {"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]})
        elif message.text == "where is it?":
            await out.send_text_message(message.sender_id, "Here:")
            await out.send_image_url(message.sender_id, f"http://localhost:5005/media/{overlay.name}")

    server = await serve(MediaRestInput(store=media_store), reply=reply)
    dicom = tmp_path / "head.dcm"
    dicom.write_bytes(dicom_bytes())
    output = io.StringIO()
    base = server.base_url
    client = ShellClient(base + WEBHOOK, "tester", tmp_path / "saved", out=output)
    script = f"{dicom}\n2\n/image '{scan}' where is it?\n/quit\nnever sent\n"
    await asyncio.to_thread(client.repl, io.StringIO(script))

    first, choice, scan_message, question = server.bot.messages
    assert first.text == "/send_image" and first.metadata["image"]["channel"] == "shell"
    assert first.metadata["image"]["media_type"] == "application/dicom"
    assert choice.text == "/deny"
    assert scan_message.text == "/send_image" and scan_message.metadata["image"]["filename"] == "knee x-ray.png"
    assert question.text == "where is it?" and "image" not in question.metadata
    printed = output.getvalue()
    assert "Q&Aid: Got it. Share it?\n  1. Yes\n  2. No\n" in printed
    saved = tmp_path / "saved" / overlay.name
    assert f"Q&Aid sent an image: {saved}" in printed
    assert saved.read_bytes() == png_bytes(color=(255, 0, 0))


def test_unreachable_server_is_reported(tmp_path, scan):
    output = io.StringIO()
    client = ShellClient("http://127.0.0.1:9/webhooks/qaid_rest/webhook", "t", tmp_path, out=output)
    client.send(Outgoing(text="hello"))
    assert "Is the assistant running" in output.getvalue()
