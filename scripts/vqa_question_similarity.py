"""Which question similarity finds paraphrases best: TF-IDF or all-MiniLM-L6-v2 sentence embeddings?

Measures what the VQA case memory relies on. For every query question of VQA-RAD (the validation
carve-out against the rest of the training set, and the test set against the whole training set),
the most similar training question about the same image file and of the same answer type is
retrieved; the score is how often its answer is the query's answer (exact match after the answer
normalisation). Usage::

    PYTHONPATH=. .venv-models/bin/python scripts/vqa_question_similarity.py --data ../shared/data/vqa_rad
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from vision_models.vqa.data import VQARecord, read_split
from vision_models.vqa.sentence import PACKAGED, SentenceEncoder

Similarity = Callable[[Sequence[str], Sequence[str]], np.ndarray]


def tfidf_similarity(memory: Sequence[VQARecord]) -> Similarity:
    """Cosine similarity of word 1-2-gram TF-IDF vectors fitted on the memory's questions."""
    vectoriser = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit([r.question for r in memory])
    return lambda a, b: (vectoriser.transform(a) @ vectoriser.transform(b).T).toarray()


def sentence_similarity(encoder: SentenceEncoder) -> Similarity:
    """Cosine similarity of the encoder's normalised sentence embeddings."""
    return lambda a, b: (encoder.encode(a) @ encoder.encode(b).T).numpy()


def nearest_case_accuracy(queries: Sequence[VQARecord], memory: Sequence[VQARecord], similarity: Similarity) -> dict:
    """Accuracy (%) of the answer of the most similar same-image, same-answer-type memory question."""
    by_key: dict[tuple[Path, str], list[VQARecord]] = defaultdict(list)
    for record in memory:
        by_key[(record.image, record.answer_type)].append(record)
    hits, covered = [], 0
    for query in queries:
        cases = by_key.get((query.image, query.answer_type), [])
        if not cases:
            hits.append(False)
            continue
        covered += 1
        scores = similarity([query.question], [c.question for c in cases])[0]
        hits.append(cases[int(np.argmax(scores))].answer == query.answer)
    return {"accuracy": round(100.0 * float(np.mean(hits)), 1), "covered": covered, "queries": len(queries)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="VQA-RAD folder (trainset.json, testset.json)")
    parser.add_argument("--sentence-encoder", default=PACKAGED)
    args = parser.parse_args(argv)
    encoder = SentenceEncoder(args.sentence_encoder)
    report = {}
    for name, queries, memory in (
        ("val_vs_train", read_split(args.data, "val"), read_split(args.data, "train")),
        ("test_vs_train_all", read_split(args.data, "test"), read_split(args.data, "train_all")),
    ):
        report[name] = {
            "tfidf": nearest_case_accuracy(queries, memory, tfidf_similarity(memory)),
            "minilm": nearest_case_accuracy(queries, memory, sentence_similarity(encoder)),
        }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
