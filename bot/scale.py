"""The scaled topology on one machine, from the parts Rasa documents for it.

``python -m bot.scale --replicas 2 --workers 2`` (``make scale-demo``) starts:

* a throw-away PostgreSQL cluster: the Rasa tracker store every replica shares, and the transcript outbox;
* redis-server: Rasa's ``RedisLockStore``, so one conversation is never processed by two replicas at once;
* ``--workers`` action servers (each with its own transcript delivery worker, claiming from the shared outbox;
  the first one also runs the embedded hospital inbox);
* ``--replicas`` Rasa servers;
* HAProxy in front of both: patients talk to ``--port`` (default 5005), the replicas talk to the action
  servers through ``--port + 50``; a replica or worker that stops answering its health check is taken out,
  and one that exits (or Redis) is started again.

Everything runs on loopback with its state in ``var/scale`` and stops on Ctrl-C. ``bench/bench_load.py --url``
measures it (``bench/README.md``).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.cli import (
    DEFAULT_MODEL,
    MODELS_PY,
    ROOT,
    Ports,
    Supervisor,
    child_environment,
    rasa_argv,
    var_dir,
    wait_healthy,
    write_runtime_endpoints,
)
from bot.servers import LocalPostgres, free_port, haproxy_argv, haproxy_config, redis_argv


@dataclass
class Topology:
    """Where each part of a running scaled topology listens."""

    port: int
    action_port: int
    replica_ports: list[int]
    worker_ports: list[int]
    redis_port: int
    postgres: LocalPostgres
    state: Path
    supervisor: Supervisor

    def stop(self) -> None:
        """Stop every process, then the database."""
        self.supervisor.stop()
        self.postgres.stop()


def scaled_endpoints(base: Path, postgres: LocalPostgres, redis_port: int) -> Path:
    """``endpoints.yml`` for the replicas: the shared PostgreSQL tracker store and the Redis lock store."""
    endpoints = yaml.safe_load(base.read_text())
    cached = (endpoints.get("tracker_store") or {}).get("cached_trackers", 0)
    endpoints["tracker_store"] = {
        "type": "bot.tracker_store.ErasableSQLTrackerStore", "dialect": "postgresql", "url": "127.0.0.1",
        "port": postgres.port, "db": "postgres", "username": "qaid", "password": "", "cached_trackers": cached,
    }
    endpoints["lock_store"] = {"type": "redis", "url": "127.0.0.1", "port": redis_port, "db": 0}
    base.write_text(yaml.safe_dump(endpoints, sort_keys=False))
    return base


def start_topology(replicas: int, workers: int, port: int, model: Path, credentials: Path,
                   supervisor: Supervisor, timeout: float = 600.0) -> Topology:
    """Start every part and return once HAProxy answers; ``supervisor`` owns the processes."""
    state = var_dir() / "scale"
    state.mkdir(parents=True, exist_ok=True)
    postgres = LocalPostgres().start()
    topology = Topology(port, port + 50, [free_port() for _ in range(replicas)], [free_port() for _ in range(workers)],
                        free_port(), postgres, state, supervisor)
    try:
        supervisor.start("redis", redis_argv(topology.redis_port), dict(os.environ))
        env = child_environment(Ports(rasa=port, actions=topology.action_port), state)
        inbox_port = free_port()
        env.update(QAID_OUTBOX_URL=postgres.url("psycopg"), QAID_INBOX_PORT=str(inbox_port),
                   QAID_INBOX_URL=f"http://127.0.0.1:{inbox_port}")
        for index, worker_port in enumerate(topology.worker_ports):
            worker_env = dict(env, QAID_INBOX_EMBEDDED="true" if index == 0 else "false")
            supervisor.start(f"actions{index + 1}", [str(MODELS_PY), "-m", "actions.server", "--port",
                                                     str(worker_port)], worker_env)
        endpoints = scaled_endpoints(write_runtime_endpoints(Ports(rasa=port, actions=topology.action_port),
                                                             state), postgres, topology.redis_port)
        config = state / "haproxy.cfg"
        config.write_text(haproxy_config({
            "rasa": (port, topology.replica_ports, "/"),
            "actions": (topology.action_port, topology.worker_ports, "/health"),
        }))
        supervisor.start("haproxy", haproxy_argv(config), dict(os.environ))
        for worker_port in topology.worker_ports:
            wait_healthy(f"http://127.0.0.1:{worker_port}/health", supervisor, timeout, "An action server")
        for index, replica_port in enumerate(topology.replica_ports):
            supervisor.start(f"rasa{index + 1}", rasa_argv(model, endpoints, credentials, replica_port), env)
        for replica_port in topology.replica_ports:
            wait_healthy(f"http://127.0.0.1:{replica_port}/", supervisor, timeout, "A Rasa replica")
        wait_healthy(f"http://127.0.0.1:{port}/", supervisor, timeout, "HAProxy")
    except BaseException:
        topology.stop()
        raise
    return topology


def main(argv: list[str] | None = None) -> int:
    """Run the topology in the foreground until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m bot.scale", description=__doc__.split("\n")[0])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=int(os.environ.get("QAID_RASA_PORT", 5005)))
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--credentials", type=Path, default=ROOT / "credentials.yml")
    args = parser.parse_args(argv)
    supervisor = Supervisor(sys.stdout)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    started = time.monotonic()
    try:
        topology = start_topology(args.replicas, args.workers, args.port, args.model, args.credentials, supervisor)
    except (RuntimeError, FileNotFoundError) as error:
        print(f"[qaid] {error}", file=sys.stderr, flush=True)
        return 1
    print(f"[qaid] scaled topology ready in {time.monotonic() - started:.1f} s: {args.replicas} Rasa replicas "
          f"{topology.replica_ports}, {args.workers} action servers {topology.worker_ports}, Redis "
          f"{topology.redis_port}, PostgreSQL {topology.postgres.port}; chat at http://localhost:{args.port}/",
          flush=True)
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    # HAProxy routes around a restarting replica or action server; Redis keeps only locks, so a fresh one will do.
    replaceable = frozenset(name for name, _ in supervisor.children if name.startswith(("rasa", "actions", "redis")))
    try:
        return supervisor.watch(stop, restart=replaceable)
    finally:
        print("[qaid] stopping...", flush=True)
        topology.stop()


if __name__ == "__main__":
    sys.exit(main())
