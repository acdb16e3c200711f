"""What the actions call to send transcripts, and the background work behind it.

    service = TranscriptService.from_settings(settings)
    await service.start()          # tables, delivery worker task (if configured)
    ids = service.queue(transcript, ["Charite Imaging"])   # blocking DB write: call via asyncio.to_thread
    await service.stop()
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import aiohttp

from qaid.settings import Settings
from transcripts.fhir import transcript_to_fhir
from transcripts.html import transcript_to_html
from transcripts.model import Transcript
from transcripts.outbox import NewDelivery, Outbox
from transcripts.signing import signed_headers
from transcripts.worker import DeliveryWorker

logger = logging.getLogger(__name__)
SECONDS_PER_DAY = 86400.0


class TranscriptError(ValueError):
    """A transcript that cannot be queued (unknown hospital, no intake configured)."""


def renderings(transcript: Transcript, public_url: str) -> dict[str, Any]:
    """The transcript in its three renderings: JSON document, FHIR R4 Bundle and HTML summary."""
    return {
        "transcript": transcript.to_dict(),
        "fhir": transcript_to_fhir(transcript, public_url),
        "html": transcript_to_html(transcript, public_url),
    }


def envelope(transcript: Transcript | dict[str, Any], hospital: str, idempotency_key: str, public_url: str) -> str:
    """The JSON body delivered to a hospital; ``transcript`` may be pre-rendered by :func:`renderings`."""
    rendered = renderings(transcript, public_url) if isinstance(transcript, Transcript) else transcript
    return json.dumps(
        {"idempotency_key": idempotency_key, "hospital": hospital, **rendered},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def erase_url(intake_url: str) -> str:
    """The inbox's erase route for an intake URL: ``.../intake/<slug>`` becomes ``.../erase/<slug>``."""
    head, _, slug = intake_url.rstrip("/").rpartition("/")
    base = head[: -len("/intake")] if head.endswith("/intake") else head
    return f"{base}/erase/{slug}"


def secret_lookup(settings: Settings):
    """Resolve a hospital's intake secret from the (current) settings."""

    def secret_for(hospital: str) -> str | None:
        for config in settings.hospitals:
            if config.name == hospital and config.intake is not None:
                return config.intake.secret
        return None

    return secret_for


class TranscriptService:
    """Queues transcripts in the durable outbox and runs the delivery worker."""

    def __init__(self, settings: Settings, outbox: Outbox) -> None:
        self.settings = settings
        self.outbox = outbox
        self.worker = DeliveryWorker(outbox, settings.delivery, secret_lookup(settings))
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> TranscriptService:
        """The service for ``settings`` (nothing starts until :meth:`start`)."""
        dead_after_s = settings.delivery.dead_letter_after_days * SECONDS_PER_DAY
        return cls(settings, Outbox(settings.delivery.database_url, dead_after_s))

    def queue(self, transcript: Transcript, hospitals: list[str]) -> list[str]:
        """Queue ``transcript`` for each hospital (by name); returns one delivery id per hospital.

        Idempotent: queueing the same transcript for the same hospital again returns the same id.
        Blocking (database write): from async code call it through ``asyncio.to_thread``.
        """
        items = []
        rendered = renderings(transcript, self.settings.public_url)
        for name in dict.fromkeys(hospitals):
            config = next((h for h in self.settings.hospitals if h.name == name), None)
            if config is None:
                raise TranscriptError(f"Unknown hospital {name!r}.")
            if config.intake is None:
                raise TranscriptError(f"Hospital {name!r} has no intake configured in {self.settings.path}.")
            key = f"{transcript.transcript_id}:{name}"
            body = envelope(rendered, name, key, self.settings.public_url)
            items.append(
                NewDelivery(key, transcript.conversation_id, transcript.transcript_id, name, config.intake.url, body)
            )
        self.outbox.create()
        ids = self.outbox.enqueue(items, time.time())
        self.worker.wake()
        return ids

    def delete_conversation(self, conversation_id: str) -> int:
        """Erase a conversation's queued and sent deliveries from the outbox; returns how many."""
        self.outbox.create()
        return self.outbox.delete_conversation(conversation_id)

    async def erase_conversation(self, conversation_id: str) -> list[str]:
        """Erase a conversation everywhere: its outbox rows, then each copy a hospital inbox holds.

        Queued deliveries are deleted first, so nothing more is sent; then every hospital the outbox had a
        delivery for gets a signed ``POST /erase/<slug>`` (the intake URL with ``intake`` replaced by
        ``erase``). Returns the names of the hospitals whose inbox could not confirm the erasure.
        """
        self.outbox.create()
        deliveries = await asyncio.to_thread(self.outbox.find, None, conversation_id, 10_000)
        await asyncio.to_thread(self.outbox.delete_conversation, conversation_id)
        targets = {d.hospital: erase_url(d.url) for d in deliveries}
        if not targets:
            return []
        body = json.dumps({"conversation_id": conversation_id}).encode()
        timeout = aiohttp.ClientTimeout(total=self.settings.delivery.timeout_s)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            confirmed = await asyncio.gather(*(self._erase_at(session, hospital, url, body, conversation_id)
                                               for hospital, url in targets.items()))
        return sorted(hospital for hospital, ok in zip(targets, confirmed, strict=True) if not ok)

    async def _erase_at(self, session: aiohttp.ClientSession, hospital: str, url: str, body: bytes,
                        conversation_id: str) -> bool:
        secret = secret_lookup(self.settings)(hospital)
        if not secret:
            logger.error("No intake secret for %s: cannot ask it to erase %s.", hospital, conversation_id)
            return False
        headers = signed_headers(secret, body, f"erase:{conversation_id}")
        try:
            async with session.post(url, data=body, headers=headers, allow_redirects=False) as response:
                if response.status == 200:
                    return True
                logger.error("%s refused to erase %s: HTTP %d.", hospital, conversation_id, response.status)
        except (TimeoutError, aiohttp.ClientError) as exc:
            logger.error("Could not reach %s to erase %s: %s.", hospital, conversation_id, exc)
        return False

    async def start(self) -> None:
        """Create tables and start the delivery worker task (when configured)."""
        await asyncio.to_thread(self.outbox.create)
        if self.settings.delivery.embedded_worker and self._task is None:
            self._stop.clear()
            self._task = asyncio.create_task(self.worker.run(self._stop), name="transcript-delivery-worker")

    async def stop(self) -> None:
        """Stop the worker (finishing its current batch)."""
        self._stop.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, self.settings.delivery.timeout_s + 5)
            except TimeoutError:
                self._task.cancel()
            self._task = None
