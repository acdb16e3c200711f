"""Trackers kept in memory between a conversation's turns, checked against the database on every use.

Rasa loads a conversation's whole tracker from the tracker store at the start of each turn (parsing every
stored event's JSON and replaying it) and saves it at the end; under load that was 14% of the Rasa server's
main thread. This cache keeps the tracker the last turn saved, with a *stamp* of what the database held for the
conversation then: the number of its stored events and the highest event id. A turn reuses the kept tracker
only if the database's stamp is still that one (no other replica, no erasure, nothing else wrote since) and the
tracker has exactly the events that were stored (a turn that failed before saving leaves more, and is reloaded).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from rasa.shared.core.trackers import DialogueStateTracker

Stamp = tuple[int, int]  # (stored events of the conversation, highest event id); (0, 0) when none


@dataclass
class CachedTracker:
    """A tracker as it was stored, and the database stamp that makes it valid."""

    tracker: DialogueStateTracker
    stored_events: int  # len(tracker.events) when it was stored
    stamp: Stamp


class TrackerCache:
    """At most ``capacity`` trackers, least recently used dropped first; ``capacity`` 0 keeps none."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[str, CachedTracker] = OrderedDict()

    def get(self, sender_id: str, stamp: Stamp) -> DialogueStateTracker | None:
        """The kept tracker of ``sender_id`` if the database still has ``stamp`` and the tracker is unchanged."""
        entry = self._entries.get(sender_id)
        if entry is None:
            return None
        if entry.stamp != stamp or len(entry.tracker.events) != entry.stored_events:
            del self._entries[sender_id]
            return None
        self._entries.move_to_end(sender_id)
        return entry.tracker

    def entry(self, tracker: DialogueStateTracker) -> CachedTracker | None:
        """The entry holding this very tracker object, if it is kept."""
        entry = self._entries.get(tracker.sender_id)
        return entry if entry is not None and entry.tracker is tracker else None

    def put(self, tracker: DialogueStateTracker, stamp: Stamp) -> None:
        """Keep ``tracker``, as stored now, valid while the database has ``stamp``."""
        if self.capacity <= 0:
            return
        self._entries[tracker.sender_id] = CachedTracker(tracker, len(tracker.events), stamp)
        self._entries.move_to_end(tracker.sender_id)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def drop(self, sender_id: str) -> None:
        """Forget ``sender_id``'s tracker."""
        self._entries.pop(sender_id, None)
