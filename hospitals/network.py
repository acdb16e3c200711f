"""The facade the Rasa actions call: every hospital behind one object.

    network = HospitalNetwork.from_settings(load_settings())
    await network.start()                       # loads local models once (thread pool)
    screening = await network.screen(image_bytes)
    answer = await network.ask(image_bytes, "Is there a fracture?", {"PRES": 0.9}, "chest_xray", location)
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from hospitals.aggregate import combine_answers, dominant_type, haversine_km
from hospitals.base import Hospital
from hospitals.local import LocalHospital, ModelRegistry
from hospitals.remote import RemoteHospital
from hospitals.types import (
    AggregatedAnswer,
    AggregatedFinding,
    CapabilityInfo,
    FindingOutcome,
    HospitalAnswer,
    HospitalError,
    HospitalInfo,
    ImageScreening,
    LabelOutcome,
    SegmentationReport,
    VQAOutcome,
)
from qaid.settings import Location, Settings

logger = logging.getLogger(__name__)
T = TypeVar("T")
PatientLocation = Location | Mapping[str, Any] | None
FINDING_TYPES = {"abnormal": "ABN", "organ": "ORGAN", "modality": "MODALITY", "plane": "PLANE"}


def as_location(value: PatientLocation) -> Location | None:
    """Accept a :class:`Location`, ``{"latitude", "longitude"}`` (channel metadata), ``{"lat", "lon"}`` or None."""
    if value is None or isinstance(value, Location):
        return value
    lat = value.get("latitude", value.get("lat"))
    lon = value.get("longitude", value.get("lon"))
    if lat is None or lon is None:
        return None
    return Location(float(lat), float(lon))


class HospitalNetwork:
    """All configured hospitals, chosen by capability and distance, answers combined."""

    def __init__(self, hospitals: list[Hospital], settings: Settings, executor: ThreadPoolExecutor | None = None):
        self.hospitals = hospitals
        self.settings = settings
        self._executor = executor

    @classmethod
    def from_settings(cls, settings: Settings, registry: ModelRegistry | None = None) -> HospitalNetwork:
        """Build local and remote hospitals from ``settings`` (models are loaded by :meth:`start`)."""
        executor = ThreadPoolExecutor(settings.aggregator.inference_threads, thread_name_prefix="hospital-model")
        registry = registry or ModelRegistry()
        hospitals: list[Hospital] = []
        for config in settings.hospitals:
            if config.is_local:
                hospitals.append(LocalHospital(config, settings.bundle_path, registry, executor))
            else:
                hospitals.append(RemoteHospital(config, settings.remote))
        return cls(hospitals, settings, executor)

    async def start(self) -> None:
        """Load local models once and open client sessions; unusable bundles are logged, not fatal."""
        await asyncio.gather(*(hospital.start() for hospital in self.hospitals))
        for hospital in self.hospitals:
            available = sorted(await self._capabilities(hospital))
            logger.info("Hospital %r ready with %s", hospital.name, ", ".join(available) or "no capability")

    async def close(self) -> None:
        """Close sessions and the inference thread pool."""
        await asyncio.gather(*(hospital.close() for hospital in self.hospitals), return_exceptions=True)
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)

    async def _capabilities(self, hospital: Hospital) -> dict[str, CapabilityInfo]:
        """What ``hospital`` offers; for an unreachable remote hospital, what its configuration declares
        (without metrics), so that it is still asked, fails fast through its circuit breaker and is
        reported as asked but not answered."""
        try:
            return await asyncio.wait_for(hospital.capabilities(), self.settings.aggregator.deadline_s)
        except (TimeoutError, HospitalError) as exc:
            logger.warning("Capabilities of %r unavailable: %s", hospital.name, exc)
            types = list(hospital.config.image_types)
            declared = hospital.config.capabilities.items()
            return {name: CapabilityInfo(name, bundle, "unknown", types) for name, bundle in declared}

    def _distance(self, hospital: Hospital, location: Location | None) -> float | None:
        if location is None:
            return None
        return round(haversine_km(location, hospital.config.location), 1)

    async def _candidates(
        self, capability: str, image_type: str | None, location: Location | None
    ) -> list[tuple[Hospital, CapabilityInfo]]:
        """Hospitals offering ``capability`` for ``image_type``, nearest first (config order without a location)."""
        found = []
        for index, hospital in enumerate(self.hospitals):
            info = (await self._capabilities(hospital)).get(capability)
            if info is not None and hospital.config.covers(image_type):
                distance = self._distance(hospital, location)
                found.append((distance if distance is not None else 0.0, index, hospital, info))
        found.sort(key=lambda item: (item[0], item[1]))
        return [(hospital, info) for _, _, hospital, info in found]

    async def nearest(
        self, location: PatientLocation, capability: str | None = None, image_type: str | None = None
    ) -> list[HospitalInfo]:
        """Hospitals sorted by distance from ``location``, optionally only those offering ``capability``."""
        point = as_location(location)
        result = []
        for index, hospital in enumerate(self.hospitals):
            available = await self._capabilities(hospital)
            if capability is not None and capability not in available:
                continue
            if not hospital.config.covers(image_type):
                continue
            info = HospitalInfo(hospital.name, hospital.config.city, self._distance(hospital, point), sorted(available))
            result.append((info.distance_km if info.distance_km is not None else 0.0, index, info))
        result.sort(key=lambda item: (item[0], item[1]))
        return [info for _, _, info in result]

    async def _first(
        self, candidates: list[tuple[Hospital, CapabilityInfo]], call: Callable[[Hospital], Awaitable[T]], what: str
    ) -> tuple[Hospital, T]:
        """Ask candidates in order until one answers within the deadline (fail-over)."""
        errors = []
        for hospital, _ in candidates:
            try:
                return hospital, await asyncio.wait_for(call(hospital), self.settings.aggregator.deadline_s)
            except HospitalError as exc:
                if exc.status == 400:  # the image itself was refused: another hospital would refuse it too
                    raise
                errors.append(f"{hospital.name}: {exc.message}")
            except TimeoutError:
                errors.append(f"{hospital.name}: no answer within {self.settings.aggregator.deadline_s}s")
        detail = "; ".join(errors) or "no hospital offers it"
        raise HospitalError("no_hospital", f"No hospital could provide {what} ({detail}).", 503)

    async def screen(self, image_bytes: bytes, patient_location: PatientLocation = None) -> ImageScreening:
        """Prefilter the image and, when it is medical, label its type (nearest able hospital, with fail-over)."""
        point = as_location(patient_location)
        hospital, verdict = await self._first(
            await self._candidates("prefilter", None, point), lambda h: h.prefilter(image_bytes), "an image check"
        )
        label: LabelOutcome | None = None
        if verdict.is_medical:
            _, label = await self._first(
                await self._candidates("label", None, point), lambda h: h.label(image_bytes), "an image type"
            )
        return ImageScreening(
            verdict.is_medical, verdict.probability, verdict.code, verdict.reason, label, hospital.name
        )

    async def _gather(
        self, candidates: list[tuple[Hospital, CapabilityInfo]], call: Callable[[Hospital], Awaitable[T]]
    ) -> list[tuple[Hospital, CapabilityInfo, T | None, str | None, float]]:
        """Call every candidate in parallel; those failing or late by the deadline get an error string."""

        async def timed(hospital: Hospital) -> tuple[T, float]:
            started = time.perf_counter()
            result = await call(hospital)
            return result, (time.perf_counter() - started) * 1000.0

        tasks = [asyncio.create_task(timed(hospital)) for hospital, _ in candidates]
        if tasks:
            await asyncio.wait(tasks, timeout=self.settings.aggregator.deadline_s)
        results: list[tuple[Hospital, CapabilityInfo, T | None, str | None, float]] = []
        for (hospital, info), task in zip(candidates, tasks):
            if not task.done():
                task.cancel()
                results.append((hospital, info, None, f"no answer within {self.settings.aggregator.deadline_s}s", 0.0))
            elif task.exception() is not None:
                exc = task.exception()
                message = exc.message if isinstance(exc, HospitalError) else f"{type(exc).__name__}: {exc}"
                results.append((hospital, info, None, message, 0.0))
            else:
                value, latency = task.result()
                results.append((hospital, info, value, None, latency))
        return results

    async def ask(
        self,
        image_bytes: bytes,
        question: str,
        question_types: dict[str, float] | None = None,
        image_type: str | None = None,
        patient_location: PatientLocation = None,
    ) -> AggregatedAnswer:
        """Ask the nearest VQA hospitals covering ``image_type`` in parallel and combine their answers."""
        point = as_location(patient_location)
        candidates = (await self._candidates("vqa", image_type, point))[: self.settings.aggregator.max_hospitals]
        gathered = await self._gather(candidates, lambda h: h.vqa(image_bytes, question, question_types))
        outcomes: list[VQAOutcome] = [value for _, _, value, _, _ in gathered if value is not None]
        reported = Counter(outcome.question_type for outcome in outcomes).most_common(1)
        question_type = dominant_type(question_types) or (reported[0][0] if reported else "OTHER")
        default = self.settings.aggregator.default_accuracy
        contributions = []
        for hospital, info, value, error, latency in gathered:
            contribution = HospitalAnswer(hospital=hospital.name, error=error, latency_ms=round(latency, 1))
            if value is not None:
                contribution.answer = value.answer
                contribution.confidence = value.confidence
                contribution.abstained = value.abstained
                contribution.accuracy = info.accuracy_for(value.question_type or question_type, default)
            contributions.append(contribution)
        threshold = self.settings.aggregator.disagreement_threshold
        return combine_answers(contributions, len(candidates), question_type, threshold)

    async def insights(
        self, image_bytes: bytes, image_type: str | None = None, patient_location: PatientLocation = None
    ) -> list[AggregatedFinding]:
        """Automatic findings from every nearby VQA hospital, combined per finding key."""
        point = as_location(patient_location)
        candidates = (await self._candidates("vqa", image_type, point))[: self.settings.aggregator.max_hospitals]
        gathered = await self._gather(candidates, lambda h: h.insights(image_bytes))
        keys: dict[str, str] = {}
        for _, _, findings, _, _ in gathered:
            for finding in findings or []:
                keys.setdefault(finding.key, finding.question)
        default = self.settings.aggregator.default_accuracy
        combined = []
        for key, question in keys.items():
            question_type = FINDING_TYPES.get(key, "OTHER")
            contributions = []
            for hospital, info, findings, error, latency in gathered:
                match: FindingOutcome | None = next((f for f in findings or [] if f.key == key), None)
                contribution = HospitalAnswer(hospital=hospital.name, error=error, latency_ms=round(latency, 1))
                if match is not None:
                    contribution.answer = match.answer
                    contribution.confidence = match.confidence
                    contribution.abstained = match.abstained
                    contribution.accuracy = info.accuracy_for(question_type, default)
                elif error is None:
                    contribution.error = f"no {key} finding"
                contributions.append(contribution)
            result = combine_answers(
                contributions, len(candidates), question_type, self.settings.aggregator.disagreement_threshold
            )
            combined.append(AggregatedFinding(key, question, result))
        return combined

    async def segment(
        self, image_bytes: bytes, image_type: str | None = "brain_mri", patient_location: PatientLocation = None
    ) -> SegmentationReport:
        """Segment lesions at the nearest able hospital (fail-over) and store the overlay in ``var/media``."""
        candidates = await self._candidates("segmentation", image_type, as_location(patient_location))
        hospital, outcome = await self._first(candidates, lambda h: h.segment(image_bytes), "a segmentation")
        digest, relative = None, None
        if outcome.overlay_png:
            digest, relative = await asyncio.get_running_loop().run_in_executor(
                self._executor, self._store_media, outcome.overlay_png, "png"
            )
        return SegmentationReport(
            hospital.name, outcome.lesion_pixels, outcome.brain_pixels, outcome.lesion_fraction, digest, relative,
            outcome.lesion_side,
        )

    def _store_media(self, data: bytes, extension: str) -> tuple[str, str]:
        """Write ``data`` to the content-addressed media store; returns (sha256, path relative to var)."""
        digest = hashlib.sha256(data).hexdigest()
        media = self.settings.media_dir
        media.mkdir(parents=True, exist_ok=True)
        target = media / f"{digest}.{extension}"
        if not target.exists():
            temporary = media / f".{digest}.{uuid.uuid4().hex}.part"
            temporary.write_bytes(data)
            temporary.replace(target)
        return digest, f"media/{digest}.{extension}"
