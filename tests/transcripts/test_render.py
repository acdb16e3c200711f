"""FHIR R4 Bundle (validated with fhir.resources' R4B models) and the HTML summary."""

from __future__ import annotations

import time
from collections import Counter
from html import escape
from urllib.parse import parse_qs, urlsplit

from fhir.resources.R4B.bundle import Bundle

from qaid.findings import finding_text, findings_text
from qaid.media_links import verify_media_signature
from transcripts.build import transcript_from_events
from transcripts.fhir import transcript_to_fhir
from transcripts.html import transcript_to_html
from transcripts.model import QAEntry, Symptom, Transcript


def test_fhir_bundle_is_valid_r4_with_the_expected_resources(transcript: Transcript) -> None:
    document = transcript_to_fhir(transcript, "https://chat.example.org")
    bundle = Bundle.model_validate(document)
    kinds = Counter(entry.resource.get_resource_type() for entry in bundle.entry)
    assert kinds["Patient"] == 1 and kinds["QuestionnaireResponse"] == 1 and kinds["Consent"] == 1
    assert kinds["Communication"] == len(transcript.dialogue)
    # one answer, one segmentation, one automatic finding of the image
    assert kinds["Media"] == 1 and kinds["Observation"] == 3 and kinds["DiagnosticReport"] == 1 and kinds["Flag"] == 1
    resources = {entry.fullUrl: entry.resource for entry in bundle.entry}
    references = [ref for entry in document["entry"] for ref in _references(entry["resource"])]
    assert references and all(ref in resources for ref in references)


def test_patient_has_no_direct_identifiers(transcript: Transcript) -> None:
    [patient] = [e["resource"] for e in transcript_to_fhir(transcript)["entry"]
                 if e["resource"]["resourceType"] == "Patient"]
    assert not {"identifier", "name", "telecom", "birthDate", "photo", "contact"} & set(patient)
    assert patient["address"] == [{"city": "Paris"}]


def test_images_are_referenced_not_embedded(transcript: Transcript) -> None:
    document = transcript_to_fhir(transcript, "https://chat.example.org", secret="media-secret")
    [media] = [e["resource"] for e in document["entry"] if e["resource"]["resourceType"] == "Media"]
    link = urlsplit(media["content"]["url"])
    assert (link.scheme, link.netloc, link.path) == ("https", "chat.example.org", f"/media/{'a' * 64}.png")
    query = parse_qs(link.query)
    assert verify_media_signature("media-secret", f"{'a' * 64}.png", query["expires"][0], query["signature"][0])
    assert int(query["expires"][0]) - time.time() > 20 * 86400  # a doctor can open it for weeks
    html = transcript_to_html(transcript, "https://chat.example.org", secret="media-secret")
    assert f"<img src='{escape(media['content']['url'], quote=True)}'" in html
    assert "data" not in media["content"]
    answer = next(e["resource"] for e in document["entry"] if e["resource"].get("valueString") == "yes")
    assert answer["status"] == "preliminary" and answer["code"]["text"] == "Is there a tumour?"
    assert answer["component"][0]["valueQuantity"]["value"] == 0.72
    [outline] = [e["resource"] for e in document["entry"] if e["resource"].get("code", {}).get("text")
                 == "Brain MRI lesion segmentation"]
    assert outline["note"] == [{"text": "Lesion side in the displayed image: right"}]


def test_bundle_is_deterministic_per_transcript(transcript: Transcript) -> None:
    assert transcript_to_fhir(transcript) == transcript_to_fhir(transcript)


def test_html_summary_shows_facts_and_escapes_text(transcript: Transcript) -> None:
    transcript.questions[0].question = "<script>alert(1)</script> Is it bad?"
    page = transcript_to_html(transcript)
    assert "<script>" not in page and "&lt;script&gt;" in page
    expected_texts = ("persistent headaches", "fever (absent)", "URGENT", "3/3", "72%", "brain MRI", "120",
                      "abnormal: yes", "<td>right</td>")
    for expected in expected_texts:
        assert expected in page


def _references(value: object) -> list[str]:
    if isinstance(value, dict):
        found = [value["reference"]] if isinstance(value.get("reference"), str) else []
        return found + [ref for item in value.values() for ref in _references(item)]
    if isinstance(value, list):
        return [ref for item in value for ref in _references(item)]
    return []


def test_the_urgent_flag_says_which_message_raised_it(tracker: dict) -> None:
    reason = 'chest pain: "crushing <chest> pain"'
    transcript = transcript_from_events(tracker["sender_id"], tracker["events"],
                                        {"urgent": True, "urgent_reason": reason})
    assert transcript.urgent_reason == reason
    assert f"URGENT: red-flag symptoms reported — {escape(reason)}" in transcript_to_html(transcript, secret="s")
    flags = [e["resource"] for e in transcript_to_fhir(transcript)["entry"] if e["resource"]["resourceType"] == "Flag"]
    assert flags[0]["code"]["text"] == f"Urgent: the patient reported red-flag symptoms ({reason})"


def test_a_finding_that_repeats_its_key_reads_once() -> None:
    assert findings_text([{"key": "plane", "answer": "coronal plane"}, {"key": "abnormal", "answer": "yes"},
                          {"key": "organ", "answer": None}]) == "plane: coronal; abnormal: yes"
    assert finding_text("plane", "plane") == "plane: plane" and finding_text("organ", "brain") == "organ: brain"


def test_a_question_for_the_doctor_is_shown_as_one(transcript: Transcript) -> None:
    """A question the bot referred (worry, diagnosis, treatment) reads as the doctor's to answer, not as an
    abstention of the models."""
    transcript.questions.append(QAEntry("should I be worried?", None, 0.0, abstained=True, referred=True))
    html = transcript_to_html(transcript, "https://chat.example.org")
    assert "should I be worried?" in html and "a question for you; the models were not asked" in html
    document = transcript_to_fhir(transcript)
    Bundle.model_validate(document)
    [observation] = [e["resource"] for e in document["entry"]
                     if e["resource"].get("code", {}).get("text") == "should I be worried?"]
    assert observation["dataAbsentReason"]["text"] == "A question for the doctor; the models were not asked"
    assert "component" not in observation and "None" not in observation["method"]["text"]
    [row] = [line for line in html.split("<tr>") if "should I be worried?" in line]
    assert "0%" not in row and "0/0" not in row


def test_a_symptom_shows_its_own_duration_to_the_doctor(transcript: Transcript) -> None:
    """The duration the patient told with a symptom reaches the HTML and the FHIR questionnaire."""
    transcript.patient.symptoms = [Symptom("cough", False, "3 weeks"), Symptom("fever", True)]
    assert "cough (3 weeks), fever (absent)" in transcript_to_html(transcript)
    [answers] = [e["resource"] for e in transcript_to_fhir(transcript)["entry"]
                 if e["resource"]["resourceType"] == "QuestionnaireResponse"]
    assert [i["text"] for i in answers["item"] if i["linkId"].startswith("symptom-")] == ["cough (3 weeks)",
                                                                                          "fever (absent)"]
