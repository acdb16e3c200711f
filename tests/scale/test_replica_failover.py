"""Losing a Rasa replica mid-conversation: the patient's next messages are answered by the other with the whole
history, and exactly one transcript reaches the hospital inbox."""

from __future__ import annotations

import os
import signal
import uuid

from tests.support.phantoms import head_phantom, png_bytes
from tests.support.topology import RunningTopology, pids_serving, received_transcripts, texts


def test_a_killed_replica_loses_nothing(topology: RunningTopology) -> None:
    stack, replicas = topology.stack, topology.replicas
    sender = f"scale-{uuid.uuid4().hex[:8]}"
    assert "Do you agree" in texts(stack.say(sender, "hello"))
    assert "consent is recorded" in texts(stack.say(sender, "I agree"))
    assert "This looks like" in texts(stack.send_image(sender, png_bytes(head_phantom(256)), "head.png"))
    first = texts(stack.say(sender, "is there anything abnormal?"))
    assert "answered" in first or "not sure enough" in first or "unsure" in first

    victims = pids_serving("bot.rasa_server", replicas[0])
    assert victims, f"no process found for the replica on port {replicas[0]}"
    for pid in victims:
        os.kill(pid, signal.SIGKILL)

    after = [texts(stack.say(sender, text, timeout=60)) for text in ("what organ is this?", "bye")]
    assert "answered" in after[0] or "not sure enough" in after[0] or "unsure" in after[0], after[0]
    assert "sent your transcript" in after[1], after[1]

    conversation = f"rest:{sender}"
    received = received_transcripts(stack.var_dir, conversation)
    assert len(received) == 1, [item.hospital for item in received]
    body = received[0].body
    assert "is there anything abnormal?" in body and "what organ is this?" in body  # the whole history
