"""Throw-away local servers from Debian's packages, for the scaled topology and the tests that need them.

:class:`LocalPostgres` (a private cluster: ``initdb`` + ``pg_ctl``, run as the ``postgres`` account when we are
root, which PostgreSQL refuses), :func:`redis_argv` and :func:`haproxy_config`. Nothing here imports Rasa or
torch: both interpreters use it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

POSTGRES_USER = "qaid"


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def as_postgres_user(command: list[str]) -> list[str]:
    """``command`` as the ``postgres`` account when run as root (PostgreSQL refuses root), else unchanged."""
    if os.geteuid() != 0:
        return command
    pwd.getpwnam("postgres")
    return ["runuser", "-u", "postgres", "--", *command]


def _postgres_binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not versions:
        raise FileNotFoundError(f"PostgreSQL's {name} is not installed (Debian: apt-get install postgresql)")
    return str(versions[-1])


class LocalPostgres:
    """A throw-away PostgreSQL cluster in a new temporary folder (one the ``postgres`` account can enter) on a
    free port, trust authentication for ``qaid``; :meth:`stop` deletes it."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="qaid-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()

    def start(self) -> LocalPostgres:
        """initdb and start the server; returns self once it accepts connections."""
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
        subprocess.run(as_postgres_user([_postgres_binary("initdb"), "-D", str(self.data), "--auth=trust",
                                         "-U", POSTGRES_USER]),
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c max_connections=200"
        subprocess.run(as_postgres_user([_postgres_binary("pg_ctl"), "-D", str(self.data), "-l",
                                         str(self.folder / "log"), "-w", "-o", options, "start"]),
                       check=True, stdout=subprocess.DEVNULL)
        return self

    def url(self, driver: str = "psycopg") -> str:
        """SQLAlchemy URL of the ``postgres`` database (``driver``: psycopg for psycopg 3, psycopg2)."""
        return f"postgresql+{driver}://{POSTGRES_USER}@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        """Stop the server at once and delete the cluster."""
        subprocess.run(as_postgres_user([_postgres_binary("pg_ctl"), "-D", str(self.data), "-m", "immediate",
                                         "stop"]), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(self.folder, ignore_errors=True)


def redis_argv(port: int) -> list[str]:
    """A foreground redis-server on 127.0.0.1:``port`` that keeps nothing on disk."""
    server = shutil.which("redis-server")
    if server is None:
        raise FileNotFoundError("redis-server is not installed (Debian: apt-get install redis-server)")
    return [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]


def haproxy_config(frontends: dict[str, tuple[int, list[int], str]]) -> str:
    """HAProxy configuration: per name, (listening port, backend ports, health-check path). Round robin over
    the backends that pass their health check (every 2 s, 10 s to answer: a busy Rasa server answers late, and
    must not be taken out for it; out after 3 failures, a dead one within 6 s). A request whose backend
    refused the connection or closed it without a byte of answer (it died before taking the message: Rasa
    answers only after processing) is re-sent to another backend, so a replica lost between two health checks
    costs the patient nothing. HAProxy re-sends only a request it holds whole, so it waits for each request's body
    before choosing a backend (``http-buffer-request``; without it, a replica that died after the connection was
    made and before it answered gave the patient a 502 now and then), and only requests that fit in one buffer:
    256 kB holds the whole tracker Rasa posts to the action server for a long consultation. Requests that
    failed, were retried or were re-sent are logged to standard output (one line each, with HAProxy's termination
    state); the others are not."""
    lines = ["global", "  maxconn 1024", "  tune.bufsize 262144", "  log stdout format raw local0 info", "defaults",
             "  mode http", "  log global", "  option httplog", "  option dontlog-normal", "  timeout connect 2s",
             "  timeout client 300s", "  timeout server 300s", "  option redispatch 1", "  option http-buffer-request",
             "  retries 3", "  retry-on conn-failure empty-response", "  http-reuse never", "  timeout check 10s",
             "  default-server inter 2s fall 3 rise 1", ""]
    for name, (port, backends, health) in frontends.items():
        lines += [f"frontend {name}", f"  bind 127.0.0.1:{port}", f"  default_backend {name}_servers", "",
                  f"backend {name}_servers", "  balance roundrobin", f"  option httpchk GET {health}"]
        lines += [f"  server {name}{index} 127.0.0.1:{backend} check"
                  for index, backend in enumerate(backends, start=1)]
        lines.append("")
    return "\n".join(lines)


def haproxy_argv(config: Path) -> list[str]:
    """HAProxy in the foreground with ``config``."""
    haproxy = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)
    if haproxy is None:
        raise FileNotFoundError("haproxy is not installed (Debian: apt-get install haproxy)")
    return [haproxy, "-f", str(config), "-db"]
