"""QuestionTypeClassifier: train / persist / load / process round trip on tiny generated data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.question_type_model import QuestionTypeModel, fit_class_bias, union_features
from bot.question_types import (
    QuestionTypeClassifier,
    QuestionTypeDataError,
    distribution,
    find_data_files,
    load_examples,
)
from qaid.question_types import QUESTION_TYPES

TINY_QUESTIONS = {
    "PRES": ["is there a mass", "is there a fracture", "is there any effusion", "are there nodules present"],
    "POS": ["where is the lesion", "where is the mass located", "which side is the tumour on", "where is the fluid"],
    "MODALITY": ["is this an mri", "what imaging modality is this", "is this a ct scan", "was this taken with mri"],
    "COUNT": ["how many kidneys are seen", "how many lesions are there", "how many ribs are visible",
              "how many nodules can you count"],
}


def write_nlu(path: Path, questions: dict[str, list[str]], intent: str = "question_type") -> Path:
    """Write Rasa NLU YAML with retrieval intents ``<intent>/<TYPE>``."""
    lines = ['version: "3.1"', "nlu:"]
    for label, texts in questions.items():
        lines += [f"- intent: {intent}/{label}", "  examples: |"] + [f"    - {text}" for text in texts]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture()
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "question_types"
    folder.mkdir()
    write_nlu(folder / "tiny.yml", TINY_QUESTIONS)
    return folder


@pytest.fixture()
def storage(tmp_path: Path) -> LocalModelStorage:
    (tmp_path / "storage").mkdir()
    return LocalModelStorage(tmp_path / "storage")


def config_for(data_dir: Path) -> dict:
    return {**QuestionTypeClassifier.get_default_config(), "data_paths": [str(data_dir)]}


def context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test")


def test_round_trip_train_persist_load_process(data_dir: Path, storage: LocalModelStorage) -> None:
    resource = Resource("question_types")
    config = config_for(data_dir)
    trained = QuestionTypeClassifier.create(config, storage, resource, context())
    trained.train(TrainingData())  # reads the question files, not the NLU training data

    loaded = QuestionTypeClassifier.load(config, storage, resource, context())
    texts = ["where is the tumour located", "how many cysts are there", "is this an mri scan"]
    messages = [Message(data={"text": text}) for text in texts]
    loaded.process(messages)

    assert [m.get("question_types")["name"] for m in messages] == ["POS", "COUNT", "MODALITY"]
    assert "question_types" in messages[0].as_dict(only_output_properties=True)


def test_distribution_has_all_types_sorted_and_sums_to_one(data_dir: Path, storage: LocalModelStorage) -> None:
    resource = Resource("question_types")
    component = QuestionTypeClassifier.create(config_for(data_dir), storage, resource, context())
    component.train(TrainingData())
    message = Message(data={"text": "is there a mass in the lung"})
    component.process([message])

    result = message.get("question_types")
    ranking = result["ranking"]
    assert sorted(item["name"] for item in ranking) == sorted(QUESTION_TYPES)
    confidences = [item["confidence"] for item in ranking]
    assert confidences == sorted(confidences, reverse=True)
    assert sum(confidences) == pytest.approx(1.0)
    assert result["name"] == ranking[0]["name"] == "PRES"
    assert result["confidence"] == ranking[0]["confidence"]
    assert {item["name"] for item in ranking if item["confidence"] == 0.0} == set(QUESTION_TYPES) - set(TINY_QUESTIONS)


def test_each_of_several_questions_gets_its_span_and_types(data_dir: Path, storage: LocalModelStorage) -> None:
    component = QuestionTypeClassifier.create(config_for(data_dir), storage, Resource("qt"), context())
    component.train(TrainingData())
    text = "where is the tumour located? and how many cysts are there?"
    several, one = Message(data={"text": text}), Message(data={"text": "how many cysts are there?"})
    component.process([several, one])

    parts = several.get("question_types")["parts"]
    assert [text[p["start"]:p["end"]] for p in parts] == ["where is the tumour located?",
                                                          "and how many cysts are there?"]
    assert [p["name"] for p in parts] == ["POS", "COUNT"]
    assert "parts" not in one.get("question_types")


def test_messages_without_text_are_left_alone(data_dir: Path, storage: LocalModelStorage) -> None:
    component = QuestionTypeClassifier.create(config_for(data_dir), storage, Resource("qt"), context())
    component.train(TrainingData())
    empty = Message(data={"text": "  "})
    component.process([empty])
    assert empty.get("question_types") is None


def test_load_without_training_classifies_nothing(data_dir: Path, storage: LocalModelStorage) -> None:
    component = QuestionTypeClassifier.load(config_for(data_dir), storage, Resource("never_trained"), context())
    message = Message(data={"text": "is there a mass"})
    component.process([message])
    assert message.get("question_types") is None


def test_fingerprint_changes_with_the_data(data_dir: Path) -> None:
    config = config_for(data_dir)
    before = QuestionTypeClassifier.fingerprint_addon(config)
    write_nlu(data_dir / "tiny.yml", {**TINY_QUESTIONS, "PRES": [*TINY_QUESTIONS["PRES"], "is there a cyst"]})
    assert QuestionTypeClassifier.fingerprint_addon(config) not in (None, before)


def test_relative_data_paths_and_bad_data(tmp_path: Path, data_dir: Path) -> None:
    assert find_data_files(["question_types"], base_dir=tmp_path) == [data_dir / "tiny.yml"]
    with pytest.raises(QuestionTypeDataError, match="does not exist"):
        find_data_files(["missing"], base_dir=tmp_path)
    with pytest.raises(QuestionTypeDataError, match="unknown question type"):
        load_examples([write_nlu(tmp_path / "bad.yml", {"SHAPE": ["what shape is it", "is it round"]})],
                      "question_type")
    with pytest.raises(QuestionTypeDataError, match="no 'question_type/<TYPE>' examples"):
        load_examples([write_nlu(tmp_path / "other.yml", {"PRES": ["is there"]}, intent="faq")], "question_type")


def test_model_rejects_types_with_a_single_example() -> None:
    with pytest.raises(ValueError, match="fewer than 2 examples"):
        QuestionTypeModel().fit(["is there a mass", "is there a cyst", "where is it"], ["PRES", "PRES", "POS"])


def test_class_bias_corrects_a_class_scored_too_low() -> None:
    targets = np.arange(30) % 3
    log_probs = np.full((30, 3), -2.0)
    log_probs[np.arange(30), targets] = -1.0
    log_probs[targets == 2, 0] = -0.8  # class 2 always loses to class 0 by 0.2
    assert np.mean(log_probs.argmax(axis=1) == targets) == pytest.approx(2 / 3)

    bias = fit_class_bias(log_probs, targets)
    assert np.mean((log_probs + bias).argmax(axis=1) == targets) == 1.0
    assert fit_class_bias(np.eye(3)[targets] - 1.0, targets).tolist() == [0.0, 0.0, 0.0]  # nothing to correct


def test_model_applies_its_fitted_class_bias_to_the_probabilities() -> None:
    texts = [text for questions in TINY_QUESTIONS.values() for text in questions]
    labels = [label for label, questions in TINY_QUESTIONS.items() for _ in questions]
    probe = ["where is the big mass", "is there a lesion", "how many"]
    plain = QuestionTypeModel(bias_folds=0).fit(texts, labels)
    assert not plain.class_bias.any()

    biased = QuestionTypeModel(bias_folds=2).fit(texts, labels)
    biased.class_bias = np.linspace(-1.0, 1.0, len(QUESTION_TYPES))
    expected = plain.predict_proba(probe) * np.exp(biased.class_bias)
    np.testing.assert_allclose(biased.predict_proba(probe), expected / expected.sum(axis=1, keepdims=True))


def test_distribution_helper_breaks_ties_in_type_order() -> None:
    result = distribution(list(QUESTION_TYPES), np.full(len(QUESTION_TYPES), 1 / len(QUESTION_TYPES)))
    assert [item["name"] for item in result["ranking"]] == list(QUESTION_TYPES)


def test_embedding_features_are_used_and_not_pickled(tiny_model: Path, tmp_path: Path) -> None:
    import joblib

    texts = [text for questions in TINY_QUESTIONS.values() for text in questions]
    labels = [label for label, questions in TINY_QUESTIONS.items() for _ in questions]
    with_embeddings = QuestionTypeModel(embedding_weight=2.0, encoder_dir=str(tiny_model)).fit(texts, labels)
    tfidf_only = QuestionTypeModel(embedding_weight=0.0).fit(texts, labels)
    probe = ["where is the big mass", "is there a lesion"]
    assert not np.allclose(with_embeddings.predict_proba(probe), tfidf_only.predict_proba(probe))

    joblib.dump(with_embeddings, tmp_path / "model.joblib")
    assert (tmp_path / "model.joblib").stat().st_size < 200_000  # the encoder's weights are not in the file
    restored = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_allclose(restored.predict_proba(probe), with_embeddings.predict_proba(probe))


def test_the_fast_feature_path_gives_the_pipelines_probabilities(tiny_model: Path) -> None:
    """predict_proba skips FeatureUnion's joblib dispatch (issue 20); the probabilities are sklearn's own."""
    texts = [text for questions in TINY_QUESTIONS.values() for text in questions]
    labels = [label for label, questions in TINY_QUESTIONS.items() for _ in questions]
    model = QuestionTypeModel(embedding_weight=2.0, encoder_dir=str(tiny_model), bias_folds=0).fit(texts, labels)
    probe = ["where is the big mass", "is there a lesion", "how many"]
    features = model._pipeline.steps[0][1]
    assert (union_features(features, probe) != features.transform(probe)).nnz == 0
    expected = np.zeros((len(probe), len(QUESTION_TYPES)))
    for column, label in enumerate(model._pipeline.classes_):
        expected[:, QUESTION_TYPES.index(label)] = model._pipeline.predict_proba(probe)[:, column]
    np.testing.assert_allclose(model.predict_proba(probe), expected / expected.sum(axis=1, keepdims=True))
