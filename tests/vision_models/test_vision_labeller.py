"""Labeller: calibration recorded in the bundle, unsure answers, evaluation outputs."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from PIL import Image

from vision_models.__main__ import main
from vision_models.labeller import Labeller
from vision_models.labeller.train import CONFUSION_PNG


def test_bundle_has_calibration_and_confusion_png(labeller_bundle: Path) -> None:
    config = json.loads((labeller_bundle / "config.json").read_text())
    assert config["classes"] == ["disc", "stripes"]
    assert config["extra"]["temperature"] > 0
    assert 0.5 <= config["extra"]["threshold"] <= 1.0
    assert config["extra"]["training"]["calibration_images"] == 4
    assert set(config["metrics"]["per_class_recall"]) == {"disc", "stripes"}
    with Image.open(labeller_bundle / CONFUSION_PNG) as png:
        assert png.format == "PNG"


def test_prediction_is_a_distribution(labeller_bundle: Path, data_root: Path) -> None:
    result = Labeller.load(labeller_bundle).predict(data_root / "modality" / "disc" / "val_0.png")
    assert sum(result.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    assert result.confidence == pytest.approx(max(result.probabilities.values()))
    assert result.unsure == (result.label is None)


def test_unsure_below_threshold(labeller_bundle: Path, data_root: Path) -> None:
    model = Labeller.load(labeller_bundle)
    model.threshold = 1.01
    result = model.predict(data_root / "modality" / "disc" / "val_0.png")
    assert result.unsure and result.label is None and result.display_name == "unsure"
    model.threshold = 0.0
    sure = model.predict(data_root / "modality" / "disc" / "val_0.png")
    assert not sure.unsure and sure.label in {"disc", "stripes"}
    assert dataclasses.asdict(sure)["probabilities"] == sure.probabilities


def test_cli_evaluate_json(labeller_bundle: Path, data_root: Path, tmp_path: Path, capsys) -> None:
    figure = tmp_path / "cm.png"
    assert main(["evaluate", "labeller", "--data", str(data_root / "modality"), "--bundle", str(labeller_bundle),
                 "--json", "--figure", str(figure)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["split"], result["n"]) == ("val", 6)
    assert sum(map(sum, result["metrics"]["confusion_matrix"]["counts"])) == 6
    assert figure.stat().st_size > 0


def test_unknown_labels_are_refused(labeller_bundle: Path, data_root: Path, capsys) -> None:
    assert main(["evaluate", "labeller", "--data", str(data_root / "nonmedical"), "--bundle", str(labeller_bundle),
                 "--json"]) == 1
    assert "noise" in capsys.readouterr().err


@pytest.mark.parametrize(("flags", "says"), [
    (["--screen-photos"], "val photographed off a screen"),
    (["--cropped"], "val photographed off a screen, cropped by the screen finder"),
])
def test_cli_evaluate_scores_photos_of_the_split_as_sent_or_cropped(labeller_bundle: Path, data_root: Path,
                                                                     capsys, flags: list[str], says: str) -> None:
    assert main(["evaluate", "labeller", "--data", str(data_root / "modality"), "--split", "val", "--bundle",
                 str(labeller_bundle), "--json", *flags]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["split"] == says and result["n"] == 6
