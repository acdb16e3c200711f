"""A SQL tracker store that honours "delete my data" and keeps conversations' trackers between turns.

The ``action_delete_data`` action deletes the conversation's images and transcripts and sets the
``data_erased`` slot. When this store saves a tracker containing that event, it deletes every
stored event of the conversation and keeps only what came after the erasure (the confirmation),
so the history is gone from the database, not just hidden.

With ``cached_trackers: N`` (``endpoints.yml``), the trackers of the N most recent conversations stay in memory
(:mod:`bot.tracker_cache`): a turn reuses the tracker its conversation's last turn saved when the database shows
that nothing else has written to the conversation since, and a save inserts the turn's new events without
counting the stored ones first. Replicas sharing one database stay correct: each checks the stamp every turn.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SessionStarted, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_cache import Stamp, TrackerCache
from qaid.sqlite import apply_pragmas

ERASURE_SLOT = "data_erased"


def erasure_index(tracker: DialogueStateTracker) -> int | None:
    """Index of the latest ``data_erased = true`` event, or None."""
    for index in range(len(tracker.events) - 1, -1, -1):
        event = tracker.events[index]
        if isinstance(event, SlotSet) and event.key == ERASURE_SLOT and event.value is True:
            return index
    return None


class ErasableSQLTrackerStore(SQLTrackerStore):
    """:class:`SQLTrackerStore` that physically deletes a conversation's events on erasure and keeps the trackers
    of ``cached_trackers`` recent conversations in memory (0: none; also none with an event broker, which diffs
    against a freshly loaded tracker); a SQLite file is opened in WAL mode without an fsync per commit
    (:mod:`qaid.sqlite`)."""

    engine: Any  # set by SQLTrackerStore; replaced for SQLite

    def __init__(self, *args: Any, cached_trackers: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = self.engine
        if current.dialect.name == "sqlite":
            # SQLAlchemy 1.4 opens a SQLite file without a pool: a connection (and its pragmas) per query cost 7%
            # of the Rasa server's main thread at 50 patients. One kept connection per thread instead.
            current.dispose()
            engine = sa.create_engine(current.url, poolclass=sa.pool.SingletonThreadPool)
            sa.event.listen(engine, "connect", apply_pragmas)
            self.engine = engine
            self.sessionmaker = sa.orm.session.sessionmaker(bind=engine)
        self.cache = TrackerCache(0 if self.event_broker is not None else int(cached_trackers))

    def _stamp(self, session: Any, sender_id: str) -> Stamp:
        """How many events the database holds for ``sender_id``, and the highest of their ids."""
        count, top = session.query(sa.func.count(self.SQLEvent.id), sa.func.max(self.SQLEvent.id)).filter(
            self.SQLEvent.sender_id == sender_id).one()
        return int(count), int(top or 0)

    def _row(self, sender_id: str, event: Event) -> Any:
        data = event.as_dict()
        return self.SQLEvent(
            sender_id=sender_id,
            type_name=event.type_name,
            timestamp=data.get("timestamp"),
            intent_name=(data.get("parse_data") or {}).get("intent", {}).get("name"),
            action_name=data.get("name"),
            data=json.dumps(data),
        )

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The tracker of the latest session: the kept one while the database is unchanged, else loaded."""
        if self.cache.capacity <= 0:
            return await super().retrieve(sender_id)
        with self.session_scope() as session:
            stamp = self._stamp(session, sender_id)  # read before loading: a write in between only forces a reload
        kept = self.cache.get(sender_id, stamp)
        if kept is not None:
            return kept
        tracker = await super().retrieve(sender_id)
        if tracker is not None:
            self.cache.put(tracker, stamp)
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store new events; on erasure, replace the stored conversation with the events after it."""
        marker = erasure_index(tracker)
        if marker is not None:
            self.cache.drop(tracker.sender_id)
            self._replace(tracker, list(tracker.events)[marker + 1 :])
            return
        entry = self.cache.entry(tracker)
        new_events = list(tracker.events)[entry.stored_events :] if entry is not None else []
        if entry is None or any(isinstance(event, SessionStarted) for event in new_events):
            # a new session: the next turn loads it from its start, as Rasa's store does
            self.cache.drop(tracker.sender_id)
            await super().save(tracker)
            return
        with self.session_scope() as session:
            rows = [self._row(tracker.sender_id, event) for event in new_events]
            session.add_all(rows)
            session.flush()  # assigns the ids
            top = max((row.id for row in rows), default=entry.stamp[1])
            session.commit()
        self.cache.put(tracker, (entry.stamp[0] + len(rows), top))

    def _replace(self, tracker: DialogueStateTracker, events: list[Event]) -> None:
        with self.session_scope() as session:
            session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == tracker.sender_id).delete()
            session.add_all([self._row(tracker.sender_id, event) for event in events])
            session.commit()
