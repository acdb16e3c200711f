"""The hospital service CLI as a real process: starts without bundles (degraded, clear errors)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import yaml

from bot.servers import free_port
from tests.support.reliability import REPO, wait_until


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_serve_cli_runs_a_degraded_hospital_when_bundles_are_missing(tmp_path: Path) -> None:
    config = {
        "storage": {"var_dir": str(tmp_path / "var"), "weights_dir": str(tmp_path / "no-weights")},
        "hospitals": [{"name": "Lonely", "city": "Oslo", "location": {"lat": 59.9, "lon": 10.7}, "local": True,
                       "capabilities": {"vqa": "slake_only"}, "image_types": ["brain_mri"]}],
    }
    path = tmp_path / "services.yml"
    path.write_text(yaml.safe_dump(config))
    port = free_port()
    log = tmp_path / "serve.log"
    with open(log, "w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "hospital_service", "--config", str(path), "serve", "--hospital", "Lonely",
             "--port", str(port)],
            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=output, stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        def up() -> bool:
            assert process.poll() is None, log.read_text()
            try:
                return _get(f"{base}/health")[0] == 200
            except OSError:
                return False

        wait_until(up, 30, "the hospital service")
        assert _get(f"{base}/health") == (200, {"status": "degraded", "hospital": "Lonely", "missing": ["vqa"]})
        assert _get(f"{base}/capabilities") == (200, {"hospital": "Lonely", "capabilities": []})
        assert _get(f"{base}/openapi.json")[1]["info"]["title"] == "Q&Aid hospital service"
        request = urllib.request.Request(f"{base}/vqa", data=b'{"image_base64": "aGk=", "question": "q"}',
                                         headers={"Content-Type": "application/json"}, method="POST")
        try:
            urllib.request.urlopen(request, timeout=2)
            raise AssertionError("expected an error")
        except urllib.error.HTTPError as error:
            assert error.code == 404 and json.loads(error.read())["code"] == "capability_unavailable"
        assert "slake_only" in log.read_text()  # the warning names the missing bundle
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(10)
