"""Training on tiny data, save/load round trip, the public API, abstention and bad inputs."""

import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from qaid.question_types import QUESTION_TYPES
from vision_models.bundle import BundleError, read_config
from vision_models.imaging import ImageError
from vision_models.vqa import Finding, QuestionError, VQAModel, VQAResult
from vision_models.vqa.cli import evaluate
from vision_models.vqa.config import PRIOR_POWERS, VQAConfig
from vision_models.vqa.evaluation import choose_threshold, fit_temperature
from vision_models.vqa.model import INSIGHT_QUESTIONS, MAX_QUESTION_CHARS
from vision_models.vqa.training import recalibrate


def _image() -> Image.Image:
    return Image.fromarray(np.random.default_rng(0).integers(0, 255, (50, 60), dtype=np.uint8), mode="L")


def test_bundle_records_vocabularies_priors_and_metrics(bundle_dir: Path) -> None:
    config = read_config(bundle_dir)
    assert config.extra["answers"] == sorted(config.extra["answers"])
    assert "left lung" in config.extra["answers"] and "mri" in config.extra["answers"]
    assert set(config.extra["type_prior_counts"]) == set(QUESTION_TYPES)
    assert config.extra["temperature"] > 0
    assert set(config.metrics["val_accuracy_by_type"]) <= set(QUESTION_TYPES)
    assert config.metrics["val"]["count"] > 0


def test_answer_result_and_round_trip(bundle_dir: Path) -> None:
    first, second = VQAModel.load(bundle_dir), VQAModel.load(bundle_dir)
    image = _image()
    a = first.answer(image, "Is there a mass?")
    b = second.answer(image, "Is there a mass?")
    assert isinstance(a, VQAResult) and a == b
    assert a.answer in first.answers and 0.0 < a.confidence <= 1.0
    assert len(a.top3) == 3 and a.top3[0][0] == a.answer
    assert a.question_type in QUESTION_TYPES and a.question_type_source == "model"
    assert a.abstained == (a.confidence < first.threshold)


def test_caller_question_types_restrict_answers(bundle_dir: Path) -> None:
    model = VQAModel.load(bundle_dir)
    result = model.answer(_image(), "What is this?", {"MODALITY": 1.0})
    assert result.question_type == "MODALITY" and result.question_type_source == "caller"
    assert result.answer in {"ct", "mri"}
    assert all(answer in {"ct", "mri"} or p == 0 for answer, p in result.top3)


def test_answer_batch_matches_single_answers(bundle_dir: Path) -> None:
    model = VQAModel.load(bundle_dir)
    image = _image()
    batch = model.answer_batch([image, image], ["Is there a mass?", "Where is the lesion?"], [None, {"POS": 1.0}])
    assert batch[0] == model.answer(image, "Is there a mass?")
    assert batch[1].question_type_source == "caller"


def test_insights_cover_the_four_questions(bundle_dir: Path) -> None:
    model = VQAModel.load(bundle_dir)
    buffer = io.BytesIO()
    _image().save(buffer, format="PNG")
    findings = model.insights(buffer.getvalue())
    assert [f.key for f in findings] == [key for key, _, _ in INSIGHT_QUESTIONS]
    assert all(isinstance(f, Finding) and f.answer in model.answers for f in findings)


def test_insights_of_several_images_match_each_alone(bundle_dir: Path) -> None:
    """Concurrent uploads are served in one batch (hospitals/batching.py): the same findings as one by one."""
    images = []
    for level in (40, 120, 200):
        buffer = io.BytesIO()
        Image.fromarray(np.full((40, 40), level, dtype=np.uint8), mode="L").save(buffer, format="PNG")
        images.append(buffer.getvalue())
    model = VQAModel.load(bundle_dir)
    batch = model.insights_batch(images)
    alone = [VQAModel.load(bundle_dir).insights(image) for image in images]
    assert [[(f.key, f.answer) for f in row] for row in batch] == [[(f.key, f.answer) for f in row] for row in alone]
    for got, expected in zip(batch, alone):
        assert [f.confidence for f in got] == pytest.approx([f.confidence for f in expected], abs=1e-5)
    assert model.insights_batch([]) == []


def test_an_image_sent_as_bytes_is_encoded_once(bundle_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first look and the questions after it reuse one encoding per image; answers do not change."""
    buffer = io.BytesIO()
    _image().save(buffer, format="PNG")
    data = buffer.getvalue()
    fresh = VQAModel.load(bundle_dir)
    expected = [fresh.answer(data, "Is there a mass?"), VQAModel.load(bundle_dir).insights(data)]
    model = VQAModel.load(bundle_dir)
    encode = model.net.encode_images
    calls: list[int] = []
    monkeypatch.setattr(model.net, "encode_images",
                        lambda pixels, **kw: calls.append(len(pixels)) or encode(pixels, **kw))
    findings = model.insights(data)
    answer = model.answer(data, "Is there a mass?")
    model.answer(_image(), "Is there a mass?")  # not bytes: not cached, encoded each time
    model.answer(_image(), "Is there a mass?")
    assert calls == [1, 1, 1]
    assert [answer, findings] == expected
    other = io.BytesIO()
    Image.fromarray(np.full((40, 40), 90, dtype=np.uint8), mode="L").save(other, format="PNG")
    mixed = model.answer_batch([data, other.getvalue(), data], ["Is there a mass?"] * 3)
    alone = VQAModel.load(bundle_dir)
    assert calls[-1] == 1  # only the new image was encoded
    assert [(r.answer, r.confidence) for r in mixed] == [
        (r.answer, r.confidence) for r in (alone.answer(d, "Is there a mass?") for d in (data, other.getvalue(), data))]


def test_abstention_follows_the_threshold(bundle_dir: Path) -> None:
    model = VQAModel.load(bundle_dir)
    model.threshold = 1.01
    assert model.answer(_image(), "Is there a mass?").abstained
    model.threshold = 0.0
    assert not model.answer(_image(), "Is there a mass?").abstained


def test_choose_threshold_and_temperature() -> None:
    confidence = np.array([0.9, 0.8, 0.6, 0.4, 0.3])
    correct = np.array([True, True, True, False, False])
    assert choose_threshold(confidence, correct, target=1.0) == 0.41
    assert choose_threshold(confidence, correct, target=0.5) == 0.0
    logits = torch.tensor([[8.0, 0.0], [8.0, 0.0], [8.0, 0.0], [0.0, 8.0]])
    targets = torch.tensor([0, 1, 0, 0])
    assert fit_temperature(torch.log_softmax(logits, dim=-1), targets) > 1.0


@pytest.mark.parametrize("question", ["", "   ", "x" * 2000, None])
def test_bad_questions_are_rejected(bundle_dir: Path, question: object) -> None:
    model = VQAModel.load(bundle_dir)
    with pytest.raises(QuestionError):
        model.answer(_image(), question)  # type: ignore[arg-type]


def test_question_length_limit_is_clear(bundle_dir: Path) -> None:
    model = VQAModel.load(bundle_dir)
    model.answer(_image(), "a" * MAX_QUESTION_CHARS)
    with pytest.raises(QuestionError, match=str(MAX_QUESTION_CHARS)):
        model.answer(_image(), "a" * (MAX_QUESTION_CHARS + 1))


@pytest.mark.parametrize("types", [{"NOPE": 1.0}, {"PRES": -1.0}, {"PRES": 0.0}, {}])
def test_bad_question_types_are_rejected(bundle_dir: Path, types: dict) -> None:
    with pytest.raises(QuestionError):
        VQAModel.load(bundle_dir).answer(_image(), "Is there a mass?", types)


def test_non_images_are_rejected(bundle_dir: Path, tmp_path: Path) -> None:
    model = VQAModel.load(bundle_dir)
    with pytest.raises(ImageError) as info:
        model.answer(b"this is a text file, not an image", "Is there a mass?")
    assert info.value.code == "not_an_image"
    with pytest.raises(ImageError):
        model.insights(tmp_path / "missing.png")


def test_tampered_weights_are_refused(bundle_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    copy.mkdir()
    for item in bundle_dir.iterdir():
        (copy / item.name).write_bytes(item.read_bytes())
    weights = copy / "weights.pt"
    weights.write_bytes(weights.read_bytes() + b"0")
    with pytest.raises(BundleError):
        VQAModel.load(copy)


def test_evaluate_cli_reports_open_and_closed(
    bundle_dir: Path, rad_folder: Path, capsys: pytest.CaptureFixture
) -> None:
    assert evaluate(["--data", str(rad_folder), "--split", "test", "--bundle", str(bundle_dir), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["count"] == 6 and report["count_open"] + report["count_closed"] == 6
    assert 0 <= report["overall"] <= 100
    assert evaluate(["--data", str(rad_folder), "--split", "test", "--bundle", str(bundle_dir), "--json",
                     "--prior", "none", "--mechanism", "san"]) == 0
    assert evaluate(["--data", str(rad_folder), "--split", "nope", "--bundle", str(bundle_dir)]) == 2


def test_recalibrate_keeps_weights_and_refits_calibration(
    bundle_dir: Path, rad_folder: Path, slake_folder: Path, tmp_path: Path
) -> None:
    opts = VQAConfig(out=tmp_path / "recalibrated", vqa_rad=rad_folder, slake=slake_folder, image_size=32)
    before, after = read_config(bundle_dir), read_config(recalibrate(opts, bundle_dir))
    assert after.sha256 == before.sha256
    assert after.extra["prior_power"] in PRIOR_POWERS
    assert after.metrics["val_accuracy_by_prior_power"].keys() == {str(p) for p in PRIOR_POWERS}
    with pytest.raises(ValueError, match="other data"):
        recalibrate(VQAConfig(out=tmp_path / "other", slake=slake_folder, image_size=32), bundle_dir)
