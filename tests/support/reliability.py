"""Real processes on loopback for the reliability tests: the inbox (optionally faulty) and the delivery worker CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from bot.servers import free_port
from hospital_service.inbox import InboxStore
from qaid.settings import Settings, load_settings
from transcripts.model import Consent, PatientFacts, QAEntry, Transcript
from transcripts.service import TranscriptService

REPO = Path(__file__).resolve().parents[2]
HOSPITALS = ("North", "South")


def make_transcript(index: int) -> Transcript:
    """A small, schema-valid transcript for conversation ``conv-<index>``."""
    return Transcript(
        transcript_id=f"00000000-0000-4000-8000-{index:012d}",
        conversation_id=f"conv-{index}",
        created_at="2025-11-22T10:00:00+00:00",
        started_at="2025-11-22T09:58:00+00:00",
        ended_at="2025-11-22T10:00:00+00:00",
        patient=PatientFacts(complaint="headache", age_band="30-39"),
        consent=Consent(True, "2025-11-22T09:58:10+00:00"),
        questions=[QAEntry("Is there a tumour?", "no", 0.8, "PRES", 3, 3, 0.9)],
    )


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` every 50 ms; fail (``AssertionError`` naming ``what``) if still false after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"Timed out after {timeout}s waiting for {what}.")


class Cluster:
    """A services config in a temporary folder plus helpers to start and stop real processes."""

    def __init__(self, tmp_path: Path, **delivery: Any) -> None:
        self.tmp_path = tmp_path
        self.port = free_port()
        intake = f"http://127.0.0.1:{self.port}/intake"
        config = {
            "storage": {"var_dir": str(tmp_path / "var")},
            "delivery": {"poll_interval_s": 0.1, "batch_size": 20, "timeout_s": 2, "backoff_base_s": 0.05,
                         "backoff_max_s": 0.4, "lease_s": 2, **delivery},
            "inbox": {"embedded": False, "port": self.port, "max_body_bytes": 200_000, "timestamp_window_s": 30},
            "hospitals": [
                {"name": name, "local": True, "location": {"lat": 50.0, "lon": 8.0}, "capabilities": {},
                 "intake": {"url": f"{intake}/{name.lower()}", "secret": f"{name.lower()}-secret"}}
                for name in HOSPITALS
            ],
        }
        self.config_path = tmp_path / "services.yml"
        self.config_path.write_text(yaml.safe_dump(config))
        self.settings: Settings = load_settings(self.config_path, env={})
        self.service = TranscriptService.from_settings(self.settings)
        self.service.outbox.create()
        self.inbox_store = InboxStore(self.settings.inbox.database_url)
        self.inbox_store.create()
        self.log_path = tmp_path / "inbox-log.jsonl"
        self.processes: list[subprocess.Popen] = []

    def _spawn(self, *args: str) -> subprocess.Popen:
        env = {**os.environ, "PYTHONPATH": str(REPO), "QAID_SERVICES": str(self.config_path)}
        with open(self.tmp_path / f"process-{len(self.processes)}.log", "w") as stderr:
            process = subprocess.Popen([sys.executable, *args], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                                       stderr=stderr)
        self.processes.append(process)
        return process

    def start_inbox(self, fail_rate: float = 0.0, delay: float = 0.0, faulty: bool = True) -> subprocess.Popen:
        """Start the inbox (the faulty test inbox, or the real one) and wait until it answers ``/health``."""
        if faulty:
            process = self._spawn(str(REPO / "tests/reliability/flaky_inbox.py"), "--config", str(self.config_path),
                                  "--fail-rate", str(fail_rate), "--delay", str(delay), "--log", str(self.log_path))
        else:
            process = self._spawn("-m", "hospital_service", "inbox", "serve")
        wait_until(lambda: self._healthy(process), 20, "the inbox to answer /health")
        return process

    def _healthy(self, process: subprocess.Popen) -> bool:
        if process.poll() is not None:
            raise AssertionError(f"inbox exited with {process.returncode}; see {self.tmp_path}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=1) as response:
                return response.status == 200
        except OSError:
            return False

    def start_worker(self) -> subprocess.Popen:
        """Start the delivery worker CLI (``outbox deliver``)."""
        return self._spawn("-m", "transcripts", "outbox", "deliver")

    def queue(self, count: int, first: int = 0) -> list[str]:
        """Queue transcripts ``first .. first+count-1`` for every hospital; returns the delivery ids."""
        ids = []
        for index in range(first, first + count):
            ids += self.service.queue(make_transcript(index), list(HOSPITALS))
        return ids

    def delivered(self) -> int:
        """How many deliveries the outbox has marked delivered."""
        return self.service.outbox.counts().get("delivered", 0)

    def log(self) -> list[dict[str, str]]:
        """The faulty inbox's ``--log``: one entry per request outcome."""
        if not self.log_path.exists():
            return []
        return [json.loads(line) for line in self.log_path.read_text().splitlines() if line.strip()]

    @staticmethod
    def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
        """Send ``sig`` to ``process`` if it still runs and wait for it, killing it after 10 s."""
        if process.poll() is None:
            process.send_signal(sig)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)

    def close(self) -> None:
        """Kill every process this cluster started."""
        for process in self.processes:
            self.stop(process, signal.SIGKILL)
