"""Scripted consultations (``tests/conversations/*.yml``) played against the real stack, turn by turn.

A file holds ``conversations``; each has a ``name`` and ``turns``. A turn is ``user: <text>`` or
``image: <name>`` (a generated image, see :data:`IMAGES`; ``caption`` optional), with ``expect``
(``from: <prefix>`` starts a conversation with the file's shared ``prefixes``):

* ``says`` / ``says_any`` / ``not_says``: text (or a list) the bot's replies must hold all / one of / none of
  (case-insensitive);
* ``buttons``: whether a reply offers buttons;
* ``emergency``: whether the bot gives emergency advice ("call ... now") and marks the consultation urgent;
  checked on **every** turn, default false: an emergency nobody expected is a false alarm;
* ``fallback``: whether "Sorry, I didn't understand" may appear; checked on every turn, default false;
* ``intent`` / ``action``: the intent Rasa gave this message / an action it ran for it (tracker store);
* ``slots``: slot values after the turn (``"*"``: any value but empty).

Every turn is also checked for ``honest_confidence`` (no 100%), ``plain_words`` (no internal names) and
``consistent`` (no modality named that contradicts what the labeller said about the image). A conversation's
``transcript`` (after its last turn) lists text the transcript delivered to the hospital inbox must hold
(``contains``) and ``urgent``. :func:`play` returns one :class:`Check` per property checked.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from hospital_service.inbox import InboxStore
from tests.support.dicom import dicom_file
from tests.support.phantoms import head_phantom, photo_like, png_bytes
from tests.support.stack import Stack
from vision_models.screen_photos import screen_photo_bytes

FALLBACK = "sorry, i didn't understand"
EMERGENCY = "this may be an emergency"
INTERNAL_NAMES = re.compile(r"\b(?:prefilter|vqa|labeller|segmentation_unet|None \(|brain_mri|head_ct|chest_xray)\b")
MODALITY_WORDS = {"ct": re.compile(r"\bct\b", re.I), "mri": re.compile(r"\bmri\b", re.I),
                  "x-ray": re.compile(r"\bx-?ray\b", re.I)}
FIRST_LOOK = re.compile(r"This looks like an? ([^(]+?) \(", re.I)
ANSWER = re.compile(r"^\s*(?:A:\s*)?(ct|mri|x-?ray)\b\s*[—-]", re.I | re.M)


IMAGES: dict[str, Callable[[], tuple[bytes, str]]] = {
    "head_scan": lambda: (png_bytes(head_phantom(256)), "head.png"),
    "second_head_scan": lambda: (png_bytes(head_phantom(200)), "second.png"),
    "holiday_photo": lambda: (png_bytes(photo_like()), "holiday.png"),
    "dicom_head": lambda: (dicom_file(head_phantom(256).astype(np.uint16) * 16), "scan.dcm"),
    "screen_photo_head": lambda: (screen_photo_bytes(png_bytes(head_phantom(256)), seed=0), "IMG_2041.jpg"),
    "not_an_image": lambda: (b"%PDF-1.4 this is a letter, not an image", "letter.pdf"),
}


@dataclass
class Check:
    """One expected property of one turn (or of a conversation's transcript)."""

    conversation: str
    turn: int
    prop: str
    passed: bool
    detail: str = ""


def load_conversations(folder: Path) -> list[dict[str, Any]]:
    """Every conversation of every ``*.yml`` in ``folder``, with its file name. A conversation with
    ``from: <name>`` starts with the turns of the file's ``prefixes: {<name>: [...]}``."""
    conversations = []
    for path in sorted(folder.glob("*.yml")):
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
        prefixes = content.get("prefixes") or {}
        for conversation in content["conversations"]:
            turns = [*prefixes.get(conversation.get("from"), []), *conversation["turns"]]
            conversations.append({**conversation, "turns": turns, "file": path.name})
    return conversations


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


class TrackerReader:
    """Reads a conversation's events from the running stack's SQL tracker store."""

    def __init__(self, var_dir: Path) -> None:
        self.path = var_dir / "rasa_tracker.db"

    def events(self, sender_id: str) -> list[dict[str, Any]]:
        """The stored events of ``sender_id``, oldest first."""
        with sqlite3.connect(self.path, timeout=30) as connection:
            rows = connection.execute("SELECT data FROM events WHERE sender_id = ? ORDER BY id", (sender_id,))
            return [json.loads(row[0]) for row in rows]

    def since_last_user(self, sender_id: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]], dict[str, Any]]:
        """The last user event, the events after it, and every slot's value."""
        events = self.events(sender_id)
        slots: dict[str, Any] = {}
        last = None
        for index, event in enumerate(events):
            if event.get("event") == "slot":
                slots[event["name"]] = event.get("value")
            elif event.get("event") == "user":
                last = index
        if last is None:
            return None, events, slots
        return events[last], events[last + 1:], slots


def _replies_text(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


class Player:
    """Plays conversations on one stack and collects :class:`Check` results."""

    def __init__(self, stack: Stack, wait_for_tracker_s: float = 10.0) -> None:
        self.stack = stack
        self.tracker = TrackerReader(stack.var_dir)
        self.wait_for_tracker_s = wait_for_tracker_s
        self.checks: list[Check] = []

    def _check(self, name: str, turn: int, prop: str, passed: bool, detail: str = "") -> None:
        self.checks.append(Check(name, turn, prop, bool(passed), "" if passed else detail))

    def play(self, conversation: dict[str, Any], sender: str) -> list[Check]:
        """Play one conversation as ``sender``; returns its checks."""
        start = len(self.checks)
        name = conversation["name"]
        first_look: str | None = None
        for index, turn in enumerate(conversation["turns"], start=1):
            if "image" in turn:
                data, filename = IMAGES[turn["image"]]()
                replies = self.stack.send_image(sender, data, filename, caption=turn.get("caption", "/send_image"))
            else:
                replies = self.stack.say(sender, turn["user"])
            text = _replies_text(replies)
            first_look = self._check_turn(name, index, turn, replies, text, first_look, f"rest:{sender}")
        if "transcript" in conversation:
            self._check_transcript(name, conversation["transcript"], f"rest:{sender}")
        return self.checks[start:]

    def _check_turn(self, name: str, index: int, turn: dict[str, Any], replies: list[dict[str, Any]], text: str,
                    first_look: str | None, sender_id: str) -> str | None:
        expect = turn.get("expect") or {}
        lower = text.lower()
        shown = f"{turn.get('user') or turn.get('image')!r} -> {text!r}"
        for wanted in _as_list(expect.get("says")):
            self._check(name, index, "says", wanted.lower() in lower, f"missing {wanted!r}: {shown}")
        if "says_any" in expect:
            options = _as_list(expect["says_any"])
            self._check(name, index, "says", any(o.lower() in lower for o in options), f"none of {options}: {shown}")
        for unwanted in _as_list(expect.get("not_says")):
            self._check(name, index, "not_says", unwanted.lower() not in lower, f"said {unwanted!r}: {shown}")
        if "buttons" in expect:
            offered = any(r.get("buttons") for r in replies)
            self._check(name, index, "buttons", offered == expect["buttons"], f"buttons {offered}: {shown}")
        emergency = EMERGENCY in lower
        self._check(name, index, "emergency", emergency == bool(expect.get("emergency", False)),
                    f"emergency advice {emergency}: {shown}")
        if not expect.get("fallback", False):
            self._check(name, index, "no_fallback", FALLBACK not in lower, f"fallback: {shown}")
        self._check(name, index, "honest_confidence", "100%" not in text, shown)
        self._check(name, index, "plain_words", not INTERNAL_NAMES.search(text), shown)
        found = FIRST_LOOK.search(text)
        first_look = found.group(1).lower() if found else first_look
        if first_look:
            stated = [m.group(1).lower().replace("xray", "x-ray") for m in ANSWER.finditer(text)]
            labelled = {key for key, pattern in MODALITY_WORDS.items() if pattern.search(first_look)}
            contradiction = [s for s in stated if labelled and s not in labelled]
            self._check(name, index, "consistent", not contradiction, f"labelled {first_look!r}: {shown}")
        if any(key in expect for key in ("intent", "action", "slots")):
            self._check_tracker(name, index, expect, sender_id, shown)
        return first_look

    def _check_tracker(self, name: str, index: int, expect: dict[str, Any], sender_id: str, shown: str) -> None:
        user, after, slots = self.tracker.since_last_user(sender_id)
        if "intent" in expect:
            got = ((user or {}).get("parse_data") or {}).get("intent", {}).get("name")
            self._check(name, index, "intent", got == expect["intent"], f"intent {got}: {shown}")
        if "action" in expect:
            ran = [e.get("name") for e in after if e.get("event") == "action"]
            self._check(name, index, "action", expect["action"] in ran, f"actions {ran}: {shown}")
        for slot, value in (expect.get("slots") or {}).items():
            got = slots.get(slot)
            passed = got not in (None, "", [], {}) if value == "*" else got == value
            self._check(name, index, "slots", passed, f"slot {slot}={got!r}: {shown}")

    def _check_transcript(self, name: str, expect: dict[str, Any], sender_id: str) -> None:
        body = self._delivered(sender_id)
        self._check(name, 0, "transcript", body is not None, "no transcript reached the hospital inbox")
        if body is None:
            return
        transcript = json.loads(body)["transcript"]
        for wanted in _as_list(expect.get("contains")):
            self._check(name, 0, "transcript", wanted.lower() in body.lower(), f"transcript lacks {wanted!r}")
        if "urgent" in expect:
            self._check(name, 0, "transcript", transcript["urgent"] == expect["urgent"],
                        f"urgent {transcript['urgent']} ({transcript.get('urgent_reason')})")

    def _delivered(self, sender_id: str, timeout: float = 60) -> str | None:
        """The body of the latest transcript the hospital inbox received for ``sender_id``, once delivered."""
        inbox = InboxStore(f"sqlite:///{self.stack.var_dir / 'inbox.sqlite'}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            received = [item for item in inbox.find(limit=100_000) if item.conversation_id == sender_id]
            if received:
                return received[0].body
            time.sleep(0.5)
        return None
