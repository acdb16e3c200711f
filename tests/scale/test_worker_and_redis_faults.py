"""An action server killed during an image, and Redis restarted mid-conversation: the patient always hears
something (the answer, or "please send it again"), the history stays whole and one transcript arrives."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid

import yaml

from tests.support.phantoms import head_phantom, png_bytes
from tests.support.stack import ROOT
from tests.support.topology import (
    RunningTopology,
    pids_serving,
    received_transcripts,
    redis_pids,
    texts,
    unread_bytes,
)

SEND_AGAIN = yaml.safe_load((ROOT / "domain.yml").read_text())["responses"]["utter_action_failed"][0]["text"]
ANSWERED = ("answered", "not sure enough", "unsure")
REQUEST_BYTES = 4096  # an action request carries the tracker and domain; a health check is a few hundred bytes


def _consent(topology: RunningTopology, sender: str) -> None:
    assert "Do you agree" in texts(topology.stack.say(sender, "hello"))
    assert "consent is recorded" in texts(topology.stack.say(sender, "I agree"))


def test_a_worker_killed_during_an_image_leaves_no_silence(topology: RunningTopology) -> None:
    stack = topology.stack
    sender = f"worker-{uuid.uuid4().hex[:8]}"
    _consent(topology, sender)
    workers = {port: pids_serving("actions.server", port) for port in topology.workers}
    assert all(workers.values()), workers
    for pids in workers.values():  # hold both, so that the image's action request waits at one of them
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
    replies: list[list[dict]] = []
    upload = threading.Thread(target=lambda: replies.append(
        stack.send_image(sender, png_bytes(head_phantom(256)), "head.png")))
    try:
        upload.start()
        deadline, target = time.monotonic() + 30, None
        while target is None and time.monotonic() < deadline:
            waiting = unread_bytes(topology.workers)
            target = next((port for port, size in waiting.items() if size >= REQUEST_BYTES), None)
            time.sleep(0.05)
        assert target is not None, f"no action request reached a worker: {waiting}"
        for pid in workers[target]:
            os.kill(pid, signal.SIGKILL)  # the worker dies holding the patient's image
    finally:
        for pids in workers.values():
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
    upload.join(120)
    first = texts(replies[0])
    assert "This looks like" in first or SEND_AGAIN in first, first  # never silence

    again = texts(stack.send_image(sender, png_bytes(head_phantom(256)), "head.png"))
    assert "This looks like" in again, again
    assert any(word in texts(stack.say(sender, "is there anything abnormal?")) for word in ANSWERED)
    assert "sent your transcript" in texts(stack.say(sender, "bye"))
    received = received_transcripts(stack.var_dir, f"rest:{sender}")
    assert len(received) == 1, [item.hospital for item in received]


def test_a_redis_restart_corrupts_no_conversation(topology: RunningTopology) -> None:
    stack = topology.stack
    sender = f"redis-{uuid.uuid4().hex[:8]}"
    _consent(topology, sender)
    assert "This looks like" in texts(stack.send_image(sender, png_bytes(head_phantom(256)), "head.png"))
    assert any(word in texts(stack.say(sender, "is there anything abnormal?")) for word in ANSWERED)

    old = redis_pids(topology.redis_port)
    assert old, "no redis-server process found"
    for pid in old:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not set(redis_pids(topology.redis_port)) - set(old):
        time.sleep(0.2)
    assert set(redis_pids(topology.redis_port)) - set(old), "Redis was not started again"

    after = texts(stack.say(sender, "what organ is this?", timeout=60))
    assert any(word in after for word in ANSWERED), after
    assert "sent your transcript" in texts(stack.say(sender, "bye"))
    received = received_transcripts(stack.var_dir, f"rest:{sender}")
    assert len(received) == 1, [item.hospital for item in received]
    assert "is there anything abnormal?" in received[0].body and "what organ is this?" in received[0].body
