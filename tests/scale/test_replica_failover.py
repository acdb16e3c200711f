"""The scaled topology (``python -m bot.scale``) survives losing a Rasa replica mid-conversation.

Two Rasa replicas and two action servers behind HAProxy, Redis locks, PostgreSQL tracker store and outbox, all
on loopback. A patient consults; one replica is killed (SIGKILL); the patient's next messages are answered by
the other with the whole history, and exactly one transcript reaches the hospital inbox.
Skipped when the Debian servers are missing (``scripts/install_servers.sh`` installs them).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from actions.transcripts.inbox import InboxStore
from bot.servers import free_port
from tests.support.phantoms import head_phantom, png_bytes
from tests.support.stack import RASA_PY, ROOT, Stack

pytestmark = pytest.mark.skipif(not (shutil.which("redis-server") and (shutil.which("haproxy")
                                                                     or Path("/usr/sbin/haproxy").exists())),
                                reason="redis-server or haproxy is not installed (scripts/install_servers.sh)")
READY = re.compile(r"scaled topology ready .*Rasa replicas \[([\d, ]+)\]")


def _pids_listening_as_rasa(port: int) -> list[int]:
    """Process ids of the Rasa replica started with ``--port <port>``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"bot.rasa_server" in argv and b"--port" in argv:
                if argv[argv.index(b"--port") + 1] == str(port).encode():
                    pids.append(int(entry.name))
    return pids


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, list[int]]]:
    var = tmp_path_factory.mktemp("var")
    port = free_port()
    env = dict(os.environ, QAID_VAR_DIR=str(var), PYTHONUNBUFFERED="1")
    process = subprocess.Popen([str(RASA_PY), "-m", "bot.scale", "--replicas", "2", "--workers", "2", "--port",
                                str(port)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True)
    stack = Stack(process, port, port + 50, 0, var / "scale")
    replicas: list[int] = []
    ready = threading.Event()

    def pump() -> None:
        for line in iter(process.stdout.readline, ""):
            stack.log.append(line.rstrip())
            found = READY.search(line)
            if found:
                replicas.extend(int(p) for p in found.group(1).split(","))
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + 900
    while not ready.wait(0.5):
        if process.poll() is not None or time.monotonic() > deadline:
            stack.stop()
            raise RuntimeError("The scaled topology did not start:\n" + "\n".join(stack.log[-60:]))
    yield stack, replicas
    process.send_signal(signal.SIGINT)
    try:
        process.wait(120)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def test_a_killed_replica_loses_nothing(topology: tuple[Stack, list[int]]) -> None:
    stack, replicas = topology
    sender = f"scale-{uuid.uuid4().hex[:8]}"
    assert "Do you agree" in texts(stack.say(sender, "hello"))
    assert "consent is recorded" in texts(stack.say(sender, "I agree"))
    assert "This looks like" in texts(stack.send_image(sender, png_bytes(head_phantom(256)), "head.png"))
    first = texts(stack.say(sender, "is there anything abnormal?"))
    assert "answered" in first or "not sure enough" in first or "unsure" in first

    victims = _pids_listening_as_rasa(replicas[0])
    assert victims, f"no process found for the replica on port {replicas[0]}"
    for pid in victims:
        os.kill(pid, signal.SIGKILL)

    after = [texts(stack.say(sender, text, timeout=60)) for text in ("what organ is this?", "bye")]
    assert "answered" in after[0] or "not sure enough" in after[0] or "unsure" in after[0], after[0]
    assert "sent your transcript" in after[1], after[1]

    conversation = f"rest:{sender}"
    inbox = InboxStore(f"sqlite:///{stack.var_dir / 'inbox.sqlite'}")
    deadline = time.monotonic() + 60
    received = []
    while time.monotonic() < deadline and not received:
        received = [item for item in inbox.find(limit=1000) if item.conversation_id == conversation]
        time.sleep(0.5)
    time.sleep(3)  # a duplicate delivery would arrive within the delivery workers' next polls
    received = [item for item in inbox.find(limit=1000) if item.conversation_id == conversation]
    assert len(received) == 1, [item.hospital for item in received]
    body = received[0].body
    assert "is there anything abnormal?" in body and "what organ is this?" in body  # the whole history
