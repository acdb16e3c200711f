"""A hospital's transcript inbox: verifies, de-duplicates and stores delivered transcripts.

``POST /intake/{hospital}`` accepts a signed JSON envelope ``{idempotency_key, hospital,
transcript, fhir, html}``. Checks, in order: known hospital (404), size (413), signature headers
present (401), timestamp within the window (401), HMAC signature (401), signature not seen before
(409, a replay), JSON object with the header's idempotency key and a transcript valid against
``schemas/transcript.schema.json`` (400/422). A valid envelope is stored once per idempotency key
and acknowledged with 200 (``stored`` or ``duplicate``). ``POST /erase/{hospital}``, signed the same way,
with ``{"conversation_id": ...}``, deletes every transcript of that conversation the hospital received
(the patient said "delete my data") and answers ``{"status": "erased", "removed": n}``. ``GET /health``
reports liveness.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import jsonschema
from aiohttp import web
from sqlalchemy import Column, Float, MetaData, String, Table, Text, delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from qaid.settings import Settings
from qaid.state import REPO_ROOT
from transcripts.db import make_engine
from transcripts.signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify

logger = logging.getLogger(__name__)

SCHEMA_PATH = REPO_ROOT / "schemas" / "transcript.schema.json"
STORED, DUPLICATE, REPLAY = "stored", "duplicate", "replay"
metadata = MetaData()

received = Table(
    "qaid_inbox_transcripts",
    metadata,
    Column("idempotency_key", String(255), primary_key=True),
    Column("hospital", String(255), nullable=False, index=True),
    Column("conversation_id", String(255), nullable=False),
    Column("transcript_id", String(64), nullable=False),
    Column("received_at", Float, nullable=False),
    Column("body", Text, nullable=False),
)

signatures = Table(
    "qaid_inbox_signatures",
    metadata,
    Column("signature", String(80), primary_key=True),
    Column("seen_at", Float, nullable=False, index=True),
)


@dataclass
class ReceivedTranscript:
    """A transcript stored by the inbox."""

    idempotency_key: str
    hospital: str
    conversation_id: str
    transcript_id: str
    received_at: float
    body: str


class InboxStore:
    """Stores each idempotency key once and remembers signatures to refuse replays."""

    def __init__(self, database_url: str) -> None:
        self.engine = make_engine(database_url)

    def create(self) -> None:
        metadata.create_all(self.engine)

    def store(self, signature: str, item: ReceivedTranscript, window_s: float) -> str:
        """``stored``, ``duplicate`` (key already stored) or ``replay`` (signature already seen)."""
        try:
            with self.engine.begin() as connection:
                connection.execute(delete(signatures).where(signatures.c.seen_at < item.received_at - 2 * window_s))
                connection.execute(insert(signatures).values(signature=signature, seen_at=item.received_at))
        except IntegrityError:
            return REPLAY
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(received).values(**vars(item)))
        except IntegrityError:
            return DUPLICATE
        return STORED

    def erase(self, signature: str, hospital: str, conversation_id: str, now: float, window_s: float) -> int | None:
        """Delete ``hospital``'s transcripts of ``conversation_id``; the count, or None for a replayed request."""
        try:
            with self.engine.begin() as connection:
                connection.execute(delete(signatures).where(signatures.c.seen_at < now - 2 * window_s))
                connection.execute(insert(signatures).values(signature=signature, seen_at=now))
                done = connection.execute(delete(received).where(
                    (received.c.hospital == hospital) & (received.c.conversation_id == conversation_id)))
                return int(done.rowcount or 0)
        except IntegrityError:
            return None

    def find(self, hospital: str | None = None, limit: int = 100) -> list[ReceivedTranscript]:
        """Stored transcripts, newest first."""
        query = select(received).order_by(received.c.received_at.desc()).limit(limit)
        if hospital:
            query = query.where(received.c.hospital == hospital)
        with self.engine.connect() as connection:
            return [ReceivedTranscript(**dict(row._mapping)) for row in connection.execute(query)]

    def get(self, idempotency_key: str) -> ReceivedTranscript | None:
        """One stored transcript by its idempotency key."""
        with self.engine.connect() as connection:
            row = connection.execute(select(received).where(received.c.idempotency_key == idempotency_key)).first()
        return ReceivedTranscript(**dict(row._mapping)) if row is not None else None

    def count(self) -> int:
        """Number of stored transcripts."""
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(received)).scalar_one())


@dataclass(frozen=True)
class InboxAccount:
    """One hospital served by this inbox."""

    hospital: str
    secret: str


def accounts_from_settings(settings: Settings) -> dict[str, InboxAccount]:
    """``{slug: account}`` for every hospital whose intake URL is ``.../intake/<slug>``."""
    accounts = {}
    for hospital in settings.hospitals:
        if hospital.intake is None:
            continue
        parts = urlparse(hospital.intake.url).path.rstrip("/").split("/")
        if len(parts) >= 2 and parts[-2] == "intake":
            accounts[parts[-1]] = InboxAccount(hospital.name, hospital.intake.secret)
    return accounts


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"code": code, "message": message}, status=status)


class InboxHandler:
    """The request handler, holding the store, accounts and limits."""

    def __init__(self, store: InboxStore, accounts: dict[str, InboxAccount], max_body_bytes: int, window_s: float):
        self.store = store
        self.accounts = accounts
        self.max_body_bytes = max_body_bytes
        self.window_s = window_s
        self.validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))

    async def _signed_body(self, request: web.Request) -> tuple[InboxAccount, bytes] | web.Response:
        """The account and the whole body of a request whose signature verifies, or the error to answer."""
        account = self.accounts.get(request.match_info["hospital"])
        if account is None:
            return _error(404, "unknown_hospital", "No inbox for this hospital.")
        if (request.content_length or 0) > self.max_body_bytes:
            return _error(413, "too_large", f"The body exceeds {self.max_body_bytes} bytes.")
        try:
            body = await request.read()  # the whole body (bounded by client_max_size), not what is buffered
        except web.HTTPRequestEntityTooLarge:
            return _error(413, "too_large", f"The body exceeds {self.max_body_bytes} bytes.")
        timestamp = request.headers.get(TIMESTAMP_HEADER, "")
        presented = request.headers.get(SIGNATURE_HEADER, "")
        if not timestamp or not presented:
            return _error(401, "missing_signature", f"{TIMESTAMP_HEADER} and {SIGNATURE_HEADER} are required.")
        try:
            sent_at = int(timestamp) / 1000.0
        except ValueError:
            return _error(401, "bad_timestamp", "The timestamp must be Unix time in milliseconds.")
        if abs(time.time() - sent_at) > self.window_s:
            return _error(401, "stale_timestamp", f"The timestamp is more than {self.window_s:.0f}s from now.")
        if not verify(account.secret, timestamp, body, presented):
            return _error(401, "bad_signature", "The signature does not match.")
        return account, body

    async def intake(self, request: web.Request) -> web.Response:
        signed = await self._signed_body(request)
        if isinstance(signed, web.Response):
            return signed
        account, body = signed
        now = time.time()
        presented = request.headers[SIGNATURE_HEADER]
        key = request.headers.get(IDEMPOTENCY_HEADER, "")
        envelope, problem = self._parse(body, key)
        if problem is not None:
            return problem
        item = ReceivedTranscript(
            idempotency_key=key,
            hospital=account.hospital,
            conversation_id=str(envelope["transcript"]["conversation_id"]),
            transcript_id=str(envelope["transcript"]["transcript_id"]),
            received_at=now,
            body=body.decode("utf-8"),
        )
        outcome = await asyncio.to_thread(self.store.store, presented, item, self.window_s)
        if outcome == REPLAY:
            return _error(409, "replay", "This request was already received.")
        return web.json_response({"status": outcome, "idempotency_key": key})

    async def erase(self, request: web.Request) -> web.Response:
        signed = await self._signed_body(request)
        if isinstance(signed, web.Response):
            return signed
        account, body = signed
        try:
            conversation_id = json.loads(body)["conversation_id"]
        except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as exc:
            return _error(400, "malformed_json", f"The body must be {{\"conversation_id\": ...}}: {exc}.")
        removed = await asyncio.to_thread(self.store.erase, request.headers[SIGNATURE_HEADER], account.hospital,
                                          str(conversation_id), time.time(), self.window_s)
        if removed is None:
            return _error(409, "replay", "This request was already received.")
        return web.json_response({"status": "erased", "removed": removed})

    def _parse(self, body: bytes, key: str) -> tuple[dict[str, Any], web.Response | None]:
        try:
            envelope = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return {}, _error(400, "malformed_json", f"The body is not valid JSON: {exc}.")
        if not isinstance(envelope, dict):
            return {}, _error(400, "malformed_json", "The body must be a JSON object.")
        if not key or envelope.get("idempotency_key") != key:
            return {}, _error(400, "bad_idempotency_key", f"{IDEMPOTENCY_HEADER} must match the body's key.")
        transcript = envelope.get("transcript")
        error = jsonschema.exceptions.best_match(self.validator.iter_errors(transcript))
        if error is not None:
            where = "/".join(map(str, error.absolute_path)) or "transcript"
            return {}, _error(422, "invalid_transcript", f"{where}: {error.message}")
        return envelope, None

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "hospitals": sorted(a.hospital for a in self.accounts.values())})


def create_inbox_app(
    store: InboxStore, accounts: dict[str, InboxAccount], max_body_bytes: int, window_s: float
) -> web.Application:
    """The inbox aiohttp application."""
    handler = InboxHandler(store, accounts, max_body_bytes, window_s)
    app = web.Application(client_max_size=max_body_bytes + 1)
    app.router.add_post("/intake/{hospital}", handler.intake)
    app.router.add_post("/erase/{hospital}", handler.erase)
    app.router.add_get("/health", handler.health)
    return app


def inbox_app_from_settings(settings: Settings) -> tuple[web.Application, InboxStore]:
    """The configured inbox app and its store (tables created)."""
    store = InboxStore(settings.inbox.database_url)
    store.create()
    app = create_inbox_app(
        store, accounts_from_settings(settings), settings.inbox.max_body_bytes, settings.inbox.timestamp_window_s
    )
    return app, store


class EmbeddedInbox:
    """The inbox run inside another process (the action server's local default, ``inbox.embedded``)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen on the configured host and port; a port in use is logged and deliveries retry until it is up."""
        if self._runner is not None:
            return
        app, _ = await asyncio.to_thread(inbox_app_from_settings, self.settings)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        inbox = self.settings.inbox
        try:
            await web.TCPSite(runner, inbox.host, inbox.port).start()
        except OSError as exc:
            await runner.cleanup()
            logger.error(
                "Embedded hospital inbox could not listen on %s:%d (%s); deliveries will retry until it is up.",
                inbox.host, inbox.port, exc,
            )
            return
        self._runner = runner
        logger.info("Hospital inbox listening on http://%s:%d/intake/", inbox.host, inbox.port)

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
