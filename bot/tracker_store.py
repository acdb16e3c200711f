"""A SQL tracker store that honours "delete my data".

The ``action_delete_data`` action deletes the conversation's images and transcripts and sets the
``data_erased`` slot. When this store saves a tracker containing that event, it deletes every
stored event of the conversation and keeps only what came after the erasure (the confirmation),
so the history is gone from the database, not just hidden.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

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
    """:class:`SQLTrackerStore` that physically deletes a conversation's events on erasure; a SQLite file is
    opened in WAL mode without an fsync per commit (:mod:`qaid.sqlite`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", apply_pragmas)
            self.engine.dispose()  # connections opened while creating the tables reconnect with the pragmas

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store new events; on erasure, replace the stored conversation with the events after it."""
        marker = erasure_index(tracker)
        if marker is None:
            await super().save(tracker)
            return
        with self.session_scope() as session:
            session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == tracker.sender_id).delete()
            for event in list(tracker.events)[marker + 1 :]:
                data = event.as_dict()
                session.add(
                    self.SQLEvent(
                        sender_id=tracker.sender_id,
                        type_name=event.type_name,
                        timestamp=data.get("timestamp"),
                        intent_name=(data.get("parse_data") or {}).get("intent", {}).get("name"),
                        action_name=data.get("name"),
                        data=json.dumps(data),
                    )
                )
            session.commit()
