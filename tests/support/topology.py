"""Helpers for the fault tests on the scaled topology (``python -m bot.scale``): its processes and its inbox."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from hospital_service.inbox import InboxStore
from tests.support.stack import Stack

SERVERS_INSTALLED = bool(shutil.which("redis-server")
                         and (shutil.which("haproxy") or Path("/usr/sbin/haproxy").exists()))


@dataclass(frozen=True)
class RunningTopology:
    """A started scaled topology: ``stack`` talks to its front door (HAProxy); the parts' ports."""

    stack: Stack
    replicas: list[int]
    workers: list[int]
    redis_port: int


def _processes() -> list[tuple[int, list[str]]]:
    """(pid, argv) of every process that can still be read."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
            except OSError:
                continue
            found.append((int(entry.name), argv))
    return found


def pids_serving(module: str, port: int) -> list[int]:
    """Process ids of the ``python -m <module> ... --port <port>`` processes (a Rasa replica, an action server)."""
    return [pid for pid, argv in _processes()
            if module in argv and "--port" in argv and argv[argv.index("--port") + 1] == str(port)]


def redis_pids(port: int) -> list[int]:
    """Process ids of the redis-server on ``port`` (it rewrites its title to ``redis-server 127.0.0.1:<port>``)."""
    return [pid for pid, argv in _processes()
            if "redis-server" in " ".join(argv) and (f":{port}" in " ".join(argv) or str(port) in argv)]


def unread_bytes(ports: list[int]) -> dict[int, int]:
    """Per listening port of ``ports``: the most bytes waiting unread on one of its established connections
    (``/proc/net/tcp``). A stopped server's requests pile up there."""
    waiting = dict.fromkeys(ports, 0)
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        port, state, queues = int(fields[1].split(":")[1], 16), fields[3], fields[4]
        if port in waiting and state == "01":  # ESTABLISHED
            waiting[port] = max(waiting[port], int(queues.split(":")[1], 16))
    return waiting


def texts(messages: list[dict]) -> str:
    """The bot messages' texts, one per line."""
    return "\n".join(m.get("text", "") for m in messages)


def received_transcripts(var_dir: Path, conversation: str, settle_s: float = 3.0, timeout_s: float = 60.0) -> list:
    """The inbox items of ``conversation`` once the first one arrived and ``settle_s`` more seconds passed (a
    duplicate delivery would arrive within the delivery workers' next polls)."""
    inbox = InboxStore(f"sqlite:///{var_dir / 'inbox.sqlite'}")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not [i for i in inbox.find(limit=1000) if i.conversation_id == conversation]:
        time.sleep(0.5)
    time.sleep(settle_s)
    return [item for item in inbox.find(limit=1000) if item.conversation_id == conversation]
