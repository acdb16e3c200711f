"""Start the whole assistant: the action server (with the embedded hospitals) and the Rasa server.

``python -m bot.cli run`` starts both, waits for their health checks, prints where to chat,
streams their logs with a prefix per process and stops both cleanly on Ctrl-C.
``python -m bot.cli shell`` does the same in the background and opens an interactive chat.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import yaml

from channels.media import MAX_REQUEST_BYTES
from qaid.state import ACTION_SECRET_HEADER, action_secret
from qaid.state import var_dir as state_var_dir

ROOT = Path(__file__).resolve().parent.parent
RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"
MODELS_PY = ROOT / ".venv-models" / "bin" / "python"
DEFAULT_MODEL = ROOT / "models" / "qaid.tar.gz"


@dataclass
class Ports:
    """Ports of the two servers."""

    rasa: int
    actions: int


def var_dir() -> Path:
    """The git-ignored state folder (:func:`qaid.state.var_dir`), resolved."""
    return state_var_dir().resolve()


def write_runtime_endpoints(ports: Ports, state: Path) -> Path:
    """Copy endpoints.yml with this run's action URL, the action server's secret header and the tracker path."""
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text())
    # an address, not a name: Rasa opens a connection per action call, and resolving "localhost" each time showed
    # in the Rasa server's profile (bench/README.md)
    endpoints["action_endpoint"]["url"] = f"http://127.0.0.1:{ports.actions}/webhook"
    endpoints["action_endpoint"]["headers"] = {ACTION_SECRET_HEADER: action_secret(state).decode()}
    tracker = endpoints.get("tracker_store") or {}
    if tracker.get("dialect") == "sqlite":
        tracker["db"] = str(state / "rasa_tracker.db")
    out = state / "run" / "endpoints.yml"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(endpoints, sort_keys=False))
    out.chmod(0o600)  # it holds the action server's secret
    return out


def _pump(stream: TextIO, prefix: str, sink: TextIO) -> None:
    for line in iter(stream.readline, ""):
        sink.write(f"{prefix} {line}")
        sink.flush()


class Supervisor:
    """Starts child processes in their own process groups, streams their output and stops them."""

    def __init__(self, log: TextIO) -> None:
        self.children: list[tuple[str, subprocess.Popen]] = []
        self.commands: dict[str, tuple[list[str], dict[str, str]]] = {}  # name -> (argv, environment)
        self.log = log

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen:
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        threading.Thread(target=_pump, args=(process.stdout, f"[{name}]", self.log), daemon=True).start()
        self.children.append((name, process))
        self.commands[name] = (argv, env)
        return process

    def restart_exited(self, names: set[str]) -> list[str]:
        """Start again, with the same command, every child in ``names`` that has exited; returns their names."""
        restarted = []
        for name, process in list(self.children):
            if name in names and process.poll() is not None:
                self.children.remove((name, process))
                self.start(name, *self.commands[name])
                restarted.append(name)
        return restarted

    def watch(self, stop: threading.Event, restart: frozenset[str] = frozenset()) -> int:
        """Until ``stop`` is set: start again the children named in ``restart`` that exit; return 1 as soon as
        another child exits, 0 once stopped."""
        while not stop.is_set():
            for name in self.restart_exited(set(restart)):
                print(f"[qaid] {name} stopped; started it again.", flush=True)
            dead = self.check_alive()
            if dead:
                print(f"[qaid] {dead} stopped unexpectedly; shutting down.", flush=True)
                return 1
            stop.wait(0.5)
        return 0

    def check_alive(self) -> str | None:
        """Name of a child that exited, if any."""
        for name, process in self.children:
            if process.poll() is not None:
                return name
        return None

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM every child's process group, then SIGKILL what is still running after ``timeout``."""
        for _, process in reversed(self.children):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + timeout
        for _, process in self.children:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def wait_healthy(url: str, supervisor: Supervisor, timeout: float, label: str) -> None:
    """Poll ``url`` until it answers 200, a child dies, or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dead = supervisor.check_alive()
        if dead:
            raise RuntimeError(f"{dead} exited during start-up; see its log lines above.")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{label} did not become healthy at {url} within {timeout:.0f} s.")


def rasa_argv(model: Path, endpoints: Path, credentials: Path, port: int) -> list[str]:
    """The command line of one Rasa server (:mod:`bot.rasa_server`: Rasa's own, with our speed fix)."""
    return [str(RASA_PY), "-m", "bot.rasa_server", "run", "--model", str(model), "--endpoints", str(endpoints),
            "--credentials", str(credentials), "--port", str(port), "--cors", "*"]


# One BLAS / OpenMP thread per process: numpy's OpenBLAS otherwise starts a thread per core that spins after
# each small matrix product (the MiniLM encoder, the question-type component); on 2 cores the spinning was about
# half of the Rasa server's CPU at 50 patients (bench/README.md, "one maths thread per server"). Set either
# variable to override.
SINGLE_THREADED_MATHS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def child_environment(ports: Ports, state: Path) -> dict[str, str]:
    """The environment of both servers: this run's state folder and public URL, Sanic's request-body limit
    lowered to what a channel can use (``SANIC_REQUEST_MAX_SIZE``, read by every Sanic app at start-up), and
    one maths thread per process (``SINGLE_THREADED_MATHS``) unless the caller's environment says otherwise."""
    env = dict(os.environ, QAID_VAR_DIR=str(state), QAID_PUBLIC_URL=f"http://localhost:{ports.rasa}")
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.setdefault("SANIC_REQUEST_MAX_SIZE", str(MAX_REQUEST_BYTES))
    for name, value in SINGLE_THREADED_MATHS.items():
        env.setdefault(name, value)
    return env


def start_stack(args: argparse.Namespace, supervisor: Supervisor) -> Ports:
    """Start the action server then the Rasa server; return once both are healthy."""
    ports = Ports(rasa=args.rasa_port, actions=args.action_port)
    state = var_dir()
    state.mkdir(parents=True, exist_ok=True)
    env = child_environment(ports, state)
    endpoints = write_runtime_endpoints(ports, state)
    started = time.monotonic()
    supervisor.start("actions", [str(MODELS_PY), "-m", "actions.server", "--port", str(ports.actions)], env)
    supervisor.start("rasa", rasa_argv(args.model, endpoints, args.credentials, ports.rasa), env)
    wait_healthy(f"http://localhost:{ports.actions}/health", supervisor, args.timeout, "The action server")
    wait_healthy(f"http://localhost:{ports.rasa}/", supervisor, args.timeout, "The Rasa server")
    print(f"[qaid] ready in {time.monotonic() - started:.1f} s", flush=True)
    return ports


def print_urls(ports: Ports) -> None:
    """Tell the user where to chat."""
    base = f"http://localhost:{ports.rasa}"
    print(
        "\n[qaid] Q&Aid is running.\n"
        f"[qaid]   web chat:      {base}/webhooks/webchat/\n"
        f"[qaid]   REST:          POST {base}/webhooks/qaid_rest/webhook\n"
        f"[qaid]   action server: http://localhost:{ports.actions}/health\n"
        "[qaid] Press Ctrl-C to stop.\n",
        flush=True,
    )


def run(args: argparse.Namespace) -> int:
    """Run both servers in the foreground until Ctrl-C or a child exits."""
    supervisor = Supervisor(sys.stdout)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        ports = start_stack(args, supervisor)
        print_urls(ports)
        # From here Ctrl-C only sets the event: a KeyboardInterrupt raised inside Popen.poll() can leave the
        # child's wait lock held, and the shutdown below would then block for ever on that child.
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        return supervisor.watch(stop)
    except KeyboardInterrupt:
        return 0
    except RuntimeError as error:
        print(f"[qaid] {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        print("[qaid] stopping...", flush=True)
        supervisor.stop()


def shell(args: argparse.Namespace) -> int:
    """Start both servers with logs in var/log, then chat in this terminal."""
    log_dir = var_dir() / "log"
    log_dir.mkdir(parents=True, exist_ok=True)
    with open(log_dir / "servers.log", "a") as log:
        supervisor = Supervisor(log)
        try:
            print(f"[qaid] starting the servers (logs in {log_dir / 'servers.log'})...", flush=True)
            ports = start_stack(args, supervisor)
            url = f"http://localhost:{ports.rasa}/webhooks/qaid_rest/webhook"
            return subprocess.call([str(RASA_PY), "-m", "channels.shell", "--url", url], cwd=ROOT)
        except KeyboardInterrupt:
            return 0
        except RuntimeError as error:
            print(f"[qaid] {error}", file=sys.stderr, flush=True)
            return 1
        finally:
            supervisor.stop()


def build_parser() -> argparse.ArgumentParser:
    """Arguments shared by ``run`` and ``shell``."""
    parser = argparse.ArgumentParser(prog="python -m bot.cli", description=__doc__)
    parser.add_argument("command", choices=["run", "shell"])
    parser.add_argument("--rasa-port", type=int, default=int(os.environ.get("QAID_RASA_PORT", 5005)))
    parser.add_argument("--action-port", type=int, default=int(os.environ.get("QAID_ACTION_PORT", 5055)))
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--credentials", type=Path, default=ROOT / "credentials.yml")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for each health check")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = build_parser().parse_args(argv)
    if not args.model.is_file():
        print(f"[qaid] No trained model at {args.model}; run `make run` (it trains one).", file=sys.stderr)
        return 1
    return run(args) if args.command == "run" else shell(args)


if __name__ == "__main__":
    sys.exit(main())
