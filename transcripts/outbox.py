"""The durable transcript outbox: one row per (transcript, hospital) delivery, plus every attempt.

A delivery is ``pending`` until a hospital acknowledges it (``delivered``) or it has failed for
longer than the dead-letter period (``dead``; an operator can ``retry`` it). Workers claim due
rows with a time-limited lease, so a worker that dies mid-batch only delays its rows until the
lease expires; the inbox's idempotency key makes the re-delivery harmless.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, ProgrammingError

from transcripts.db import make_engine

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"
metadata = MetaData()

deliveries = Table(
    "qaid_deliveries",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    Column("conversation_id", String(255), nullable=False, index=True),
    Column("transcript_id", String(64), nullable=False),
    Column("hospital", String(255), nullable=False),
    Column("url", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
    Column("next_attempt_at", Float, nullable=False, index=True),
    Column("expires_at", Float, nullable=False),
    Column("lease_owner", String(64)),
    Column("lease_until", Float),
    Column("delivered_at", Float),
    Column("last_error", Text),
)

attempts = Table(
    "qaid_delivery_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", String(36), ForeignKey("qaid_deliveries.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("worker", String(64), nullable=False),
    Column("attempted_at", Float, nullable=False),
    Column("status_code", Integer),
    Column("error", Text),
    Column("duration_ms", Float, nullable=False),
)


@dataclass
class NewDelivery:
    """A delivery to queue."""

    idempotency_key: str
    conversation_id: str
    transcript_id: str
    hospital: str
    url: str
    body: str


@dataclass
class Delivery:
    """A delivery as stored."""

    id: str
    idempotency_key: str
    conversation_id: str
    transcript_id: str
    hospital: str
    url: str
    body: str
    status: str
    attempts: int
    created_at: float
    next_attempt_at: float
    expires_at: float
    lease_owner: str | None
    lease_until: float | None
    delivered_at: float | None
    last_error: str | None


@dataclass
class Attempt:
    """One delivery attempt."""

    delivery_id: str
    worker: str
    attempted_at: float
    status_code: int | None
    error: str | None
    duration_ms: float


def _delivery(row: Any) -> Delivery:
    return Delivery(**dict(row._mapping))


class Outbox:
    """Queue, claim and settle deliveries in any SQLAlchemy database."""

    def __init__(self, database_url: str, dead_letter_after_s: float) -> None:
        self.engine = make_engine(database_url)
        self.dead_letter_after_s = dead_letter_after_s

    def create(self) -> None:
        """Create the tables when missing. Several action-server workers may race to create them on a shared
        database; the loser's CREATE fails (a duplicate type or table), and its second look finds them."""
        try:
            metadata.create_all(self.engine)
        except (IntegrityError, ProgrammingError):
            metadata.create_all(self.engine)

    def _existing(self, idempotency_key: str) -> str | None:
        with self.engine.connect() as connection:
            return connection.execute(
                select(deliveries.c.id).where(deliveries.c.idempotency_key == idempotency_key)
            ).scalar()

    def enqueue(self, items: list[NewDelivery], now: float) -> list[str]:
        """Queue deliveries; an idempotency key already queued returns the existing delivery's id."""
        ids = []
        for item in items:
            delivery_id = self._existing(item.idempotency_key)
            if delivery_id is None:
                delivery_id = str(uuid.uuid4())
                try:
                    with self.engine.begin() as connection:
                        connection.execute(
                            insert(deliveries).values(
                                id=delivery_id, status=PENDING, attempts=0, created_at=now, next_attempt_at=now,
                                expires_at=now + self.dead_letter_after_s, **vars(item),
                            )
                        )
                except IntegrityError:  # queued concurrently under the same key
                    delivery_id = self._existing(item.idempotency_key)
                    if delivery_id is None:
                        raise
            ids.append(delivery_id)
        return ids

    def claim(self, worker: str, limit: int, lease_s: float, now: float) -> list[Delivery]:
        """Lease up to ``limit`` due pending deliveries for ``worker`` (safe with concurrent workers)."""
        free = or_(deliveries.c.lease_until.is_(None), deliveries.c.lease_until < now)
        due = and_(deliveries.c.status == PENDING, deliveries.c.next_attempt_at <= now, free)
        claimed = []
        with self.engine.begin() as connection:
            candidates = connection.execute(
                select(deliveries.c.id).where(due).order_by(deliveries.c.next_attempt_at).limit(limit)
            ).scalars().all()
            for delivery_id in candidates:
                result = connection.execute(
                    update(deliveries)
                    .where(and_(deliveries.c.id == delivery_id, due))
                    .values(lease_owner=worker, lease_until=now + lease_s)
                )
                if result.rowcount == 1:
                    claimed.append(delivery_id)
            if not claimed:
                return []
            rows = connection.execute(select(deliveries).where(deliveries.c.id.in_(claimed))).all()
        return sorted((_delivery(row) for row in rows), key=lambda d: d.next_attempt_at)

    def _record(self, connection: Any, attempt: Attempt) -> None:
        connection.execute(insert(attempts).values(**vars(attempt)))

    def mark_delivered(self, attempt: Attempt) -> None:
        """The hospital acknowledged: record the attempt and settle the delivery."""
        with self.engine.begin() as connection:
            self._record(connection, attempt)
            connection.execute(
                update(deliveries)
                .where(deliveries.c.id == attempt.delivery_id)
                .values(
                    status=DELIVERED, attempts=deliveries.c.attempts + 1, delivered_at=attempt.attempted_at,
                    lease_owner=None, lease_until=None, last_error=None,
                )
            )

    def mark_failed(self, attempt: Attempt, next_attempt_at: float, permanent: bool = False) -> str:
        """Record a failed attempt; the delivery is retried at ``next_attempt_at`` or, past its
        dead-letter time or when the failure is ``permanent``, moved to ``dead``. Returns the new status."""
        with self.engine.begin() as connection:
            self._record(connection, attempt)
            row = connection.execute(select(deliveries).where(deliveries.c.id == attempt.delivery_id)).first()
            if row is None or row.status != PENDING or row.lease_owner != attempt.worker:
                return row.status if row is not None else DEAD  # settled or re-leased meanwhile
            status = DEAD if permanent or attempt.attempted_at >= row.expires_at else PENDING
            connection.execute(
                update(deliveries)
                .where(deliveries.c.id == attempt.delivery_id)
                .values(
                    status=status, attempts=deliveries.c.attempts + 1, next_attempt_at=next_attempt_at,
                    lease_owner=None, lease_until=None, last_error=attempt.error,
                )
            )
        return status

    def find(self, status: str | None = None, conversation_id: str | None = None, limit: int = 100) -> list[Delivery]:
        """Deliveries, newest first."""
        query = select(deliveries).order_by(deliveries.c.created_at.desc()).limit(limit)
        if status:
            query = query.where(deliveries.c.status == status)
        if conversation_id:
            query = query.where(deliveries.c.conversation_id == conversation_id)
        with self.engine.connect() as connection:
            return [_delivery(row) for row in connection.execute(query)]

    def attempts_of(self, delivery_id: str) -> list[Attempt]:
        """Every attempt of one delivery, oldest first."""
        query = select(attempts).where(attempts.c.delivery_id == delivery_id).order_by(attempts.c.id)
        with self.engine.connect() as connection:
            return [
                Attempt(**{k: v for k, v in row._mapping.items() if k != "id"}) for row in connection.execute(query)
            ]

    def counts(self) -> dict[str, int]:
        """Number of deliveries per status."""
        query = select(deliveries.c.status, func.count()).group_by(deliveries.c.status)
        with self.engine.connect() as connection:
            return {status: count for status, count in connection.execute(query)}

    def retry(self, ids: list[str] | None, now: float) -> int:
        """Put dead (or, by id, any undelivered) deliveries back in the queue with a fresh dead-letter period."""
        condition = deliveries.c.status == DEAD if ids is None else and_(
            deliveries.c.id.in_(ids), deliveries.c.status != DELIVERED
        )
        with self.engine.begin() as connection:
            result = connection.execute(
                update(deliveries)
                .where(condition)
                .values(
                    status=PENDING, next_attempt_at=now, expires_at=now + self.dead_letter_after_s,
                    lease_owner=None, lease_until=None,
                )
            )
        return int(result.rowcount)

    def delete_conversation(self, conversation_id: str) -> int:
        """Erase every delivery (and its attempts) of a conversation; returns how many deliveries."""
        with self.engine.begin() as connection:
            ids = connection.execute(
                select(deliveries.c.id).where(deliveries.c.conversation_id == conversation_id)
            ).scalars().all()
            if ids:
                connection.execute(delete(attempts).where(attempts.c.delivery_id.in_(ids)))
                connection.execute(delete(deliveries).where(deliveries.c.id.in_(ids)))
        return len(ids)
