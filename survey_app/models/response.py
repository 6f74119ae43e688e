"""Responses and their answers in long form (one row per question value)."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Iterable, Optional

from sqlalchemy import Boolean, CheckConstraint, false, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, WriteOnlyMapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow

CHANNELS = ("qr", "kiosk", "link", "paper", "api")
TRUST_LEVELS = ("ok", "suspect")


def answer_digest(answers: Iterable[tuple[str, int | None, str | None]]) -> str:
    """The digest of an answer set that ignores order: SHA-256 (hex) of the sorted JSON
    lines ``[question_key, value_int, value_text]``. Two responses have the same digest
    exactly when they gave the same answers. What ``Response.answer_digest`` holds."""
    canonical = sorted(json.dumps([k, vi, vt], ensure_ascii=False) for k, vi, vt in answers)
    return hashlib.sha256("\n".join(canonical).encode()).hexdigest()


class Response(Base):
    """One submission. Carries no raw personal data: no IP, no device identifier."""

    __tablename__ = "response"
    __table_args__ = (
        UniqueConstraint("campaign_id", "idempotency_key"),
        CheckConstraint("channel IN ('qr', 'kiosk', 'link', 'paper', 'api')", name="channel"),
        CheckConstraint("trust IN ('ok', 'suspect')", name="trust"),
        CheckConstraint("language IN ('vi', 'en')", name="language"),
        Index("ix_response_campaign_unit_submitted", "campaign_id", "unit_id", "submitted_at"),
        # The abuse checks (services/collect/abuse.py): responses at a point in the last
        # window with this answer set / from this device, counted and flagged by index.
        # ``trust`` before ``submitted_at`` lets the flagging UPDATE reach only the rows
        # still ``ok``, and a count over ``trust IN ('ok', 'suspect')`` stays a range scan.
        Index("ix_response_identical", "campaign_id", "unit_id", "answer_digest", "trust", "submitted_at"),
        Index("ix_response_device", "campaign_id", "unit_id", "device_hash", "trust", "submitted_at"),
        Index("ix_response_address", "campaign_id", "unit_id", "address_hash", "trust", "submitted_at"),
        # Only rows still holding a keyed hash (the last day or two): the retention job finds
        # the ones to purge without reading the whole table.
        Index("ix_response_hashed", "submitted_at",
              sqlite_where=text("device_hash IS NOT NULL OR address_hash IS NOT NULL"),
              postgresql_where=text("device_hash IS NOT NULL OR address_hash IS NOT NULL")),
        Index("ix_response_pending_rollup", "id", postgresql_where=text("NOT rolled_up"),
              sqlite_where=text("rolled_up = 0")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    instrument_version_id: Mapped[int] = mapped_column(ForeignKey("instrument_version.id"), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    language: Mapped[str] = mapped_column(String(5))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    trust: Mapped[str] = mapped_column(String(10), default="ok")
    trust_reason: Mapped[Optional[str]] = mapped_column(String(200))
    idempotency_key: Mapped[str] = mapped_column(String(64))
    # The keyed daily hash of (IP, user agent) from ratelimit.daily_device_hash: it rotates
    # every UTC day and cannot be reversed without SECRET_KEY. Used only to spot bursts.
    device_hash: Mapped[Optional[str]] = mapped_column(String(32))
    # The same for the IP alone (ratelimit.daily_address_hash): a client that changes its
    # user agent is a new device each time but still one address.
    address_hash: Mapped[Optional[str]] = mapped_column(String(32))
    # answer_digest(answers) of what was stored, set by every write path of the service;
    # NULL for responses stored before migration 0008 (unknown: never counted as alike).
    answer_digest: Mapped[Optional[str]] = mapped_column(String(64))
    # The commune the citizen said they live in (asked once, skippable): a centre serving
    # several communes can then be read by where its citizens come from too.
    residence_unit_id: Mapped[Optional[int]] = mapped_column(ForeignKey("unit.id"), index=True)
    # The rollup watermark: set in the transaction that adds this response to the rollups.
    rolled_up: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    answers: WriteOnlyMapped["Answer"] = relationship(
        back_populates="response", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"<Response {self.id} campaign={self.campaign_id} unit={self.unit_id} {self.channel}>"


class Answer(Base):
    """One value of one question: ``value_int`` for levels and numbers, ``value_text`` for
    option keys and text. A multiple-choice question has one row per chosen option."""

    __tablename__ = "answer"
    __table_args__ = (
        CheckConstraint(
            "(value_int IS NULL) <> (value_text IS NULL)", name="one_value"
        ),
        Index("ix_answer_question_value", "question_key", "value_int"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id", ondelete="CASCADE"), index=True)
    question_key: Mapped[str] = mapped_column(String(32))
    value_int: Mapped[Optional[int]] = mapped_column(Integer)
    value_text: Mapped[Optional[str]] = mapped_column(Text)
    # Its response's ``submitted_at``, copied by every write path: on PostgreSQL both tables
    # are partitioned by month on it (services/data/partitions.py), so a response and its
    # answers share a month's partitions.
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)

    response: Mapped[Response] = relationship(back_populates="answers")

    def __repr__(self) -> str:
        value = self.value_int if self.value_int is not None else self.value_text
        return f"<Answer {self.response_id} {self.question_key}={value!r}>"
