"""Actions on trackers from real conversations: consent, images, questions, form validation, transcripts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import wording
from actions.consent import ActionProcessPendingImage, ActionSetConsent
from actions.consultation import (
    ActionDeleteData,
    ActionEmergency,
    ActionGoodbye,
    ActionHandoff,
    ActionSendTranscript,
    ActionShowSummary,
)
from actions.fallback import ActionFallback, fallbacks_in_a_row
from actions.images import ActionProcessImage, ActionSegmentImage
from actions.patient import ActionNoteSymptoms, ValidateIntakeForm
from actions.places import find_city
from actions.questions import ActionAnswerQuestion, ActionExplainConfidence, model_question
from actions.responses import sentence
from actions.runtime import Services
from actions.wording import summary_lines
from qaid.red_flags import DESCRIBED_EMERGENCY, RED_FLAG_KEY, red_flag
from tests.support.actions import load_tracker
from tests.support.media import put_in_media
from tests.support.phantoms import head_phantom, png_bytes


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def texts(dispatcher: CollectingDispatcher) -> str:
    return "\n".join(m.get("text") or m.get("response") or "" for m in dispatcher.messages)


async def test_question_type_distribution_reaches_the_vqa_call(services: Services, stored_image: dict) -> None:
    tracker = load_tracker("question", consent_given=True, images=[stored_image], qa_log=None)
    recorded = tracker.latest_message["question_types"]
    dispatcher = CollectingDispatcher()

    events = await ActionAnswerQuestion().run(dispatcher, tracker, {})

    name, call = next(c for c in services.hospitals.calls if c[0] == "ask")
    expected = {entry["name"]: entry["confidence"] for entry in recorded["ranking"]}
    assert call["question_types"] == pytest.approx(expected)
    assert call["question"] == tracker.latest_message["text"]
    assert call["image_type"] == "brain_mri"
    assert "Yes" in texts(dispatcher) and "82%" in texts(dispatcher) and "not a diagnosis" in texts(dispatcher)
    log = slot_events(events)["qa_log"]
    assert log[-1]["answer"] == "yes" and log[-1]["image_sha256"] == stored_image["sha256"]


async def test_each_of_several_questions_is_answered_under_its_own_words(services: Services,
                                                                          stored_image: dict) -> None:
    """Found chatting: "is there something wrong with my lungs? and is the heart big?" got one unlabelled answer."""
    text = "is there a mass? should I be worried?"
    tracker = load_tracker("question", consent_given=True, images=[stored_image], qa_log=None)
    ranking = [{"name": "PRES", "confidence": 0.9}, {"name": "ABN", "confidence": 0.1}]
    tracker.latest_message.update({"text": text, "entities": [], "question_types": {
        "name": "PRES", "confidence": 0.9, "ranking": ranking,
        "parts": [{"start": 0, "end": 16, "name": "PRES", "confidence": 0.9, "ranking": ranking},
                  {"start": 17, "end": len(text), "name": "ABN", "confidence": 0.9, "ranking": ranking}]}})
    dispatcher = CollectingDispatcher()

    events = await ActionAnswerQuestion().run(dispatcher, tracker, {})

    said = texts(dispatcher)
    assert "2 questions" in said
    assert said.index('"is there a mass?"') < said.index("Yes") < said.index('"should I be worried?"')
    assert [call["question"] for name, call in services.hospitals.calls if name == "ask"] == ["is there a mass?"]
    log = slot_events(events)["qa_log"]
    assert [entry["question"] for entry in log] == ["is there a mass?", "should I be worried?"]
    assert log[1]["referred"] is True


async def test_low_confidence_answer_abstains_with_examples(services: Services, stored_image: dict) -> None:
    services.hospitals.answer.abstained = True
    tracker = load_tracker("question", consent_given=True, images=[stored_image])
    dispatcher = CollectingDispatcher()
    events = await ActionAnswerQuestion().run(dispatcher, tracker, {})
    assert "not sure enough" in texts(dispatcher) and "Which organ" in texts(dispatcher)
    assert slot_events(events)["qa_log"][-1]["abstained"] is True


@pytest.mark.parametrize(("question_type", "reminded"), [("ORGAN", True), ("MODALITY", True), ("PLANE", False),
                                                        ("PRES", False)])
async def test_an_unsure_organ_or_modality_answer_repeats_the_confident_image_type(
        services: Services, stored_image: dict, question_type: str, reminded: bool) -> None:
    """'What organ is this?' after 'This looks like a brain MRI (97%)' does not leave the patient with nothing."""
    services.hospitals.answer.abstained = True
    services.hospitals.answer.question_type = question_type
    tracker = load_tracker("question", consent_given=True, images=[stored_image])
    dispatcher = CollectingDispatcher()
    await ActionAnswerQuestion().run(dispatcher, tracker, {})
    said = texts(dispatcher)
    assert "not sure enough" in said
    assert ("it looks like a brain MRI (very confident, 97%)" in said) is reminded


@pytest.mark.parametrize(("question", "reminded"), [("what is this?", True), ("ok so what's this image", True),
                                                   ("what am I looking at?", True), ("what is this spot?", False)])
async def test_what_is_this_repeats_the_confident_image_type(services: Services, stored_image: dict, question: str,
                                                             reminded: bool) -> None:
    """Found chatting: "what is this?" (read as PRES) about a head CT labelled 99% got only "not sure enough"."""
    services.hospitals.answer.abstained = True
    services.hospitals.answer.question_type = "PRES"
    tracker = load_tracker("question", consent_given=True, images=[stored_image])
    tracker.latest_message["text"] = question
    dispatcher = CollectingDispatcher()
    await ActionAnswerQuestion().run(dispatcher, tracker, {})
    assert ("it looks like a brain MRI (very confident, 97%)" in texts(dispatcher)) is reminded


async def test_an_unsure_answer_about_an_unsure_image_type_does_not_repeat_it(services: Services,
                                                                              stored_image: dict) -> None:
    services.hospitals.answer.abstained = True
    services.hospitals.answer.question_type = "ORGAN"
    tracker = load_tracker("question", consent_given=True, images=[stored_image | {"confidence": 0.6}])
    dispatcher = CollectingDispatcher()
    await ActionAnswerQuestion().run(dispatcher, tracker, {})
    assert "not sure enough" in texts(dispatcher) and "looks like" not in texts(dispatcher)


@pytest.mark.parametrize("question", ["should I be worried?", "is it cancer?", "is this serious?",
                                      "am I going to die?", "do I need surgery?", "what should I do?",
                                      "is the mass malignant?", "is this something to worry about?",
                                      "will I need an operation?", "what do I do now?",
                                      "i'm 7 months pregnant, is an x-ray safe?", "is the radiation safe for my baby?",
                                      "can I still take ibuprofen?", "is it safe to fly after this?",
                                      "is this one better or worse than the first one?",
                                      "has it got bigger since the last scan?", "can you compare the two images?",
                                      "my doctor said there is a shadow on my lung"])
async def test_questions_for_a_doctor_are_not_put_to_the_models(services: Services, stored_image: dict,
                                                                question: str) -> None:
    """Found chatting: 'should I be worried?' got 'No - somewhat confident (61%)' after 'abnormal: yes'."""
    tracker = load_tracker("question", consent_given=True, images=[stored_image], qa_log=None)
    tracker.latest_message["text"] = question
    dispatcher = CollectingDispatcher()
    events = await ActionAnswerQuestion().run(dispatcher, tracker, {})
    assert not [call for call in services.hospitals.calls if call[0] == "ask"]
    assert "question for a doctor" in texts(dispatcher) and "No" not in texts(dispatcher)
    [entry] = slot_events(events)["qa_log"]
    assert entry["question"] == question and entry["referred"] is True and entry["answer"] is None


async def test_a_question_for_a_doctor_before_any_image_is_referred_too(services: Services) -> None:
    """Found chatting: "I'm pregnant, is a CT scan safe?" asked before sending an image."""
    tracker = load_tracker("question", consent_given=True, images=None, qa_log=None)
    tracker.latest_message["text"] = "I'm pregnant, is a CT scan safe?"
    dispatcher = CollectingDispatcher()
    events = await ActionAnswerQuestion().run(dispatcher, tracker, {})
    assert "question for a doctor" in texts(dispatcher) and services.hospitals.calls == []
    [entry] = slot_events(events)["qa_log"]
    assert entry["referred"] is True and entry["image_sha256"] is None


@pytest.mark.parametrize(("question", "part"), [("what about the left lung?", "left lung"),
                                                ("and the heart?", "heart"), ("how about his kidneys", "kidneys")])
async def test_a_follow_up_naming_a_body_part_is_asked_in_full(services: Services, stored_image: dict,
                                                               question: str, part: str) -> None:
    """Found chatting: "what about the left lung?" was put to the models as it was and got "Right lung (49%)"."""
    tracker = load_tracker("question", consent_given=True, images=[stored_image], qa_log=None)
    start = question.index(part.split()[-1])
    tracker.latest_message.update(text=question, entities=[{"entity": "body_part", "start": start,
                                                            "end": start + len(part.split()[-1])}])
    dispatcher = CollectingDispatcher()
    await ActionAnswerQuestion().run(dispatcher, tracker, {})
    _, call = next(c for c in services.hospitals.calls if c[0] == "ask")
    assert call["question"] == f"Is there anything abnormal in the {part}?"
    assert call["question_types"] == {"ABN": 1.0}
    assert f'I took that as: "Is there anything abnormal in the {part}?"' in texts(dispatcher)


@pytest.mark.parametrize(("question", "side", "value"), [("what about the left side?", "left side", "left"),
                                                         ("and the right side", "right side", "right")])
async def test_a_follow_up_naming_a_side_is_asked_in_full(services: Services, stored_image: dict, question: str,
                                                          side: str, value: str) -> None:
    """Found chatting: "what about the left side?" was put to the models as it was, and they abstained."""
    tracker = load_tracker("question", consent_given=True, images=[stored_image], qa_log=None)
    start = question.index(side)
    tracker.latest_message.update(text=question, entities=[{"entity": "side", "value": value, "start": start,
                                                            "end": start + len(side)}])
    dispatcher = CollectingDispatcher()
    await ActionAnswerQuestion().run(dispatcher, tracker, {})
    _, call = next(c for c in services.hospitals.calls if c[0] == "ask")
    assert call["question"] == f"Is there anything abnormal on the {value} side?"
    assert call["question_types"] == {"ABN": 1.0}


@pytest.mark.parametrize("question", ["is this normal?", "is there a tumour?", "what organ is this?",
                                      "is there anything abnormal?", "how big is the lesion?",
                                      "do I have a fracture?", "is there a bleed?", "is this a tumour?",
                                      "is there contrast in this image?", "is the lung normal?"])
async def test_image_questions_still_reach_the_models(services: Services, stored_image: dict, question: str) -> None:
    tracker = load_tracker("question", consent_given=True, images=[stored_image], qa_log=None)
    tracker.latest_message["text"] = question
    await ActionAnswerQuestion().run(CollectingDispatcher(), tracker, {})
    assert [call for call in services.hospitals.calls if call[0] == "ask"]


async def test_image_before_consent_is_kept_not_processed(services: Services) -> None:
    tracker = load_tracker("image", consent_given=None)
    dispatcher = CollectingDispatcher()
    events = await ActionProcessImage().run(dispatcher, tracker, {})
    assert slot_events(events)["pending_image"] == tracker.latest_message["metadata"]["image"]
    assert services.hospitals.calls == []
    assert any(m.get("response") == "utter_ask_consent" for m in dispatcher.messages)


async def test_a_caption_describing_the_image_just_sent_gets_no_no_image_reply(services: Services) -> None:
    """Found chatting: an X-ray captioned "my dad's chest xray, he's 80" got "I didn't receive an image"."""
    tracker = load_tracker("question", consent_given=True)
    tracker.latest_message["metadata"] = {"caption_of": "f" * 64}
    dispatcher = CollectingDispatcher()
    assert await ActionProcessImage().run(dispatcher, tracker, {}) == []
    assert dispatcher.messages == [] and services.hospitals.calls == []


@pytest.mark.parametrize(("text", "reply"), [("can I send you another one", "attach the image to your next message"),
                                             ("here is my x-ray", "I didn't receive an image")])
async def test_asking_leave_to_send_an_image_hears_yes(services: Services, text: str, reply: str) -> None:
    """Found chatting: "can I send you another one" got "I didn't receive an image with that message"."""
    tracker = load_tracker("image", consent_given=True)
    tracker.latest_message.update(text=text, metadata={})
    dispatcher = CollectingDispatcher()
    assert await ActionProcessImage().run(dispatcher, tracker, {}) == []
    assert reply in texts(dispatcher) and services.hospitals.calls == []


async def test_refused_consent_processes_nothing(services: Services) -> None:
    tracker = load_tracker("image", consent_given=False)
    dispatcher = CollectingDispatcher()
    assert await ActionProcessImage().run(dispatcher, tracker, {}) == []
    assert services.hospitals.calls == [] and "consent" in texts(dispatcher)


async def test_consented_image_is_screened_and_described(services: Services, stored_image: dict) -> None:
    tracker = load_tracker("image", consent_given=True, images=None)
    tracker.latest_message["metadata"]["image"]["path"] = stored_image["path"]
    dispatcher = CollectingDispatcher()
    events = await ActionProcessImage().run(dispatcher, tracker, {})
    assert "This looks like a brain MRI" in texts(dispatcher) and "outline" in texts(dispatcher)
    images = slot_events(events)["images"]
    assert images[-1]["label"] == "brain_mri" and (services.settings.var_dir / images[-1]["path"]).is_file()


async def test_segmentation_sends_overlay_image(services: Services, stored_image: dict) -> None:
    tracker = load_tracker("question", consent_given=True, images=[stored_image])
    dispatcher = CollectingDispatcher()
    events = await ActionSegmentImage().run(dispatcher, tracker, {})
    image = next(m["image"] for m in dispatcher.messages if m.get("image"))
    assert image == f"{services.settings.public_url}/media/{'ab' * 32}.png"
    assert "120 pixels" in texts(dispatcher) and slot_events(events)["segmentations"][0]["lesion_pixels"] == 120


async def test_segmentation_refused_for_other_image_types(services: Services, stored_image: dict) -> None:
    tracker = load_tracker("question", consent_given=True, images=[stored_image | {"label": "chest_xray"}])
    dispatcher = CollectingDispatcher()
    assert await ActionSegmentImage().run(dispatcher, tracker, {}) == []
    assert "only outline lesions on brain MRI" in texts(dispatcher)


async def test_consent_recorded_from_affirm(services: Services) -> None:
    tracker = load_tracker("greeting")
    tracker.latest_message["intent"] = {"name": "affirm", "confidence": 0.99}
    events = slot_events(await ActionSetConsent().run(CollectingDispatcher(), tracker, {}))
    assert events["consent_given"] is True and events["consent_time"]


@pytest.mark.parametrize(
    ("slot", "value", "expected"),
    [
        ("age_band", "I'm 72", "65+"),
        ("age_band", "seventy two", "65+"),  # found chatting: asked again for a number
        ("age_band", "forty-five", "40-64"),
        ("age_band", "three weeks", None),
        ("age_band", "skipped", "skipped"),
        ("age_band", "old enough", None),
        ("age_band", "3 days", None),
        ("duration", "3 weeks", "3 weeks"),
        ("duration", "banana", None),
        ("chief_complaint", "headaches", "headaches"),
    ],
)
def test_intake_form_validation(slot: str, value: str, expected: Any) -> None:
    tracker = load_tracker("greeting")
    dispatcher = CollectingDispatcher()
    result = getattr(ValidateIntakeForm(), f"validate_{slot}")(value, dispatcher, tracker, {})
    assert result[slot] == expected
    assert bool(dispatcher.messages) == (expected is None)


def test_location_from_city_name() -> None:
    tracker = load_tracker("greeting")
    result = ValidateIntakeForm().validate_location("I live in Manchestr", CollectingDispatcher(), tracker, {})
    assert result["location"] == "Manchester" and result["latitude"] == pytest.approx(53.48, abs=0.01)


@pytest.mark.parametrize(("answer", "city", "latitude"), [
    ("Marseille", "Marseille", 43.30),  # found chatting: "I don't know that place. Please name a nearby larger city"
    ("near the hague", "The Hague", 52.07),
    ("i'm in toulous", "Toulouse", 43.60),
])
def test_a_large_city_places_the_patient(answer: str, city: str, latitude: float) -> None:
    found = find_city(answer)
    assert found is not None and found[0] == city and found[1] == pytest.approx(latitude, abs=0.01)


@pytest.mark.parametrize("answer", ["a little village by the sea", "my hangover is worse", "it's my turn"])
def test_ordinary_words_are_no_city(answer: str) -> None:
    assert find_city(answer) is None


async def test_goodbye_queues_the_transcript_for_the_nearest_hospital(services: Services, stored_image: dict) -> None:
    tracker = load_tracker("question", consent_given=True, images=[stored_image], qa_log=[])
    tracker.slots["symptoms"] = [{"name": "headache", "negated": False}]
    dispatcher = CollectingDispatcher()
    events = slot_events(await ActionGoodbye().run(dispatcher, tracker, {}))
    assert events["chosen_hospitals"] == ["St Thomas Radiology"] and len(events["transcript_ids"]) == 1
    assert "sent your transcript" in texts(dispatcher)


async def test_send_transcript_needs_consent(services: Services) -> None:
    tracker = load_tracker("question", consent_given=False)
    dispatcher = CollectingDispatcher()
    assert await ActionSendTranscript().run(dispatcher, tracker, {}) == []
    assert "consent" in texts(dispatcher)


def _said(text: str, **slots: Any):
    """A tracker whose last message was parsed as an emergency, with the red flag the NLU pipeline's
    patterns give it (``bot.red_flags.RedFlagDetector``)."""
    tracker = load_tracker("greeting", **slots)
    tracker.latest_message["text"] = text
    tracker.latest_message["intent"] = {"name": "emergency", "confidence": 0.9}
    tracker.latest_message[RED_FLAG_KEY] = red_flag(text)
    return tracker


async def test_emergency_marks_urgent() -> None:
    dispatcher = CollectingDispatcher()
    events = slot_events(await ActionEmergency().run(dispatcher, _said("I have crushing chest pain"), {}))
    assert events["urgent"] is True and "emergency number" in texts(dispatcher)
    assert events["urgent_reason"] == 'chest pain: "I have crushing chest pain"'


async def test_an_emergency_the_classifier_found_is_marked_urgent_too() -> None:
    """No pattern names "he's gone grey and won't answer me"; the NLU pipeline's classifier flagged it."""
    tracker = _said("he's gone grey and won't answer me")
    assert tracker.latest_message[RED_FLAG_KEY] is None
    tracker.latest_message[RED_FLAG_KEY] = DESCRIBED_EMERGENCY
    events = slot_events(await ActionEmergency().run(CollectingDispatcher(), tracker, {}))
    assert events["urgent"] is True
    assert events["urgent_reason"] == f'{DESCRIBED_EMERGENCY}: "he\'s gone grey and won\'t answer me"'


async def test_an_urgent_chief_complaint_is_recorded_and_marked() -> None:
    tracker = _said("my chest feels tight and I can't breathe", requested_slot="chief_complaint")
    events = slot_events(await ActionEmergency().run(CollectingDispatcher(), tracker, {}))
    assert events["chief_complaint"] == "my chest feels tight and I can't breathe"
    assert events["urgent"] is True and events["urgent_reason"].startswith("chest pain: ")


@pytest.mark.parametrize("text", ["cough that won't go away", "no chest pain, just a mild cough",
                                  "I had a stroke 5 years ago"])
async def test_no_false_alarm_without_a_current_red_flag(text: str) -> None:
    dispatcher = CollectingDispatcher()
    events = slot_events(await ActionEmergency().run(dispatcher, _said(text), {}))
    assert "urgent" not in events and "This may be an emergency" not in texts(dispatcher)
    assert "call your local emergency number now" in texts(dispatcher)  # still told when to call


async def test_a_chief_complaint_that_sounded_urgent_is_still_recorded() -> None:
    tracker = _said("cough that won't go away", requested_slot="chief_complaint")
    events = slot_events(await ActionEmergency().run(CollectingDispatcher(), tracker, {}))
    assert events == {"chief_complaint": "cough that won't go away"}


async def test_delete_data_removes_images_and_flags_erasure(services: Services, stored_image: dict) -> None:
    path = services.settings.var_dir / stored_image["path"]
    assert path.is_file()
    tracker = load_tracker("question", consent_given=True, images=[stored_image])
    events = await ActionDeleteData().run(CollectingDispatcher(), tracker, {})
    assert not path.exists()
    assert any(e["event"] == "reset_slots" for e in events)
    assert slot_events(events)["data_erased"] is True


async def test_handoff_sends_at_once_flagged_for_callback(services: Services, stored_image: dict) -> None:
    tracker = load_tracker("question", consent_given=True, images=[stored_image], chosen_hospitals=["Charite Imaging"])
    dispatcher = CollectingDispatcher()
    events = slot_events(await ActionHandoff().run(dispatcher, tracker, {}))
    assert events["callback_requested"] is True and len(events["transcript_ids"]) == 1
    queued = services.transcripts.outbox.find(conversation_id=tracker.sender_id)
    assert [d.hospital for d in queued] == ["Charite Imaging"]
    assert json.loads(queued[0].body)["transcript"]["callback_requested"] is True


def _user(intent: str) -> dict[str, Any]:
    return {"event": "user", "text": "x", "parse_data": {"intent": {"name": intent, "confidence": 0.9}}}


async def test_a_second_misunderstood_message_in_a_row_offers_the_choices() -> None:
    tracker = load_tracker("greeting", consent_given=True)
    bot = {"event": "bot", "text": "Sorry"}
    tracker.events = [*tracker.events, _user("greet"), _user("nlu_fallback")]
    assert fallbacks_in_a_row(tracker.events) == 1
    dispatcher = CollectingDispatcher()
    await ActionFallback().run(dispatcher, tracker, {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_default"]
    tracker.events = [*tracker.events, bot, _user("nlu_fallback")]
    assert fallbacks_in_a_row(tracker.events) == 2
    dispatcher = CollectingDispatcher()
    await ActionFallback().run(dispatcher, tracker, {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_fallback_choices"]


async def test_while_the_consent_question_is_open_a_misunderstood_message_asks_it_again() -> None:
    """Found chatting: "maybe" and "1" at the consent question got the general choices and the question never
    came back; "who are you?" as a first message got only "Sorry, I didn't understand that"."""
    tracker = load_tracker("greeting", consent_given=None)
    tracker.events = [{"event": "session_started"}, _user("nlu_fallback")]  # the conversation's first message
    dispatcher = CollectingDispatcher()
    await ActionFallback().run(dispatcher, tracker, {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_greet", "utter_explain_consent",
                                                            "utter_ask_consent"]
    for _ in range(2):  # once the question was asked, each misunderstood answer asks it again
        tracker.events = [*tracker.events, {"event": "bot", "text": "Do you agree to this?"}, _user("nlu_fallback")]
        dispatcher = CollectingDispatcher()
        await ActionFallback().run(dispatcher, tracker, {})
        assert [m["response"] for m in dispatcher.messages] == ["utter_consent_pending", "utter_ask_consent"]
    tracker.latest_message["intent"] = {"name": "out_of_scope", "confidence": 0.9}  # "what's the weather?"
    dispatcher = CollectingDispatcher()
    await ActionFallback().run(dispatcher, tracker, {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_out_of_scope", "utter_ask_consent"]


async def test_a_caption_that_describes_the_image_just_answered_needs_no_reply(stored_image: dict) -> None:
    """Found chatting: "my dad's scan, he's 80" under a scan got the image's reply and "Sorry, I didn't understand"."""
    tracker = load_tracker("image", consent_given=True, images=[stored_image])
    tracker.latest_message["metadata"] = {"caption_of": stored_image["sha256"]}
    tracker.latest_message["intent"] = {"name": "nlu_fallback", "confidence": 0.4}
    dispatcher = CollectingDispatcher()
    assert await ActionFallback().run(dispatcher, tracker, {}) == [] and dispatcher.messages == []


async def test_a_misunderstood_caption_of_a_refused_image_is_not_a_second_problem() -> None:
    """Found chatting: a refused photo with the caption "what is this" got the refusal and then "Sorry, I didn't
    understand that"."""
    tracker = load_tracker("greeting")
    tracker.latest_message["metadata"] = {"caption_of": "f" * 64}
    dispatcher = CollectingDispatcher()
    assert await ActionFallback().run(dispatcher, tracker, {}) == []
    assert "haven't answered your question" in texts(dispatcher) and "didn't understand" not in texts(dispatcher)


@pytest.mark.parametrize(("text", "slot"), [
    ("I had a stroke 5 years ago", "history"), ("I was diagnosed with asthma as a child", "history"),
    ("I take aspirin every day", "medications"), ("I'm allergic to penicillin", "medications"),
    ("he is on metformin", "medications"), ("high blood pressure since 2010", "history"),
])
async def test_history_and_medicines_land_in_their_slots(text: str, slot: str) -> None:
    tracker = _said(text, **{slot: ["earlier note"]})
    tracker.latest_message["intent"] = {"name": "describe_symptoms", "confidence": 0.9}
    tracker.latest_message["entities"] = []
    dispatcher = CollectingDispatcher()
    events = slot_events(await ActionNoteSymptoms().run(dispatcher, tracker, {}))
    assert events == {slot: ["earlier note", text]}
    assert "noted" in texts(dispatcher)


async def test_a_message_with_history_and_a_medicine_lands_in_both_slots() -> None:
    """Found chatting: "she also had a stroke in 2019 and takes warfarin" went whole to the history; the
    transcript listed no medicine."""
    tracker = _said("she also had a stroke in 2019 and takes warfarin")
    tracker.latest_message["intent"] = {"name": "describe_symptoms", "confidence": 0.9}
    tracker.latest_message["entities"] = []
    dispatcher = CollectingDispatcher()
    events = slot_events(await ActionNoteSymptoms().run(dispatcher, tracker, {}))
    assert events == {"history": ["she also had a stroke in 2019"], "medications": ["takes warfarin"]}
    assert "the medical history and the medicines" in texts(dispatcher)  # true for a carer too


async def test_a_current_symptom_is_not_history() -> None:
    tracker = _said("I had a headache since yesterday")
    tracker.latest_message["entities"] = [{"entity": "symptom", "value": "headache", "start": 8, "end": 16}]
    events = slot_events(await ActionNoteSymptoms().run(CollectingDispatcher(), tracker, {}))
    assert events["symptoms"] == [{"name": "headache", "negated": False, "duration": None}]
    assert "history" not in events


async def test_each_duration_is_noted_with_the_symptom_it_was_told_with() -> None:
    """Found reading the hospital's transcript: "she's more tired and has had a cough for 3 weeks" recorded
    every symptom's duration as null; a later mention without a duration keeps the one told."""
    text = "she's more tired and has had a cough for 3 weeks, no fever"
    tracker = _said(text, symptoms=[{"name": "headache", "negated": False, "duration": "2 days"}])
    tracker.latest_message["entities"] = [
        {"entity": entity, "value": value, "start": text.index(word), "end": text.index(word) + len(word),
         **({"role": "negated"} if value == "fever" else {})}
        for entity, value, word in (("symptom", "fatigue", "tired"), ("symptom", "cough", "cough"),
                                    ("duration", "3 weeks", "3 weeks"), ("symptom", "fever", "fever"))]
    events = slot_events(await ActionNoteSymptoms().run(CollectingDispatcher(), tracker, {}))
    assert events["symptoms"] == [{"name": "headache", "negated": False, "duration": "2 days"},
                                  {"name": "fatigue", "negated": False, "duration": None},
                                  {"name": "cough", "negated": False, "duration": "3 weeks"},
                                  {"name": "fever", "negated": True, "duration": None}]
    assert "Symptoms: headache (2 days), fatigue, cough (3 weeks), fever (absent)" in summary_lines(events)

    again = _said("the headache is worse", symptoms=events["symptoms"])
    again.latest_message["entities"] = [{"entity": "symptom", "value": "headache", "start": 4, "end": 12}]
    events = slot_events(await ActionNoteSymptoms().run(CollectingDispatcher(), again, {}))
    assert events["symptoms"][0] == {"name": "headache", "negated": False, "duration": "2 days"}


@pytest.mark.parametrize("intent", ["emergency", "talk_to_human"])
async def test_an_emergency_or_a_person_interrupts_the_intake_form(intent: str) -> None:
    tracker = _said("the worst headache of my life started an hour ago", requested_slot="chief_complaint")
    tracker.active_loop = {"name": "intake_form"}
    tracker.latest_message["intent"] = {"name": intent, "confidence": 1.0}
    events = await ValidateIntakeForm().run(CollectingDispatcher(), tracker, {"forms": {}})
    assert [(e["event"], e["name"]) for e in events] == [("action_execution_rejected", "intake_form")]


async def test_an_out_of_scope_request_is_declined_then_counts_towards_the_choices() -> None:
    tracker = load_tracker("greeting", consent_given=False)
    tracker.latest_message["intent"] = {"name": "out_of_scope", "confidence": 0.9}
    tracker.events = [*tracker.events, _user("out_of_scope")]
    dispatcher = CollectingDispatcher()
    await ActionFallback().run(dispatcher, tracker, {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_out_of_scope"]
    tracker.events = [*tracker.events, _user("nlu_fallback")]
    dispatcher = CollectingDispatcher()
    await ActionFallback().run(dispatcher, tracker, {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_fallback_choices"]


async def test_other_intents_are_validated_as_usual_inside_the_intake_form() -> None:
    complaint = "headaches every morning"
    tracker = _said(complaint, requested_slot="chief_complaint", chief_complaint=complaint)
    tracker.active_loop = {"name": "intake_form"}
    tracker.latest_message["intent"] = {"name": "describe_symptoms", "confidence": 0.9}
    tracker.events = [*tracker.events, _user("describe_symptoms"),
                      {"event": "slot", "name": "chief_complaint", "value": "headaches every morning"}]
    domain = {"forms": {"intake_form": {"required_slots": ["chief_complaint", "duration"]}},
              "slots": {"chief_complaint": {}, "duration": {}}}
    events = await ValidateIntakeForm().run(CollectingDispatcher(), tracker, domain)
    assert slot_events(events) == {"chief_complaint": "headaches every morning"}


@pytest.mark.parametrize(("text", "intent", "skips_all"), [
    ("just send it now please", "finish_and_send", True),  # found chatting: it had become the reason
    ("no more questions, just send", "finish_and_send", True),
    ("skip all the questions", "skip", True),
    ("skip", "skip", False),
    ("a cough that I want to send to a doctor", "describe_symptoms", False),
])
async def test_send_now_inside_the_intake_form_skips_the_questions_left(text: str, intent: str,
                                                                       skips_all: bool) -> None:
    tracker = _said(text, requested_slot="chief_complaint", chief_complaint=text, age_band="40-64")
    tracker.active_loop = {"name": "intake_form"}
    tracker.latest_message["intent"] = {"name": intent, "confidence": 0.7}
    domain = {"forms": {"intake_form": {"required_slots": ["chief_complaint", "duration", "age_band"]}},
              "slots": {"chief_complaint": {}, "duration": {}, "age_band": {}}}
    events = slot_events(await ValidateIntakeForm().run(CollectingDispatcher(), tracker, domain))
    if skips_all:
        assert events == {"chief_complaint": "skipped", "duration": "skipped"}  # the age given stays
    else:
        assert events.get("duration") is None
    tracker.slots["requested_slot"] = None  # the message that opens the form: its questions are asked
    opened = slot_events(await ValidateIntakeForm().run(CollectingDispatcher(), tracker, domain))
    assert opened.get("duration") is None


@pytest.mark.parametrize("form", ["intake_form", "hospital_form"])
async def test_an_emergency_inside_a_form_hands_back_to_the_form(form: str) -> None:
    tracker = _said("I suddenly have crushing chest pain")
    tracker.active_loop = {"name": form}
    events = await ActionEmergency().run(CollectingDispatcher(), tracker, {})
    assert events[-1] == {"event": "followup", "name": form, "timestamp": None}
    outside = await ActionEmergency().run(CollectingDispatcher(), _said("I suddenly have crushing chest pain"), {})
    assert all(e["event"] != "followup" for e in outside)


async def test_once_the_emergency_was_answered_the_form_goes_on() -> None:
    tracker = _said("the worst headache of my life", requested_slot="duration")
    tracker.active_loop = {"name": "intake_form"}
    tracker.latest_message["intent"] = {"name": "emergency", "confidence": 1.0}
    tracker.events = [*tracker.events, _user("emergency"), {"event": "action", "name": "action_emergency"}]
    domain = {"forms": {"intake_form": {"required_slots": ["chief_complaint", "duration"]}},
              "slots": {"chief_complaint": {}, "duration": {}}}
    events = await ValidateIntakeForm().run(CollectingDispatcher(), tracker, domain)
    assert all(e["event"] != "action_execution_rejected" for e in events)


async def test_a_caption_sent_before_consent_is_answered_once_the_patient_agrees(services: Services) -> None:
    """Found chatting: an X-ray captioned "is this normal?" before consent got the whole consent explanation a
    second time for the caption, and after "yes" the image was described but the question was lost."""
    reference = put_in_media(services.settings.var_dir, png_bytes(head_phantom(64)), "png")
    caption = load_tracker("question", consent_given=None, images=None, qa_log=None, pending_image=reference)
    dispatcher = CollectingDispatcher()
    held = slot_events(await ActionAnswerQuestion().run(dispatcher, caption, {}))
    assert held["pending_request"]["text"] == caption.latest_message["text"]
    assert held["pending_request"]["action"] == "action_answer_question"
    assert [m.get("response") for m in dispatcher.messages] == [None, "utter_ask_consent"]  # no second explanation
    assert services.hospitals.calls == []

    caption.latest_message["metadata"] = {"caption_of": reference["sha256"]}  # sent with the image, one reply
    dispatcher = CollectingDispatcher()
    slot_events(await ActionAnswerQuestion().run(dispatcher, caption, {}))
    assert [m.get("response") for m in dispatcher.messages] == [None]  # the image's reply has just asked

    agreed = load_tracker("greeting", consent_given=True, pending_image=reference, **held)
    dispatcher = CollectingDispatcher()
    events = slot_events(await ActionProcessPendingImage().run(dispatcher, agreed, {}))
    assert events["pending_image"] is None and events["pending_request"] is None
    assert events["images"][-1]["label"] == "brain_mri"
    name, call = next(c for c in services.hospitals.calls if c[0] == "ask")
    assert call["question"] == caption.latest_message["text"]
    assert events["qa_log"][-1]["image_sha256"] == events["images"][-1]["sha256"]
    assert "This looks like a brain MRI" in texts(dispatcher) and "82%" in texts(dispatcher)


async def test_a_caption_held_for_consent_gets_the_same_checks_as_a_question_asked_after(services: Services) -> None:
    """Found chatting: a caption held until consent was put to the models without the checks a question asked
    later gets (a body part the image cannot show, a short follow-up asked in full)."""
    reference = put_in_media(services.settings.var_dir, png_bytes(head_phantom(64)), "png")
    caption = load_tracker("question", consent_given=None, images=None, qa_log=None, pending_image=reference)
    caption.latest_message.update(text="how about his kidneys", entities=[
        {"entity": "body_part", "value": "kidney", "start": 14, "end": 21}])
    held = slot_events(await ActionAnswerQuestion().run(CollectingDispatcher(), caption, {}))
    agreed = load_tracker("greeting", consent_given=True, pending_image=reference, **held)
    dispatcher = CollectingDispatcher()
    await ActionProcessPendingImage().run(dispatcher, agreed, {})
    assert [c for c in services.hospitals.calls if c[0] == "ask"] == []
    assert "looks like a brain MRI, which does not show the kidneys" in texts(dispatcher)


async def test_the_caption_of_a_refused_image_is_not_answered_about_an_older_one(
    services: Services, stored_image: dict
) -> None:
    """Found chatting: a photographed X-ray refused as not medical, captioned "is this normal?", had its caption
    answered about the X-ray sent before it."""
    refused = load_tracker("question", consent_given=True, images=[stored_image])
    refused.latest_message["metadata"] = {"caption_of": "f" * 64}
    dispatcher = CollectingDispatcher()
    assert await ActionAnswerQuestion().run(dispatcher, refused, {}) == []
    assert await ActionSegmentImage().run(dispatcher, refused, {}) == []
    assert services.hospitals.calls == [] and texts(dispatcher).count("haven't answered your question") == 2

    accepted = load_tracker("question", consent_given=True, images=[stored_image | {"upload_sha256": "f" * 64}])
    accepted.latest_message["metadata"] = {"caption_of": "f" * 64}
    await ActionAnswerQuestion().run(CollectingDispatcher(), accepted, {})
    assert [c[0] for c in services.hospitals.calls] == ["ask"]


@pytest.mark.parametrize(("qa_log", "no_image", "says"), [
    ([{"question": "is this normal?", "answer": "no", "confidence": 0.79, "abstained": False}], False,
     "fairly confident (79%)"),
    ([{"question": "should I be worried?", "answer": None, "confidence": 0.0, "abstained": True, "referred": True}],
     False, "should I be worried?"),
    ([], True, "Send an image and ask me about it"),
    ([], False, "Ask me about it, for example"),  # found chatting: "what is that?" after an image: "Send an image"
])
async def test_how_sure_restates_the_last_answers_confidence(qa_log: list, no_image: bool, says: str) -> None:
    """Found chatting: "how sure are you?" after an answer got "Sorry, I didn't understand that"."""
    tracker = load_tracker("question", qa_log=qa_log, **({"images": []} if no_image else {}))
    dispatcher = CollectingDispatcher()
    assert await ActionExplainConfidence().run(dispatcher, tracker, {}) == []
    assert says in texts(dispatcher)


async def test_how_sure_says_what_the_word_meant_on_test_images(monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    """The word is followed by the share of right answers measured for it (actions/confidence_words.json)."""
    measured = {"words": {"fairly confident": {"a": {"answers": 90, "accuracy": 0.798},
                                               "b": {"answers": 80, "accuracy": 0.863}}}}
    (tmp_path / "words.json").write_text(json.dumps(measured), encoding="utf-8")
    monkeypatch.setattr(wording, "MEASURED_WORDS_FILE", tmp_path / "words.json")
    wording._measured_words.cache_clear()
    qa_log = [{"question": "is this normal?", "answer": "no", "confidence": 0.79, "abstained": False}]
    dispatcher = CollectingDispatcher()
    await ActionExplainConfidence().run(dispatcher, load_tracker("question", qa_log=qa_log), {})
    wording._measured_words.cache_clear()
    assert "answers I called fairly confident were right 80% to 86% of the time" in texts(dispatcher)


def test_every_confidence_word_was_measured() -> None:
    """The committed measurements cover every word the bot uses."""
    wording._measured_words.cache_clear()
    for _, band in wording.CONFIDENCE_BANDS:
        assert wording.measured_accuracy(sentence(f"utter_confidence_{band}")) is not None, band


@pytest.mark.parametrize(("question", "part", "asked"), [("how about his kidneys", "kidneys", False),
                                                         ("is there a fracture in the knee?", "knee", False),
                                                         ("is the brain normal?", "brain", True),
                                                         ("is the spine normal?", "spine", True)])
async def test_a_question_about_a_part_the_image_cannot_show_is_not_put_to_the_models(
        services: Services, stored_image: dict, question: str, part: str, asked: bool) -> None:
    """Found chatting: "how about his kidneys" on a brain MRI got "Yes (60%)" to "anything abnormal in the kidneys?"."""
    tracker = load_tracker("question", consent_given=True, images=[stored_image], qa_log=None)
    start = question.index(part)
    tracker.latest_message.update(text=question, entities=[{"entity": "body_part", "value": part.rstrip("s"),
                                                            "start": start, "end": start + len(part)}])
    dispatcher = CollectingDispatcher()
    await ActionAnswerQuestion().run(dispatcher, tracker, {})
    assert bool([c for c in services.hospitals.calls if c[0] == "ask"]) is asked
    assert (f"looks like a brain MRI, which does not show the {part}" in texts(dispatcher)) is not asked


@pytest.mark.parametrize(("log", "answered"), [
    (None, False),
    ([{"question": "what is this?", "answer": None, "confidence": 0.0, "abstained": True}], False),
    ([{"question": "is there a mass?", "answer": "no", "confidence": 0.8, "abstained": False}], True),
])
async def test_the_summary_says_not_a_diagnosis_only_under_answers(services: Services, log: list | None,
                                                                     answered: bool) -> None:
    """Found chatting: a summary without a single answer (none, or only "no confident answer") ended "This is an
    automated answer…"."""
    dispatcher = CollectingDispatcher()
    await ActionShowSummary().run(dispatcher, load_tracker("question", consent_given=True, qa_log=log), {})
    assert (sentence("utter_disclaimer") in dispatcher.messages[0]["text"]) is answered


@pytest.mark.parametrize(("typed", "asked"), [
    ("wait, is this an MRI?", "is this an MRI?"),
    ("ok so where is it?", "where is it?"),
    ("hmm... and how big is it", "how big is it"),
    ("is the heart ok?", "is the heart ok?"),
    ("so", "so"),  # nothing left: asked as typed
    ("Sorry, is the lung clear?", "is the lung clear?"),
])
def test_the_models_are_asked_without_the_fillers_typed_before_a_question(typed: str, asked: str) -> None:
    assert model_question(typed) == asked


async def test_the_log_keeps_the_patients_words_and_the_models_get_the_question(services: Services,
                                                                               stored_image: dict) -> None:
    tracker = load_tracker("question", consent_given=True, images=[stored_image], qa_log=None)
    tracker.latest_message.update({"text": "wait, is there a mass?", "entities": []})
    events = slot_events(await ActionAnswerQuestion().run(CollectingDispatcher(), tracker, {}))
    assert events["qa_log"][-1]["question"] == "wait, is there a mass?"
    assert [call[1]["question"] for call in services.hospitals.calls if call[0] == "ask"] == ["is there a mass?"]
