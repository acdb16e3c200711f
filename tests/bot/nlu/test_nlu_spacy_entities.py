"""spaCy pipeline builder, entity merging and symptom negation."""

from __future__ import annotations

from pathlib import Path

import pytest
import spacy
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message

from bot.entities import EntityMerger, NegationMarker, NegationRules, has_content_word, is_negated, merge_entities
from bot.spacy_pipeline import PatternError, build, load_patterns, main


@pytest.fixture(scope="module")
def nlp(tmp_path_factory: pytest.TempPathFactory) -> spacy.language.Language:
    out = build(tmp_path_factory.mktemp("spacy") / "spacy_qaid")
    return spacy.load(out)


@pytest.fixture(scope="module")
def rules() -> NegationRules:
    return NegationRules.load()


def ents(nlp: spacy.language.Language, text: str) -> list[tuple[str, str, str]]:
    return [(ent.text, ent.label_, ent.ent_id_ or ent.text) for ent in nlp(text.lower()).ents]


def test_built_pipeline_is_blank_english_with_the_ruler(nlp: spacy.language.Language) -> None:
    assert nlp.lang == "en"
    assert nlp.pipe_names == ["qaid_entity_ruler"]
    assert nlp.path is not None  # what Rasa's SpacyNLP checks


def test_ruler_finds_every_entity_type(nlp: spacy.language.Language) -> None:
    found = ents(nlp, "I had a CAT scan of my left knee, severe headache and fever for 3 days")
    assert ("cat scan", "modality", "CT") in found
    assert ("left", "side", "left") in found
    assert ("knee", "body_part", "knee") in found
    assert ("severe", "severity", "severe") in found
    assert ("headache", "symptom", "headache") in found
    assert ("fever", "symptom", "fever") in found
    assert ("3 days", "duration", "3 days") in found


def test_right_is_a_side_only_in_context(nlp: spacy.language.Language) -> None:
    assert [label for _, label, _ in ents(nlp, "right now i feel dizzy")] == ["symptom"]
    found = ents(nlp, "my right arm hurts")
    assert [(label, value) for _, label, value in found] == [
        ("side", "right"), ("body_part", "arm"), ("symptom", "pain")]


def test_right_after_on_is_a_side(nlp: spacy.language.Language) -> None:
    assert ("on right", "side", "right") in ents(nlp, "it hurts on right when i breathe")


def test_years_old_is_an_age_not_a_duration(nlp: spacy.language.Language) -> None:
    found = ents(nlp, "i am 19 years old and have had a fever for 3 days")
    assert [(text, label) for text, label, _ in found] == [
        ("19 years old", "age"), ("fever", "symptom"), ("3 days", "duration")]


def test_unquoted_yaml_booleans_in_token_lists_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("tokens:\n  side:\n    - pattern: [{LOWER: {IN: [on, my]}}, {LOWER: right}]\n", encoding="utf-8")
    with pytest.raises(PatternError, match="quote words"):
        load_patterns(bad)


def test_cli_builds_and_bad_patterns_are_reported(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["build", "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "meta.json").is_file()
    bad = tmp_path / "bad.yml"
    bad.write_text("phrases:\n  symptom:\n    fever: fever\n", encoding="utf-8")
    with pytest.raises(PatternError, match="must be a list of strings"):
        load_patterns(bad)
    assert main(["build", "--out", str(tmp_path / "x"), "--patterns", str(bad)]) == 1
    assert "must be a list" in capsys.readouterr().err


def entity(name: str, start: int, end: int, value: str, extractor: str) -> dict:
    return {"entity": name, "start": start, "end": end, "value": value, "extractor": extractor}


def described(merged: list[dict], text: str) -> list[tuple[str, str, str]]:
    return [(e["entity"], text[e["start"]:e["end"]], e["extractor"]) for e in merged]


def test_merge_drops_same_type_duplicates_and_keeps_other_types() -> None:
    text = "severe chest pain in my chest"
    merged = merge_entities([
        entity("symptom", 7, 17, "chest pain", "CRFEntityExtractor"),
        entity("symptom", 7, 17, "chest pain", "SpacyEntityExtractor"),
        entity("symptom", 13, 17, "pain", "SpacyEntityExtractor"),
        entity("body_part", 24, 29, "chest", "CRFEntityExtractor"),
        entity("body_part", 24, 29, "chest", "SpacyEntityExtractor"),
        entity("severity", 0, 6, "severe", "CRFEntityExtractor"),
    ])
    assert described(merged, text) == [
        ("severity", "severe", "CRFEntityExtractor"),
        ("symptom", "chest pain", "SpacyEntityExtractor"),
        ("body_part", "chest", "SpacyEntityExtractor"),
    ]
    assert merged[1]["processors"] == ["EntityMerger", "EntityMerger"]


def test_merge_keeps_the_ruler_span_over_a_longer_overlapping_diet_span() -> None:
    merged = merge_entities([entity("symptom", 7, 19, "vomiting and", "CRFEntityExtractor"),
                             entity("symptom", 7, 15, "vomiting", "SpacyEntityExtractor")])
    assert [(e["value"], e["extractor"], e["processors"]) for e in merged] == [
        ("vomiting", "SpacyEntityExtractor", ["EntityMerger"])]


def test_merge_drops_diet_entities_that_overlap_a_ruler_entity_of_another_type() -> None:
    text = "my stomach hurts, moderate pain"
    merged = merge_entities([
        entity("symptom", 3, 10, "stomach", "CRFEntityExtractor"),
        entity("body_part", 3, 10, "stomach", "SpacyEntityExtractor"),
        entity("symptom", 18, 26, "moderate", "CRFEntityExtractor"),
        entity("severity", 18, 26, "moderate", "SpacyEntityExtractor"),
        entity("symptom", 11, 16, "hurts", "CRFEntityExtractor"),
    ])
    assert described(merged, text) == [
        ("body_part", "stomach", "SpacyEntityExtractor"),
        ("symptom", "hurts", "CRFEntityExtractor"),
        ("severity", "moderate", "SpacyEntityExtractor"),
    ]


def test_merge_takes_exclusive_types_from_the_ruler_only() -> None:
    text = "i fell, i'm 19 and live in Leeds"
    merged = merge_entities([entity("symptom", 2, 6, "fell", "CRFEntityExtractor"),
                             entity("age", 12, 14, "19", "CRFEntityExtractor"),
                             entity("location", 27, 32, "Leeds", "CRFEntityExtractor")],
                            exclusive_types={"symptom", "duration"})
    assert [(e["entity"], text[e["start"]:e["end"]]) for e in merged] == [("age", "19"), ("location", "Leeds")]


def test_merge_drops_other_extractors_entities_made_of_function_words_only() -> None:
    text = "i keep coughing and it's been days, i'm twenty"
    merged = merge_entities([entity("symptom", 2, 6, "keep", "CRFEntityExtractor"),
                             entity("symptom", 7, 15, "coughing", "CRFEntityExtractor"),
                             entity("symptom", 16, 19, "and", "CRFEntityExtractor"),
                             entity("hospital", 22, 24, "'s", "CRFEntityExtractor"),
                             entity("age", 40, 46, "twenty", "CRFEntityExtractor")])
    assert described(merged, text) == [("symptom", "coughing", "CRFEntityExtractor"),
                                       ("age", "twenty", "CRFEntityExtractor")]


@pytest.mark.parametrize(("text", "expected"), [
    ("and", False), ("'s", False), ("it\u2019s", False), ("?", False), ("", False),
    ("every morning", True), ("3", True), ("fifty", True), ("St Mary's", True),
])
def test_content_words(text: str, expected: bool) -> None:
    assert has_content_word(text) is expected


def test_merge_lets_the_longer_of_overlapping_diet_entities_win_where_the_ruler_found_nothing() -> None:
    merged = merge_entities([entity("location", 0, 3, "New", "CRFEntityExtractor"),
                             entity("location", 0, 8, "New York", "CRFEntityExtractor"),
                             entity("location", 12, 18, "Zurich", "CRFEntityExtractor")])
    assert [(e["value"], e.get("processors")) for e in merged] == [("New York", ["EntityMerger"]), ("Zurich", None)]


def test_merger_component_uses_canonical_ruler_values(nlp: spacy.language.Language, tmp_path: Path) -> None:
    text = "had a cat scan"
    doc = nlp(text)
    message = Message(data={"text": text, "text_spacy_doc": doc, "entities": [
        entity("modality", 6, 14, "cat scan", "SpacyEntityExtractor"),
        entity("modality", 6, 9, "cat", "CRFEntityExtractor"),
    ]})
    merger = EntityMerger.create(EntityMerger.get_default_config(), LocalModelStorage(tmp_path), Resource("m"),
                                 ExecutionContext(GraphSchema({}), "t"))
    merger.process([message])
    assert [(e["value"], e["extractor"]) for e in message.get("entities")] == [("CT", "SpacyEntityExtractor")]


@pytest.mark.parametrize(("text", "symptom", "negated"), [
    ("no fever", "fever", True),
    ("I don't have chest pain", "chest pain", True),
    ("I don\u2019t have any nausea since monday", "nausea", True),
    ("denies vomiting", "vomiting", True),
    ("without any dizziness", "dizziness", True),
    ("no fever or cough", "cough", True),
    ("my headache is gone", "headache", True),
    ("I have a fever", "fever", False),
    ("no fever but a bad cough", "cough", False),
    ("no fever and I have a cough", "cough", False),
    ("No fever. Cough for 3 days", "Cough", False),
    ("I can't sleep because of the pain", "pain", False),
    ("not sure if it is a fever", "fever", False),
    ("my headache is not gone", "headache", False),
    ("my cough has not stopped", "cough", False),
    ("no chest pain, just a mild cough", "cough", False),
    ("no fever, only a sore throat", "sore throat", False),
    ("no headache, no neck stiffness, just a runny nose", "neck stiffness", True),
    ("no fever, cough or chills", "chills", True),
])
def test_negation(text: str, symptom: str, negated: bool, rules: NegationRules) -> None:
    start = text.index(symptom)
    assert is_negated(text, start, start + len(symptom), rules) is negated


def test_negation_marker_sets_the_role_on_symptoms_only(tmp_path: Path) -> None:
    text = "no fever, no left arm pain but a cough"
    message = Message(data={"text": text, "entities": [
        entity("symptom", 3, 8, "fever", "SpacyEntityExtractor"),
        entity("side", 13, 17, "left", "SpacyEntityExtractor"),
        entity("symptom", 22, 26, "pain", "SpacyEntityExtractor"),
        entity("symptom", 33, 38, "cough", "SpacyEntityExtractor"),
    ]})
    marker = NegationMarker.create(NegationMarker.get_default_config(), LocalModelStorage(tmp_path), Resource("n"),
                                   ExecutionContext(GraphSchema({}), "t"))
    marker.process([message])
    assert [(e["value"], e.get("role")) for e in message.get("entities")] == [
        ("fever", "negated"), ("left", None), ("pain", "negated"), ("cough", None)]
