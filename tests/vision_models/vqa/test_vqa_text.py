"""Answer normalisation, tokenisation and question-type parsing."""

import pytest

from qaid.question_types import QUESTION_TYPES
from vision_models.vqa.qtypes import keyword_question_types, parse_type_label
from vision_models.vqa.text import Vocabulary, normalise_answer, tokenize


@pytest.mark.parametrize(("raw", "expected"), [
    ("Yes", "yes"),
    ("  No. ", "no"),
    ("The left lung", "left lung"),
    ("an aneurysm", "aneurysm"),
    ("Two", "2"),
    (2, "2"),
    ("X ray", "x-ray"),
    ("xray", "x-ray"),
    ("Right   Kidney!", "right kidney"),
    ("1.5 cm", "1.5 cm"),
    ("T2", "t2"),
])
def test_normalise_answer(raw: object, expected: str) -> None:
    assert normalise_answer(raw) == expected


def test_normalise_answer_keeps_inner_articles_and_words() -> None:
    assert normalise_answer("Theca cell tumour") == "theca cell tumour"
    assert normalise_answer("one of the lobes") == "one of the lobes"


def test_tokenize_and_vocabulary() -> None:
    assert tokenize("Is there an X-ray of the left-sided lung?") == ["is", "there", "an", "x-ray", "of", "the",
                                                                      "left-sided", "lung"]
    vocab = Vocabulary.build(["is there a mass", "is there fluid"])
    assert vocab.words[:4] == ["<pad>", "<unk>", "is", "there"]
    assert vocab.encode("is there a dragon", max_tokens=10)[-1] == 1
    assert vocab.encode("", max_tokens=10) == [1]
    assert len(vocab.encode("is " * 50, max_tokens=8)) == 8


def test_parse_type_label_multi_labels_and_typos() -> None:
    assert parse_type_label("POS, PRES") == ["POS", "PRES"]
    assert parse_type_label("ATRIB") == ["ATTRIB"]
    assert parse_type_label("PRSE") == ["PRES"]
    assert parse_type_label("Other") == ["OTHER"]
    assert parse_type_label("nonsense") == ["OTHER"]


@pytest.mark.parametrize(("question", "expected"), [
    ("What modality is used to take this image?", "MODALITY"),
    ("Which part of the body does this image belong to?", "ORGAN"),
    ("Does the picture contain liver?", "PRES"),
    ("Where is the liver?", "POS"),
    ("Is the lung healthy?", "ABN"),
    ("How many kidneys in this image?", "COUNT"),
    ("What color is the spleen in this image?", "COLOR"),
    ("What is the scanning plane of this image?", "PLANE"),
    ("What is the largest organ in the picture?", "SIZE"),
    ("What is the shape of the kidney in the picture?", "ATTRIB"),
    ("What can the patient do to prevent it?", "OTHER"),
])
def test_keyword_question_types(question: str, expected: str) -> None:
    assert keyword_question_types(question) == [expected]
    assert expected in QUESTION_TYPES


def test_british_spellings_read_as_the_training_questions_spell_them() -> None:
    """Found chatting: "tumour" was an unknown word, so "is there a tumour?" and "is there a tumor?" got opposite
    answers on the same image."""
    assert tokenize("Is there a tumour? Any oedema or haemorrhage?") == tokenize(
        "is there a tumor? any edema or hemorrhage?")
    assert tokenize("the azygoesophageal recess, colour") == ["the", "azygoesophageal", "recess", "color"]
