"""What the bot already knows about an image, so that no answer contradicts another.

The image record in the ``images`` slot holds the labeller's type and confidence and the first-look findings.
From a label follow the image's modality and body region (a "head CT" is a CT of the head). The rules, chosen
by measurement (``bench/consistency_report.py``; figures in ``bench/README.md``):

- a first-look modality, organ or plane finding that contradicts the label shown in the same reply is dropped
  (a plane contradicts it when it is a radiograph's projection, "pa", for a CT or MRI, or a section, "axial",
  for a radiograph: found chatting, "first look: plane: pa" on a brain MRI; on VQA-RAD test and SLAKE
  validation it vetoes no model answer);
- a later open modality, organ or plane answer (not yes/no) that contradicts a confident label is not stated:
  the bot says the models' answer does not fit the image. One that agrees is stated as the models said it
  ("t2" is more precise than "mri"). The label itself never answers: answering from it was measured worse
  (SLAKE validation organ questions 12% right against 85% for the models; 1 of 11 right where the models
  abstained), because the labeller is confidently wrong on many SLAKE scans (an abdominal CT labelled a breast
  MRI) and a region ("chest") does not answer "which organ";
- a later answer that contradicts what the bot already said about the same image and question type is not
  stated as a fact either;
- a DICOM file's own header (Modality, BodyPartExamined: :func:`file_facts`) is a fact whatever the labeller
  said: first-look findings and later answers that contradict it are not stated, and an unsure label is
  replaced by what the file says;
- when the models abstain on a modality or organ question about a confidently labelled image, the bot repeats
  what it said of the image when it arrived (:func:`known_type`); that is not a new answer from the label. When
  the DICOM header records what was asked, the bot says what the file says instead (:func:`known_from_file`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hospitals.types import AggregatedFinding
from qaid.image_types import display_name

CONFIDENT_LABEL = 0.9  # above it the labeller was right 99.8% of the time on val, 98.0% on val photographed

# Modality and body region of each labeller class, in the VQA models' answer words.
LABEL_FACTS: dict[str, dict[str, str]] = {
    "abdomen_ct": {"modality": "ct", "organ": "abdomen"},
    "brain_mri": {"modality": "mri", "organ": "brain"},
    "breast_mri": {"modality": "mri", "organ": "breast"},
    "chest_ct": {"modality": "ct", "organ": "chest"},
    "chest_xray": {"modality": "x-ray", "organ": "chest"},
    "fundus": {"modality": "fundus photograph", "organ": "eye"},
    "hand_xray": {"modality": "x-ray", "organ": "hand"},
    "head_ct": {"modality": "ct", "organ": "head"},
    "mammogram": {"modality": "mammography", "organ": "breast"},
}

# A DICOM file records its modality and body part itself (tags Modality, BodyPartExamined): the file's own
# record, which the models' answers must fit whatever the labeller thought (found chatting: a head CT sent as
# DICOM, labelled "not sure", got "first look: modality: x-ray; organ: chest").
DICOM_MODALITIES = {"CT": "ct", "MR": "mri", "CR": "x-ray", "DX": "x-ray", "RG": "x-ray", "MG": "mammography",
                    "OP": "fundus photograph"}
DICOM_BODY_PARTS = {"HEAD": "head", "BRAIN": "brain", "SKULL": "head", "CHEST": "chest", "THORAX": "chest",
                    "LUNG": "chest", "ABDOMEN": "abdomen", "BREAST": "breast", "HAND": "hand", "EYE": "eye"}

# The words that make a modality answer name a modality, in the VQA models' answer words ("x ray" and "x-rays"
# read as "xray"): "flair mri", "mr - adc map" and "t2" are MRI; "non-contrast ct" a CT; "chest x-ray" and "plain
# film" radiographs. An answer with the words of two modalities, or of none, names no modality.
MODALITY_WORDS: dict[str, frozenset[str]] = {
    "mri": frozenset({"mri", "mr", "flair", "t1", "t2", "dwi", "adc"}),
    "ct": frozenset({"ct", "cta", "tomography"}),
    "x-ray": frozenset({"xray", "radiograph", "radiographic", "film", "cxr", "xr"}),
    "mammography": frozenset({"mammography", "mammogram"}),
    "fundus photograph": frozenset({"fundus", "photograph"}),
}
_XRAY = re.compile(r"\bx[\s-]?rays?\b")
# Organ answers that name the same region: a brain is shown on a head CT.
SAME_ORGAN = (
    {"head", "brain", "skull", "brain and skull"},
    {"chest", "lung", "lungs", "thorax", "heart", "chest and lungs"},
    {"abdomen", "liver", "kidney", "kidneys", "bowel", "pelvis", "spleen", "pancreas", "gastrointestinal"},
    {"breast", "breasts"},
    {"eye", "retina"},
    {"hand", "wrist"},
)
# "abnormal" does not match; "lungs ok?" answered "no" says what "are the lungs normal?" answered "no" says (found
# by a helper playing patients: the bot called the models unsure, "earlier they said 'no', now 'no'").
_NORMALITY = re.compile(r"\b(?:normal|healthy|ok|okay|fine|alright|all right|clear)\b", re.I)

# The views an image of each modality can be in, in the VQA models' answer words: a radiograph is a projection
# (SLAKE calls a frontal chest X-ray "coronal plane"), a CT or MRI a section. An answer in neither set is a word
# this rule does not know, never a contradiction.
_PROJECTIONS = {"pa", "ap", "lateral", "oblique", "pa x-ray", "pa and lateral", "lateral film as well as pa",
                "coronal", "coronal plane"}
_SECTIONS = {"axial", "coronal", "sagittal", "transverse", "axial plane", "coronal plane", "sagittal plane",
             "transverse plane"}
PLANES_OF_MODALITY = {"x-ray": _PROJECTIONS, "mammography": _PROJECTIONS, "ct": _SECTIONS, "mri": _SECTIONS}
_KNOWN_PLANES = _PROJECTIONS | _SECTIONS

# Question types of Rasa NLU / the VQA aggregate, and the first-look finding each matches.
FINDING_OF_TYPE = {"ABN": "abnormal", "MODALITY": "modality", "ORGAN": "organ", "PLANE": "plane"}


def _normal(answer: Any) -> str:
    return str(answer or "").strip().lower()


def modality_of(answer: Any) -> str | None:
    """The modality an answer names (a key of :data:`MODALITY_WORDS`), or None."""
    words = set(re.findall(r"[a-z0-9]+", _XRAY.sub("xray", _normal(answer))))
    named = [modality for modality, cues in MODALITY_WORDS.items() if words & cues]
    return named[0] if len(named) == 1 else None


def agrees(key: str, first: Any, second: Any) -> bool:
    """True when two answers to the same kind of question name the same thing."""
    a, b = _normal(first), _normal(second)
    if a == b:
        return True
    if key == "modality":
        named = modality_of(a)
        return named is not None and named == modality_of(b)
    return key == "organ" and any(a in group and b in group for group in SAME_ORGAN)


# Body parts no labeller type shows (a question about "his knee" on a chest X-ray), beside those of SAME_ORGAN.
LIMBS = frozenset({"arm", "elbow", "shoulder", "leg", "knee", "ankle", "foot", "feet", "toe", "thigh"})
# The regions of SAME_ORGAN (by a member) that an image of each labelled organ may show: neighbours included, since
# a chest CT shows the top of the abdomen and a head CT the eyes.
SHOWN_ON = {"brain": ("head", "eye"), "head": ("head", "eye"), "chest": ("chest", "abdomen", "breast"),
            "abdomen": ("abdomen", "chest"), "breast": ("breast", "chest"), "eye": ("eye",), "hand": ("hand",)}

# Parts that an image of a label does not show although they are neighbours of its organ: a chest CT shows the top
# of the abdomen, a chest radiograph not the kidneys or the pelvis ("how about his kidneys" on a chest X-ray went
# to the models, found chatting; VQA-RAD's own "Can you evaluate the kidneys in this image?" on a chest film: "No").
HIDDEN_ON = {"chest_xray": frozenset({"kidney", "pelvis", "bladder"})}  # singular: part_not_shown drops a plural's s


def part_not_shown(image: dict[str, Any], part: str) -> bool:
    """True when a question names a body part (a ``body_part`` entity) that an image with a trusted label cannot
    show: "what about his kidneys?" on a brain MRI (found chatting: "Yes, 60%" to "anything abnormal in the
    kidneys?"). Parts this rule does not place (the spine, the ribs) are never "not shown"."""
    organ, named = label_fact(image, "organ"), _normal(part)
    if organ is None:
        return False
    names = {named, named.removesuffix("s")}
    if names & (LIMBS | HIDDEN_ON.get(str(image.get("label")), frozenset())):
        return True
    shown = set(SHOWN_ON.get(organ, ()))
    placed = [group for group in SAME_ORGAN if names & group]
    return bool(placed) and not any(group & shown for group in placed)


def label_fact(image: dict[str, Any], key: str) -> str | None:
    """The modality or organ a trusted label says the image shows (:func:`_label_trusted`), else None."""
    return LABEL_FACTS.get(str(image.get("label")), {}).get(key) if _label_trusted(image) else None


def _label_trusted(image: dict[str, Any]) -> bool:
    """Whether the image's label is confident and does not contradict its DICOM header."""
    return (image.get("confidence") or 0.0) >= CONFIDENT_LABEL and not label_against_file(image)


def label_against_file(image: dict[str, Any]) -> bool:
    """True when the labeller's type contradicts what the image's DICOM header records (a CT file labelled an
    X-ray, however confidently): the header is the fact, so the label is not stated."""
    label = LABEL_FACTS.get(str(image.get("label")), {})
    return any(key in label and not agrees(key, value, label[key]) for key, value in file_facts(image).items())


def file_facts(image: dict[str, Any]) -> dict[str, str]:
    """The modality and organ a DICOM image's own header records, in the VQA models' answer words ({} for
    other images and for tags this module does not know)."""
    dicom = image.get("dicom") or {}
    facts = {"modality": DICOM_MODALITIES.get(str(dicom.get("modality") or "").upper()),
             "organ": DICOM_BODY_PARTS.get(str(dicom.get("body_part") or "").upper())}
    return {key: value for key, value in facts.items() if value}


# How each modality (a value of DICOM_MODALITIES, a first-look answer) reads for a patient, with its article.
MODALITY_NAMES = {"ct": ("a", "CT"), "mri": ("an", "MRI"), "x-ray": ("an", "X-ray"), "mammography": ("a", "mammogram"),
                  "fundus photograph": ("a", "fundus photograph")}


def file_fact_words(image: dict[str, Any]) -> str | None:
    """'a CT of the head': what a DICOM file says it is, for the patient; None when it says nothing known."""
    facts = file_facts(image)
    if "modality" not in facts:
        return f"an image of the {facts['organ']}" if "organ" in facts else None
    article, name = MODALITY_NAMES[facts["modality"]]
    modality = f"{article} {name}"
    return f"{modality} of the {facts['organ']}" if "organ" in facts else modality


def known_type(image: dict[str, Any], question_type: str | None) -> tuple[str, float] | None:
    """(label, confidence) when a modality or organ question is about an image the labeller named confidently:
    what the bot said of the image when it arrived, which it may repeat when the models are not sure (the label
    is never stated as a new answer; see the module docstring)."""
    key = FINDING_OF_TYPE.get(question_type or "")
    if key not in ("modality", "organ") or label_fact(image, key) is None:
        return None
    return str(image["label"]), float(image["confidence"])


def known_from_file(image: dict[str, Any], question_type: str | None) -> str | None:
    """'a CT of the head' when a modality or organ question is about a DICOM file whose header records what was
    asked; None otherwise."""
    key = FINDING_OF_TYPE.get(question_type or "")
    return file_fact_words(image) if key in ("modality", "organ") and key in file_facts(image) else None


def fits_label(label: Any, key: str, answer: Any) -> bool:
    """False when ``answer`` to a modality, organ or plane question cannot be true of an image of type
    ``label``; True for other questions and for answers the label says nothing about."""
    return _fits(LABEL_FACTS.get(str(label), {}), key, answer)


def fits_file(image: dict[str, Any], key: str, answer: Any) -> bool:
    """False when ``answer`` contradicts what the image's DICOM header records (:func:`file_facts`)."""
    return _fits(file_facts(image), key, answer)


def _fits(facts: dict[str, str], key: str, answer: Any) -> bool:
    if key == "plane":
        allowed = PLANES_OF_MODALITY.get(facts.get("modality", ""))
        plane = _normal(answer)
        return allowed is None or plane in allowed or plane not in _KNOWN_PLANES
    return key not in facts or agrees(key, facts[key], answer)


def stated_findings(findings: Iterable[AggregatedFinding]) -> list[dict[str, Any]]:
    """The hospitals' combined first-look findings that are confident enough to state, as slot dicts."""
    return [
        {"key": f.key, "answer": f.result.answer, "confidence": round(f.result.confidence, 4)}
        for f in findings
        if f.result.answer and not f.result.abstained
    ]


# What the first look tells: what the image shows, not whether it is abnormal. Unasked, the models' "is this
# image abnormal?" is a false alarm more often than a finding: it is their weakest closed type (72.7% right on
# validation, VQA card, on images that are mostly abnormal) and answered "yes" on every image tried while chatting.
# Asked ("is this normal?"), the answer comes with its measured confidence.
FIRST_LOOK_KEYS = ("organ", "modality", "plane")


def consistent_findings(findings: list[dict[str, Any]], image: dict[str, Any]) -> list[dict[str, Any]]:
    """First-look findings (:data:`FIRST_LOOK_KEYS`) without those that contradict the image's label (even an
    unsure one) or its DICOM header: the reply that names the image type never contradicts itself or the file."""
    overruled = label_against_file(image)  # the reply names what the file says, not the label
    return [finding for finding in findings if finding["key"] in FIRST_LOOK_KEYS
            and (overruled or fits_label(image.get("label"), finding["key"], finding["answer"]))
            and fits_file(image, finding["key"], finding["answer"])]


def earlier_answer(image: dict[str, Any], qa_log: list[dict[str, Any]],
                   question_type: str | None) -> tuple[str, str | None] | None:
    """What the bot already said about ``image`` for this question type, and the question it answered (None for
    the first look, whose abnormality question is "is this image abnormal?"): first look, then earlier answers."""
    key = FINDING_OF_TYPE.get(question_type or "")
    if key is None:
        return None
    for finding in image.get("findings") or []:
        if finding.get("key") == key and finding.get("answer"):
            return str(finding["answer"]), None
    for entry in qa_log:
        if (entry.get("image_sha256") == image.get("sha256") and entry.get("question_type") == question_type
                and entry.get("answer")):
            return str(entry["answer"]), entry.get("question")
    return None


def on_abnormal_scale(key: str | None, answer: Any, question: str | None) -> Any:
    """A yes/no answer to "is this normal?" turned into the answer to "is it abnormal?", the question the first
    look asks, so that "normal? no" agrees with "abnormal: yes"; other answers unchanged."""
    if key == "abnormal" and question and _NORMALITY.search(question) and _normal(answer) in ("yes", "no"):
        return "no" if _normal(answer) == "yes" else "yes"
    return answer


# Words that make an abnormality question ask about a part of the image rather than the whole: "is there anything
# abnormal in the left lung?" after a first look of "abnormal: yes" (found chatting: the bot called the models
# unsure, "earlier yes, now no"; one lung may be normal in an abnormal X-ray). Words for what the image is of
# ("chest", "brain", "my lungs") do not: "is there something wrong with my lungs?" asks about the whole X-ray.
# The eyes are a part (of a head CT); on a fundus photo "is the eye normal?" is then not checked against the first
# look, the price of a rule that does not look at the image.
_PART_WORDS = re.compile(r"\b(?:left|right|upper|lower|heart|liver|kidneys?|spleen|pancreas|bowels?|skull|eyes?|"
                         r"retina|wrist|ribs?|spine|" + "|".join(sorted(LIMBS)) + r")\b", re.IGNORECASE)


def _parts_asked(question: str | None) -> frozenset[str]:
    return frozenset(word.lower().removesuffix("s") for word in _PART_WORDS.findall(question or ""))


def modality_claim(answer: Any, question: str | None) -> tuple[str, bool] | None:
    """(modality, whether the image is one) that an answer claims: "mri" claims (mri, True), and so does "yes" to
    "is this an MRI?", while "no" to it claims (mri, False); None when it names no one modality."""
    if _normal(answer) in ("yes", "no"):
        named = modality_of(question)
        return None if named is None else (named, _normal(answer) == "yes")
    named = modality_of(answer)
    return None if named is None else (named, True)


def _claims_agree(first: tuple[str, bool], second: tuple[str, bool]) -> bool:
    """"MRI" and "not a CT" agree; "MRI" and "CT", or "MRI" and "not an MRI", do not."""
    (one, is_one), (other, is_other) = first, second
    if is_one and is_other:
        return one == other
    return not (is_one or is_other) or one != other


def answers_agree(key: str | None, first: tuple[Any, str | None], second: tuple[Any, str | None]) -> bool:
    """Whether two (answer, question) pairs of the same question type say the same thing; abnormality answers
    about different parts of the image (or a part and the whole) never contradict each other, and a yes or no to
    "is this an MRI?" is compared as the modality it claims (found chatting: "yes" after a first look of "MRI" was
    called a disagreement of the models, "earlier mri, now yes")."""
    if key == "abnormal" and _parts_asked(first[1]) != _parts_asked(second[1]):
        return True
    if key == "modality":
        claims = modality_claim(*first), modality_claim(*second)
        if claims[0] is not None and claims[1] is not None:
            return _claims_agree(claims[0], claims[1])
    return agrees(key or "", on_abnormal_scale(key, *first), on_abnormal_scale(key, *second))


@dataclass(frozen=True)
class StatedAnswer:
    """What the bot states for a question about an image: ``source`` is ``models`` (the hospitals' answer),
    ``conflict`` (it contradicts ``conflict_with``, not stated; ``against_label`` when that is the image's
    confident label, ``against_file`` when it is what the DICOM header records) or ``unsure``."""

    answer: str | None
    confidence: float
    source: str
    conflict_with: str | None = None
    against_label: bool = False
    against_file: bool = False

    @property
    def abstained(self) -> bool:
        """True when no answer is stated as a fact."""
        return self.source in ("conflict", "unsure")


def _answer_fits_file(image: dict[str, Any], key: str | None, answer: str, question: str | None) -> bool:
    """False when an answer contradicts the image's DICOM header: a modality, organ or plane answer that does
    not fit it, or a yes/no to a question naming a modality ("is this an MRI?" of a CT file)."""
    if _normal(answer) not in ("yes", "no"):
        return key not in ("modality", "organ", "plane") or fits_file(image, key or "", answer)
    claimed, recorded = modality_claim(answer, question), modality_claim(file_facts(image).get("modality"), None)
    return key != "modality" or claimed is None or recorded is None or _claims_agree(claimed, recorded)


def stated_answer(image: dict[str, Any], qa_log: list[dict[str, Any]], question_type: str | None,
                  answer: str | None, confidence: float, abstained: bool, question: str | None = None) -> StatedAnswer:
    """Apply the image record's rules (module docstring) to the models' answer to ``question``."""
    key = FINDING_OF_TYPE.get(question_type or "")
    closed = _normal(answer) in ("yes", "no")
    checked = key in ("modality", "organ", "plane") and not closed and _label_trusted(image)
    if abstained or not answer:
        return StatedAnswer(None, confidence, "unsure")
    if not _answer_fits_file(image, key, answer, question):
        return StatedAnswer(None, confidence, "conflict", conflict_with=file_fact_words(image), against_file=True)
    if checked and not fits_label(image.get("label"), key or "", answer):
        fact = label_fact(image, key or "") or display_name(str(image.get("label")))
        return StatedAnswer(None, confidence, "conflict", conflict_with=fact, against_label=True)
    earlier = earlier_answer(image, qa_log, question_type)
    if earlier is not None and not answers_agree(key, earlier, (answer, question)):
        return StatedAnswer(None, confidence, "conflict", conflict_with=earlier[0])
    return StatedAnswer(answer, confidence, "models")
