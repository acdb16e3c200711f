"""The action server's services, created once per process and shared by every action."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from actions.intake import ImageIntake
from hospital_service.inbox import EmbeddedInbox
from hospitals.api import HospitalsAPI
from hospitals.network import HospitalNetwork
from qaid.settings import Settings, load_settings
from transcripts.service import TranscriptService
from vision_models.screen_crop import ScreenCropper

logger = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything the actions call: settings, image intake, the hospital network and transcripts
    (and, in the local default, the hospitals' inbox that receives them)."""

    settings: Settings
    intake: ImageIntake
    hospitals: HospitalsAPI
    transcripts: TranscriptService
    inbox: EmbeddedInbox | None = None


_services: Services | None = None
_lock = asyncio.Lock()


def screen_cropper(settings: Settings) -> ScreenCropper | None:
    """The screen finder ``services.yml`` names, loaded; None when it names none."""
    return ScreenCropper.load(settings.bundle_path(settings.screen_crop)) if settings.screen_crop else None


def build_services(settings: Settings) -> Services:
    """Create (but do not start) the services described by ``settings``."""
    return Services(
        settings=settings,
        intake=ImageIntake(settings.var_dir, settings.max_image_bytes, screen_cropper(settings)),
        hospitals=HospitalNetwork.from_settings(settings),
        transcripts=TranscriptService.from_settings(settings),
        inbox=EmbeddedInbox(settings) if settings.inbox.embedded else None,
    )


async def get_services() -> Services:
    """The process-wide services, started on first use (models load once)."""
    global _services
    async with _lock:
        if _services is None:
            services = build_services(load_settings())
            await services.hospitals.start()
            if services.inbox is not None:
                await services.inbox.start()
            await services.transcripts.start()
            _services = services
            logger.info("Services ready: %d hospitals.", len(services.settings.hospitals))
    return _services


async def stop_services() -> None:
    """Stop background work and release models (server shutdown)."""
    global _services
    async with _lock:
        if _services is not None:
            await _services.transcripts.stop()
            if _services.inbox is not None:
                await _services.inbox.stop()
            await _services.hospitals.close()
            _services = None
