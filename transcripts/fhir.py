"""HL7 FHIR R4 rendering of a transcript, validated with ``fhir.resources`` (its R4B models).

fhir.resources 8 models FHIR R5 at the top level and R4B (the R4 technical correction,
wire-compatible with R4 for these resources) under ``fhir.resources.R4B``; R4 still has
``Media``, which R5 removed, so the R4B models are the ones used here.

The Bundle (type ``collection``) holds: a Patient without direct identifiers (city only);
a Device for the assistant; a Consent; a QuestionnaireResponse with the intake facts and every
question/answer; one Communication per message of the dialogue; one Media per image (by URL,
never bytes); Observations for answers and segmentations; a DiagnosticReport grouping them;
and a Flag when the consultation is urgent.
"""

from __future__ import annotations

import uuid
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from qaid.media_links import transcript_media_url
from qaid.state import media_secret
from transcripts.model import QAEntry, Transcript

QAID_SYSTEM = "https://qaid.example/fhir"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
_NS = uuid.UUID("0b6d2f4e-43a5-4d35-8f2f-0f8f6a1c2e77")


class _Ids:
    """Deterministic ``urn:uuid`` references per transcript (same transcript -> same bundle)."""

    def __init__(self, transcript_id: str) -> None:
        self.base = transcript_id

    def __call__(self, *parts: object) -> str:
        return f"urn:uuid:{uuid.uuid5(_NS, ':'.join([self.base, *map(str, parts)]))}"


def _entry(full_url: str, resource: dict[str, Any]) -> dict[str, Any]:
    resource["id"] = full_url.rsplit(":", 1)[-1]
    return {"fullUrl": full_url, "resource": resource}


def _text(value: str) -> dict[str, str]:
    return {"text": value}




def _patient(transcript: Transcript, ids: _Ids) -> dict[str, Any]:
    patient: dict[str, Any] = {"resourceType": "Patient", "active": True}
    if transcript.patient.location:
        patient["address"] = [{"city": transcript.patient.location}]
    return _entry(ids("patient"), patient)


def _questionnaire_response(transcript: Transcript, ids: _Ids, patient: str) -> dict[str, Any]:
    facts = transcript.patient
    items = []
    for link, label, value in (
        ("complaint", "Reason for consulting", facts.complaint),
        ("duration", "Duration", facts.duration),
        ("age_band", "Age band", facts.age_band),
        ("location", "Location", facts.location),
    ):
        if value:
            items.append({"linkId": link, "text": label, "answer": [{"valueString": value}]})
    for index, symptom in enumerate(facts.symptoms):
        answer: dict[str, Any] = {"valueBoolean": not symptom.negated}
        items.append({"linkId": f"symptom-{index + 1}", "text": symptom.label(), "answer": [answer]})
    for kind, label, notes in (("history", "Past condition", facts.history),
                               ("medication", "Medicine or allergy", facts.medications)):
        items += [{"linkId": f"{kind}-{index + 1}", "text": label, "answer": [{"valueString": note}]}
                  for index, note in enumerate(notes)]
    for index, qa in enumerate(transcript.questions):
        item: dict[str, Any] = {"linkId": f"question-{index + 1}", "text": qa.question}
        if qa.answer:
            item["answer"] = [{"valueString": qa.answer}]
        items.append(item)
    response: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "subject": {"reference": patient},
        "item": items,
    }
    if transcript.ended_at:
        response["authored"] = transcript.ended_at
    return _entry(ids("questionnaire-response"), response)


def _consent(transcript: Transcript, ids: _Ids, patient: str) -> dict[str, Any]:
    consent: dict[str, Any] = {
        "resourceType": "Consent",
        "status": "active" if transcript.consent.given else "rejected",
        "scope": {"coding": [{"system": CONSENT_SCOPE, "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0", "display": "Consent Document"}]}],
        "patient": {"reference": patient},
        "policyRule": _text("Share this consultation with the hospitals the patient chose"),
    }
    if transcript.consent.time:
        consent["dateTime"] = transcript.consent.time
    return _entry(ids("consent"), consent)


def _communications(transcript: Transcript, ids: _Ids, patient: str, device: str) -> list[dict[str, Any]]:
    entries = []
    for index, turn in enumerate(transcript.dialogue):
        from_patient = turn.speaker == "patient"
        communication: dict[str, Any] = {
            "resourceType": "Communication",
            "status": "completed",
            "subject": {"reference": patient},
            "sender": {"reference": patient if from_patient else device},
            "recipient": [{"reference": device if from_patient else patient}],
            "payload": [{"contentString": turn.text}],
        }
        if turn.timestamp:
            communication["sent"] = turn.timestamp
        entries.append(_entry(ids("communication", index), communication))
    return entries


def _component(label: str, value: float, unit: str) -> dict[str, Any]:
    return {"code": _text(label), "valueQuantity": {"value": value, "unit": unit}}


def _method(qa: QAEntry) -> str:
    """How the answer was obtained: by how many hospitals, for which question type; or that none was asked."""
    if qa.referred:
        return "Q&Aid: a question for the doctor; no hospital model was asked"
    kind = f"; type {qa.question_type}" if qa.question_type else ""
    return f"Q&Aid: {qa.answered} of {qa.asked} hospitals answered{kind}"


def _observations(
    transcript: Transcript, ids: _Ids, patient: str, device: str, media: dict[str, str]
) -> list[dict[str, Any]]:
    entries = []
    for index, qa in enumerate(transcript.questions):
        observation: dict[str, Any] = {
            "resourceType": "Observation",
            "status": "preliminary",
            "category": [_text("AI image question answering")],
            "code": _text(qa.question),
            "subject": {"reference": patient},
            "device": {"reference": device},
            "method": _text(_method(qa)),
        }
        if not qa.referred:
            observation["component"] = [_component("confidence", qa.confidence, "1")]
        if qa.answer:
            observation["valueString"] = qa.answer
        elif qa.referred:
            observation["dataAbsentReason"] = _text("A question for the doctor; the models were not asked")
        else:
            observation["dataAbsentReason"] = _text("The models were not confident enough to answer")
        if qa.agreement is not None:
            observation.setdefault("component", []).append(_component("agreement between hospitals", qa.agreement, "1"))
        if qa.timestamp:
            observation["effectiveDateTime"] = qa.timestamp
        if qa.image_sha256 in media:
            observation["derivedFrom"] = [{"reference": media[qa.image_sha256]}]
        entries.append(_entry(ids("observation", "qa", index), observation))
    for image in transcript.images:
        for index, finding in enumerate(image.findings):
            if not finding.get("answer"):
                continue
            observation = {
                "resourceType": "Observation",
                "status": "preliminary",
                "category": [_text("AI first look at an image")],
                "code": _text(f"Automatic finding: {finding.get('key', 'finding')}"),
                "subject": {"reference": patient},
                "device": {"reference": device},
                "valueString": str(finding["answer"]),
                "derivedFrom": [{"reference": media[image.sha256]}],
            }
            if finding.get("confidence") is not None:
                observation["component"] = [_component("confidence", float(finding["confidence"]), "1")]
            entries.append(_entry(ids("observation", "finding", image.sha256, index), observation))
    for index, seg in enumerate(transcript.segmentations):
        observation = {
            "resourceType": "Observation",
            "status": "preliminary",
            "category": [_text("AI image segmentation")],
            "code": _text("Brain MRI lesion segmentation"),
            "subject": {"reference": patient},
            "device": {"reference": device},
            "method": _text(f"Segmentation model at {seg.hospital}"),
            "component": [
                _component("lesion area", seg.lesion_pixels, "pixels"),
                _component("brain area", seg.brain_pixels, "pixels"),
                _component("lesion fraction of brain area", seg.lesion_fraction, "1"),
            ],
        }
        if seg.lesion_side:
            observation["note"] = [{"text": f"Lesion side in the displayed image: {seg.lesion_side}"}]
        if seg.timestamp:
            observation["effectiveDateTime"] = seg.timestamp
        if seg.image_sha256 in media:
            observation["derivedFrom"] = [{"reference": media[seg.image_sha256]}]
        entries.append(_entry(ids("observation", "segmentation", index), observation))
    return entries


def _media(transcript: Transcript, ids: _Ids, patient: str, public_url: str, secret: str) -> list[dict[str, Any]]:
    entries = []
    for image in transcript.images:
        media: dict[str, Any] = {
            "resourceType": "Media",
            "status": "completed",
            "subject": {"reference": patient},
            "content": {
                "contentType": image.media_type or "application/octet-stream",
                "url": transcript_media_url(public_url, secret, image.path, transcript.created_at),
                "title": f"sha256:{image.sha256}",
            },
        }
        if image.label:
            kind = image.display_name or image.label
            confidence = f" ({image.confidence:.0%})" if image.confidence is not None else ""
            media["note"] = [{"text": f"Image type by the labeller: {kind}{confidence}"}]
        if image.received_at:
            media["createdDateTime"] = image.received_at
        entries.append(_entry(ids("media", image.sha256), media))
    return entries


def transcript_to_fhir(
    transcript: Transcript, public_url: str = "http://localhost:5005", secret: str | None = None
) -> dict[str, Any]:
    """The transcript as a validated FHIR R4 Bundle (JSON dict); image URLs are signed links under ``public_url``
    (``secret``: the media secret, default :func:`qaid.state.media_secret`)."""
    secret = secret if secret is not None else media_secret()
    ids = _Ids(transcript.transcript_id)
    patient = _patient(transcript, ids)
    patient_ref = patient["fullUrl"]
    device = _entry(
        ids("device"),
        {"resourceType": "Device", "deviceName": [{"name": "Q&Aid assistant", "type": "model-name"}]},
    )
    media = _media(transcript, ids, patient_ref, public_url, secret)
    media_refs = {image.sha256: ids("media", image.sha256) for image in transcript.images}
    observations = _observations(transcript, ids, patient_ref, device["fullUrl"], media_refs)
    entries = [
        patient,
        device,
        _consent(transcript, ids, patient_ref),
        _questionnaire_response(transcript, ids, patient_ref),
        *_communications(transcript, ids, patient_ref, device["fullUrl"]),
        *media,
        *observations,
    ]
    if observations or media:
        report: dict[str, Any] = {
            "resourceType": "DiagnosticReport",
            "status": "preliminary",
            "code": _text("Q&Aid AI-assisted image assessment (not a diagnosis)"),
            "subject": {"reference": patient_ref},
            "result": [{"reference": entry["fullUrl"]} for entry in observations],
            "media": [{"link": {"reference": entry["fullUrl"]}} for entry in media],
            "conclusion": "Model outputs for a doctor's review; they are not a diagnosis.",
        }
        if transcript.ended_at:
            report["issued"] = transcript.ended_at
        entries.append(_entry(ids("diagnostic-report"), report))
    if transcript.urgent:
        flag = {
            "resourceType": "Flag",
            "status": "active",
            "code": _text("Urgent: the patient reported red-flag symptoms"
                          + (f" ({transcript.urgent_reason})" if transcript.urgent_reason else "")),
            "subject": {"reference": patient_ref},
        }
        entries.append(_entry(ids("flag"), flag))
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": transcript.transcript_id,
        "type": "collection",
        "identifier": {"system": f"{QAID_SYSTEM}/transcript", "value": transcript.transcript_id},
        "timestamp": transcript.created_at,
        "entry": entries,
    }
    return Bundle.model_validate(bundle).model_dump(mode="json", exclude_none=True)
