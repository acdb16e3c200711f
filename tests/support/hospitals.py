"""Stand-in hospital models following the vision_models APIs, their bundle configs, and the hospital tests' configs."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import yaml
from PIL import Image

from hospitals.local import ModelRegistry
from vision_models.bundle import BundleConfig
from vision_models.imaging import load_image

QUESTION_TYPES = ("PRES", "POS", "ABN", "MODALITY", "PLANE", "SIZE", "ORGAN", "ATTRIB", "COLOR", "COUNT", "OTHER")


def png_bytes(colour: bool = False, size: int = 32) -> bytes:
    """A small PNG: a grey gradient (medical-looking) or a colourful one."""
    ramp = np.tile(np.linspace(0, 255, size, dtype=np.uint8), (size, 1))
    array = np.stack([ramp, ramp[:, ::-1], ramp.T], axis=2) if colour else ramp
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


class CallLog:
    """Records which thread ran each model call and how many models were built."""

    def __init__(self) -> None:
        self.threads: list[str] = []
        self.loaded: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def called(self) -> None:
        """Record a model call on the current thread."""
        with self.lock:
            self.threads.append(threading.current_thread().name)


class StandInPrefilter:
    """Medical = grayscale image (the real prefilter is a trained network)."""

    def __init__(self, log: CallLog) -> None:
        self.log = log

    def predict(self, image: Any) -> SimpleNamespace:
        """Medical (grayscale) or not (colourful), like the prefilter's result."""
        self.log.called()
        decoded = load_image(image)
        arr = np.asarray(decoded.convert("RGB"), dtype=np.float32)
        colourful = float(np.abs(arr[..., 0] - arr[..., 1]).mean()) > 10
        if colourful:
            return SimpleNamespace(is_medical=False, probability=0.1, code="not_medical", reason="Not a medical image.")
        return SimpleNamespace(is_medical=True, probability=0.9, code=None, reason=None)

    def predict_batch(self, images: list[Any]) -> list[SimpleNamespace]:
        """:meth:`predict` of each image."""
        return [self.predict(image) for image in images]


class StandInLabeller:
    """Always a brain MRI, fairly sure."""

    def __init__(self, log: CallLog) -> None:
        self.log = log

    def predict(self, image: Any) -> SimpleNamespace:
        """The labeller's result for ``image``."""
        self.log.called()
        load_image(image)
        return SimpleNamespace(
            label="brain_mri", display_name="brain MRI", confidence=0.8,
            probabilities={"brain_mri": 0.8, "head_ct": 0.2}, unsure=False,
        )

    def predict_batch(self, images: list[Any]) -> list[SimpleNamespace]:
        """:meth:`predict` of each image."""
        return [self.predict(image) for image in images]


class StandInVQA:
    """Answers from a fixed table per bundle, with an optional delay to test deadlines."""

    def __init__(self, log: CallLog, answer: str, confidence: float, delay: float = 0.0) -> None:
        self.log, self.reply, self.confidence, self.delay = log, answer, confidence, delay

    def answer(self, image: Any, question: str, question_types: dict[str, float] | None = None) -> SimpleNamespace:
        """The bundle's fixed answer, after the delay; the most likely of ``question_types`` as its type."""
        self.log.called()
        load_image(image)
        time.sleep(self.delay)
        qtype = max(question_types, key=question_types.get) if question_types else "PRES"
        return SimpleNamespace(
            answer=self.reply, confidence=self.confidence, top3=[(self.reply, self.confidence)],
            question_type=qtype, question_type_source="caller" if question_types else "model", abstained=False,
        )

    def answer_batch(self, images: list[Any], questions: list[str],
                     question_types: list[dict[str, float] | None]) -> list[SimpleNamespace]:
        """:meth:`answer` of each (image, question, types)."""
        return [self.answer(*call) for call in zip(images, questions, question_types)]

    def insights_batch(self, images: list[Any]) -> list[list[SimpleNamespace]]:
        """:meth:`insights` of each image."""
        return [self.insights(image) for image in images]

    def insights(self, image: Any) -> list[SimpleNamespace]:
        """Two insights: abnormal (the bundle's answer) and organ (brain)."""
        self.log.called()
        return [
            SimpleNamespace(key="abnormal", question="Is this abnormal?", answer=self.reply,
                            confidence=self.confidence, abstained=False),
            SimpleNamespace(key="organ", question="Which organ is shown?", answer="brain", confidence=0.9,
                            abstained=False),
        ]


class StandInSegmenter:
    """A fixed 2x2 lesion in an 8x8 mask, with a small colour overlay."""

    def __init__(self, log: CallLog) -> None:
        self.log = log

    def predict(self, image: Any) -> SimpleNamespace:
        """The segmenter's result for ``image``."""
        self.log.called()
        load_image(image)
        mask = np.zeros((8, 8), dtype=bool)
        mask[2:4, 2:4] = True
        return SimpleNamespace(mask=mask, lesion_pixels=4, brain_pixels=40, lesion_fraction=0.1,
                               overlay_png=png_bytes(colour=True, size=8), lesion_side="left")


VQA_TABLE = {"vqa_rad_only": ("yes", 0.9), "slake_only": ("no", 0.6), "vqa": ("yes", 0.7)}
ACCURACY = {"vqa_rad_only": 0.8, "slake_only": 0.7, "vqa": 0.75}


def write_bundle(weights: Path, name: str, metrics: dict[str, Any] | None = None) -> None:
    """A bundle config (the stand-in loaders ignore the weights)."""
    folder = weights / name
    folder.mkdir(parents=True, exist_ok=True)
    config = BundleConfig(name=name, architecture="stand-in", version="1.2.0", metrics=metrics or {},
                          extra={"datasets": [name]})
    (folder / "config.json").write_text(config.to_json())


def stand_in_loaders(log: CallLog, delays: dict[str, float] | None = None) -> dict[str, Any]:
    """Loaders (capability -> load(path)) building stand-in models, logging each load."""
    delays = delays or {}

    def loader(capability: str, build: Any) -> Any:
        def load(path: Path) -> Any:
            log.loaded.append((capability, path.name))
            return build(path)

        return load

    return {
        "prefilter": loader("prefilter", lambda p: StandInPrefilter(log)),
        "label": loader("label", lambda p: StandInLabeller(log)),
        "segmentation": loader("segmentation", lambda p: StandInSegmenter(log)),
        "vqa": loader("vqa", lambda p: StandInVQA(log, *VQA_TABLE[p.name], delay=delays.get(p.name, 0.0))),
    }


def registry_for(log: CallLog, delays: dict[str, float] | None = None) -> ModelRegistry:
    """A registry of stand-in models."""
    return ModelRegistry(stand_in_loaders(log, delays))


HOSPITALS = [
    {"name": "London", "city": "London", "location": {"lat": 51.4980, "lon": -0.1187}, "local": True,
     "capabilities": {"prefilter": "prefilter", "label": "labeller", "vqa": "vqa_rad_only"},
     "image_types": ["brain_mri", "chest_xray"],
     "intake": {"url": "http://127.0.0.1:1/intake/london", "secret": "${TEST_SECRET_LONDON:-s-london}"}},
    {"name": "Berlin", "city": "Berlin", "location": {"lat": 52.5251, "lon": 13.3769}, "local": True,
     "capabilities": {"prefilter": "prefilter", "label": "labeller", "vqa": "slake_only"},
     "image_types": ["brain_mri", "chest_xray"],
     "intake": {"url": "http://127.0.0.1:1/intake/berlin", "secret": "s-berlin"}},
    {"name": "Stockholm", "city": "Stockholm", "location": {"lat": 59.3493, "lon": 18.0318}, "local": True,
     "capabilities": {"segmentation": "segmentation"}, "image_types": ["brain_mri"]},
    {"name": "Paris", "city": "Paris", "location": {"lat": 48.8826, "lon": 2.3530}, "local": True,
     "capabilities": {"prefilter": "prefilter", "label": "labeller", "vqa": "vqa"},
     "image_types": ["brain_mri", "chest_xray", "fundus"]},
]


def write_services(tmp_path: Path, hospitals: list[dict[str, Any]], **sections: Any) -> Path:
    """Write ``tmp_path/services.yml`` for ``hospitals`` (storage under ``tmp_path``, short timeouts); its path."""
    path = tmp_path / "services.yml"
    data = {"storage": {"var_dir": str(tmp_path / "var"), "weights_dir": str(tmp_path / "weights"),
                        "max_image_bytes": 200_000},
            "aggregator": {"deadline_s": 2.0, "max_hospitals": 3, "inference_threads": 2},
            "remote": {"timeout_s": 2, "retries": 1, "retry_backoff_s": 0.01, "breaker_failures": 2,
                       "breaker_reset_s": 0.5},
            "hospitals": hospitals, **sections}
    path.write_text(yaml.safe_dump(data))
    return path
