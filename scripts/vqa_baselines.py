"""Text-only baselines for VQA-RAD's leaky split: TF-IDF + logistic regression.

1. question only;
2. question + an image-identity token (``img_<file name>``), which exploits that every test image
   also occurs in the training set;
3. with ``--minilm``: question only, all-MiniLM-L6-v2 sentence embeddings instead of TF-IDF (does the
   pretrained encoder help to predict answers from the question?).

Both train on ``trainset.json`` and report exact-match accuracy after the VQA answer normalisation
on ``testset.json`` (overall, OPEN, CLOSED). Usage::

    PYTHONPATH=. .venv-models/bin/python scripts/vqa_baselines.py --data ../shared/data/vqa_rad
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from vision_models.vqa.data import VQARecord, read_split
from vision_models.vqa.sentence import PACKAGED, SentenceEncoder


def _texts(records: Sequence[VQARecord], with_image: bool) -> list[str]:
    out = []
    for record in records:
        token = "img_" + record.image.stem.replace("-", "_") if with_image else ""
        out.append(f"{record.question.lower()} {token}".strip())
    return out


def _accuracy(hits: list[bool]) -> float:
    return round(100.0 * sum(hits) / len(hits), 1) if hits else 0.0


def _report(predictions: Sequence[str], test: Sequence[VQARecord]) -> dict:
    hits = [p == r.answer for p, r in zip(predictions, test)]
    return {
        "overall": _accuracy(hits),
        "open": _accuracy([h for h, r in zip(hits, test) if r.answer_type == "OPEN"]),
        "closed": _accuracy([h for h, r in zip(hits, test) if r.answer_type == "CLOSED"]),
        "count": len(test),
    }


def run_baseline(train: Sequence[VQARecord], test: Sequence[VQARecord], with_image: bool, seed: int = 0) -> dict:
    """Fit the TF-IDF logistic regression and return accuracy on ``test``."""
    model = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 1), sublinear_tf=True, token_pattern=r"[A-Za-z0-9_]+"),
        LogisticRegression(C=10.0, max_iter=2000, random_state=seed),
    )
    model.fit(_texts(train, with_image), [r.answer for r in train])
    return _report(model.predict(_texts(test, with_image)), test)


def run_sentence_baseline(train: Sequence[VQARecord], test: Sequence[VQARecord], encoder: SentenceEncoder,
                          seed: int = 0) -> dict:
    """Logistic regression on the questions' sentence embeddings (no image); accuracy on ``test``."""
    model = LogisticRegression(C=100.0, max_iter=3000, random_state=seed)
    model.fit(encoder.encode([r.question for r in train]).numpy(), [r.answer for r in train])
    return _report(model.predict(encoder.encode([r.question for r in test]).numpy()), test)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="VQA-RAD folder (trainset.json, testset.json)")
    parser.add_argument("--minilm", action="store_true", help="also the sentence-embedding baseline (slower)")
    args = parser.parse_args(argv)
    train, test = read_split(args.data, "train_all"), read_split(args.data, "test")
    report = {
        "question_only": run_baseline(train, test, with_image=False),
        "question_plus_image_token": run_baseline(train, test, with_image=True),
    }
    if args.minilm:
        report["question_only_minilm"] = run_sentence_baseline(train, test, SentenceEncoder(PACKAGED))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
