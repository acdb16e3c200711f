"""One coherent consultation: answers agree with the image record (issue 17's contradictions, as tests)."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.image_facts import (
    agrees,
    consistent_findings,
    file_fact_words,
    fits_label,
    known_from_file,
    known_type,
    label_against_file,
    part_not_shown,
    stated_answer,
)
from actions.questions import ActionAnswerQuestion
from actions.runtime import Services
from actions.wording import abstain_sentence, percent, summary_lines
from tests.support.actions import load_tracker


def _findings(**answers: str) -> list[dict[str, Any]]:
    return [{"key": key, "answer": answer, "confidence": 0.8} for key, answer in answers.items()]


def test_first_look_never_contradicts_the_label_in_the_same_reply() -> None:
    unsure_head_ct = {"label": "head_ct", "confidence": 0.65}
    kept = consistent_findings(_findings(abnormal="yes", organ="abdomen", modality="mri", plane="axial"),
                               unsure_head_ct)
    assert [f["key"] for f in kept] == ["plane"]  # "mri" and "abdomen" contradict "head CT"; abnormal is untold
    assert [f["key"] for f in consistent_findings(_findings(organ="brain", modality="ct"), unsure_head_ct)] == [
        "organ", "modality"]  # a brain is what a head CT shows


def test_the_first_look_does_not_tell_whether_the_image_is_abnormal() -> None:
    """Found chatting: "First look: abnormal: yes" on every image, unasked; a false alarm more often than not."""
    kept = consistent_findings(_findings(abnormal="yes", organ="chest", modality="x-ray", plane="pa"),
                               {"label": "chest_xray", "confidence": 0.99})
    assert [f["key"] for f in kept] == ["organ", "modality", "plane"]


def test_a_confident_label_drops_contradicting_first_look_findings_and_keeps_agreeing_ones() -> None:
    kept = consistent_findings(_findings(modality="t2", organ="chest", plane="axial"),
                               {"label": "brain_mri", "confidence": 0.98})
    assert [(f["key"], f["answer"]) for f in kept] == [("modality", "t2"), ("plane", "axial")]


DICOM_HEAD_CT = {"label": "chest_xray", "confidence": 0.4, "dicom": {"modality": "CT", "body_part": "HEAD"}}


def test_first_look_never_contradicts_what_a_dicom_file_records() -> None:
    """Found chatting: a head CT sent as DICOM, labelled unsure, got "modality: x-ray; organ: chest"."""
    kept = consistent_findings(_findings(abnormal="yes", organ="chest", modality="x-ray", plane="pa"), DICOM_HEAD_CT)
    assert kept == []
    assert file_fact_words(DICOM_HEAD_CT) == "a CT of the head"
    assert file_fact_words({"dicom": {"modality": "XA"}}) is None and file_fact_words({}) is None


def test_a_later_answer_that_contradicts_the_dicom_file_is_not_stated() -> None:
    stated = stated_answer(DICOM_HEAD_CT, [], "MODALITY", "x-ray", 0.66, False)
    assert stated.abstained and stated.against_file and stated.conflict_with == "a CT of the head"
    assert stated_answer(DICOM_HEAD_CT, [], "MODALITY", "ct", 0.66, False).answer == "ct"
    assert stated_answer(DICOM_HEAD_CT, [], "ORGAN", "brain", 0.7, False).answer == "brain"
    assert stated_answer(DICOM_HEAD_CT, [], "ABN", "yes", 0.7, False).answer == "yes"


def test_a_confident_label_that_contradicts_the_dicom_file_is_not_stated() -> None:
    """Review leftover: a head CT file labelled a chest X-ray with 95% was still called a chest X-ray."""
    confident_but_wrong = DICOM_HEAD_CT | {"confidence": 0.95}
    assert label_against_file(confident_but_wrong)
    assert not label_against_file(confident_but_wrong | {"label": "head_ct"})
    assert not label_against_file({"label": "chest_xray", "confidence": 0.95})  # no header: nothing to contradict
    assert known_type(confident_but_wrong, "MODALITY") is None  # never repeated as "it looks like a chest X-ray"
    kept = consistent_findings(_findings(modality="ct", organ="brain", plane="axial"), confident_but_wrong)
    assert [f["key"] for f in kept] == ["modality", "organ", "plane"]  # what agrees with the file is kept


def test_when_the_models_abstain_the_dicom_file_answers_which_organ_and_modality() -> None:
    """Found chatting: a head CT sent as DICOM, "what organ is this?" got "I'm not sure enough to answer that"
    although the file says it is a CT of the head."""
    assert known_from_file(DICOM_HEAD_CT, "ORGAN") == known_from_file(DICOM_HEAD_CT, "MODALITY") == "a CT of the head"
    assert known_from_file(DICOM_HEAD_CT, "ABN") is None and known_from_file({"label": "head_ct"}, "ORGAN") is None
    assert known_from_file({"dicom": {"modality": "CT"}}, "ORGAN") is None  # the file does not say which organ
    said = abstain_sentence(3, 3, None, known_from_file(DICOM_HEAD_CT, "ORGAN"))
    assert "your file says it is a CT of the head" in said and "not sure enough" in said


def test_a_yes_or_no_that_contradicts_the_dicom_file_is_not_stated() -> None:
    confident_but_wrong = DICOM_HEAD_CT | {"confidence": 0.95}
    for image in (DICOM_HEAD_CT, confident_but_wrong):
        assert stated_answer(image, [], "MODALITY", "yes", 0.8, False, "is this an MRI?").against_file
        assert stated_answer(image, [], "MODALITY", "no", 0.8, False, "is this a CT scan?").against_file
        assert stated_answer(image, [], "MODALITY", "yes", 0.8, False, "is this a CT scan?").answer == "yes"
        assert stated_answer(image, [], "MODALITY", "no", 0.8, False, "is this an x-ray?").answer == "no"
    assert stated_answer(confident_but_wrong, [], "MODALITY", "ct", 0.8, False).answer == "ct"  # the file's word


def test_synonyms_agree_and_different_things_do_not() -> None:
    assert agrees("modality", "MR", "mri") and agrees("organ", "lungs", "chest")
    assert not agrees("modality", "ct", "mri") and not agrees("abnormal", "yes", "no")


@pytest.mark.parametrize(("label", "answer", "fits"), [
    ("chest_xray", "chest x-ray", True), ("chest_xray", "x-ray plain film", True), ("chest_xray", "pa x-ray", True),
    ("chest_xray", "chest radiograph", True), ("chest_xray", "ct", False), ("brain_mri", "flair mri", True),
    ("brain_mri", "mr - adc map", True), ("brain_mri", "mri-dwi", True), ("brain_mri", "t2", True),
    ("brain_mri", "non-contrast ct", False), ("head_ct", "head/neck ct", True), ("head_ct", "mri/flair", False),
    ("abdomen_ct", "contrast ct with gi and iv contrast", True), ("mammogram", "x-ray", False),
])
def test_every_way_the_models_name_a_modality_is_read_as_that_modality(label: str, answer: str, fits: bool) -> None:
    # found chatting: "chest x-ray" for a chest X-ray was called an answer that "does not fit" it
    assert fits_label(label, "modality", answer) is fits


def test_stated_answer_follows_the_image_record() -> None:
    image = {"sha256": "a", "label": "chest_xray", "confidence": 0.97, "findings": _findings(abnormal="yes")}
    against_label = stated_answer(image, [], "MODALITY", "ct", 0.9, abstained=False)
    assert (against_label.answer, against_label.source, against_label.conflict_with) == (None, "conflict", "x-ray")
    assert against_label.abstained
    precise = stated_answer(image, [], "MODALITY", "radiograph", 0.8, abstained=False)
    assert (precise.answer, precise.confidence, precise.source) == ("radiograph", 0.8, "models")
    not_from_label = stated_answer(image, [], "ORGAN", None, 0.2, abstained=True)  # the label never answers
    assert (not_from_label.answer, not_from_label.source) == (None, "unsure")
    closed = stated_answer(image, [], "MODALITY", "no", 0.7, abstained=False)  # "is this a CT?": not the label's
    assert (closed.answer, closed.source) == ("no", "models")
    contradiction = stated_answer(image, [], "ABN", "no", 0.95, abstained=False)
    assert (contradiction.answer, contradiction.source, contradiction.conflict_with) == (None, "conflict", "yes")
    agreeing = stated_answer(image, [], "ABN", "yes", 0.8, abstained=False)
    assert (agreeing.answer, agreeing.source, agreeing.abstained) == ("yes", "models", False)
    assert stated_answer(image, [], "COLOR", "white", 0.3, abstained=True).source == "unsure"
    earlier = [{"image_sha256": "a", "question_type": "PLANE", "answer": "axial"}]
    assert stated_answer(image, earlier, "PLANE", "coronal", 0.7, abstained=False).source == "conflict"
    unsure_label = image | {"confidence": 0.6}
    assert stated_answer(unsure_label, [], "MODALITY", "ct", 0.9, abstained=False).answer == "ct"


def test_is_it_normal_no_agrees_with_the_first_look_abnormal_yes() -> None:
    image = {"sha256": "a", "label": "chest_xray", "confidence": 0.97, "findings": _findings(abnormal="yes")}
    agreeing = stated_answer(image, [], "ABN", "no", 0.8, abstained=False, question="is this normal?")
    assert (agreeing.answer, agreeing.source) == ("no", "models")
    contradicting = stated_answer(image, [], "ABN", "yes", 0.8, abstained=False, question="Is my lung healthy?")
    assert (contradicting.source, contradicting.conflict_with) == ("conflict", "yes")
    earlier = [{"image_sha256": "b", "question_type": "ABN", "answer": "no", "question": "is it normal?"}]
    later = stated_answer({"sha256": "b"}, earlier, "ABN", "yes", 0.8, abstained=False,
                          question="is there anything abnormal?")
    assert later.source == "models"


def test_lungs_ok_no_agrees_with_are_the_lungs_normal_no() -> None:
    """Found by a helper playing patients: "earlier they said 'no', now 'no'"."""
    earlier = [{"image_sha256": "b", "question_type": "ABN", "answer": "no", "question": "lungs ok?"}]
    later = stated_answer({"sha256": "b"}, earlier, "ABN", "no", 0.8, abstained=False,
                          question="are the lungs normal?")
    assert (later.answer, later.source) == ("no", "models")


@pytest.mark.parametrize(("question", "answer", "agrees"), [
    ("is this an MRI?", "yes", True),  # found chatting: "earlier they said 'mri', now 'yes'"
    ("is this an MRI?", "no", False),
    ("is this a CT scan?", "no", True),
    ("is it a ct?", "yes", False),
])
def test_a_yes_or_no_to_is_this_an_mri_is_compared_as_the_modality_it_claims(question: str, answer: str,
                                                                            agrees: bool) -> None:
    image = {"sha256": "m", "findings": _findings(modality="mri")}
    stated = stated_answer(image, [], "MODALITY", answer, 0.8, abstained=False, question=question)
    assert (stated.source == "models") is agrees
    earlier = [{"image_sha256": "m", "question_type": "MODALITY", "answer": "yes", "question": "is this an MRI?"}]
    later = stated_answer({"sha256": "m"}, earlier, "MODALITY", answer, 0.8, abstained=False, question=question)
    assert (later.source == "models") is agrees


async def _ask(services: Services, image: dict, question_type: str, answer: str, confidence: float,
               qa_log: list | None = None, question: str | None = None) -> tuple[str, dict]:
    services.hospitals.answer.answer, services.hospitals.answer.confidence = answer, confidence
    services.hospitals.answer.question_type = question_type
    tracker = load_tracker("question", consent_given=True, images=[image], qa_log=qa_log)
    if question is not None:
        tracker.latest_message["text"] = question
    dispatcher = CollectingDispatcher()
    events = await ActionAnswerQuestion().run(dispatcher, tracker, {})
    log = next(e["value"] for e in events if e.get("name") == "qa_log")
    return dispatcher.messages[0]["text"], log[-1]


async def test_an_organ_answer_on_a_confident_image_is_stated_only_when_it_agrees_with_the_label(
    services: Services, stored_image: dict
) -> None:
    text, entry = await _ask(services, stored_image, "ORGAN", "chest", 0.7)
    # found chatting: this said 'earlier they said "brain"', though only the label had (as "a brain MRI")
    assert "does not fit a brain MRI" in text and '"chest"' in text and "earlier" not in text
    assert (entry["answer"], entry["abstained"], entry["conflict_with"]) == (None, True, "brain")
    text, entry = await _ask(services, stored_image, "ORGAN", "brain", 0.7)
    assert text.startswith("Brain — I'm fairly confident (70%)")
    assert (entry["answer"], entry["abstained"]) == ("brain", False)


async def test_a_later_answer_that_contradicts_the_first_look_is_not_stated(
    services: Services, stored_image: dict
) -> None:
    image = stored_image | {"findings": [{"key": "abnormal", "answer": "yes", "confidence": 0.7}]}
    text, entry = await _ask(services, image, "ABN", "no", 1.0, question="is there anything abnormal?")
    assert "unsure" in text and '"yes"' in text and '"no"' in text and "100%" not in text
    assert (entry["answer"], entry["abstained"], entry["conflict_with"]) == (None, True, "yes")
    text, _ = await _ask(services, image, "ABN", "yes", 0.8, question="is there anything abnormal?")
    assert text.startswith("Yes — I'm fairly confident (80%)")


@pytest.mark.parametrize("question", ["Is there anything abnormal in the left lung?", "is the heart normal?",
                                      "Is there a mass in the left frontal lobe?",
                                      "Is there anything abnormal in the eyes?"])
def test_an_abnormality_answer_about_a_part_does_not_contradict_the_whole_image(question: str) -> None:
    """Found chatting: "what about the left lung?" (asked as "anything abnormal in the left lung?") after a first
    look of "abnormal: yes" got "the models are unsure: earlier yes, now no"."""
    image = {"sha256": "a", "label": "chest_xray", "confidence": 0.97, "findings": _findings(abnormal="yes")}
    stated = stated_answer(image, [], "ABN", "no", 0.8, abstained=False, question=question)
    assert (stated.answer, stated.source) == ("no", "models")
    again = [{"image_sha256": "a", "question_type": "ABN", "answer": "no", "question": question}]
    same_part = stated_answer(image | {"findings": []}, again, "ABN", "yes", 0.8, abstained=False, question=question)
    assert same_part.source == "conflict"


def test_no_confidence_is_shown_as_100_and_abstentions_read_as_such() -> None:
    assert percent(1.0) == "99%" and percent(0.5) == "50%"
    lines = summary_lines({"qa_log": [{"question": "where is the abnormality?", "answer": None, "confidence": 0.0},
                                      {"question": "is it big?", "answer": "yes", "confidence": 1.0}]})
    assert lines == ["Q: where is the abnormality? — A: no confident answer", "Q: is it big? — A: yes (99%)"]


async def _ask_about_outline(image: dict, outline: dict, question: str, question_type: str) -> str:
    """Ask ``question`` (Rasa NLU's top question type ``question_type``) about ``image`` outlined as ``outline``."""
    tracker = load_tracker("question", consent_given=True, images=[image],
                           segmentations=[{"image_sha256": image["sha256"], "brain_pixels": 20300} | outline])
    tracker.latest_message["text"] = question
    tracker.latest_message["question_types"] = {"ranking": [{"name": question_type, "confidence": 0.7},
                                                            {"name": "MODALITY", "confidence": 0.3}]}
    dispatcher = CollectingDispatcher()
    await ActionAnswerQuestion().run(dispatcher, tracker, {})
    return str(dispatcher.messages[0]["text"])


async def test_a_size_question_after_an_outline_is_answered_from_it(services: Services, stored_image: dict) -> None:
    outline = {"hospital": "Karolinska", "lesion_pixels": 812, "lesion_fraction": 0.04, "overlay_path": None}
    text = await _ask_about_outline(stored_image, outline, "how big is it?", "SIZE")
    assert text.startswith("Karolinska's outline of the lesion covers 812 pixels, about 4.0%")
    assert not [c for c in services.hospitals.calls if c[0] == "ask"]  # no VQA guess such as "Mri"


@pytest.mark.parametrize(("side", "expected"), [
    ("left", "in the left half of the image on this slice. Scans are usually displayed with the patient's right"),
    ("both", "spreads across both halves of the image"),
    ("none", "found no lesion on this slice"),
])
async def test_a_position_question_after_an_outline_is_answered_from_it(
    services: Services, stored_image: dict, side: str, expected: str
) -> None:
    outline = {"hospital": "Karolinska", "lesion_side": side, "lesion_pixels": 0 if side == "none" else 812,
               "lesion_fraction": 0.04}
    assert expected in await _ask_about_outline(stored_image, outline, "which side is it on?", "POS")
    assert not [c for c in services.hospitals.calls if c[0] == "ask"]


async def test_no_side_is_stated_from_the_outline_of_a_photo_of_a_screen(services: Services,
                                                                         stored_image: dict) -> None:
    photo = stored_image | {"screen": {"probability": 0.97, "corners": []}}
    outline = {"hospital": "Karolinska", "lesion_side": "left", "lesion_pixels": 812, "lesion_fraction": 0.04}
    text = await _ask_about_outline(photo, outline, "which side is it on?", "POS")
    assert "not reliable enough" in text and "left half" not in text
    assert not [c for c in services.hospitals.calls if c[0] == "ask"]


async def test_a_position_question_goes_to_the_models_when_the_outline_has_no_side(
    services: Services, stored_image: dict
) -> None:
    outline = {"hospital": "Remote", "lesion_side": None, "lesion_pixels": 812, "lesion_fraction": 0.04}
    await _ask_about_outline(stored_image, outline, "where is it?", "POS")
    assert [c for c in services.hospitals.calls if c[0] == "ask"]


def test_hospital_capabilities_are_said_in_plain_words() -> None:
    from actions.patient import hospital_lines
    from hospitals.types import HospitalInfo

    lines = hospital_lines([HospitalInfo("St Thomas Radiology", "London", 2.0, ["label", "prefilter", "vqa"]),
                            HospitalInfo("Karolinska", "Stockholm", None, ["segmentation", "label"])])
    assert lines == ("- St Thomas Radiology (London, 2 km): answers questions about your images\n"
                     "- Karolinska (Stockholm): outlines brain-MRI lesions")


def test_a_refusal_says_what_to_send_once() -> None:
    from actions.images import refusal
    from actions.responses import sentence

    assert refusal("The file is larger than 20 MB; please send a smaller image.").count("send") == 1
    assert refusal("This doesn't look like a medical image.").endswith(sentence("utter_what_to_send"))


@pytest.mark.parametrize(("label", "plane", "fits"), [
    ("brain_mri", "pa", False), ("brain_mri", "axial", True), ("head_ct", "coronal plane", True),
    ("chest_xray", "axial", False), ("chest_xray", "pa", True), ("mammogram", "lateral", True),
    ("chest_xray", "coronal plane", True), ("fundus", "pa", True), ("brain_mri", "left", True), (None, "pa", True),
])
def test_a_plane_fits_the_label_when_it_is_a_view_that_modality_has(label: str | None, plane: str, fits: bool) -> None:
    assert fits_label(label, "plane", plane) is fits


async def test_a_radiograph_view_on_a_brain_mri_is_neither_a_first_look_nor_an_answer(
    services: Services, stored_image: dict
) -> None:
    """Found chatting: a photographed brain MRI got "First look: abnormal: yes; plane: pa."."""
    assert consistent_findings(_findings(abnormal="yes", plane="pa"), stored_image) == []
    text, entry = await _ask(services, stored_image, "PLANE", "pa", 0.8)
    assert "does not fit a brain MRI" in text and entry["abstained"] is True
    text, entry = await _ask(services, stored_image, "PLANE", "axial", 0.8)
    assert text.startswith("Axial") and entry["answer"] == "axial"


@pytest.mark.parametrize(("label", "part", "shown"), [
    ("chest_xray", "kidney", False), ("chest_xray", "pelvis", False), ("chest_xray", "heart", True),
    ("chest_xray", "liver", True), ("chest_ct", "kidney", True), ("brain_mri", "kidney", False),
    ("head_ct", "eye", True), ("chest_xray", "knee", False), ("chest_xray", "spine", True)])
def test_which_parts_an_image_of_each_label_can_show(label: str, part: str, shown: bool) -> None:
    """Found chatting: "how about his kidneys" on a chest X-ray went to the models; a chest CT shows the upper
    abdomen, a chest radiograph not the kidneys."""
    assert part_not_shown({"label": label, "confidence": 0.99}, part) is not shown
    assert part_not_shown({"label": label, "confidence": 0.5}, part) is False  # an unsure label places nothing
