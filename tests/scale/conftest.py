"""One scaled topology (``python -m bot.scale``) for every fault test in this folder, started once.

Two Rasa replicas and two action servers behind HAProxy, Redis locks, PostgreSQL tracker store and outbox, all
on loopback. The tests kill parts of it; the topology's supervisor starts them again.
Skipped when the Debian servers are missing (``scripts/install_servers.sh`` installs them).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest

from bot.servers import free_port
from tests.support.stack import RASA_PY, ROOT, Stack
from tests.support.topology import SERVERS_INSTALLED, RunningTopology

READY = re.compile(r"scaled topology ready .*Rasa replicas \[([\d, ]+)\], \d+ action servers \[([\d, ]+)\], "
                   r"Redis (\d+)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """A failed fault test shows the topology's last log lines (HAProxy logs every failed or re-sent request)."""
    outcome = yield
    report = outcome.get_result()
    running = getattr(item, "funcargs", {}).get("topology")
    if report.failed and isinstance(running, RunningTopology):
        report.sections.append(("topology log", "\n".join(running.stack.log[-150:])))


@pytest.fixture(scope="session")
def topology(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningTopology]:
    """The running topology: its front door and its parts' ports."""
    if not SERVERS_INSTALLED:
        pytest.skip("redis-server or haproxy is not installed (scripts/install_servers.sh)")
    var = tmp_path_factory.mktemp("var")
    port = free_port()
    env = dict(os.environ, QAID_VAR_DIR=str(var), PYTHONUNBUFFERED="1")
    process = subprocess.Popen([str(RASA_PY), "-m", "bot.scale", "--replicas", "2", "--workers", "2", "--port",
                                str(port)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True)
    stack = Stack(process, port, port + 50, 0, var / "scale")
    ports: list[list[int]] = []
    ready = threading.Event()

    def pump() -> None:
        for line in iter(process.stdout.readline, ""):
            stack.log.append(line.rstrip())
            found = READY.search(line)
            if found:
                ports.extend([int(p) for p in group.split(",")] for group in found.groups())
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + 900
    while not ready.wait(0.5):
        if process.poll() is not None or time.monotonic() > deadline:
            stack.stop()
            raise RuntimeError("The scaled topology did not start:\n" + "\n".join(stack.log[-60:]))
    replicas, workers, (redis_port,) = ports
    yield RunningTopology(stack, replicas, workers, redis_port)
    process.send_signal(signal.SIGINT)
    try:
        process.wait(120)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
