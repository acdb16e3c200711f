"""Reading VQA-RAD and SLAKE style folders into one record type, and caching image tensors.

Two layouts are recognised:

* VQA-RAD: ``trainset.json`` / ``testset.json`` (one record per question with ``image_name``,
  ``question``, ``answer``, ``answer_type``, ``question_type``) and images in ``images/``.
  VQA-RAD has no validation split: ``val`` is a seeded 10 % of the training questions
  (:data:`RAD_VAL_FRACTION`, :data:`RAD_VAL_SEED`) and ``train`` is the rest; ``train_all`` is the
  whole training file.
* SLAKE: ``train.json`` / ``validate.json`` / ``test.json`` (a list of images, each with its
  ``questions``) and images in ``imgs/``. ``val`` is an alias of ``validate``. Question types are
  derived with :func:`~vision_models.vqa.qtypes.keyword_question_types`.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from vision_models.imaging import load_image, to_tensor_array
from vision_models.vqa.qtypes import keyword_question_types, parse_type_label
from vision_models.vqa.text import normalise_answer

RAD_VAL_FRACTION = 0.1
RAD_VAL_SEED = 20250601
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".pgm", ".bmp", ".tif", ".tiff")


class DatasetError(ValueError):
    """A data folder that is not in a recognised layout or lacks the requested split."""


@dataclass(frozen=True)
class VQARecord:
    """One question about one image, with its normalised answer and question types."""

    image: Path
    question: str
    answer: str
    answer_type: str
    types: tuple[str, ...]
    source: str


def detect_layout(folder: Path) -> str:
    """``"vqa_rad"`` or ``"slake"`` according to the json files present in ``folder``."""
    if (folder / "trainset.json").is_file() or (folder / "testset.json").is_file():
        return "vqa_rad"
    if any((folder / name).is_file() for name in ("train.json", "validate.json", "test.json")):
        return "slake"
    raise DatasetError(f"{folder} is neither a VQA-RAD folder (trainset.json) nor a SLAKE folder (train.json).")


def _answer_type(value: object, answer: str) -> str:
    text = str(value or "").strip().upper()
    if text in ("CLOSED", "OPEN"):
        return text
    return "CLOSED" if answer in ("yes", "no") else "OPEN"


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise DatasetError(f"Split file {path} does not exist.")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path} is not valid JSON: {exc}") from exc


def _rad_records(folder: Path, filename: str) -> list[VQARecord]:
    records = []
    for item in _read_json(folder / filename):
        answer = normalise_answer(item["answer"])
        records.append(VQARecord(
            image=folder / "images" / item["image_name"],
            question=str(item["question"]),
            answer=answer,
            answer_type=_answer_type(item.get("answer_type"), answer),
            types=tuple(parse_type_label(item.get("question_type", "OTHER"))),
            source="vqa_rad",
        ))
    return records


def rad_validation_indices(count: int) -> set[int]:
    """Indices of the training questions held out as VQA-RAD validation (seeded, fixed)."""
    order = list(range(count))
    random.Random(RAD_VAL_SEED).shuffle(order)
    return set(order[: int(round(count * RAD_VAL_FRACTION))])


def _slake_records(folder: Path, filename: str) -> list[VQARecord]:
    records = []
    for entry in _read_json(folder / filename):
        for item in entry["questions"]:
            answer = normalise_answer(item["answer"])
            records.append(VQARecord(
                image=folder / "imgs" / entry["image_id"],
                question=str(item["question"]),
                answer=answer,
                answer_type=_answer_type(item.get("answer_type"), answer),
                types=tuple(keyword_question_types(str(item["question"]))),
                source="slake",
            ))
    return records


def read_split(folder: Path | str, split: str) -> list[VQARecord]:
    """Records of ``split`` (train, val, test, and for VQA-RAD train_all) in a VQA-RAD or SLAKE folder."""
    root = Path(folder)
    layout = detect_layout(root)
    if layout == "vqa_rad":
        if split == "test":
            return _rad_records(root, "testset.json")
        if split not in ("train", "val", "train_all"):
            raise DatasetError(f"VQA-RAD has the splits train, val, train_all and test, not {split!r}.")
        records = _rad_records(root, "trainset.json")
        if split == "train_all":
            return records
        held_out = rad_validation_indices(len(records))
        keep = (lambda i: i in held_out) if split == "val" else (lambda i: i not in held_out)
        return [r for i, r in enumerate(records) if keep(i)]
    names = {"train": "train.json", "val": "validate.json", "validate": "validate.json", "test": "test.json"}
    if split not in names:
        raise DatasetError(f"SLAKE has the splits train, val (validate) and test, not {split!r}.")
    return _slake_records(root, names[split])


def find_images(folders: Iterable[Path | str]) -> list[Path]:
    """Every image file below ``folders`` (recursively, sorted), skipping segmentation masks."""
    paths: list[Path] = []
    for folder in folders:
        for path in sorted(Path(folder).rglob("*")):
            name = path.name.lower()
            if path.suffix.lower() in IMAGE_SUFFIXES and "mask" not in name and path.is_file():
                paths.append(path)
    return paths


def load_image_stack(paths: Sequence[Path], size: int, cache_dir: Path | None = None) -> np.ndarray:
    """Grayscale ``size``×``size`` uint8 stack of ``paths`` (N, size, size), cached by path list when asked."""
    cache_file = None
    if cache_dir is not None:
        key = hashlib.sha256(("\n".join(str(p) for p in paths) + f"|{size}").encode()).hexdigest()[:20]
        cache_file = Path(cache_dir) / f"images-{size}-{key}.npy"
        if cache_file.is_file():
            return np.load(cache_file)
    stack = np.zeros((len(paths), size, size), dtype=np.uint8)
    for i, path in enumerate(tqdm(paths, desc=f"images {size}px", unit="img", leave=False)):
        stack[i] = np.round(to_tensor_array(load_image(path), size, 1)[0] * 255).astype(np.uint8)
    if cache_file is not None:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache_file, stack)
    return stack
