"""In-process hospitals backed by ``vision_models`` bundles.

Models are loaded once (shared between hospitals that use the same bundle) and every
inference call runs in a thread pool, never on the event loop.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from functools import partial
from pathlib import Path
from typing import Any

from hospitals.base import Hospital
from hospitals.batching import Batcher, BatchFunction
from hospitals.types import (
    CapabilityInfo,
    FindingOutcome,
    HospitalError,
    LabelOutcome,
    PrefilterOutcome,
    SegmentationOutcome,
    VQAOutcome,
)
from qaid.images import ImageError
from qaid.settings import HospitalConfig
from vision_models.bundle import BundleConfig, BundleError, read_config
from vision_models.vqa import QuestionError

logger = logging.getLogger(__name__)

ModelLoader = Callable[[Path], Any]

# capability -> (module, class) of the vision_models API that serves it
MODEL_CLASSES: dict[str, tuple[str, str]] = {
    "prefilter": ("vision_models.prefilter", "Prefilter"),
    "label": ("vision_models.labeller", "Labeller"),
    "segmentation": ("vision_models.segmentation", "Segmenter"),
    "vqa": ("vision_models.vqa", "VQAModel"),
}


# (capability, method) -> the model's batch call for concurrent calls of that method (hospitals/batching.py).
# Segmentation is left out: its network costs as much per image in a batch as alone on a CPU (bench/README.md).
def _by_columns(batch_method: str) -> Callable[[Any], BatchFunction]:
    """The batch call of ``model.<batch_method>``, which takes one list per argument of the single call."""
    return lambda model: lambda calls: getattr(model, batch_method)(*(list(column) for column in zip(*calls)))


BATCH_CALLS: dict[tuple[str, str], Callable[[Any], BatchFunction]] = {
    ("prefilter", "predict"): _by_columns("predict_batch"),
    ("label", "predict"): _by_columns("predict_batch"),
    ("vqa", "answer"): _by_columns("answer_batch"),
    ("vqa", "insights"): _by_columns("insights_batch"),
}


def vision_model_loader(capability: str) -> ModelLoader:
    """Loader calling ``<Class>.load(path)`` of the vision_models API for ``capability``."""
    module_name, class_name = MODEL_CLASSES[capability]

    def load(path: Path) -> Any:
        cls = getattr(importlib.import_module(module_name), class_name)
        return cls.load(path)

    return load


class ModelRegistry:
    """Loads each (capability, bundle) once and shares it between hospitals; thread-safe."""

    def __init__(self, loaders: dict[str, ModelLoader] | None = None) -> None:
        self._loaders = loaders or {name: vision_model_loader(name) for name in MODEL_CLASSES}
        self._models: dict[tuple[str, Path], tuple[Any, CapabilityInfo]] = {}
        self._failed: dict[tuple[str, Path], str] = {}
        self._lock = threading.Lock()

    def get(self, capability: str, path: Path, image_types: list[str]) -> tuple[Any, CapabilityInfo] | None:
        """The model and its description, or None (with a logged warning) when the bundle is unusable."""
        key = (capability, path)
        with self._lock:
            if key in self._models:
                model, info = self._models[key]
                return model, dataclasses.replace(info, image_types=list(image_types))
            if key in self._failed:
                return None
            try:
                config = read_config(path) if (path / "config.json").is_file() else None
                if config is None:
                    raise BundleError(f"bundle folder {path} has no config.json (not trained or not committed yet)")
                model = self._loaders[capability](path)
            except (BundleError, ImportError, OSError) as exc:
                self._failed[key] = str(exc)
                logger.warning("Capability %s unavailable: %s", capability, exc)
                return None
            except Exception as exc:  # a broken bundle costs its capability, not the whole server
                self._failed[key] = str(exc)
                logger.exception("Capability %s unavailable: bundle %s could not be loaded", capability, path)
                return None
            info = CapabilityInfo(
                capability, path.name, config.version, list(image_types), dict(config.metrics), training_data(config)
            )
            self._models[key] = (model, info)
            return model, info


def training_data(config: BundleConfig) -> list[str]:
    """Datasets a bundle was trained on: ``extra.datasets``/``extra.dataset``, or the dataset options
    recorded by the VQA trainer (``extra.training.vqa_rad`` / ``extra.training.slake``)."""
    value = config.extra.get("datasets") or config.extra.get("dataset")
    if value:
        return [str(value)] if isinstance(value, str) else [str(item) for item in value]
    training = config.extra.get("training") or {}
    return [name for name in ("vqa_rad", "slake") if isinstance(training, dict) and training.get(name)]


def _as_lists(pairs: Any) -> list[list[Any]]:
    return [[str(answer), float(score)] for answer, score in pairs or []]


class LocalHospital(Hospital):
    """A hospital whose models run in this process."""

    def __init__(
        self,
        config: HospitalConfig,
        bundle_path: Callable[[str], Path],
        registry: ModelRegistry,
        executor: Executor | None = None,
    ) -> None:
        super().__init__(config)
        self._bundle_path = bundle_path
        self._registry = registry
        self._executor = executor
        self._models: dict[str, Any] = {}
        self._capabilities: dict[str, CapabilityInfo] = {}
        self._batchers: dict[tuple[str, str], Batcher] = {}
        self._started = False
        self._start_lock = asyncio.Lock()

    async def start(self) -> None:
        """Load every configured bundle once (in the thread pool); missing ones drop their capability."""
        async with self._start_lock:
            if self._started:
                return
            loop = asyncio.get_running_loop()
            for capability, bundle in self.config.capabilities.items():
                path = self._bundle_path(bundle)
                loaded = await loop.run_in_executor(
                    self._executor, self._registry.get, capability, path, list(self.config.image_types)
                )
                if loaded is None:
                    logger.warning("Hospital %r starts without %r (bundle %s).", self.name, capability, bundle)
                    continue
                self._models[capability], self._capabilities[capability] = loaded
            self._batchers = {
                key: Batcher(batch_call(self._models[key[0]]), self._executor)
                for key, batch_call in BATCH_CALLS.items() if key[0] in self._models
            }
            self._started = True

    async def close(self) -> None:
        """Nothing to release: models are shared through the registry."""

    async def capabilities(self) -> dict[str, CapabilityInfo]:
        await self.start()
        return dict(self._capabilities)

    async def health(self) -> dict[str, object]:
        await self.start()
        missing = sorted(set(self.config.capabilities) - set(self._capabilities))
        return {"status": "degraded" if missing else "ok", "hospital": self.name, "missing": missing}

    async def _call(self, capability: str, method: str, *args: Any) -> Any:
        await self.start()
        model = self._models.get(capability)
        if model is None:
            raise HospitalError("capability_unavailable", f"{self.name} does not offer {capability}.", 404)
        batcher = self._batchers.get((capability, method))
        loop = asyncio.get_running_loop()
        try:
            if batcher is not None:
                return await batcher.call(*args)
            return await loop.run_in_executor(self._executor, partial(getattr(model, method), *args))
        except ImageError as exc:
            raise HospitalError(exc.code, exc.reason, 400) from exc
        except QuestionError as exc:
            raise HospitalError("bad_question", str(exc), 400) from exc
        except Exception as exc:  # a model failure must not take the action server down
            logger.exception("Hospital %r: %s.%s failed", self.name, capability, method)
            raise HospitalError("inference_failed", f"{capability} failed at {self.name}: {exc}", 500) from exc

    async def prefilter(self, image: bytes) -> PrefilterOutcome:
        result = await self._call("prefilter", "predict", image)
        return PrefilterOutcome(bool(result.is_medical), float(result.probability), result.code, result.reason)

    async def label(self, image: bytes) -> LabelOutcome:
        result = await self._call("label", "predict", image)
        return LabelOutcome(
            label=result.label,
            display_name=str(result.display_name),
            confidence=float(result.confidence),
            probabilities={str(k): float(v) for k, v in result.probabilities.items()},
            unsure=bool(result.unsure),
        )

    async def vqa(self, image: bytes, question: str, question_types: dict[str, float] | None = None) -> VQAOutcome:
        result = await self._call("vqa", "answer", image, question, question_types)
        return VQAOutcome(
            answer=str(result.answer),
            confidence=float(result.confidence),
            top3=_as_lists(result.top3),
            question_type=str(result.question_type),
            question_type_source=str(result.question_type_source),
            abstained=bool(result.abstained),
        )

    async def insights(self, image: bytes) -> list[FindingOutcome]:
        findings = await self._call("vqa", "insights", image)
        return [
            FindingOutcome(str(f.key), str(f.question), str(f.answer), float(f.confidence), bool(f.abstained))
            for f in findings
        ]

    async def segment(self, image: bytes) -> SegmentationOutcome:
        result = await self._call("segmentation", "predict", image)
        return SegmentationOutcome(
            lesion_pixels=int(result.lesion_pixels),
            brain_pixels=int(result.brain_pixels),
            lesion_fraction=float(result.lesion_fraction),
            overlay_png=bytes(result.overlay_png),
            lesion_side=str(result.lesion_side),
        )
