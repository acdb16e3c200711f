"""The p(answer | type) matrix from a toy json and its application at inference."""

import math
from pathlib import Path

import torch

from qaid.question_types import QUESTION_TYPES
from vision_models.vqa.data import read_split
from vision_models.vqa.prior import (
    apply_prior,
    count_matrix,
    dense_counts,
    normalise_rows,
    prior_weights,
    sparse_counts,
)


def test_prior_matrix_from_toy_json(rad_folder: Path) -> None:
    records = read_split(rad_folder, "train_all")
    answers = sorted({r.answer for r in records})
    counts = count_matrix(((r.types, r.answer) for r in records), QUESTION_TYPES, answers)
    pres, pos = QUESTION_TYPES.index("PRES"), QUESTION_TYPES.index("POS")
    # 4 images: PRES has yes, no (x4 each) and the multi-labelled "POS, PRES" question (x4).
    assert counts[pres, answers.index("yes")] == 4
    assert counts[pres, answers.index("left lung")] == 4
    assert counts[pos, answers.index("left lung")] == 4
    assert counts[QUESTION_TYPES.index("COUNT"), answers.index("2")] == 4
    prior = normalise_rows(counts)
    assert torch.allclose(prior.sum(dim=1), torch.ones(len(QUESTION_TYPES)))
    assert math.isclose(float(prior[pres, answers.index("yes")]), 1 / 3, rel_tol=1e-6)
    empty = QUESTION_TYPES.index("COLOR")
    assert torch.allclose(prior[empty], torch.full((len(answers),), 1 / len(answers)))
    assert torch.equal(dense_counts(sparse_counts(counts, QUESTION_TYPES), QUESTION_TYPES, len(answers)), counts)


def test_impossible_answer_gets_zero_mass() -> None:
    answers = ["yes", "no", "ct", "mri"]
    counts = count_matrix([(["PRES"], "yes"), (["PRES"], "no"), (["MODALITY"], "ct"), (["MODALITY"], "mri")],
                          QUESTION_TYPES, answers)
    prior = normalise_rows(counts)
    q = torch.zeros(1, len(QUESTION_TYPES))
    q[0, QUESTION_TYPES.index("MODALITY")] = 1.0
    model = torch.log(torch.tensor([[0.7, 0.1, 0.05, 0.15]]))
    final = torch.softmax(apply_prior(model, prior_weights(q, prior)), dim=-1)[0]
    assert final[0] == 0 and final[1] == 0
    assert torch.isclose(final[3], torch.tensor(0.75))
    # Any prior strength keeps the impossible answers at zero; strength 0 only masks them out.
    masked = torch.softmax(apply_prior(model, prior_weights(q, prior), power=0.0), dim=-1)[0]
    assert masked[0] == 0 and masked[1] == 0
    assert torch.allclose(masked[2:], torch.tensor([0.25, 0.75]))
    # A mixed q keeps answers of both types alive, weighted by q.
    q[0, QUESTION_TYPES.index("PRES")] = 1.0
    mixed = torch.softmax(apply_prior(model, prior_weights(q / 2, prior)), dim=-1)[0]
    assert bool((mixed > 0).all())
