"""A readable HTML summary of a transcript for a doctor (self-contained, every value escaped)."""

from __future__ import annotations

from html import escape

from qaid.findings import findings_text
from qaid.media_links import transcript_media_url
from qaid.state import media_secret
from transcripts.model import Transcript

STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;color:#222}"
    "table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left}"
    ".urgent{background:#b00020;color:#fff;padding:.5rem}.warn{color:#b00020}.muted{color:#666}"
    ".patient{background:#eef5ff}.assistant{background:#f6f6f6}"
)


class _Markup(str):
    """A cell that is already HTML (built from escaped parts), so :func:`_row` does not escape it again."""


def _row(*cells: object, header: bool = False) -> str:
    tag = "th" if header else "td"
    return "<tr>" + "".join(
        f"<{tag}>{c if isinstance(c, _Markup) else escape('' if c is None else str(c))}</{tag}>" for c in cells
    ) + "</tr>"


def _picture(url: str | None, label: str) -> object:
    """A thumbnail that opens the full image, for a signed media link; the label alone without one."""
    if url is None:
        return label
    link = escape(url, quote=True)
    return _Markup(f"<a href='{link}'><img src='{link}' alt='{escape(label, quote=True)}' "
                   f"style='max-width:240px;max-height:240px'></a>")


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.0%}"


def _facts(transcript: Transcript) -> str:
    facts = transcript.patient
    symptoms = ", ".join(s.label() for s in facts.symptoms) or None
    rows = [
        ("Reason for consulting", facts.complaint),
        ("Symptoms", symptoms),
        ("Past conditions", "; ".join(facts.history) or None),
        ("Medicines and allergies", "; ".join(facts.medications) or None),
        ("Duration", facts.duration),
        ("Age band", facts.age_band),
        ("Location", facts.location),
        ("Consent", f"given {transcript.consent.time or ''}".strip() if transcript.consent.given else "not given"),
        ("Call-back requested", "yes" if transcript.callback_requested else "no"),
    ]
    return "<table>" + "".join(_row(k, v) for k, v in rows if v) + "</table>"


def _questions(transcript: Transcript) -> str:
    if not transcript.questions:
        return "<p class='muted'>No questions were asked.</p>"
    rows = [_row("Question", "Answer", "Confidence", "Hospitals answered", "Agreement", header=True)]
    for qa in transcript.questions:
        answer = qa.answer if qa.answer else "(a question for you; the models were not asked)" if qa.referred else \
            "(no confident answer)"
        if qa.disagreement:
            answer += " — hospitals disagreed"
        if qa.referred:  # the models were not asked: no confidence or hospital count to show
            rows.append(_row(qa.question, answer, "", "", ""))
            continue
        rows.append(_row(qa.question, answer, _percent(qa.confidence), f"{qa.answered}/{qa.asked}",
                         _percent(qa.agreement)))
    return "<table>" + "".join(rows) + "</table>"


def _images(transcript: Transcript, public_url: str, secret: str) -> str:
    if not transcript.images:
        return "<p class='muted'>No images.</p>"
    rows = [_row("Image", "Type", "Confidence", "Received", "First look (models)", header=True)]
    for image in transcript.images:
        first_look = findings_text(image.findings)
        url = transcript_media_url(public_url, secret, image.path, transcript.created_at)
        rows.append(_row(_picture(url, image.sha256[:12]), image.display_name or image.label or "unknown",
                         _percent(image.confidence), image.received_at, first_look))
    return "<table>" + "".join(rows) + "</table>"


def _segmentations(transcript: Transcript, public_url: str, secret: str) -> str:
    if not transcript.segmentations:
        return ""
    rows = [_row("Hospital", "Lesion pixels", "Brain pixels", "Lesion fraction", "Side of the image", "Overlay",
                 header=True)]
    for seg in transcript.segmentations:
        overlay = transcript_media_url(public_url, secret, seg.overlay_path, transcript.created_at)
        rows.append(_row(seg.hospital, seg.lesion_pixels, seg.brain_pixels, f"{seg.lesion_fraction:.1%}",
                         seg.lesion_side or "not given", _picture(overlay, "no overlay")))
    return "<h2>Lesion segmentation</h2><table>" + "".join(rows) + "</table>"


def _dialogue(transcript: Transcript) -> str:
    turns = "".join(
        f"<tr class='{escape(turn.speaker)}'><td>{escape(turn.timestamp or '')}</td>"
        f"<td>{escape(turn.speaker)}</td><td>{escape(turn.text)}</td></tr>"
        for turn in transcript.dialogue
    )
    return f"<table>{turns}</table>" if turns else "<p class='muted'>No messages.</p>"


def transcript_to_html(
    transcript: Transcript, public_url: str = "http://localhost:5005", secret: str | None = None
) -> str:
    """The doctor-facing HTML page; images and overlays are shown from signed links under ``public_url``
    (``secret``: the media secret, default :func:`qaid.state.media_secret`)."""
    secret = secret if secret is not None else media_secret()
    reason = f" — {escape(transcript.urgent_reason)}" if transcript.urgent_reason else ""
    urgent = f"<p class='urgent'>URGENT: red-flag symptoms reported{reason}</p>" if transcript.urgent else ""
    title = f"Q&amp;Aid consultation {escape(transcript.conversation_id)}"
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        f"<style>{STYLE}</style></head><body><h1>{title}</h1>{urgent}"
        f"<p class='muted'>Transcript {escape(transcript.transcript_id)} · {escape(transcript.started_at or '')}"
        f" – {escape(transcript.ended_at or '')}</p>"
        f"<p class='warn'>Model answers are for a doctor's review; they are not a diagnosis.</p>"
        f"<h2>Patient</h2>{_facts(transcript)}<h2>Images</h2>{_images(transcript, public_url, secret)}"
        f"<h2>Questions</h2>{_questions(transcript)}{_segmentations(transcript, public_url, secret)}"
        f"<h2>Conversation</h2>{_dialogue(transcript)}</body></html>"
    )
