"""Database engines shared by the outbox and the inbox (SQLite by default, any SQLAlchemy URL works), and how
their epoch timestamps are shown to an operator."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from qaid.sqlite import apply_pragmas


def make_engine(database_url: str) -> Engine:
    """An engine for ``database_url``; SQLite files get their folder, WAL mode and a busy timeout
    so that the action server, the worker CLI and the inbox can share one file safely."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return create_engine(database_url, pool_pre_ping=True)
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(database_url, connect_args={"timeout": 30})
    event.listen(engine, "connect", apply_pragmas)
    return engine


def shown_time(epoch: float | None) -> str:
    """A stored epoch as an operator reads it (UTC, to the second); ``-`` when there is none."""
    return "-" if epoch is None else datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
