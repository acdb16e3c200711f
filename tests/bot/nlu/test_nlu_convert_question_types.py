"""scripts/convert_question_types.py on tiny generated VQA-RAD / SLAKE files."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from rasa.shared.nlu.training_data.loading import load_data

from qaid.state import REPO_ROOT

SCRIPT = REPO_ROOT / "scripts" / "convert_question_types.py"
_spec = importlib.util.spec_from_file_location("convert_question_types", SCRIPT)
convert_question_types = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(convert_question_types)


@pytest.fixture()
def data_dir(tmp_path: Path) -> Path:
    (tmp_path / "vqa_rad").mkdir()
    (tmp_path / "slake").mkdir()
    vqa = [
        {"question": "Is there a mass?", "question_type": "PRES"},
        {"question": "is there a mass? ", "question_type": "PRES"},
        {"question": "Is there a mass?", "question_type": "ABN"},
        {"question": "Where is the lesion?", "question_type": "POS, PRES"},
        {"question": "Is the [left] lung normal?", "question_type": "ATRIB"},
    ]
    slake = [{"image_id": "xmlab1/source.jpg", "questions": [
        {"question": "What modality is used to take this image?"},
        {"question": "Which lobe is abnormal, left or right?"},
        {"question": "How to treat the disease in this image?"},
        {"question": "Is there a mass?"},
        {"question": "Xyzzy plugh?"},
    ]}]
    (tmp_path / "vqa_rad" / "trainset.json").write_text(json.dumps(vqa), encoding="utf-8")
    (tmp_path / "vqa_rad" / "testset.json").write_text("not json: the converter must never read it", encoding="utf-8")
    (tmp_path / "slake" / "train.json").write_text(json.dumps(slake), encoding="utf-8")
    return tmp_path


def examples(path: Path) -> dict[str, str]:
    data = load_data(str(path))
    return {m.get("text"): m.get("intent_response_key") for m in data.intent_examples}


def test_convert_writes_rasa_data_with_documented_rules(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    summary = convert_question_types.convert(data_dir, out)

    assert examples(out / "vqa_rad.yml") == {
        "Is there a mass?": "question_type/PRES",  # majority of three duplicates
        "Where is the lesion?": "question_type/POS",  # first of a multi-label
        "Is the (left) lung normal?": "question_type/ATTRIB",  # typo fixed, entity markup neutralised
    }
    assert examples(out / "slake.yml") == {  # "Is there a mass?" is already in VQA-RAD
        "What modality is used to take this image?": "question_type/MODALITY",
        "Which lobe is abnormal, left or right?": "question_type/POS",
        "How to treat the disease in this image?": "question_type/OTHER",
    }
    assert summary["slake_unmatched"] == {"questions": 1, "distinct": 1}


def test_unknown_labels_and_missing_files_fail_clearly(data_dir: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(ValueError, match="unknown VQA-RAD question type"):
        convert_question_types.vqa_rad_type("SHAPE")
    assert convert_question_types.main(["--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")]) == 1
    assert "pass --data" in capsys.readouterr().err
