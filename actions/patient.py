"""What the patient tells us: symptoms, location, and the intake form's validation."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import metadata, patient_location
from actions.form_interruptions import InterruptibleForm
from actions.places import find_city
from actions.responses import say
from actions.runtime import get_services
from actions.wording import age_band, capability_words, join_words
from hospitals.types import HospitalInfo

SKIPPED = "skipped"
DURATION_WORDS = re.compile(
    r"\d|yesterday|today|week|month|year|day|hour|since|ago|long time|a while|few|couple|one|two|three|four|five",
    re.IGNORECASE,
)


# Past conditions and medicines, told apart from current symptoms by the way patients phrase them.
MEDICATION_WORDS = re.compile(
    r"\b(?:i (?:take|use)|i'?m (?:on|taking)|i am (?:on|taking)|taking|prescribed|tablets?|pills?|inhaler|"
    r"\d+ ?mg|medication|medicine|allergic to|allergy to|"
    r"(?:^|\b(?:and|she|he|they|also) )(?:also )?(?:takes|uses)|(?:she|he|they)(?:'s| is| are) on)\b", re.IGNORECASE)
HISTORY_WORDS = re.compile(
    r"\b(?:had\b.{0,40}\b(?:ago|when i was|as a (?:child|kid|teenager)|last year|out|removed|replaced)|"
    r"was diagnosed|diagnosed with|history of|used to|(?:years?|months?) ago|(?:in|since) (?:19|20)\d\d|surgery|"
    r"operation|since i was|(?:i have|i've got|i've had) (?:diabetes|asthma|epilepsy|high blood pressure|"
    r"hypertension|cancer|a heart condition|copd|arthritis))\b", re.IGNORECASE)
# "just send it now" or "skip the rest" inside the intake form leaves its remaining questions out and shows the
# summary ("just send it now please" at the reason question had become the reason: found chatting).
SKIP_THE_REST = re.compile(r"^\W*(?:(?:ok|okay|just|please|now|then)\W+)*send\b|\bno more questions\b"
                           r"|\bskip\b.*\b(?:all|rest|everything|questions)\b", re.IGNORECASE)
# Where a message that tells both a past condition and a medicine is cut: "she had a stroke in 2019 and takes
# warfarin" (found chatting: all of it went to the history, and the transcript listed no medicine).
CLAUSE_BREAK = re.compile(r"\s*(?:[,;]|\band\b)\s*", re.IGNORECASE)


def patient_notes(text: str) -> dict[str, list[str]]:
    """The slots a message belongs in (``"medications"``, ``"history"``), each with the patient's words for it;
    {} for a current complaint. A message that tells both is cut into clauses, each kept where it belongs (a
    clause that names no medicine goes to the history)."""
    kinds = [kind for kind, words in (("medications", MEDICATION_WORDS), ("history", HISTORY_WORDS))
             if words.search(text)]
    if len(kinds) < 2:
        return {kind: [text] for kind in kinds[:1]}
    notes: dict[str, list[str]] = {"medications": [], "history": []}
    for clause in filter(None, CLAUSE_BREAK.split(text)):
        notes["medications" if MEDICATION_WORDS.search(clause) else "history"].append(clause)
    return {kind: [", ".join(clauses)] for kind, clauses in notes.items() if clauses}


def symptom_entities(tracker: Tracker) -> list[dict[str, Any]]:
    """Symptoms in the latest message, each {name, negated, duration}, without duplicates. Each duration the
    message names belongs to the symptom nearest to it ("tired, and a cough for 3 weeks": the cough's)."""
    entities = tracker.latest_message.get("entities") or []
    seen: dict[str, dict[str, Any]] = {}
    spans: dict[str, tuple[int, int]] = {}
    for entity in entities:
        name = str(entity.get("value", "")).strip().lower()
        if entity.get("entity") != "symptom" or not name:
            continue
        negated = entity.get("role") == "negated" or bool(entity.get("negated"))
        seen[name] = {"name": name, "negated": negated, "duration": None}
        if not negated and "start" in entity:
            spans[name] = (entity["start"], entity["end"])
    for entity in entities:
        if entity.get("entity") == "duration" and spans and "start" in entity:
            nearest = min(spans, key=lambda name: _gap(spans[name], (entity["start"], entity["end"])))
            seen[nearest]["duration"] = str(entity.get("value"))
    return list(seen.values())


def _gap(first: tuple[int, int], second: tuple[int, int]) -> int:
    """Characters between two (start, end) spans of a message (0 when they touch or overlap)."""
    return max(first[0] - second[1], second[0] - first[1], 0)


def location_from_message(tracker: Tracker, text: str | None) -> dict[str, Any] | None:
    """Coordinates from a shared location (metadata) or a known city in ``text``."""
    shared = metadata(tracker).get("location")
    if shared and shared.get("latitude") is not None and shared.get("longitude") is not None:
        return {
            "location": "shared location",
            "latitude": float(shared["latitude"]),
            "longitude": float(shared["longitude"]),
        }
    city = find_city(text or "")
    if city:
        return {"location": city[0], "latitude": city[1], "longitude": city[2]}
    return None


def hospital_lines(hospitals: list[HospitalInfo]) -> str:
    """'St Thomas Radiology (London, 3 km): answers questions about your images' per line."""
    lines = []
    for info in hospitals:
        where = info.city + (f", {info.distance_km:.0f} km" if info.distance_km is not None else "")
        lines.append(f"- {info.name} ({where}): {capability_words(info.capabilities)}")
    return "\n".join(lines)


class ActionNoteSymptoms(Action):
    """Note described symptoms (negated ones too) and their duration; past conditions and medicines go to the
    ``history`` and ``medications`` slots in the patient's words."""

    def name(self) -> str:
        return "action_note_symptoms"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        found = symptom_entities(tracker)
        known = {s["name"]: s for s in tracker.get_slot("symptoms") or []}
        for symptom in found:  # said again without a duration, a symptom keeps the one told before
            told = known.get(symptom["name"], {}).get("duration")
            known[symptom["name"]] = {**symptom, "duration": symptom["duration"] or told}
        text = (tracker.latest_message.get("text") or "").strip()
        notes = patient_notes(text)
        if notes:
            kinds = "_and_".join(sorted(notes))
            say(dispatcher, f"utter_noted_{kinds}")
            say(dispatcher, "utter_next_step")
            return [SlotSet(kind, [*(tracker.get_slot(kind) or []), *said]) for kind, said in notes.items()]
        events = [SlotSet("symptoms", list(known.values()))]
        durations = list(tracker.get_latest_entity_values("duration"))
        if durations:
            events.append(SlotSet("duration", str(durations[0])))
        if found:
            noted = join_words(
                [s["name"] for s in found if not s["negated"]] + [f"no {s['name']}" for s in found if s["negated"]]
            )
            say(dispatcher, "utter_noted_symptoms", noted=noted)
        else:
            say(dispatcher, "utter_noted")
        say(dispatcher, "utter_next_step")
        return events


class ActionNoteAge(Action):
    """An age told before the intake form asks for it: kept as the form's age band, so it is not asked again
    (an answer that is no plausible age is dropped, and the form asks then)."""

    def name(self) -> str:
        return "action_note_age"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        band = age_band(next(tracker.get_latest_entity_values("age"), None) or tracker.latest_message.get("text") or "")
        if band is None:  # not an age the form would keep: the form asks for it when it comes to it
            say(dispatcher, "utter_next_step")
            return [SlotSet("age_band", None)]
        say(dispatcher, "utter_noted_age", age_band=band)
        say(dispatcher, "utter_next_step")
        return [SlotSet("age_band", band)]


class ActionNoteLocation(Action):
    """Place the patient and list the nearest hospitals."""

    def name(self) -> str:
        return "action_note_location"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        entity = next(tracker.get_latest_entity_values("location"), None)
        place = location_from_message(tracker, entity or tracker.latest_message.get("text"))
        if place is None:
            say(dispatcher, "utter_unknown_place")
            return []
        services = await get_services()
        nearest = await services.hospitals.nearest(place)
        say(dispatcher, "utter_hospitals_near_place", place=place["location"], hospital_list=hospital_lines(nearest))
        return [SlotSet(key, value) for key, value in place.items()]


class ActionListHospitals(Action):
    """List the partner hospitals, nearest first when the patient's location is known."""

    def name(self) -> str:
        return "action_list_hospitals"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        services = await get_services()
        location = patient_location(tracker)
        hospitals = await services.hospitals.nearest(location)
        say(dispatcher, "utter_hospitals_near_you" if location else "utter_hospitals_all",
            hospital_list=hospital_lines(hospitals))
        return []


class AskIntakeSlot:
    """Ask for one intake-form slot (the form calls ``action_ask_<slot>``); subclasses name the slot.

    A mixin rather than an :class:`Action` so that rasa-sdk registers only the concrete subclasses.
    """

    slot = ""

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        say(dispatcher, f"utter_prompt_{self.slot}")
        return []


class ActionAskChiefComplaint(AskIntakeSlot, Action):
    """Ask for the reason for the consultation."""

    slot = "chief_complaint"


class ActionAskDuration(AskIntakeSlot, Action):
    """Ask how long the problem has lasted."""

    slot = "duration"


class ActionAskAgeBand(AskIntakeSlot, Action):
    """Ask the patient's age (only the band is kept)."""

    slot = "age_band"


class ActionAskLocation(AskIntakeSlot, Action):
    """Ask where the patient is."""

    slot = "location"


class ValidateIntakeForm(InterruptibleForm, FormValidationAction):
    """Validate the intake form's slots with helpful re-prompts; every slot can be skipped; an emergency or
    asking for a person interrupts it (:class:`actions.form_interruptions.InterruptibleForm`)."""

    def name(self) -> str:
        return "validate_intake_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Validate as usual, unless the patient asks to send now: every question not yet answered is skipped."""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        text = tracker.latest_message.get("text") or ""
        asked = tracker.get_slot("requested_slot") is not None  # the "send" that opens the form asks its questions
        if asked and intent in {"finish_and_send", "skip"} and SKIP_THE_REST.search(text):
            return [SlotSet(slot, SKIPPED) for slot in self.domain_slots(domain) if tracker.get_slot(slot) is None
                    or slot == tracker.get_slot("requested_slot")]
        return await super().run(dispatcher, tracker, domain)

    def validate_chief_complaint(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        if text == SKIPPED or len(text) >= 3:
            return {"chief_complaint": text}
        say(dispatcher, "utter_reask_chief_complaint")
        return {"chief_complaint": None}

    def validate_duration(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        if text == SKIPPED or DURATION_WORDS.search(text):
            return {"duration": text}
        say(dispatcher, "utter_reask_duration")
        return {"duration": None}

    def validate_age_band(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value == SKIPPED:
            return {"age_band": SKIPPED}
        band = age_band(value)
        if band:
            return {"age_band": band}
        say(dispatcher, "utter_reask_age_band")
        return {"age_band": None}

    def validate_location(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value == SKIPPED:
            return {"location": SKIPPED}
        place = location_from_message(tracker, str(value or ""))
        if place:
            return place
        say(dispatcher, "utter_reask_location")
        return {"location": None}
