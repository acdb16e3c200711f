"""Which conversation holds which file of the content-addressed media store.

Two patients who upload the same bytes share one ``media/<sha256>.<ext>`` file. Every file an action
stores or reads for a conversation (the upload, its de-identified DICOM, the rendered PNG, overlays,
images screened out or refused) is recorded here against the conversation's sender id, so that
"delete my data" removes each file once no other conversation holds it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

from qaid.sqlite import apply_pragmas

SCHEMA = ("CREATE TABLE IF NOT EXISTS media_holder "
          "(name TEXT NOT NULL, sender TEXT NOT NULL, PRIMARY KEY (name, sender))")


class MediaLedger:
    """A SQLite table of (media name, sender id) pairs; safe to use from several threads and processes.

    Each thread keeps its connection open: closing the last one checkpoints the write-ahead log with a sync, so a
    connection per call would sync on every call (:mod:`qaid.sqlite`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()

    def _connect(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=30)
            apply_pragmas(connection)  # WAL, no sync per commit, as every SQLite file of Q&Aid
            connection.execute(SCHEMA)
            self._local.connection = connection
        return connection

    def record(self, sender: str, names: Iterable[str]) -> None:
        """Note that ``sender``'s conversation holds the media files ``names``."""
        rows = [(name, sender) for name in names]
        if not rows:
            return
        with self._connect() as connection:
            connection.executemany("INSERT OR IGNORE INTO media_holder (name, sender) VALUES (?, ?)", rows)

    def held_by(self, sender: str) -> list[str]:
        """The media names ``sender`` holds, sorted."""
        rows = self._connect().execute("SELECT name FROM media_holder WHERE sender = ? ORDER BY name", (sender,))
        return [name for (name,) in rows]

    def release(self, sender: str, names: Iterable[str] | None = None) -> list[str]:
        """Drop ``sender``'s hold on ``names`` (default: all it holds); returns those nobody else holds."""
        with self._connect() as connection:
            if names is None:
                names = [n for (n,) in connection.execute("SELECT name FROM media_holder WHERE sender = ?", (sender,))]
            names = sorted(set(names))
            if not names:
                return []
            connection.executemany("DELETE FROM media_holder WHERE name = ? AND sender = ?",
                                   [(name, sender) for name in names])
            held = {n for (n,) in connection.execute(
                f"SELECT name FROM media_holder WHERE name IN ({','.join('?' * len(names))})", names)}
        return [name for name in names if name not in held]
