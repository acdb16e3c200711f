"""The media ledger: which conversation holds which stored file, opened like every SQLite file of Q&Aid."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from actions.media_ledger import MediaLedger


def test_a_file_is_released_for_erasure_only_when_nobody_else_holds_it(tmp_path: Path) -> None:
    ledger = MediaLedger(tmp_path / "state" / "media_holders.db")
    ledger.record("alice", ["a.png", "shared.png"])
    ledger.record("alice", ["a.png"])  # recorded twice, held once
    ledger.record("bob", ["shared.png"])
    assert ledger.held_by("alice") == ["a.png", "shared.png"]
    assert ledger.release("alice") == ["a.png"]  # bob still holds shared.png
    assert ledger.held_by("alice") == []
    assert ledger.release("bob", ["shared.png"]) == ["shared.png"]


def test_the_ledger_writes_ahead_without_a_sync_per_commit(tmp_path: Path) -> None:
    path = tmp_path / "media_holders.db"
    MediaLedger(path).record("alice", ["a.png"])
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
