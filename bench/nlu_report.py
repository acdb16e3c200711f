"""NLU report: question-type accuracy, held-out intent macro-F1 and 5-fold cross-validation.

Run from the repository root with the Rasa environment, after `make` has built build/spacy_qaid and trained
models/qaid.tar.gz::

    PYTHONPATH=. .venv-rasa/bin/python bench/nlu_report.py --data ../shared/data --model models/qaid.tar.gz

Sections (each writes files under --out, default results/nlu, and one JSON summary is printed):

* question_types: top-1 accuracy on the VQA-RAD *test* questions of (a) the QuestionTypeClassifier inside the
  trained Rasa model (``message["question_types"]``), (b) the same classifier trained stand-alone from
  nlu_data/question_types, (c) feature variants of it (TF-IDF only, as before MiniLM; MiniLM embeddings only with
  logistic regression), (d) TF-IDF + logistic-regression baselines (scikit-learn defaults, and word+char
  n-grams) trained on VQA-RAD trainset.json, and,
  with ``--response-selector``, (e) Rasa's ResponseSelector trained on the same question data (slow: trains a
  Rasa model; its training time is reported). "strict" counts the first annotated type as the truth, "any"
  accepts any type of a multi-labelled question. ``label_noise`` counts test questions whose exact text is in the
  training split under another type (no text classifier can get those right).
  (b) and (c) also get two 5-fold cross-validations on the *training* questions, each model trained on the
  other folds' questions (converted like scripts/convert_question_types.py does) plus the SLAKE questions and
  scored "any" on the held-out fold: ``cv_train`` groups the folds of VQA-RAD trainset.json by image (stricter
  than the test: every test image also carries training questions) and scores every question;
  ``cv_train_like_test`` splits by question and scores only the free-form and paraphrased questions, as the test
  split has no templated ("frame") ones. Hyper-parameters were chosen with ``cv_train_like_test`` (earlier with
  ``cv_train``), never on the test questions.
  ``order_spread`` retrains the component on 10 shuffles of its training examples: the spread of test accuracy
  that comes from example order alone (the linear SVM's solver visits examples in order), against which any
  difference between variants has to be read.
* patient_questions: top-1 accuracy on --patient-questions (patient-style questions written blind to the
  question-type corpus, never trained on) and on the VQA-RAD test questions, of the component trained stand-alone
  from --question-data (pass the VQA-RAD and SLAKE files alone for the figure without nlu_data's patients.yml)
  and, with --model, of the one inside the Rasa model.
* intents: ``rasa test nlu`` of the model on each --held-out file (never trained on; checked for overlap).
* entities: the entities the trained model finally outputs (DIET and the spaCy entity ruler merged, symptom
  negation marked) on --entities-held-out, an annotated file never trained on: per entity type precision, recall
  and F1 of (type, lower-cased text) per message, and how many matched symptoms got the right negation role.
* cross_validation: ``rasa test nlu --cross-validation --folds 5`` on the NLU training data with config.yml.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from tqdm import tqdm

from bot.minilm import shared_encoder
from bot.question_type_model import QuestionTypeModel
from bot.question_types import QuestionTypeClassifier, find_data_files, load_examples
from qaid.question_types import QUESTION_TYPES
from qaid.state import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "scripts"))
from convert_question_types import load_slake, majority_labels, normalise_text, vqa_rad_type  # noqa: E402

RASA = str(Path(sys.executable).parent / "rasa")


def read_vqa_rad(data_dir: Path, split: str) -> list[tuple[str, list[str]]]:
    """(question, annotated types) from VQA-RAD ``trainset``/``testset``; multi-labels keep every type in order."""
    path = data_dir / "vqa_rad" / f"{split}.json"
    records = json.loads(path.read_text(encoding="utf-8"))
    return [(r["question"], [vqa_rad_type(part) for part in r["question_type"].split(",")]) for r in records]


def vqa_rad_field(data_dir: Path, split: str, field: str) -> list[str]:
    """One field (e.g. ``image_name``, ``phrase_type``) of each VQA-RAD question, in file order."""
    return [record[field] for record in json.loads((data_dir / "vqa_rad" / f"{split}.json").read_text())]


def configured_question_type_params(config: Path) -> dict[str, Any]:
    """The QuestionTypeClassifier's model parameters in ``config`` (component defaults where not set)."""
    pipeline = yaml.safe_load(config.read_text(encoding="utf-8"))["pipeline"]
    entry = next((c for c in pipeline if c["name"].endswith("QuestionTypeClassifier")), None)
    if entry is None:
        raise SystemExit(f"{config} has no QuestionTypeClassifier")
    params = {**QuestionTypeClassifier.get_default_config(), **entry}
    return {key: params[key] for key in QuestionTypeModel.default_params()}


class MiniLMLogReg:
    """Variant for comparison: logistic regression on MiniLM sentence embeddings only (no TF-IDF)."""

    def __init__(self, c: float = 10.0) -> None:
        """``c``: inverse regularisation strength."""
        from sklearn.linear_model import LogisticRegression

        self._classifier = LogisticRegression(C=c, max_iter=5000)

    def fit(self, texts: list[str], labels: list[str]) -> MiniLMLogReg:
        """Train on question texts and types."""
        self._classifier.fit(shared_encoder().encode(texts), labels)
        return self

    def predict(self, texts: list[str]) -> list[str]:
        """Most probable type per text."""
        return list(self._classifier.predict(shared_encoder().encode(texts)))


def fold_training_questions(records: list[tuple[str, list[str]]],
                            slake: dict[str, tuple[str, str]]) -> tuple[list[str], list[str]]:
    """Training questions of one CV fold, built like scripts/convert_question_types.py builds the corpus.

    VQA-RAD questions once per distinct text under their majority (first-listed) type, plus the SLAKE questions
    whose text is not among them.
    """
    vqa = majority_labels((question, labels[0]) for question, labels in records)
    examples = list(vqa.values()) + [value for key, value in slake.items() if key not in vqa]
    return [text for text, _ in examples], [label for _, label in examples]


def cross_validation_splits(train_size: int, folds: int, groups: list[str] | None) -> list[tuple[Any, Any]]:
    """Index splits of the VQA-RAD training questions: grouped (e.g. by image) or by question (seeded shuffle)."""
    from sklearn.model_selection import GroupKFold, KFold

    if groups is not None:
        return list(GroupKFold(folds).split(np.zeros(train_size), groups=groups))
    return list(KFold(folds, shuffle=True, random_state=0).split(np.zeros(train_size)))


def cross_validate(factory: Any, train: list[tuple[str, list[str]]], splits: list[tuple[Any, Any]],
                   slake: dict[str, tuple[str, str]], scored: list[bool], description: str) -> dict[str, Any]:
    """CV over VQA-RAD training questions; "any"-type top-1 accuracy on the held-out questions marked ``scored``."""
    hits: list[bool] = []
    per_fold: list[float] = []
    for train_index, held_out in tqdm(splits, desc=f"CV {description}"):
        texts, labels = fold_training_questions([train[i] for i in train_index], slake)
        eval_index = [i for i in held_out if scored[i]]
        predictions = factory().fit(texts, labels).predict([train[i][0] for i in eval_index])
        fold_hits = [prediction in train[i][1] for prediction, i in zip(predictions, eval_index)]
        per_fold.append(round(float(np.mean(fold_hits)), 4))
        hits += fold_hits
    return {"any": round(float(np.mean(hits)), 4), "per_fold": per_fold, "folds": len(splits), "n": len(hits)}


def order_spread(factory: Any, texts: list[str], labels: list[str], questions: list[str], truth: list[list[str]],
                 shuffles: int = 10) -> dict[str, Any]:
    """Test "any" accuracy of models trained on ``shuffles`` seeded re-orderings of the same examples."""
    rng = np.random.default_rng(0)
    scores = []
    for _ in tqdm(range(shuffles), desc="training-order spread"):
        order = rng.permutation(len(texts))
        predictions = factory().fit([texts[i] for i in order], [labels[i] for i in order]).predict(questions)
        scores.append(accuracy(predictions, truth)["any"])
    return {"any_min": min(scores), "any_mean": round(float(np.mean(scores)), 4), "any_max": max(scores),
            "shuffles": shuffles}


def accuracy(predictions: list[str], truth: list[list[str]]) -> dict[str, float]:
    """Strict (first annotated type) and any-type top-1 accuracy."""
    strict = sum(pred == labels[0] for pred, labels in zip(predictions, truth)) / len(truth)
    lenient = sum(pred in labels for pred, labels in zip(predictions, truth)) / len(truth)
    return {"strict": round(strict, 4), "any": round(lenient, 4), "n": len(truth)}


def per_type_recall(predictions: list[str], truth: list[list[str]]) -> dict[str, float]:
    """Recall per (first annotated) type."""
    totals = Counter(labels[0] for labels in truth)
    hits = Counter(labels[0] for pred, labels in zip(predictions, truth) if pred == labels[0])
    return {label: round(hits[label] / totals[label], 3) for label in QUESTION_TYPES if totals[label]}


def confusions(predictions: list[str], truth: list[list[str]]) -> dict[str, int]:
    """Misses counted by "annotated (first) type -> predicted type", most frequent first."""
    pairs = Counter(f"{labels[0]}->{pred}" for pred, labels in zip(predictions, truth) if pred not in labels)
    return dict(pairs.most_common())


def label_noise(train: list[tuple[str, list[str]]], test: list[tuple[str, list[str]]]) -> dict[str, int]:
    """Test questions whose normalised text is in the training split, and how many of those disagree."""
    majority = majority_labels((question, labels[0]) for question, labels in train)
    seen = [(majority[normalise_text(q).lower()][1], labels) for q, labels in test if normalise_text(q).lower()
            in majority]
    return {"test_texts_in_train": len(seen), "with_other_type_in_train": sum(lab not in ls for lab, ls in seen)}


def baseline_predictions(train: list[tuple[str, list[str]]], questions: list[str], tuned: bool) -> list[str]:
    """TF-IDF + logistic regression on VQA-RAD train (first label, duplicates kept).

    ``tuned=False``: scikit-learn defaults (word unigrams, C=1). ``tuned=True``: word 1-2-grams + char_wb 2-5-grams,
    sub-linear TF, C=10.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    if tuned:
        features = make_union(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                              TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True))
        model = make_pipeline(features, LogisticRegression(C=10, max_iter=3000))
    else:
        model = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=2000))
    model.fit([q for q, _ in train], [labels[0] for _, labels in train])
    return list(model.predict(questions))


def parse_all(model_path: Path, texts: list[str], description: str) -> list[dict[str, Any]]:
    """Parse texts with a trained Rasa model (NLU only)."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model_path))

    async def run() -> list[dict[str, Any]]:
        return [await agent.parse_message(text) for text in tqdm(texts, desc=description)]

    return asyncio.run(run())


def response_selector_alternative(question_data: list[Path], out_dir: Path, epochs: int) -> tuple[Path, float]:
    """Train a Rasa NLU model with ResponseSelector on the question-type data; returns (model, seconds)."""
    project = out_dir / "response_selector"
    (project / "data").mkdir(parents=True, exist_ok=True)
    responses = "".join(f"  utter_question_type/{t}:\n  - text: \"{t}\"\n" for t in QUESTION_TYPES)
    (project / "data" / "responses.yml").write_text(f'version: "3.1"\nresponses:\n{responses}', encoding="utf-8")
    for file in question_data:
        (project / "data" / file.name).write_text(file.read_text(encoding="utf-8"), encoding="utf-8")
    (project / "domain.yml").write_text('version: "3.1"\nintents:\n- question_type\n', encoding="utf-8")
    (project / "config.yml").write_text(
        "recipe: default.v1\nlanguage: en\nassistant_id: question_type_response_selector\npipeline:\n"
        "- name: WhitespaceTokenizer\n- name: CountVectorsFeaturizer\n- name: CountVectorsFeaturizer\n"
        "  analyzer: char_wb\n  min_ngram: 1\n  max_ngram: 4\n- name: ResponseSelector\n"
        f"  retrieval_intent: question_type\n  epochs: {epochs}\n  random_seed: 1\npolicies: []\n",
        encoding="utf-8")
    started = time.perf_counter()
    subprocess.run([RASA, "train", "nlu", "--config", str(project / "config.yml"), "--domain",
                    str(project / "domain.yml"), "--nlu", str(project / "data"), "--out", str(project / "models"),
                    "--fixed-model-name", "response_selector"], check=True)
    return project / "models" / "response_selector.tar.gz", time.perf_counter() - started


def question_type_section(args: argparse.Namespace) -> dict[str, Any]:
    """All question-type figures."""
    train = read_vqa_rad(args.data, "trainset")
    test = read_vqa_rad(args.data, "testset")
    questions, truth = [q for q, _ in test], [labels for _, labels in test]
    files = find_data_files([str(path) for path in args.question_data])
    texts, labels = load_examples(files, "question_type")
    result: dict[str, Any] = {"training_questions": len(texts), "label_noise": label_noise(train, test)}

    params = configured_question_type_params(args.config)
    variants = {
        "component_standalone": lambda: QuestionTypeModel.from_params(params),
        "component_without_class_bias": lambda: QuestionTypeModel.from_params({**params, "bias_folds": 0}),
        "tfidf_svm_without_minilm": lambda: QuestionTypeModel.from_params(
            {**params, "c": 1.0, "embedding_weight": 0.0}),
        "minilm_logreg": MiniLMLogReg,
    }
    slake = majority_labels(load_slake(args.data)[0])
    by_image = cross_validation_splits(len(train), args.folds, vqa_rad_field(args.data, "trainset", "image_name"))
    by_question = cross_validation_splits(len(train), args.folds, None)
    every = [True] * len(train)
    not_templated = [kind != "frame" for kind in vqa_rad_field(args.data, "trainset", "phrase_type")]
    models: dict[str, Any] = {}
    for name, factory in variants.items():
        started = time.perf_counter()
        model = models[name] = factory().fit(texts, labels)
        predictions = model.predict(questions)
        result[name] = {**accuracy(predictions, truth), "train_seconds": round(time.perf_counter() - started, 1),
                        "per_type_recall": per_type_recall(predictions, truth),
                        "misses": confusions(predictions, truth),
                        "cv_train": cross_validate(factory, train, by_image, slake, every, name),
                        "cv_train_like_test": cross_validate(factory, train, by_question, slake, not_templated, name)}
    result["component_standalone"]["params"] = params
    result["component_standalone"]["class_bias"] = dict(zip(QUESTION_TYPES, models["component_standalone"].class_bias
                                                             .round(2).tolist()))
    result["component_standalone"]["order_spread"] = order_spread(variants["component_standalone"], texts, labels,
                                                                  questions, truth)
    result["tfidf_logreg_default"] = accuracy(baseline_predictions(train, questions, tuned=False), truth)
    result["tfidf_logreg_word_char"] = accuracy(baseline_predictions(train, questions, tuned=True), truth)

    if args.model:
        parsed = parse_all(args.model, questions, "question types (Rasa model)")
        result["component_in_rasa_model"] = accuracy([p["question_types"]["name"] for p in parsed], truth)
    if args.response_selector:
        rs_model, seconds = response_selector_alternative(files, args.out, args.response_selector_epochs)
        parsed = parse_all(rs_model, questions, "question types (ResponseSelector)")
        keys = [p["response_selector"]["question_type"]["response"]["intent_response_key"] for p in parsed]
        result["response_selector"] = {**accuracy([key.split("/")[-1] for key in keys], truth),
                                       "train_seconds": round(seconds, 1), "epochs": args.response_selector_epochs}
    (args.out / "question_types.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


def patient_question_section(args: argparse.Namespace) -> dict[str, Any]:
    """Question types of patient-style questions (--patient-questions, written blind to the training data), with
    the VQA-RAD test figure of the same model beside them: the component trained stand-alone from --question-data
    and, with --model, the one inside the Rasa model."""
    records = yaml.safe_load(args.patient_questions.read_text(encoding="utf-8"))["questions"]
    questions, truth = [r["text"] for r in records], [[r["type"]] for r in records]
    test = read_vqa_rad(args.data, "testset")
    texts, labels = load_examples(find_data_files([str(path) for path in args.question_data]), "question_type")
    model = QuestionTypeModel.from_params(configured_question_type_params(args.config)).fit(texts, labels)
    predictions = model.predict(questions)
    result: dict[str, Any] = {
        "question_data": [str(path) for path in args.question_data], "training_questions": len(texts),
        "component_standalone": {**accuracy(predictions, truth), "per_type_recall": per_type_recall(predictions, truth),
                                 "misses": confusions(predictions, truth),
                                 "vqa_rad_test": accuracy(model.predict([q for q, _ in test]), [t for _, t in test])}}
    if args.model:
        parsed = parse_all(args.model, questions, "patient questions (Rasa model)")
        result["component_in_rasa_model"] = accuracy([p["question_types"]["name"] for p in parsed], truth)
    (args.out / "patient_questions.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


Span = tuple[str, int, int]


def entity_spans(entities: list[dict[str, Any]]) -> list[Span]:
    """(entity type, start, end) of each entity of one message."""
    return [(e["entity"], e["start"], e["end"]) for e in entities]


def matched(expected: list[Span], found: list[Span], exact: bool) -> tuple[list[bool], list[bool]]:
    """Which expected and which found entities pair up: same type and the same span (``exact``) or overlapping."""
    used = [False] * len(found)
    hit = []
    for kind, start, end in expected:
        partner = next((j for j, (k, s, e) in enumerate(found) if not used[j] and k == kind and (
            (s, e) == (start, end) if exact else s < end and start < e)), None)
        if partner is not None:
            used[partner] = True
        hit.append(partner is not None)
    return hit, used


def entity_scores(expected: list[list[Span]], found: list[list[Span]], exact: bool) -> dict[str, Any]:
    """Precision, recall and F1 of entities per type and over all (micro), with supports."""
    counts: dict[str, Counter] = {}
    for exp, fnd in zip(expected, found):
        hit, used = matched(exp, fnd, exact)
        for (kind, _, _), ok in zip(exp, hit):
            counts.setdefault(kind, Counter()).update(wanted=1, recalled=int(ok))
        for (kind, _, _), ok in zip(fnd, used):
            counts.setdefault(kind, Counter()).update(given=1, correct=int(ok))
    counts["all (micro)"] = sum(counts.values(), Counter())

    def score(c: Counter) -> dict[str, float]:
        precision = c["correct"] / c["given"] if c["given"] else 0.0
        recall = c["recalled"] / c["wanted"] if c["wanted"] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3),
                "support": c["wanted"], "predicted": c["given"]}

    return {kind: score(c) for kind, c in sorted(counts.items())}


def entity_section(args: argparse.Namespace) -> dict[str, Any]:
    """Entities the trained model outputs on the annotated held-out file, scored against its annotations.

    "exact" needs the same type and character span; "overlap" the same type and overlapping spans (the ruler's
    "my right" for an annotated "right" counts, its value being "right").
    """
    from rasa.shared.nlu.training_data.loading import load_data

    check_no_overlap(args.entities_held_out, args.nlu)
    examples = load_data(str(args.entities_held_out)).intent_examples
    texts = [m.get("text") for m in examples]
    parsed = parse_all(args.model, texts, "entities")
    expected = [entity_spans(m.get("entities") or []) for m in examples]
    found = [entity_spans(p["entities"]) for p in parsed]
    negation = Counter()
    for message, result in zip(examples, parsed):
        for annotated in message.get("entities") or []:
            if annotated["entity"] != "symptom":
                continue
            partner = next((e for e in result["entities"] if e["entity"] == "symptom"
                            and e["start"] < annotated["end"] and annotated["start"] < e["end"]), None)
            if partner is not None:
                kind = "negated" if annotated.get("role") == "negated" else "affirmed"
                outcome = "right" if partner.get("role") == annotated.get("role") else "wrong"
                negation[f"{kind}_{outcome}"] += 1
    misses = [{"text": text, "expected": [[k, text[s:e]] for k, s, e in exp],
               "found": [[k, text[s:e]] for k, s, e in fnd]}
              for text, exp, fnd in zip(texts, expected, found) if sorted(exp) != sorted(fnd)]
    (args.out / "entity_misses.json").write_text(json.dumps(misses, indent=2), encoding="utf-8")
    return {"exact": entity_scores(expected, found, exact=True), "overlap": entity_scores(expected, found, exact=False),
            "messages": len(texts), "symptom_negation": dict(sorted(negation.items())),
            "held_out_file": str(args.entities_held_out), "misses": str(args.out / "entity_misses.json")}


def check_no_overlap(held_out: Path, training: list[Path]) -> None:
    """Fail when a held-out text also appears in the NLU training data."""
    from rasa.shared.nlu.training_data.loading import load_data

    held = {m.get("text").strip().lower() for m in load_data(str(held_out)).intent_examples}
    trained = {m.get("text").strip().lower() for path in training for m in load_data(str(path)).intent_examples}
    overlap = sorted(held & trained)
    if overlap:
        raise SystemExit(f"{held_out} overlaps the training data ({len(overlap)} texts, e.g. {overlap[:3]})")


def macro_f1(report_dir: Path) -> dict[str, Any]:
    """Macro-averaged intent F1 and accuracy from Rasa's intent_report.json."""
    report = json.loads((report_dir / "intent_report.json").read_text(encoding="utf-8"))
    return {"macro_f1": round(report["macro avg"]["f1-score"], 4), "accuracy": round(report["accuracy"], 4),
            "report": str(report_dir / "intent_report.json")}


def intent_section(args: argparse.Namespace) -> dict[str, Any]:
    """Held-out intent evaluation of the trained model, per held-out file (results under --out/<file stem>)."""
    result = {}
    for held_out in args.held_out:
        check_no_overlap(held_out, args.nlu)
        out = args.out / held_out.stem
        subprocess.run([RASA, "test", "nlu", "--model", str(args.model), "--nlu", str(held_out), "--out", str(out)],
                       check=True)
        result[held_out.stem] = {**macro_f1(out), "held_out_file": str(held_out)}
    return result


def cross_validation_section(args: argparse.Namespace) -> dict[str, Any]:
    """k-fold cross-validation of config.yml on the NLU training data."""
    out = args.out / "cross_validation"
    started = time.perf_counter()
    command = [RASA, "test", "nlu", "--config", str(args.config), "--cross-validation", "--folds", str(args.folds),
               "--out", str(out), "--nlu", *[str(path) for path in args.nlu]]
    subprocess.run(command, check=True)
    return {**macro_f1(out), "folds": args.folds, "seconds": round(time.perf_counter() - started, 1)}


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"), help="folder with vqa_rad/")
    parser.add_argument("--model", type=Path, default=None, help="trained Rasa model (.tar.gz)")
    parser.add_argument("--config", type=Path, default=Path("config.yml"))
    parser.add_argument("--nlu", type=Path, nargs="+", default=[Path("nlu_data/nlu.yml")],
                        help="NLU training file(s) (cross-validation, overlap check)")
    parser.add_argument("--question-data", type=Path, nargs="+", default=[Path("nlu_data/question_types")])
    parser.add_argument("--held-out", type=Path, nargs="+",
                        default=[Path("tests/nlu/held_out.yml"), Path("tests/nlu/held_out_2.yml")])
    parser.add_argument("--entities-held-out", type=Path, default=Path("tests/nlu/entities_held_out.yml"))
    parser.add_argument("--patient-questions", type=Path, default=Path("bench/data/patient_question_types_heldout.yml"),
                        help="patient-style questions with their types, never trained on")
    parser.add_argument("--out", type=Path, default=Path("results/nlu"))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--sections", nargs="+", default=["question_types", "intents", "entities", "cross_validation"],
                        choices=["question_types", "patient_questions", "intents", "entities", "cross_validation"])
    parser.add_argument("--response-selector", action="store_true",
                        help="also train and measure Rasa's ResponseSelector alternative (several minutes)")
    parser.add_argument("--response-selector-epochs", type=int, default=100)
    args = parser.parse_args(argv)
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    if {"intents", "entities"} & set(args.sections) and not (args.model and args.model.is_file()):
        parser.error("the intents and entities sections need --model pointing at a trained Rasa model")
    args.out.mkdir(parents=True, exist_ok=True)

    sections = {"question_types": question_type_section, "patient_questions": patient_question_section,
                "intents": intent_section, "entities": entity_section, "cross_validation": cross_validation_section}
    summary = {name: sections[name](args) for name in args.sections}
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
