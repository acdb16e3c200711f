"""End to end: the real action server and Rasa server, a real image and a question over REST.

Starts ``bot.cli run`` on free ports (committed model weights, embedded hospitals and inbox),
talks to it through the ``qaid_rest`` channel, and checks the bot's replies and that the
transcript was queued and delivered to the hospital inbox exactly once.
"""

from __future__ import annotations

import time
import uuid

import pytest

from hospital_service.inbox import InboxStore
from tests.support.phantoms import head_phantom, photo_like, png_bytes
from tests.support.stack import Stack, start_stack
from transcripts.outbox import Outbox


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Stack:
    running = start_stack(tmp_path_factory.mktemp("var"))
    yield running
    assert running.stop() == 0, "\n".join(running.log[-40:])
    assert any("[qaid] stopping" in line for line in running.log)


def texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def test_consultation_over_rest(stack: Stack) -> None:
    sender = f"e2e-{uuid.uuid4().hex[:8]}"

    greeting = stack.say(sender, "hello")
    assert "Do you agree" in texts(greeting)
    assert any(m.get("buttons") for m in greeting)

    consent = stack.say(sender, "yes")
    assert "consent is recorded" in texts(consent)

    photo = stack.send_image(sender, png_bytes(photo_like()), "holiday.png")
    assert "medical image" in texts(photo).lower() and "this looks like" not in texts(photo).lower()

    scan = stack.send_image(sender, png_bytes(head_phantom(256)), "head.png")
    assert "This looks like" in texts(scan)

    answer = texts(stack.say(sender, "is there any abnormality in the brain?"))
    # an answer with its confidence, an abstention, or (when it contradicts the first look) "unsure"
    answered = ("hospitals answered" in answer or "hospital answered" in answer) and "%" in answer
    assert answered or "not sure enough" in answer or "unsure about this image" in answer, answer
    assert "100%" not in answer

    second = png_bytes(head_phantom(200))
    captioned = texts(stack.send_image(sender, second, "second.png", caption="what organ is this?"))
    assert "This looks like" in captioned  # the image is screened first...
    assert "answered" in captioned or "not sure enough" in captioned  # ...then the caption is answered about it

    goodbye = texts(stack.say(sender, "bye"))
    assert "sent your transcript" in goodbye and "Goodbye" in goodbye

    outbox = Outbox(f"sqlite:///{stack.var_dir / 'outbox.sqlite'}", dead_letter_after_s=86400)
    inbox = InboxStore(f"sqlite:///{stack.var_dir / 'inbox.sqlite'}")
    conversation = f"rest:{sender}"  # the REST channel's namespace
    queued = outbox.find(conversation_id=conversation)
    assert len(queued) == 1
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and outbox.find(conversation_id=conversation)[0].status != "delivered":
        time.sleep(0.5)
    assert outbox.find(conversation_id=conversation)[0].status == "delivered"
    received = [item for item in inbox.find() if item.conversation_id == conversation]
    assert len(received) == 1
    assert "head_ct" in received[0].body or "brain_mri" in received[0].body
