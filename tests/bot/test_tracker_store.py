"""The tracker store deletes a conversation's stored events on "delete my data"."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_store import ErasableSQLTrackerStore

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
slots:
  data_erased: {type: bool, influence_conversation: false, mappings: [{type: custom}]}
  consent_given: {type: bool, mappings: [{type: custom}]}
"""
)


def stored_texts(store: ErasableSQLTrackerStore, sender: str) -> list[str]:
    with store.session_scope() as session:
        rows = session.query(store.SQLEvent).filter(store.SQLEvent.sender_id == sender).all()
        return [row.data for row in rows]


@pytest.mark.asyncio
async def test_erasure_deletes_stored_history(tmp_path: Path) -> None:
    store = ErasableSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    tracker = DialogueStateTracker.from_events(
        "patient-1",
        [
            ActionExecuted("action_listen"),
            UserUttered("my name is Jane and I have a cough"),
            SlotSet("consent_given", True),
        ],
        slots=DOMAIN.slots,
    )
    await store.save(tracker)
    assert any("Jane" in row for row in stored_texts(store, "patient-1"))

    tracker.update(UserUttered("delete my data"))
    tracker.update(SlotSet("data_erased", True))
    tracker.update(BotUttered("Done: your data is deleted."))
    await store.save(tracker)

    rows = stored_texts(store, "patient-1")
    assert len(rows) == 1 and "Done: your data is deleted." in rows[0]
    assert not any("Jane" in row for row in rows)
    restored = await store.retrieve("patient-1")
    assert restored.get_slot("consent_given") is None


@pytest.mark.asyncio
async def test_normal_saves_append_events(tmp_path: Path) -> None:
    store = ErasableSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    tracker = DialogueStateTracker.from_events("patient-2", [UserUttered("hello")], slots=DOMAIN.slots)
    await store.save(tracker)
    tracker.update(BotUttered("hi"))
    await store.save(tracker)
    assert len(stored_texts(store, "patient-2")) == 2


def test_a_sqlite_tracker_store_commits_without_an_fsync_each_time(tmp_path: Path) -> None:
    """The profile of 50 patients spent 10% of the Rasa server's main thread in the tracker store's commits."""
    store = ErasableSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    with store.engine.connect() as connection:
        journal = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        synchronous = connection.exec_driver_sql("PRAGMA synchronous").scalar()
    assert (journal, synchronous) == ("wal", 1)  # 1 = NORMAL
