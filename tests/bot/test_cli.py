"""The process supervisor that ``make run`` uses: runtime endpoints, health waits, clean shutdown."""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

import pytest
import yaml

from bot.cli import Ports, Supervisor, child_environment, wait_healthy, write_runtime_endpoints


def test_runtime_endpoints_point_at_this_runs_ports_and_state(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("QAID_ACTION_SECRET", raising=False)
    written = write_runtime_endpoints(Ports(rasa=6005, actions=6055), tmp_path)
    endpoints = yaml.safe_load(written.read_text())
    assert endpoints["action_endpoint"]["url"] == "http://127.0.0.1:6055/webhook"
    secret = (tmp_path / "secrets" / "action.key").read_text()
    assert endpoints["action_endpoint"]["headers"] == {"X-Qaid-Action-Secret": secret}
    assert written.stat().st_mode & 0o777 == 0o600
    assert endpoints["tracker_store"]["db"] == str(tmp_path / "rasa_tracker.db")
    assert endpoints["tracker_store"]["type"] == "bot.tracker_store.ErasableSQLTrackerStore"


def test_servers_get_one_maths_thread_unless_told_otherwise(tmp_path: Path, monkeypatch) -> None:
    """Spinning OpenBLAS threads were about half of the Rasa server's CPU at 50 patients on 2 cores."""
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    env = child_environment(Ports(rasa=5005, actions=5055), tmp_path)
    assert env["OPENBLAS_NUM_THREADS"] == "1" and env["OMP_NUM_THREADS"] == "4"


def test_supervisor_prefixes_logs_and_stops_children() -> None:
    log = io.StringIO()
    supervisor = Supervisor(log)
    child = supervisor.start(
        "sleeper", [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"], env={}
    )
    deadline = time.monotonic() + 10
    while "[sleeper] up" not in log.getvalue() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "[sleeper] up" in log.getvalue()
    assert supervisor.check_alive() is None
    supervisor.stop(timeout=5)
    assert child.poll() is not None


def test_health_wait_reports_a_child_that_died() -> None:
    supervisor = Supervisor(io.StringIO())
    supervisor.start("broken", [sys.executable, "-c", "raise SystemExit(3)"], env={})
    with pytest.raises(RuntimeError, match="broken exited"):
        wait_healthy("http://127.0.0.1:9/health", supervisor, timeout=10, label="broken")


def test_supervisor_restarts_only_the_named_children_that_exited() -> None:
    supervisor = Supervisor(io.StringIO())
    quitter = supervisor.start("replica", [sys.executable, "-c", "raise SystemExit(0)"], env={"A": "1"})
    stayer = supervisor.start("proxy", [sys.executable, "-c", "import time; time.sleep(60)"], env={})
    quitter.wait(10)
    try:
        assert supervisor.restart_exited({"replica", "proxy"}) == ["replica"]
        names = {name: process for name, process in supervisor.children}
        assert names["proxy"] is stayer and names["replica"] is not quitter
        assert names["replica"].args == quitter.args and supervisor.commands["replica"][1] == {"A": "1"}
    finally:
        supervisor.stop(timeout=5)


def test_watch_restarts_the_named_children_and_stops_on_any_other_exit() -> None:
    import threading

    supervisor = Supervisor(io.StringIO())
    replica = supervisor.start("replica", [sys.executable, "-c", "raise SystemExit(0)"], env={})
    replica.wait(10)
    stop = threading.Event()
    threading.Timer(1.0, stop.set).start()
    try:
        assert supervisor.watch(stop, restart=frozenset({"replica"})) == 0
        assert dict(supervisor.children)["replica"] is not replica
        supervisor.start("proxy", [sys.executable, "-c", "raise SystemExit(2)"], env={})
        assert supervisor.watch(threading.Event()) == 1
    finally:
        supervisor.stop(timeout=5)
