"""How every SQLite file of Q&Aid is opened (tracker store, outbox, inbox, media ledger): one writer at a time,
no fsync per commit.

WAL lets readers work while one process writes; ``synchronous=NORMAL`` in WAL mode syncs at checkpoints only,
so a crash of the process loses nothing and a power cut at most the last commits, never the file's
consistency; the busy timeout makes a second writer wait instead of failing.
"""

from __future__ import annotations

from typing import Any

PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA busy_timeout=30000")


def apply_pragmas(dbapi_connection: Any, _connection_record: Any = None) -> None:
    """Set :data:`PRAGMAS` on a new DB-API connection (a SQLAlchemy ``connect`` event listener)."""
    cursor = dbapi_connection.cursor()
    for pragma in PRAGMAS:
        cursor.execute(pragma)
    cursor.close()
