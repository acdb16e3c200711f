"""The question-type text classifier (scikit-learn), independent of Rasa so that benchmarks can use it directly.

Features: word 1-2-gram TF-IDF plus character 2-5-gram TF-IDF (within word boundaries), both sub-linear, and
optionally (``embedding_weight`` > 0) the all-MiniLM-L6-v2 sentence embedding (``bot.minilm``) scaled by that weight.
Classifier: one linear SVM trained on all questions; its scores become probabilities through sigmoid calibration
fitted on cross-validated scores (``ensemble=False``, so predictions are the single SVM's).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline, make_union
from sklearn.svm import LinearSVC

from bot.minilm import shared_encoder

QUESTION_TYPES = ("PRES", "POS", "ABN", "MODALITY", "PLANE", "SIZE", "ORGAN", "ATTRIB", "COLOR", "COUNT", "OTHER")


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
                 encoder_dir: str | None = None) -> None:
        """Configure the model; ``embedding_weight`` 0 leaves the MiniLM features out. Call :meth:`fit` first."""
        self.c = c
        self.word_ngrams = tuple(word_ngrams)
        self.char_ngrams = tuple(char_ngrams)
        self.calibration_folds = calibration_folds
        self.random_state = random_state
        self.embedding_weight = embedding_weight
        self.encoder_dir = encoder_dir
        self._pipeline: Pipeline | None = None

    @staticmethod
    def default_params() -> dict[str, Any]:
        """Hyper-parameters exposed as Rasa component config.

        Chosen by the cross-validation on training questions that mirrors the test split (``cv_train_like_test``
        in bench/nlu_report.py: folds by question, free-form and paraphrased questions scored).
        """
        return {"c": 0.5, "word_ngrams": [1, 2], "char_ngrams": [2, 5], "calibration_folds": 5, "random_state": 0,
                "embedding_weight": 1.25, "encoder_dir": None}

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
        folds = min(self.calibration_folds, min(counts.values()))
        if folds < 2:
            rare = sorted(label for label, count in counts.items() if count < 2)
            raise ValueError(f"question types {rare} have fewer than 2 examples")
        extractors = [
            TfidfVectorizer(ngram_range=self.word_ngrams, sublinear_tf=True, lowercase=True),
            TfidfVectorizer(analyzer="char_wb", ngram_range=self.char_ngrams, sublinear_tf=True, lowercase=True),
        ]
        if self.embedding_weight > 0:
            extractors.append(SentenceEmbeddings(self.embedding_weight, self.encoder_dir))
        features = make_union(*extractors)
        svm = LinearSVC(C=self.c, random_state=self.random_state)
        classifier = CalibratedClassifierCV(svm, method="sigmoid", cv=folds, ensemble=False)
        pipeline = Pipeline([("features", features), ("classifier", classifier)])
        self._pipeline = pipeline.fit(list(texts), np.asarray(labels))
        return self

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """Probabilities, shape (len(texts), 11), columns in :attr:`classes` order; absent types get 0."""
        if self._pipeline is None:
            raise RuntimeError("QuestionTypeModel is not trained")
        known = self._pipeline.predict_proba(texts)
        result = np.zeros((len(texts), len(QUESTION_TYPES)), dtype=np.float64)
        for column, label in enumerate(self._pipeline.classes_):
            result[:, QUESTION_TYPES.index(label)] = known[:, column]
        return result / result.sum(axis=1, keepdims=True)

    def predict(self, texts: list[str]) -> list[str]:
        """Most probable type per text."""
        return [QUESTION_TYPES[index] for index in self.predict_proba(texts).argmax(axis=1)]
