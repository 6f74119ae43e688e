"""Alert rules per unit and instrument, and the alerts their evaluation opens.

A rule (``alert_rule``) watches one unit's subtree: ``kind`` says what (see
``ALERT_KINDS``), ``instrument_key`` on which instrument (``None`` for petitions),
``threshold`` the rule's number (its meaning per kind: ``services/alerts/rules.py``).

An alert (``alert``) is one condition found true: ``open`` when found, ``acknowledged``
when an official has noted it, ``resolved`` when an evaluation no longer finds it. At most
one alert per (rule, subject) is not resolved — a unique index the database holds — so
re-running an evaluation never opens a second one or mails it twice. ``subject`` tells
apart what one rule watches (a petition's id for ``petition_deadline``; empty otherwise).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow
from .unit import Unit
from .user import User

#: below: the index of the last complete month under ``threshold``; drop: the change between
#: the last two complete months significantly negative (the report's own interval and test);
#: spike: negative responses of the last local day above the previous 28 days' rate;
#: petition_deadline: an open petition due within ``threshold`` working days.
ALERT_KINDS = ("below", "drop", "spike", "petition_deadline")
ALERT_STATUSES = ("open", "acknowledged", "resolved")


def _in(values) -> str:
    return ", ".join(f"'{v}'" for v in values)


class AlertRule(Base):
    __tablename__ = "alert_rule"
    __table_args__ = (CheckConstraint(f"kind IN ({_in(ALERT_KINDS)})", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    instrument_key: Mapped[Optional[str]] = mapped_column(String(64))
    threshold: Mapped[Optional[float]] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("official.id", ondelete="SET NULL"))

    unit: Mapped[Unit] = relationship()
    created_by: Mapped[Optional[User]] = relationship()

    def __repr__(self) -> str:
        return f"<AlertRule {self.id} {self.kind} unit={self.unit_id} {self.instrument_key} {self.threshold}>"


class Alert(Base):
    __tablename__ = "alert"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(ALERT_STATUSES)})", name="status"),
        # One alert per rule and subject until it is resolved (idempotent evaluation).
        Index("uq_alert_rule_subject_unresolved", "rule_id", "subject", unique=True,
              sqlite_where=text("status <> 'resolved'"), postgresql_where=text("status <> 'resolved'")),
        Index("ix_alert_unit_status", "unit_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rule.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(12), default="open")
    #: What was found, for the inbox and the e-mail: period, n, value, interval, …
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("official.id", ondelete="SET NULL"))
    note: Mapped[Optional[str]] = mapped_column(Text)
    #: E-mail: when it was handed to the SMTP server, how many attempts, the last error.
    emailed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    email_attempts: Mapped[int] = mapped_column(Integer, default=0)
    email_error: Mapped[Optional[str]] = mapped_column(String(300))

    rule: Mapped[AlertRule] = relationship()
    unit: Mapped[Unit] = relationship()
    acknowledged_by: Mapped[Optional[User]] = relationship()

    def __repr__(self) -> str:
        return f"<Alert {self.id} {self.kind} {self.status} unit={self.unit_id} subject={self.subject!r}>"
