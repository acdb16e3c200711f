"""A hospital reached over HTTP (the hospital service), with timeouts, bounded retries and a circuit breaker."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from hospitals.base import Hospital
from hospitals.types import (
    CapabilityInfo,
    FindingOutcome,
    HospitalError,
    LabelOutcome,
    PrefilterOutcome,
    SegmentationOutcome,
    VQAOutcome,
    from_dict,
)
from qaid.settings import HospitalConfig, RemoteConfig

logger = logging.getLogger(__name__)
RETRYABLE_STATUS = {500, 502, 503, 504}


class CircuitBreaker:
    """Opens after ``failures`` consecutive failures; after ``reset_s`` lets one trial call through."""

    def __init__(self, failures: int, reset_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.threshold = max(1, failures)
        self.reset_s = reset_s
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> str:
        """``closed``, ``open`` or ``half_open``."""
        if self._opened_at is None:
            return "closed"
        return "half_open" if self._clock() - self._opened_at >= self.reset_s else "open"

    def allow(self) -> bool:
        """Whether a call may go out now (only one trial call while half-open)."""
        state = self.state
        if state == "closed":
            return True
        if state == "half_open" and not self._trial_running:
            self._trial_running = True
            return True
        return False

    def record_success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._trial_running = False

    def record_failure(self) -> None:
        self._failures += 1
        self._trial_running = False
        if self._opened_at is not None or self._failures >= self.threshold:
            self._opened_at = self._clock()


class RemoteHospital(Hospital):
    """Client of a hospital service at ``config.url`` (see ``schemas/hospital.openapi.json``)."""

    def __init__(self, config: HospitalConfig, remote: RemoteConfig) -> None:
        super().__init__(config)
        if not config.url:
            raise ValueError(f"Hospital {config.name!r} has no url.")
        self._base = config.url
        self._remote = remote
        self._breaker = CircuitBreaker(remote.breaker_failures, remote.breaker_reset_s)
        self._session: aiohttp.ClientSession | None = None
        self._capabilities: dict[str, CapabilityInfo] | None = None

    @property
    def breaker(self) -> CircuitBreaker:
        """The circuit breaker guarding this hospital."""
        return self._breaker

    async def start(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._remote.timeout_s))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _request(self, method: str, path: str, form: dict[str, Any] | None = None) -> dict[str, Any]:
        await self.start()
        assert self._session is not None
        last_error = HospitalError("unreachable", f"{self.name} could not be reached.")
        for attempt in range(self._remote.retries + 1):
            if not self._breaker.allow():
                raise HospitalError("circuit_open", f"{self.name} is failing; calls are paused.", 503)
            try:
                data = _multipart(form) if form is not None else None
                async with self._session.request(method, f"{self._base}{path}", data=data,
                                                 allow_redirects=False) as response:
                    body = await _json_body(response)
                    if response.status < 300:  # redirects are not followed: a 3xx is an error
                        self._breaker.record_success()
                        return body
                    error = HospitalError(
                        str(body.get("code", "http_error")), str(body.get("message", response.reason)), response.status
                    )
                    if response.status not in RETRYABLE_STATUS:
                        self._breaker.record_success()  # the hospital works; the request was refused
                        raise error
                    last_error = error
            except (TimeoutError, aiohttp.ClientError) as exc:
                last_error = HospitalError("unreachable", f"{self.name}: {type(exc).__name__} {exc}".strip())
            self._breaker.record_failure()
            if attempt < self._remote.retries:
                await asyncio.sleep(self._remote.retry_backoff_s * (2**attempt))
        raise last_error

    async def capabilities(self) -> dict[str, CapabilityInfo]:
        if self._capabilities is None:
            body = await self._request("GET", "/capabilities")
            self._capabilities = {
                item["name"]: from_dict(CapabilityInfo, item) for item in body.get("capabilities", [])
            }
        return dict(self._capabilities)

    async def health(self) -> dict[str, object]:
        return await self._request("GET", "/health")

    async def prefilter(self, image: bytes) -> PrefilterOutcome:
        return from_dict(PrefilterOutcome, await self._request("POST", "/prefilter", {"image": image}))

    async def label(self, image: bytes) -> LabelOutcome:
        return from_dict(LabelOutcome, await self._request("POST", "/label", {"image": image}))

    async def vqa(self, image: bytes, question: str, question_types: dict[str, float] | None = None) -> VQAOutcome:
        form: dict[str, Any] = {"image": image, "question": question}
        if question_types:
            form["question_types"] = json.dumps(question_types)
        return from_dict(VQAOutcome, await self._request("POST", "/vqa", form))

    async def insights(self, image: bytes) -> list[FindingOutcome]:
        body = await self._request("POST", "/insights", {"image": image})
        return [from_dict(FindingOutcome, item) for item in body.get("findings", [])]

    async def segment(self, image: bytes) -> SegmentationOutcome:
        body = await self._request("POST", "/segmentation", {"image": image})
        overlay = base64.b64decode(body.pop("overlay_png_base64", "") or b"")
        return from_dict(SegmentationOutcome, {**body, "overlay_png": overlay})


def _multipart(form: dict[str, Any]) -> aiohttp.FormData:
    data = aiohttp.FormData()
    for key, value in form.items():
        if isinstance(value, bytes):
            data.add_field(key, value, filename="image", content_type="application/octet-stream")
        else:
            data.add_field(key, str(value))
    return data


async def _json_body(response: aiohttp.ClientResponse) -> dict[str, Any]:
    try:
        body = await response.json(content_type=None)
    except (json.JSONDecodeError, aiohttp.ContentTypeError, UnicodeDecodeError):
        return {"code": "bad_response", "message": f"HTTP {response.status} without a JSON body"}
    return body if isinstance(body, dict) else {"code": "bad_response", "message": "JSON body is not an object"}
