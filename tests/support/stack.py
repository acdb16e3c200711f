"""Start the real assistant (action server + Rasa server via ``bot.cli run``) on free ports, and talk to it.

Used by the end-to-end test and by ``bench/bench_e2e.py``; needs both environments installed and
a trained model in ``models/qaid.tar.gz`` (``make test`` and ``make run`` see to both).
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.servers import free_port
from channels.sessions import SESSION_HEADER

ROOT = Path(__file__).resolve().parents[2]
RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"


@dataclass
class Stack:
    """A running assistant and its log lines."""

    process: subprocess.Popen
    rasa_port: int
    action_port: int
    inbox_port: int
    var_dir: Path
    log: list[str] = field(default_factory=list)
    startup_s: float = 0.0
    sessions: dict[str, str] = field(default_factory=dict)  # sender -> session token the channel issued

    @property
    def webhook(self) -> str:
        return f"http://localhost:{self.rasa_port}/webhooks/qaid_rest/webhook"

    def say(self, sender: str, text: str, metadata: dict[str, Any] | None = None, timeout: float = 120) -> list[dict]:
        """Send one user message as ``sender`` (with its session token once issued); returns the bot messages."""
        body = json.dumps({"sender": sender, "message": text, "metadata": metadata or {}}).encode()
        headers = {"Content-Type": "application/json"}
        if sender in self.sessions:
            headers[SESSION_HEADER] = self.sessions[sender]
        request = urllib.request.Request(self.webhook, data=body, headers=headers)
        with urllib.request.urlopen(request, timeout=timeout) as response:
            self.sessions[sender] = response.headers.get(SESSION_HEADER) or self.sessions.get(sender, "")
            return json.loads(response.read())

    def send_image(self, sender: str, data: bytes, filename: str, caption: str = "/send_image") -> list[dict]:
        """Send an image (base64 in the metadata) with an optional caption."""
        image = {"base64": base64.b64encode(data).decode(), "filename": filename}
        return self.say(sender, caption, {"image": image})

    def stop(self, timeout: float = 60) -> int:
        """Ctrl-C the supervisor and wait for it to stop every child; returns its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return self.process.returncode


def start_stack(var_dir: Path, timeout: float = 600, model: Path | None = None) -> Stack:
    """Start ``bot.cli run`` on free ports with its state in ``var_dir`` (and another trained Rasa ``model`` than
    the default); returns once it prints ready."""
    rasa_port, action_port, inbox_port = free_port(), free_port(), free_port()
    env = dict(
        os.environ,
        QAID_VAR_DIR=str(var_dir),
        QAID_INBOX_PORT=str(inbox_port),
        QAID_INBOX_URL=f"http://127.0.0.1:{inbox_port}",
        PYTHONUNBUFFERED="1",
    )
    argv = [str(RASA_PY), "-m", "bot.cli", "run", "--rasa-port", str(rasa_port), "--action-port", str(action_port)]
    if model is not None:
        argv += ["--model", str(model)]
    started = time.monotonic()
    process = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    stack = Stack(process, rasa_port, action_port, inbox_port, var_dir)
    ready = threading.Event()

    def pump() -> None:
        for line in iter(process.stdout.readline, ""):
            stack.log.append(line.rstrip())
            if "[qaid] ready" in line:
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout
    while not ready.wait(0.5):
        if process.poll() is not None or time.monotonic() > deadline:
            stack.stop()
            raise RuntimeError("The assistant did not start:\n" + "\n".join(stack.log[-60:]))
    stack.startup_s = time.monotonic() - started
    return stack
