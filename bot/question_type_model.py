"""The question-type text classifier (scikit-learn), independent of Rasa so that benchmarks can use it directly.

Features: word 1-2-gram TF-IDF plus character 2-5-gram TF-IDF (within word boundaries), both sub-linear, and
optionally (``embedding_weight`` > 0) the all-MiniLM-L6-v2 sentence embedding (``bot.minilm``) scaled by that weight.
Classifier: one linear SVM trained on all questions; its scores become probabilities through sigmoid calibration
fitted on cross-validated scores (``ensemble=False``, so predictions are the single SVM's).

Class bias (``bias_folds`` >= 2): one-vs-rest sigmoid calibration leaves the eleven probabilities on unequal
scales, so the most probable type is not always the best guess. A per-type log-probability offset is fitted to
maximise the accuracy of out-of-fold predictions on the training questions (:func:`fit_class_bias`), and the
probabilities are multiplied by its exponential and renormalised.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline, make_union
from sklearn.svm import LinearSVC

from bot.minilm import shared_encoder
from qaid.question_types import QUESTION_TYPES

BIAS_GRID = np.linspace(-1.5, 1.5, 31)


class SentenceEmbeddings(BaseEstimator, TransformerMixin):
    """scikit-learn transformer: texts -> ``weight`` x MiniLM sentence embeddings (pretrained; ``fit`` learns nothing).

    The encoder is not pickled with the model: it is looked up again (``bot.minilm.shared_encoder``) when needed.
    """

    def __init__(self, weight: float = 1.0, model_dir: str | None = None) -> None:
        """``model_dir`` None: the packaged all-MiniLM-L6-v2."""
        self.weight = weight
        self.model_dir = model_dir

    def fit(self, texts: list[str], labels: Any = None) -> SentenceEmbeddings:
        """Nothing to learn."""
        return self

    def transform(self, texts: list[str]) -> np.ndarray:
        """Scaled embeddings, shape (len(texts), 384)."""
        return self.weight * shared_encoder(self.model_dir).encode(list(texts))


class QuestionTypeModel:
    """TF-IDF (word + char) and optional MiniLM features, and a calibrated linear SVM over the eleven types."""

    def __init__(self, c: float = 1.0, word_ngrams: tuple[int, int] = (1, 2), char_ngrams: tuple[int, int] = (2, 5),
                 calibration_folds: int = 5, random_state: int = 0, embedding_weight: float = 0.0,
                 encoder_dir: str | None = None, bias_folds: int = 0) -> None:
        """Configure the model; ``embedding_weight`` 0 leaves the MiniLM features out, ``bias_folds`` 0 the class
        bias. Call :meth:`fit` first."""
        self.c = c
        self.word_ngrams = tuple(word_ngrams)
        self.char_ngrams = tuple(char_ngrams)
        self.calibration_folds = calibration_folds
        self.random_state = random_state
        self.embedding_weight = embedding_weight
        self.encoder_dir = encoder_dir
        self.bias_folds = bias_folds
        self.class_bias = np.zeros(len(QUESTION_TYPES))
        self._pipeline: Pipeline | None = None

    @staticmethod
    def default_params() -> dict[str, Any]:
        """Hyper-parameters exposed as Rasa component config.

        Chosen by the cross-validation on training questions that mirrors the test split (``cv_train_like_test``
        in bench/nlu_report.py: folds by question, free-form and paraphrased questions scored).
        """
        return {"c": 0.5, "word_ngrams": [1, 2], "char_ngrams": [2, 5], "calibration_folds": 5, "random_state": 0,
                "embedding_weight": 1.25, "encoder_dir": None, "bias_folds": 5}

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> QuestionTypeModel:
        """Build from a config dict holding (at least) the keys of :meth:`default_params`."""
        return cls(**{key: params[key] for key in cls.default_params()})

    @property
    def classes(self) -> list[str]:
        """All eleven question types, in the column order of :meth:`predict_proba`."""
        return list(QUESTION_TYPES)

    def fit(self, texts: list[str], labels: list[str]) -> QuestionTypeModel:
        """Train on question texts and their types; every present type needs >= 2 examples for calibration."""
        if len(texts) != len(labels) or not texts:
            raise ValueError("need the same, non-zero number of texts and labels")
        unknown = sorted(set(labels) - set(QUESTION_TYPES))
        if unknown:
            raise ValueError(f"unknown question types {unknown}")
        counts = Counter(labels)
        if len(counts) < 2:
            raise ValueError("need examples of at least two question types")
        if min(counts.values()) < 2:
            rare = sorted(label for label, count in counts.items() if count < 2)
            raise ValueError(f"question types {rare} have fewer than 2 examples")
        extractors = [
            TfidfVectorizer(ngram_range=self.word_ngrams, sublinear_tf=True, lowercase=True),
            TfidfVectorizer(analyzer="char_wb", ngram_range=self.char_ngrams, sublinear_tf=True, lowercase=True),
        ]
        if self.embedding_weight > 0:
            extractors.append(SentenceEmbeddings(self.embedding_weight, self.encoder_dir))
        features = make_union(*extractors)
        x, y = features.fit_transform(list(texts)), np.asarray(labels)
        self._pipeline = Pipeline([("features", features), ("classifier", self._classifier(y).fit(x, y))])
        self.class_bias = self._fitted_bias(x, y)
        return self

    def _classifier(self, labels: np.ndarray) -> CalibratedClassifierCV:
        """An unfitted calibrated SVM for ``labels`` (calibration folds capped by the rarest type's count)."""
        folds = min(self.calibration_folds, min(Counter(labels.tolist()).values()))
        svm = LinearSVC(C=self.c, random_state=self.random_state)
        return CalibratedClassifierCV(svm, method="sigmoid", cv=folds, ensemble=False)

    def _fitted_bias(self, x: Any, y: np.ndarray) -> np.ndarray:
        """Class bias fitted on out-of-fold probabilities; zeros when disabled or a type is too rare to split.

        The features (TF-IDF vocabulary and weights) were fitted on all texts; the folds refit only the classifier.
        """
        folds = min(self.bias_folds, min(Counter(y.tolist()).values()) // 2)
        if folds < 2:
            return np.zeros(len(QUESTION_TYPES))
        out_of_fold = np.zeros((len(y), len(QUESTION_TYPES)))
        for train, held_out in StratifiedKFold(folds, shuffle=True, random_state=self.random_state).split(x, y):
            classifier = self._classifier(y[train]).fit(x[train], y[train])
            out_of_fold[held_out] = _all_types(classifier.classes_, classifier.predict_proba(x[held_out]))
        targets = np.array([QUESTION_TYPES.index(label) for label in y])
        return fit_class_bias(np.log(out_of_fold + 1e-9), targets)

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """Probabilities (class bias applied), shape (len(texts), 11), columns in :attr:`classes` order; absent
        types get 0."""
        if self._pipeline is None:
            raise RuntimeError("QuestionTypeModel is not trained")
        features, classifier = self._pipeline.steps[0][1], self._pipeline.steps[-1][1]
        probabilities = classifier.predict_proba(union_features(features, list(texts)))
        result = _all_types(classifier.classes_, probabilities) * np.exp(self.class_bias)
        return result / result.sum(axis=1, keepdims=True)

    def predict(self, texts: list[str]) -> list[str]:
        """Most probable type per text."""
        return [QUESTION_TYPES[index] for index in self.predict_proba(texts).argmax(axis=1)]


def union_features(union: FeatureUnion, texts: list[str]) -> sparse.csr_matrix:
    """``union.transform(texts)`` without its joblib dispatch, which cost more than the features themselves for
    one message (about 1.5 ms of 3; bench/README.md, issue 20): each extractor's block, side by side."""
    return sparse.hstack([extractor.transform(texts) for _, extractor in union.transformer_list]).tocsr()


def _all_types(classes: Any, probabilities: np.ndarray) -> np.ndarray:
    """``probabilities`` over ``classes`` as rows over all eleven types (absent ones 0), renormalised."""
    result = np.zeros((len(probabilities), len(QUESTION_TYPES)), dtype=np.float64)
    for column, label in enumerate(classes):
        result[:, QUESTION_TYPES.index(label)] = probabilities[:, column]
    return result / result.sum(axis=1, keepdims=True)


def fit_class_bias(log_probs: np.ndarray, targets: np.ndarray, grid: np.ndarray = BIAS_GRID,
                   sweeps: int = 3) -> np.ndarray:
    """Per-class offsets maximising the accuracy of ``argmax(log_probs + bias)`` against ``targets`` (class indices).

    Coordinate ascent from zero over ``grid``, one class at a time, ``sweeps`` passes. The grid is tried from
    the smallest offset outwards and an offset moves only when accuracy strictly improves, so of equally good
    offsets the one nearest zero is kept.
    """
    bias = np.zeros(log_probs.shape[1])
    offsets = sorted(grid, key=abs)

    def accuracy(candidate: np.ndarray) -> float:
        return float(np.mean((log_probs + candidate).argmax(axis=1) == targets))

    best = accuracy(bias)
    for _ in range(sweeps):
        for column in range(len(bias)):
            for value in offsets:
                candidate = bias.copy()
                candidate[column] = value
                score = accuracy(candidate)
                if score > best + 1e-12:
                    bias, best = candidate, score
    return bias
