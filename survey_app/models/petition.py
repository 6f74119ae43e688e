"""Petitions (góp ý, phản ánh, kiến nghị): a citizen's text with a tracking code, its
status history, the official answer, and — only with explicit consent — contact details.

Contact details and the photo live in tables of their own: no consent means no contact
row at all, and deleting contact details on request deletes that row while the petition
stays.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import (Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, LargeBinary, String, Text,
                        UniqueConstraint, false)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow
from .unit import Unit
from .user import User

PETITION_CATEGORIES = ("procedure", "health", "education", "infrastructure", "public_order", "environment",
                       "staff_conduct", "other")
#: The stages of the national portal's rules (Quyết định 766/QĐ-TTg): ``received`` →
#: ``refused`` (out of scope, with a reason) | ``waiting`` (more information asked of the
#: citizen: the clock stops until they reply, then back to received/assigned) | ``assigned``
#: → ``answered`` (the answer given to the petitioner) → ``published`` (the answer public on
#: the unit's page); ``closed`` by staff after that. See ``services/petitions/clocks.py``.
PETITION_STATUSES = ("received", "waiting", "assigned", "refused", "answered", "published", "closed")
#: Event kinds. ``PUBLIC_EVENT_KINDS`` appear in the public history at ``/t/<tracking>``;
#: notes, drafts, approvals and contact deletions never do. ``not_resolved``: the petitioner
#: said (with the tracking code) that the answer did not resolve it, which reopened it.
PETITION_EVENT_KINDS = ("received", "assigned", "note", "answer_saved", "answered", "text_approved",
                        "text_withheld", "closed", "reopened", "contact_deleted", "refused", "info_requested",
                        "info_provided", "published", "not_resolved", "merged")
PUBLIC_EVENT_KINDS = ("received", "assigned", "answered", "closed", "reopened", "refused", "info_requested",
                      "info_provided", "published", "not_resolved", "merged")


def _in(values) -> str:
    return ", ".join(f"'{v}'" for v in values)


class Petition(Base):
    """One petition. ``unit`` is the unit responsible now (an assignment moves it, and with
    it the petition's scope); ``origin_unit`` is where it was filed.

    ``body`` is shown to the public only when the citizen allowed it
    (``publish_consent``) *and* an official approved it (``text_approved``). The answer
    has a working copy (``answer_draft``) and the published text (``answer_text``);
    ``answered_at`` is the first publication (what the legal time limit is measured
    against), ``due_on`` the last day of that limit (local date).
    """

    __tablename__ = "petition"
    __table_args__ = (
        CheckConstraint(f"category IN ({_in(PETITION_CATEGORIES)})", name="category"),
        CheckConstraint(f"status IN ({_in(PETITION_STATUSES)})", name="status"),
        CheckConstraint("trust IN ('ok', 'suspect')", name="trust"),
        CheckConstraint("language IN ('vi', 'en')", name="language"),
        Index("ix_petition_unit_status_due", "unit_id", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tracking_code: Mapped[str] = mapped_column(String(10), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    origin_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    category: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(5))
    status: Mapped[str] = mapped_column(String(10), default="received")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    deadline_days: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date)
    assigned_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    answer_draft: Mapped[Optional[str]] = mapped_column(Text)
    answer_text: Mapped[Optional[str]] = mapped_column(Text)
    answered_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    answer_published_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    closed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    #: Refused as out of scope (stage limit ``refuse``), with the reason the petitioner reads.
    refused_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    refusal_reason: Mapped[Optional[str]] = mapped_column(Text)
    #: The first request for more information (stage limit ``info``) and how many were made
    #: (a second request counts as late); ``waiting_since`` while the citizen is asked.
    info_requested_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    info_requests: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    waiting_since: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    #: Working days the clock stood still while waiting for the citizen, this round; ``due_on``
    #: already includes them.
    paused_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: The answer made public on the unit's page (stage limit ``publish`` after ``answered_at``).
    published_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    #: The petitioner said the answer did not resolve it: reopened once, with a new clock from
    #: ``reopened_at`` (``answered_at``/``published_at`` then belong to the new round).
    reopen_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reopened_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    publish_consent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    publish_consent_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    text_approved: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    trust: Mapped[str] = mapped_column(String(10), default="ok")
    trust_reason: Mapped[Optional[str]] = mapped_column(String(200))
    # The nonce of the form that sent it: a double tap or a retry finds this row again.
    submission_key: Mapped[Optional[str]] = mapped_column(String(64), unique=True)
    #: The same matter filed again after ``repeat_of`` was answered: a repeat (the national
    #: portal leaves repeats out of its petition-satisfaction figure).
    repeat_of_id: Mapped[Optional[int]] = mapped_column(ForeignKey("petition.id", ondelete="SET NULL"), index=True)
    #: Staff merged this duplicate into ``merged_into``: it follows that petition's answer
    #: and keeps its own tracking code.
    merged_into_id: Mapped[Optional[int]] = mapped_column(ForeignKey("petition.id", ondelete="SET NULL"),
                                                          index=True)

    unit: Mapped[Unit] = relationship(foreign_keys=[unit_id])
    origin_unit: Mapped[Unit] = relationship(foreign_keys=[origin_unit_id])
    repeat_of: Mapped[Optional["Petition"]] = relationship(remote_side=[id], foreign_keys=[repeat_of_id])
    merged_into: Mapped[Optional["Petition"]] = relationship(remote_side=[id], foreign_keys=[merged_into_id])
    contact: Mapped[Optional["PetitionContact"]] = relationship(
        back_populates="petition", cascade="all, delete-orphan", passive_deletes=True)
    photo: Mapped[Optional["PetitionPhoto"]] = relationship(
        back_populates="petition", cascade="all, delete-orphan", passive_deletes=True)
    events: Mapped[list["PetitionEvent"]] = relationship(
        back_populates="petition", cascade="all, delete-orphan", passive_deletes=True,
        order_by=lambda: (PetitionEvent.at, PetitionEvent.id))

    @property
    def is_open(self) -> bool:
        """Not answered yet (received, waiting for the citizen, or assigned)."""
        return self.status in ("received", "waiting", "assigned")

    @property
    def text_is_public(self) -> bool:
        return bool(self.publish_consent and self.text_approved)

    def __repr__(self) -> str:
        return f"<Petition {self.id} {self.tracking_code} {self.status} unit={self.unit_id}>"


class PetitionContact(Base):
    """Contact details, stored only with the citizen's explicit consent for one purpose
    (being contacted about this petition): the consent text they saw and when they gave it
    are kept with them."""

    __tablename__ = "petition_contact"

    petition_id: Mapped[int] = mapped_column(ForeignKey("petition.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[Optional[str]] = mapped_column(String(100))
    phone: Mapped[Optional[str]] = mapped_column(String(32))
    email: Mapped[Optional[str]] = mapped_column(String(254))
    consent_text: Mapped[str] = mapped_column(Text)
    consent_language: Mapped[str] = mapped_column(String(5))
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The petitioner followed the "stop these e-mails" link: no more notices.
    unsubscribed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    petition: Mapped[Petition] = relationship(back_populates="contact")

    def __repr__(self) -> str:  # never the details themselves
        return f"<PetitionContact petition={self.petition_id}>"


class PetitionPhoto(Base):
    """The optional photo, re-encoded (metadata stripped) and size-capped; served only to
    officials whose scope covers the petition."""

    __tablename__ = "petition_photo"

    petition_id: Mapped[int] = mapped_column(ForeignKey("petition.id", ondelete="CASCADE"), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    mime: Mapped[str] = mapped_column(String(32))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)

    petition: Mapped[Petition] = relationship(back_populates="photo")

    def __repr__(self) -> str:
        return f"<PetitionPhoto petition={self.petition_id} {self.width}x{self.height}>"


class PetitionEvent(Base):
    """One step of a petition's history. ``public`` events form the history anyone with
    the tracking code sees; ``note`` carries an internal note (never public).
    ``unit_id``/``unit_name_*`` name the unit an assignment moved the petition to."""

    __tablename__ = "petition_event"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_in(PETITION_EVENT_KINDS)})", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petition.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))
    public: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("official.id", ondelete="SET NULL"), index=True)
    actor_name: Mapped[Optional[str]] = mapped_column(String(64))
    unit_id: Mapped[Optional[int]] = mapped_column(ForeignKey("unit.id", ondelete="SET NULL"))
    unit_name_vi: Mapped[Optional[str]] = mapped_column(String(200))
    unit_name_en: Mapped[Optional[str]] = mapped_column(String(200))
    note: Mapped[Optional[str]] = mapped_column(Text)

    petition: Mapped[Petition] = relationship(back_populates="events")
    actor: Mapped[Optional[User]] = relationship()

    def unit_name(self, lang: str) -> str:
        return (self.unit_name_en if lang == "en" and self.unit_name_en else self.unit_name_vi) or ""

    def __repr__(self) -> str:
        return f"<PetitionEvent {self.id} petition={self.petition_id} {self.kind}>"


NOTICE_STATUSES = ("pending", "sent", "skipped")


class PetitionNotice(Base):
    """One e-mail to the petitioner about one public event of their petition (received,
    assigned, answered, closed, reopened). At most one per event (unique ``event_id``), so
    two workers sweeping at once cannot both send it. ``skipped``: the address or the
    consent went away before it was sent."""

    __tablename__ = "petition_notice"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(NOTICE_STATUSES)})", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petition.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("petition_event.id", ondelete="CASCADE"), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[Optional[str]] = mapped_column(String(300))

    petition: Mapped[Petition] = relationship()
    event: Mapped[PetitionEvent] = relationship()

    def __repr__(self) -> str:
        return f"<PetitionNotice {self.id} event={self.event_id} {self.status}>"


VERDICTS = ("satisfied", "dissatisfied")


class PetitionVerdict(Base):
    """One "hài lòng / không hài lòng" on a published answer, by anyone, once per device
    (issue #18 item 2; ``services/petitions/verdicts.py``). ``device_hash`` and
    ``address_hash`` are the survey's keyed daily hashes (``survey_app/ratelimit.py``): no
    raw address or device identifier is stored. A second mark from one device finds the
    unique ``(petition_id, device_hash)``. ``trust``/``trust_reason`` as on a survey
    response (``honeypot``, ``too_fast``, ``over_limit``): suspect marks are kept, flagged,
    and left out of every count. ``submission_key`` is the form's nonce (a double tap finds
    the row again)."""

    __tablename__ = "petition_verdict"
    __table_args__ = (
        CheckConstraint(f"verdict IN ({_in(VERDICTS)})", name="verdict"),
        CheckConstraint("trust IN ('ok', 'suspect')", name="trust"),
        UniqueConstraint("petition_id", "device_hash"),
        Index("ix_petition_verdict_petition_trust", "petition_id", "trust"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petition.id", ondelete="CASCADE"))
    verdict: Mapped[str] = mapped_column(String(12))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    device_hash: Mapped[str] = mapped_column(String(64))
    address_hash: Mapped[Optional[str]] = mapped_column(String(64))
    trust: Mapped[str] = mapped_column(String(10), default="ok")
    trust_reason: Mapped[Optional[str]] = mapped_column(String(200))
    submission_key: Mapped[Optional[str]] = mapped_column(String(64), unique=True)

    petition: Mapped[Petition] = relationship()

    def __repr__(self) -> str:  # never the hashes
        return f"<PetitionVerdict {self.id} petition={self.petition_id} {self.verdict} {self.trust}>"
