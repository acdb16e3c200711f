"""The load balancer's own promise, without the topology: a backend that dies after it took a patient's message
and before it answered costs the patient nothing, because HAProxy re-sends the message to another backend."""

from __future__ import annotations

import http.server
import json
import socket
import struct
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.servers import free_port, haproxy_argv, haproxy_config
from tests.support.topology import SERVERS_INSTALLED

pytestmark = pytest.mark.skipif(not SERVERS_INSTALLED,
                                reason="haproxy or redis-server is not installed (scripts/install_servers.sh)")


def _dying_backend(port: int, stop: threading.Event) -> None:
    """Takes each connection and resets it without a byte of answer: a replica killed while it held the message
    (half of them before reading it, half after)."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(64)
        listener.settimeout(0.2)
        taken = 0
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            taken += 1
            if taken % 2:
                connection.recv(65536)
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            connection.close()


class _Answering(http.server.BaseHTTPRequestHandler):
    """A healthy backend: answers every message with the text it received."""

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        answer = json.dumps([{"text": json.loads(body)["message"]}]).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture()
def front_door(tmp_path: Path) -> Iterator[int]:
    """HAProxy, as the topology configures it, over one dying and one healthy backend (no health checks, so the
    dying one stays in the rotation); yields the front door's port."""
    dying, healthy, front = free_port(), free_port(), free_port()
    stop = threading.Event()
    threading.Thread(target=_dying_backend, args=(dying, stop), daemon=True).start()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", healthy), _Answering)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    config = tmp_path / "haproxy.cfg"
    configured = haproxy_config({"rasa": (front, [dying, healthy], "/")})
    assert " check\n" in configured
    config.write_text(configured.replace(" check\n", "\n"))
    proxy = subprocess.Popen(haproxy_argv(config), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", front), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.05)
        assert proxy.poll() is None, "HAProxy did not start"
        yield front
    finally:
        proxy.terminate()
        proxy.wait(10)
        server.shutdown()
        server.server_close()
        stop.set()


def test_a_backend_that_dies_holding_the_message_costs_the_patient_nothing(front_door: int) -> None:
    answers = []
    for turn in range(30):
        request = urllib.request.Request(
            f"http://127.0.0.1:{front_door}/webhooks/qaid_rest/webhook",
            data=json.dumps({"sender": "patient", "message": f"message {turn}"}).encode(),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            answers.append(json.loads(response.read())[0]["text"])
    assert answers == [f"message {turn}" for turn in range(30)]
