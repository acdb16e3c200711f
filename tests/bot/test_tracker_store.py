"""The tracker store deletes a conversation's stored events on "delete my data"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
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


def _cached_store(path: Path, capacity: int = 10) -> ErasableSQLTrackerStore:
    return ErasableSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(path), cached_trackers=capacity)


async def _conversation(store: ErasableSQLTrackerStore, sender: str) -> DialogueStateTracker:
    """A stored conversation, loaded back through the store (as Rasa does at the start of a turn)."""
    await store.save(DialogueStateTracker.from_events(sender, [UserUttered("hello")], slots=DOMAIN.slots))
    loaded = await store.retrieve(sender)
    assert loaded is not None
    return loaded


@pytest.mark.asyncio
async def test_a_turn_reuses_the_tracker_its_conversation_saved_and_stores_only_new_events(tmp_path: Path) -> None:
    store = _cached_store(tmp_path / "tracker.db")
    tracker = await _conversation(store, "patient-3")
    tracker.update(BotUttered("hi"))
    tracker.update(UserUttered("is this normal?"))
    await store.save(tracker)
    assert await store.retrieve("patient-3") is tracker  # not parsed and replayed again
    assert [json.loads(row)["event"] for row in stored_texts(store, "patient-3")] == ["user", "bot", "user"]
    fresh = await ErasableSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db")).retrieve(
        "patient-3")
    assert fresh is not None and fresh.events == tracker.events


@pytest.mark.asyncio
async def test_another_replica_writing_to_the_conversation_makes_the_next_turn_reload_it(tmp_path: Path) -> None:
    first, second = _cached_store(tmp_path / "tracker.db"), _cached_store(tmp_path / "tracker.db")
    kept = await _conversation(first, "patient-4")
    other = await second.retrieve("patient-4")
    assert other is not None and other is not kept
    other.update(UserUttered("I have a cough"))
    await second.save(other)  # the patient's next message went to the other replica
    reloaded = await first.retrieve("patient-4")
    assert reloaded is not kept and reloaded is not None
    assert [e.text for e in reloaded.events if isinstance(e, UserUttered)] == ["hello", "I have a cough"]


@pytest.mark.asyncio
async def test_a_turn_that_failed_before_saving_leaves_nothing_in_the_next_one(tmp_path: Path) -> None:
    store = _cached_store(tmp_path / "tracker.db")
    tracker = await _conversation(store, "patient-5")
    tracker.update(UserUttered("this turn crashes before it is saved"))
    reloaded = await store.retrieve("patient-5")
    assert reloaded is not tracker and reloaded is not None and len(reloaded.events) == 1


@pytest.mark.asyncio
async def test_a_new_session_and_an_erasure_are_saved_by_loading_again(tmp_path: Path) -> None:
    store = _cached_store(tmp_path / "tracker.db")
    tracker = await _conversation(store, "patient-6")
    tracker.update(SessionStarted())
    await store.save(tracker)
    assert len(stored_texts(store, "patient-6")) == 2 and await store.retrieve("patient-6") is not tracker
    erased = await _conversation(store, "patient-7")
    erased.update(SlotSet("data_erased", True))
    erased.update(BotUttered("Done: your data is deleted."))
    await store.save(erased)
    assert len(stored_texts(store, "patient-7")) == 1 and await store.retrieve("patient-7") is not erased


@pytest.mark.asyncio
async def test_the_cache_keeps_the_most_recent_conversations_only(tmp_path: Path) -> None:
    store = _cached_store(tmp_path / "tracker.db", capacity=2)
    trackers = [await _conversation(store, f"patient-{n}") for n in range(3)]
    assert await store.retrieve("patient-0") is not trackers[0]  # the least recent was dropped
    assert await store.retrieve("patient-2") is trackers[2]
    assert _cached_store(tmp_path / "other.db", capacity=0).cache.capacity == 0


def test_a_sqlite_tracker_store_keeps_its_connection(tmp_path: Path) -> None:
    """50 patients: opening a SQLite connection (and its pragmas) for every query cost 7% of the main thread."""
    store = ErasableSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    with store.session_scope() as first, store.session_scope() as second:
        assert first.connection().connection.dbapi_connection is second.connection().connection.dbapi_connection
