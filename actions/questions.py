"""Answering the patient's questions about an image with the hospitals' VQA models."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    ImageRequest,
    images,
    now_iso,
    patient_location,
    question_request,
)
from actions.image_facts import known_from_file, known_type, part_not_shown, stated_answer
from actions.responses import say, sentence
from actions.runtime import get_services
from actions.wording import (
    abstain_sentence,
    answer_sentence,
    confidence_words,
    conflict_sentence,
    lesion_side_sentence,
    lesion_size_sentence,
    measured_accuracy,
    off_label_sentence,
    percent,
)
from hospitals.types import HospitalError
from qaid.image_types import with_article
from qaid.images import ImageError

logger = logging.getLogger(__name__)

# Questions about what an image means for the patient (worry, whether something is cancer, prognosis,
# treatment) are not image questions ("do I have a fracture?" is, like "is there a fracture?"): a yes/no
# model must not answer "should I be worried?" with "No" (found chatting, after a first look that said
# "abnormal: yes"). Nor is whether imaging is safe ("I'm 7 months pregnant, is an x-ray safe?" met "No (98%)",
# found chatting), what the patient may do, or how two images compare (the models read one image at a time; "is
# this one better or worse than the first one?" was taken for a hospital choice, found chatting), nor what a
# doctor already said ("my doctor said there is a shadow on my lung" heard "No (94%)": found by a helper playing
# patients). They go to the doctor, in the transcript.
FOR_A_DOCTOR = re.compile(
    r"\b(?:should i (?:be )?(?:worried|worry|concerned|panic|scared)|"
    r"(?:is|does) (?:it|this|that) (?:look |seem |sound )?(?:serious|dangerous|bad|worrying|life.?threatening|fatal|"
    r"deadly|curable|treatable|terminal)\b|"
    r"am i (?:going to|gonna) (?:die|be (?:ok|okay|fine|alright))|will i (?:die|be (?:ok|okay|fine|alright)|recover|"
    r"survive|get better)|how long (?:do i have|have i got|does (?:he|she) have) (?:left|to live)|"
    r"\b(?:cancer|cancerous|malignant|benign|terminal)\b|something to worry about|"
    r"(?:do|will) i need (?:surgery|an operation|treatment|chemo\w*|a biopsy)|"
    r"do i have (?:cancer|a tumou?r)|what (?:do i have|is wrong with me|should i do|do i do|treatment)|"
    r"(?:what'?s|what is) (?:my |the )?(?:diagnosis|prognosis)|"
    r"\b(?:is|are|was|were) (?:\w+ ){0,4}safe\b|\bsafe (?:for|during|in|while|to)\b|\bpregnan\w*|breast.?feed\w*|"
    r"\bradiation\b|\bcontrast (?:dye|agent|injection)|"
    r"\b(?:can|should|may) (?:i|he|she|we) (?:still )?(?:take|stop|eat|drink|drive|fly|exercise|work|go to)|"
    r"\b(?:better|worse|bigger|smaller|changed?|grown|shrunk)\b.{0,40}\b(?:than|since|compared|from) (?:the |my |his |"
    r"her |last |that )?(?:first|last|previous|other|earlier|old|before|time|one|scan|image|picture)|"
    r"\bcompare\b|\bwhich of the two\b|"
    r"\b(?:doctor|gp|radiologist|consultant|specialist|nurse|surgeon|dr)s? (?:\w+ )?(?:said|says|told|found|thinks?|"
    r"mentioned|saw|sees|suspects?|wrote|writes)\b)",
    re.IGNORECASE)


# "what about the left lung?" after an answer means "is the left lung normal?"; asked as it was, the VQA models
# answered the bare phrase with "Right lung (49%)" (found chatting). A follow-up naming a body part is asked in
# the form below, with the question type that form has, and the patient hears which question was answered.
FOLLOW_UP = re.compile(r"^\s*(?:(?:and|so|ok|okay|but)\b,?\s*)?(?:(?:what|how) about\s+)?(?:the |my |his |her |their )?"
                       r"(?P<part>[a-z][a-z -]{1,40}?)\s*\??\s*$", re.IGNORECASE)
NOT_A_PART = {"is", "are", "was", "were", "does", "do", "did", "can", "could", "will", "would", "should", "where",
              "what", "which", "how", "why", "when", "who", "show", "outline", "tell", "any", "anything", "something"}
FOLLOW_UP_QUESTION = "Is there anything abnormal in the {part}?"
# "what about the left side?" names a side, not a part: asked as it was, the models abstained (found chatting).
FOLLOW_UP_SIDE_QUESTION = "Is there anything abnormal on the {side} side?"
FOLLOW_UP_TYPES = {"ABN": 1.0}


def follow_up_question(question: str, entities: list[dict[str, Any]]) -> str | None:
    """The question a follow-up such as "what about the left lung?", "and the heart?" or "what about the left
    side?" stands for, or None.

    Only a short phrase ("the left lung?", "and the heart?", "what about his kidneys") ending with a body part or
    a side (an entity) is one, not a question of its own."""
    match = FOLLOW_UP.match(question)
    if match is None:
        return None
    part = match.group("part").strip()
    words = part.lower().split()
    if len(words) > 4 or words[0] in NOT_A_PART:
        return None
    last_word = match.end("part") - len(words[-1])  # the phrase ends with the body part: "the left lung"
    last = [e for e in entities if e.get("start", -1) <= last_word < e.get("end", -1)]
    if any(e.get("entity") == "body_part" for e in last):
        return FOLLOW_UP_QUESTION.format(part=part)
    sides = [str(e.get("value")) for e in last if e.get("entity") == "side" and e.get("value") in ("left", "right")]
    return FOLLOW_UP_SIDE_QUESTION.format(side=sides[0]) if sides else None


def absent_part(image: dict[str, Any], question: str, entities: list[dict[str, Any]]) -> str | None:
    """The patient's words for a body part that ``question`` names (an entity) and ``image`` cannot show, or None
    (:func:`actions.image_facts.part_not_shown`)."""
    for entity in entities:
        if entity.get("entity") == "body_part" and part_not_shown(image, str(entity.get("value") or "")):
            return question[entity["start"]:entity["end"]] if "start" in entity else str(entity["value"])
    return None


def for_a_doctor(question: str) -> bool:
    """Whether ``question`` asks what an image means for the patient rather than what it shows."""
    return bool(FOR_A_DOCTOR.search(question))


def _segmentation_of(tracker: Tracker, image: dict[str, Any]) -> dict[str, Any] | None:
    """The latest lesion outline of ``image`` in this conversation, if any."""
    outlines = [s for s in tracker.get_slot("segmentations") or [] if s.get("image_sha256") == image.get("sha256")]
    return outlines[-1] if outlines else None


def _answer_from_outline(image: dict[str, Any], outline: dict[str, Any], question_type: str) -> str | None:
    """Size and position questions about an outlined image are answered from the outline, not by the VQA models;
    on a photo of a screen the outline's side was right on only half the slices (bench/lesion_side_report.py), so
    the side is not stated there."""
    if question_type == "SIZE":
        return lesion_size_sentence(outline)
    if question_type == "POS":
        return sentence("utter_lesion_side_photo") if image.get("screen") else lesion_side_sentence(outline)
    return None


def refer_to_doctor(dispatcher: CollectingDispatcher, tracker: Tracker, question: str,
                    image: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Say that ``question`` is for the doctor and log it for the transcript; returns the ``qa_log`` event."""
    say(dispatcher, "utter_for_a_doctor")
    referred = {"question": question, "answer": None, "confidence": 0.0, "abstained": True, "referred": True,
                "image_sha256": image["sha256"] if image else None, "timestamp": now_iso()}
    return [SlotSet("qa_log", [*(tracker.get_slot("qa_log") or []), referred])]


# Words a patient types before a question ("wait, is this an MRI?", "ok so where is it?") that the VQA models never
# saw in training: with them the models answer fewer VQA-RAD test questions right (bench/question_fillers_report.py),
# and "wait, is this an MRI?" got "no" after a first look of "MRI" (found chatting).
LEADING_FILLERS = re.compile(r"^\W*(?:(?:wait|hmm+|umm*|uh+|ok|okay|so|and|also|oh|well|btw|sorry|one more thing"
                             r"|another question|quick question)\b\W*)+", re.IGNORECASE)


def model_question(question: str) -> str:
    """``question`` as the hospitals' models are asked it: without the fillers a patient types before it."""
    stripped = LEADING_FILLERS.sub("", question).strip()
    return stripped or question


# "What is this?" asks what the image is: the question type of a modality question, whatever the classifier said
# (it reads PRES or OTHER). Found chatting: "what is this?" about a head CT labelled 99% got "I'm not sure enough".
WHAT_THE_IMAGE_IS = re.compile(r"^\W*(?:what(?:'s| is) (?:this|it|that|shown)(?: (?:image|picture|scan|photo))?"
                               r"|what am i looking at)\W*$", re.IGNORECASE)


def known_fact_type(question: str, question_type: str | None) -> str | None:
    """The question type whose known facts (label, DICOM header) may answer ``question`` when the models do not."""
    return "MODALITY" if WHAT_THE_IMAGE_IS.match(model_question(question)) else question_type


async def answer_question(dispatcher: CollectingDispatcher, tracker: Tracker, image: dict[str, Any], question: str,
                          question_types: dict[str, float] | None,
                          entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Answer ``question`` (with its NLU ``entities``) about ``image`` (a record of the ``images`` slot), whether
    it was just asked or held until consent; returns the ``qa_log`` event.

    A question for the doctor is referred, a body part the image cannot show is said to be missing, and a short
    follow-up ("what about the left lung?") is asked in full before the hospitals' models see it."""
    if for_a_doctor(question):
        return refer_to_doctor(dispatcher, tracker, question, image)
    absent = absent_part(image, question, entities)
    if absent is not None:
        say(dispatcher, "utter_part_not_shown", image_type=with_article(str(image["label"])), part=absent)
        return []
    follow_up = follow_up_question(question, entities)
    if follow_up is not None:
        say(dispatcher, "utter_follow_up_taken_as", question=follow_up)
        return await _answer_as_asked(dispatcher, tracker, image, follow_up, FOLLOW_UP_TYPES)
    return await _answer_as_asked(dispatcher, tracker, image, question, question_types)


async def answer_request(dispatcher: CollectingDispatcher, tracker: Tracker, image: dict[str, Any],
                         request: dict[str, Any]) -> list[dict[str, Any]]:
    """Answer a message (:func:`actions.common.question_request`) about ``image``: each of its questions in turn,
    under its own words, when it asks several ("is there something wrong with my lungs? and is the heart big?"
    got one answer, to which question the patient could not tell: found chatting); returns the ``qa_log`` events."""
    text, entities, parts = str(request.get("text") or ""), request.get("entities") or [], request.get("parts") or []
    if len(parts) < 2:
        return await answer_question(dispatcher, tracker, image, text.strip(), request.get("question_types"),
                                     entities)
    say(dispatcher, "utter_several_questions", count=len(parts))
    events: list[dict[str, Any]] = []
    for part in parts:
        start, end = part["start"], part["end"]
        question = text[start:end]
        inside = [{**e, "start": e["start"] - start, "end": e["end"] - start} for e in entities
                  if "start" in e and start <= e["start"] and e["end"] <= end]
        say(dispatcher, "utter_answering_part", question=question)
        answered = await answer_question(dispatcher, tracker, image, question, part["question_types"], inside)
        tracker.add_slots(answered)  # the next part's answer sees this one in the log
        events += answered
    return events


async def _answer_as_asked(dispatcher: CollectingDispatcher, tracker: Tracker, image: dict[str, Any], question: str,
                           question_types: dict[str, float] | None) -> list[dict[str, Any]]:
    """Answer ``question`` from the image's lesion outline when it asks a size or position, else by the
    hospitals' models, in words that agree with what the bot already said of the image."""
    outline = _segmentation_of(tracker, image)
    if outline is not None and question_types:
        from_outline = _answer_from_outline(image, outline, max(question_types, key=question_types.__getitem__))
        if from_outline is not None:
            dispatcher.utter_message(text=from_outline)
            return []
    services = await get_services()
    try:
        data = await asyncio.to_thread(services.intake.load, image)
        result = await services.hospitals.ask(data, model_question(question), question_types, image.get("label"),
                                              patient_location(tracker))
    except (ImageError, HospitalError) as error:
        logger.warning("Question failed: %s", error)
        say(dispatcher, "utter_question_failed")
        return []
    log = list(tracker.get_slot("qa_log") or [])
    if result.answered == 0:
        say(dispatcher, "utter_no_hospital_answered")
        return []
    stated = stated_answer(image, log, result.question_type, result.answer, result.confidence, result.abstained,
                           question)
    if stated.against_file:
        text = sentence("utter_answer_off_file", now=str(result.answer), file_says=stated.conflict_with or "")
    elif stated.against_label:
        text = off_label_sentence(str(image.get("label")), str(result.answer))
    elif stated.source == "conflict":
        text = conflict_sentence(stated.conflict_with or "", str(result.answer))
    elif stated.source == "unsure":
        fact_type = known_fact_type(question, result.question_type)
        text = abstain_sentence(result.answered, result.asked, known_type(image, fact_type),
                                known_from_file(image, fact_type))
    else:
        text = answer_sentence(str(stated.answer), stated.confidence, result.answered, result.asked,
                               result.disagreement)
    abstained = stated.abstained
    if not any(entry.get("answer") for entry in log) and not abstained:
        text += " " + sentence("utter_disclaimer")
    dispatcher.utter_message(text=text)
    log.append(
        {
            "question": question,
            "answer": stated.answer,
            "confidence": round(stated.confidence, 4),
            "question_type": result.question_type,
            "question_types": question_types,
            "answered": result.answered,
            "asked": result.asked,
            "agreement": round(result.agreement, 4),
            "disagreement": result.disagreement,
            "abstained": abstained,
            "conflict_with": stated.conflict_with,
            "image_sha256": image["sha256"],
            "timestamp": now_iso(),
        }
    )
    return [SlotSet("qa_log", log)]


class ActionAnswerQuestion(ImageRequest, Action):
    """Ask the nearby hospitals, passing Rasa NLU's question-type distribution as the VQA prior."""

    missing_image = "utter_no_image_to_ask"

    def name(self) -> str:
        return "action_answer_question"

    def without_image(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]] | None:
        """A question for the doctor needs no image: it is referred even before one is sent."""
        question = (tracker.latest_message.get("text") or "").strip()
        if for_a_doctor(question) and not images(tracker):
            return refer_to_doctor(dispatcher, tracker, question, None)
        return None

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  image: dict[str, Any]) -> list[dict[str, Any]]:
        return await answer_request(dispatcher, tracker, image, question_request(tracker))


class ActionExplainConfidence(Action):
    """'How sure are you?': restate the confidence of the last answer, or say that none was stated."""

    def name(self) -> str:
        return "action_explain_confidence"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        log = tracker.get_slot("qa_log") or []
        if not log:
            say(dispatcher, "utter_confidence_nothing_asked_about_image" if images(tracker)
                else "utter_confidence_nothing_asked")
            return []
        last = log[-1]
        if last.get("abstained") or not last.get("answer"):
            say(dispatcher, "utter_confidence_no_answer", question=last.get("question", ""))
            return []
        confidence = float(last.get("confidence") or 0.0)
        words = confidence_words(confidence)
        say(dispatcher, "utter_confidence_of_last_answer", question=last.get("question", ""),
            answer=last["answer"], confidence_words=words, percent=percent(confidence))
        measured = measured_accuracy(words)
        if measured:
            say(dispatcher, "utter_confidence_measured", confidence_words=words, low=f"{measured[0]:.0%}",
                high=f"{measured[1]:.0%}")
        return []
