"""One-time visit codes and enrolled kiosks.

Neither table holds a secret in the clear: a visit code and a kiosk key are random strings
handed to a person or a device once, and only their SHA-256 digest is stored (see
:mod:`survey_app.services.qr.tokens` for why a plain digest is enough).
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow
from .campaign import Campaign
from .unit import Unit

TOKEN_ACCESS_MODES = ("visit_token", "respondent_token")


class VisitToken(Base):
    """A one-time code bound to one campaign and one unit, valid once, optionally until
    ``expires_at``.

    ``spent_at`` is set by an atomic conditional UPDATE in the same transaction as the
    response it admits, so two racing submissions cannot both spend it. It is rounded down
    to the UTC day, and the token row does not point at the response. A code issued for a
    dossier (:class:`~.dossier.Dossier`, ``token_id``) is different on purpose: the issue
    asks for each rating to be linked to its dossier (the denominator of the response rate
    and of the portal's figures), so ``dossier.response_id`` is set in the same
    transaction. That link is to a dossier, never to a person, and no page or export shows
    a dossier code beside an answer.
    """

    __tablename__ = "visit_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    spent_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    campaign: Mapped[Campaign] = relationship()
    unit: Mapped[Unit] = relationship()

    def __repr__(self) -> str:
        state = "spent" if self.spent_at else "unspent"
        return f"<VisitToken {self.id} campaign={self.campaign_id} unit={self.unit_id} {state}>"


class Kiosk(Base):
    """A tablet at a counter, allowed to collect answers for one service point.

    A manager creates it with a one-time enrolment secret (``enrol_hash``, valid until
    ``enrol_expires_at``); opening the enrolment link on the tablet trades that secret
    for a long-lived kiosk key kept in an HttpOnly cookie (``key_hash``). Revoking sets
    ``revoked_at``; the key then stops working at once.

    ``campaign_id``: the campaign a manager chose for this tablet (``None``: the point's
    quick instrument, see :func:`survey_app.services.qr.kiosks.kiosk_target`). Deleting the
    campaign clears the choice.
    """

    __tablename__ = "kiosk"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    label: Mapped[str] = mapped_column(String(80), default="")
    enrol_hash: Mapped[str] = mapped_column(String(64), unique=True)
    enrol_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    key_hash: Mapped[Optional[str]] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enrolled_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    campaign_id: Mapped[Optional[int]] = mapped_column(ForeignKey("campaign.id", ondelete="SET NULL"))

    unit: Mapped[Unit] = relationship()
    campaign: Mapped[Optional[Campaign]] = relationship()

    def state_at(self, now: datetime) -> str:
        """``revoked``, ``active`` (enrolled), ``pending`` (link not used yet) or ``expired``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.enrolled_at is not None:
            return "active"
        return "pending" if now < self.enrol_expires_at else "expired"

    def __repr__(self) -> str:
        return f"<Kiosk {self.id} unit={self.unit_id} {self.label!r}>"
