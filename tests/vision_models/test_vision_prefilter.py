"""Prefilter: rule checks, one training step, evaluation and the command line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vision_models.__main__ import main
from vision_models.prefilter import Prefilter, PrefilterResult
from vision_models.prefilter.checks import check_image
from vision_models.prefilter.train import LGG_GROUP, limit_group, read_items


@pytest.mark.parametrize(("image", "code"), [
    (Image.new("L", (20, 200), 100), "too_small"),
    (Image.new("RGB", (900, 100), (10, 200, 30)), "extreme_aspect_ratio"),
    (Image.new("L", (300, 300), 0), "blank"),
    (Image.new("RGB", (300, 300), (250, 250, 250)), "blank"),
])
def test_rules_reject_with_reason(image: Image.Image, code: str, prefilter_bundle: Path) -> None:
    rejection = check_image(image)
    assert rejection is not None and rejection.code == code
    result = Prefilter.load(prefilter_bundle).predict(image)
    assert result == PrefilterResult(False, 0.0, code, rejection.reason)
    assert result.reason and "please" in result.reason.lower()


def test_textured_image_passes_rules() -> None:
    rng = np.random.default_rng(0)
    assert check_image(Image.fromarray(rng.integers(0, 255, (120, 200), dtype=np.uint8))) is None


def test_trained_bundle_records_training_and_metrics(prefilter_bundle: Path) -> None:
    config = json.loads((prefilter_bundle / "config.json").read_text())
    assert config["classes"] == ["non_medical", "medical", "document"]
    assert config["extra"]["training"]["steps"] == 2
    training = config["extra"]["training"]
    assert training["documents"] == 4  # 5 drawn, 1 kept out in the dev carve-out (at least one per group)
    assert training["dev_images"] >= 4  # one or more per group: disc, stripes, noise, document
    assert all(0.0 <= training[key] <= 1.0 for key in ("dev_file_accuracy", "dev_photo_accuracy",
                                                        "dev_photo_medical_recall", "dev_photo_non_medical_recall"))
    metrics = config["metrics"]
    assert metrics["split"] == "val" and metrics["n"] == 11  # 9 files and 2 generated documents
    assert set(metrics["recall_by_group"]) == {"disc", "stripes", "non_medical/noise", "non_medical/document"}
    assert sum(map(sum, metrics["confusion_matrix"]["counts"])) == 11


@pytest.mark.parametrize(("logits", "code"), [([0.0, -5.0, 3.0], "document"), ([3.0, -5.0, 0.0], "not_medical")])
def test_refusal_says_document_when_that_class_wins(prefilter_bundle: Path, monkeypatch: pytest.MonkeyPatch,
                                                    logits: list[float], code: str) -> None:
    model = Prefilter.load(prefilter_bundle)
    monkeypatch.setattr(model.runtime, "logits", lambda images: np.asarray([logits] * len(images)))
    result = model.predict(Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8)))
    assert not result.is_medical and result.code == code
    assert result.reason and "send the scan itself" in result.reason


def test_batch_matches_single_predictions(prefilter_bundle: Path, data_root: Path) -> None:
    model = Prefilter.load(prefilter_bundle)
    paths = sorted((data_root / "modality" / "disc").glob("*.png"))[:3]
    batch = model.predict_batch(paths)
    for path, result in zip(paths, batch):
        single = model.predict(path)
        assert single.is_medical == result.is_medical
        assert single.probability == pytest.approx(result.probability, abs=1e-5)


def test_cli_evaluate_prints_one_json_line_and_defaults_to_test_split(prefilter_bundle: Path, data_root: Path,
                                                                      tmp_path: Path, capsys) -> None:
    held_out = tmp_path / "held_out"
    shutil.copytree(data_root, held_out)
    for folder in ("modality", "nonmedical"):
        csv_path = held_out / folder / "splits.csv"
        csv_path.write_text(csv_path.read_text().replace(",val\n", ",test\n"))
    assert main(["evaluate", "prefilter", "--data", str(held_out), "--bundle", str(prefilter_bundle), "--json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert (result["model"], result["split"], result["n"]) == ("prefilter", "test", 9)
    assert 0.0 <= result["metrics"]["accuracy"] <= 1.0


def test_cli_reports_missing_split_clearly(prefilter_bundle: Path, data_root: Path, capsys) -> None:
    code = main(["evaluate", "prefilter", "--data", str(data_root), "--split", "nope", "--bundle",
                 str(prefilter_bundle), "--json"])
    assert code == 1
    assert "nope" in capsys.readouterr().err


def test_cli_predict_refuses_non_image(prefilter_bundle: Path, tmp_path: Path, capsys) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    assert main(["predict", "prefilter", str(path), "--bundle", str(prefilter_bundle)]) == 1
    assert "not_an_image" in capsys.readouterr().err


def test_lgg_lesion_slices_join_the_medical_images(data_root: Path, lgg_root: Path, tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(data_root, root)
    shutil.copytree(lgg_root, root / "lgg_mri")
    items = read_items(root)
    lgg = [i for i in items if i.group == LGG_GROUP]
    assert len(lgg) == 8 and all(i.target == 1 for i in lgg)  # two lesion slices in each of four patients
    assert {i.split for i in lgg} == {"train", "val"}
    limited = limit_group(items, LGG_GROUP, 1, seed=0)
    assert sum(i.group == LGG_GROUP for i in limited) == 1
    assert len(limited) == len(items) - 7
