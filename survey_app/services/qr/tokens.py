"""One-time codes for ``visit_token`` and ``respondent_token`` campaigns.

A code is 16 symbols of Crockford's base32 (``0-9`` and ``A-Z`` without ``I L O U``):
16 × 5 = 80 random bits from :mod:`secrets`, printed in groups of four
(``K7QM-3XDA-9F2P-HW8T``). Typing is forgiving: case does not matter, spaces, dashes
and dots are ignored, and ``O``/``I``/``L`` are read as ``0``/``1``/``1``.

Only a SHA-256 digest of the code is stored. A keyed HMAC adds nothing here: with 80
random bits, reversing one digest, or hitting any one of a million, still takes about
2^60 hash evaluations to win the right to answer one survey once. And a key would tie
every printed slip to the current ``SECRET_KEY``: rotating it (or the per-process random
key outside production, where ``flask tokens issue`` and the web server are different
processes) would void every code already handed out.

A code is spent by an atomic conditional UPDATE (``SET spent_at … WHERE spent_at IS NULL``)
in the same transaction as the response it admits; see
:func:`survey_app.services.collect.surveys.submit_response`.
"""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import TOKEN_ACCESS_MODES, Campaign, Unit, VisitToken, campaign_unit, utcnow
from ..collect.surveys import SurveyTarget
from ..data.spreadsheet import csv_writer
from . import codes
from .codes import ALPHABET
from .encoding import token_url

__all__ = [
    "ALPHABET", "CODE_LENGTH", "MAX_BATCH", "TokenIssueError", "TokenRefused", "TokenTarget",
    "code_hash", "codes_csv", "format_code", "issue_tokens", "new_code", "normalize_code",
    "resolve_token", "resolve_token_id", "spent_token_target", "token_state",
]

CODE_LENGTH = 16  # 16 × 5 = 80 random bits
GROUP = 4
MAX_BATCH = 5000


def new_code() -> str:
    """80 random bits as 16 Crockford symbols (canonical: upper case, no dashes)."""
    return codes.new_code(CODE_LENGTH)


def normalize_code(raw: str | None) -> str | None:
    """The canonical code a person meant, or ``None`` if it cannot be a code."""
    return codes.normalize_code(raw, CODE_LENGTH)


def format_code(code: str) -> str:
    """``K7QM3XDA9F2PHW8T`` → ``K7QM-3XDA-9F2P-HW8T``."""
    return codes.group_code(code, GROUP)


def code_hash(code: str) -> str:
    """The stored digest of a canonical code (domain-separated SHA-256, hex)."""
    return hashlib.sha256(b"hailong.visit-code\x00" + code.encode("ascii")).hexdigest()


# --------------------------------------------------------------------------- issuing

class TokenIssueError(ValueError):
    """Codes cannot be issued as asked; the message says why."""


def issue_tokens(session: Session, campaign: Campaign, unit: Unit, n: int, *,
                 expires_at: datetime | None = None, now: datetime | None = None) -> list[str]:
    """Create ``n`` one-time codes for ``campaign`` at ``unit``; return them formatted.

    The caller owns the transaction: the rows are flushed, not committed, so a caller can
    write the slips or the CSV first and commit only once they are safely out (and roll
    back if that fails). The plain codes exist only in the return value.

    Raises :class:`TokenIssueError` when the campaign is not token-based, is closed or
    over, the unit is not one of the campaign's units (or is inactive), ``n`` is outside
    1–5000, or ``expires_at`` is not in the future.
    """
    now = now or utcnow()
    if campaign.access_mode not in TOKEN_ACCESS_MODES:
        raise TokenIssueError(
            f"campaign {campaign.id} is {campaign.access_mode!r}: anyone with its poster QR may answer, so it "
            f"takes no one-time codes (those are for {' or '.join(TOKEN_ACCESS_MODES)} campaigns)")
    if campaign.state_at(now) in ("closed", "ended"):
        raise TokenIssueError(f"campaign {campaign.id} is {campaign.state_at(now)}: it accepts no more answers")
    if not isinstance(n, int) or not 1 <= n <= MAX_BATCH:
        raise TokenIssueError(f"the number of codes must be between 1 and {MAX_BATCH}, not {n}")
    in_campaign = session.scalar(select(campaign_unit.c.unit_id).where(
        campaign_unit.c.campaign_id == campaign.id, campaign_unit.c.unit_id == unit.id))
    if in_campaign is None:
        raise TokenIssueError(f"{unit.code or unit.path} is not one of the units of campaign {campaign.id}")
    if not unit.active:
        raise TokenIssueError(f"{unit.code or unit.path} is not active")
    if expires_at is not None:
        if expires_at.tzinfo is None:
            raise TokenIssueError("the expiry must carry a time zone")
        if expires_at <= now:
            raise TokenIssueError("the expiry must be in the future")
    codes: set[str] = set()
    while len(codes) < n:
        codes.add(new_code())
    ordered = list(codes)
    session.add_all(VisitToken(campaign_id=campaign.id, unit_id=unit.id, code_hash=code_hash(c),
                               created_at=now, expires_at=expires_at) for c in ordered)
    session.flush()
    return [format_code(c) for c in ordered]


def codes_csv(codes: list[str], base_url: str, expires_at: datetime | None = None) -> str:
    """``code,url,expires_at`` rows for a one-stop software to print on its receipts
    (written like every export, so no cell can run as a formula)."""
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\n")
    writer.writerow(["code", "url", "expires_at"])
    expiry = expires_at.strftime("%Y-%m-%dT%H:%M:%SZ") if expires_at else ""
    for code in codes:
        writer.writerow([code, token_url(base_url, code), expiry])
    return out.getvalue()


# --------------------------------------------------------------------------- answering

class TokenRefused(Exception):
    """The code admits no answer; ``reason`` is one of ``unknown`` (also a malformed
    code), ``spent``, ``expired``, ``closed``, ``not_started`` or ``wrong_campaign``."""

    def __init__(self, reason: str, opens_at: datetime | None = None, unit: Unit | None = None):
        super().__init__(reason)
        self.reason = reason
        self.opens_at = opens_at
        self.unit = unit


@dataclass(frozen=True)
class TokenTarget:
    token_id: int
    code: str              # formatted, as printed
    target: SurveyTarget


def _find(session: Session, raw: str | None) -> tuple[str, VisitToken] | None:
    code = normalize_code(raw)
    if code is None:
        return None
    token = session.scalar(select(VisitToken).where(VisitToken.code_hash == code_hash(code)))
    return (code, token) if token is not None else None


def resolve_token(session: Session, raw: str | None, now: datetime | None = None) -> TokenTarget:
    """The survey a typed or scanned code opens right now, or :class:`TokenRefused`."""
    now = now or utcnow()
    found = _find(session, raw)
    if found is None:
        raise TokenRefused("unknown")
    code, token = found
    return _admit(session, token, format_code(code), now)


def resolve_token_id(session: Session, token_id: int | None, now: datetime | None = None) -> TokenTarget:
    """The same for a code known by its row (a dossier's, opened at ``/d`` with the dossier
    code and its check code): ``code`` is empty, since only the digest is stored."""
    now = now or utcnow()
    token = session.get(VisitToken, token_id) if token_id is not None else None
    if token is None:
        raise TokenRefused("unknown")
    return _admit(session, token, "", now)


def _admit(session: Session, token: VisitToken, formatted: str, now: datetime) -> TokenTarget:
    campaign, unit = token.campaign, token.unit
    if token.spent_at is not None:
        raise TokenRefused("spent", unit=unit)
    if token.expires_at is not None and now >= token.expires_at:
        raise TokenRefused("expired", unit=unit)
    in_campaign = session.scalar(select(campaign_unit.c.unit_id).where(
        campaign_unit.c.campaign_id == campaign.id, campaign_unit.c.unit_id == unit.id))
    if campaign.access_mode not in TOKEN_ACCESS_MODES or in_campaign is None or not unit.active:
        raise TokenRefused("wrong_campaign", unit=unit)
    state = campaign.state_at(now)
    if state in ("draft", "not_started"):
        raise TokenRefused("not_started", opens_at=campaign.starts_at if state == "not_started" else None, unit=unit)
    if state != "open":
        raise TokenRefused("closed", unit=unit)
    return TokenTarget(token.id, formatted, SurveyTarget(unit, campaign, campaign.instrument_version))


def spent_token_target(session: Session, raw: str | None) -> SurveyTarget | None:
    """The survey a spent code was used for (for its thank-you page), else ``None``."""
    found = _find(session, raw)
    if found is None or found[1].spent_at is None:
        return None
    token = found[1]
    return SurveyTarget(token.unit, token.campaign, token.campaign.instrument_version)


def token_state(session: Session, token_id: int, now: datetime | None = None) -> str:
    """Why a code could not be spent just now: ``expired`` or ``spent``."""
    now = now or utcnow()
    token = session.get(VisitToken, token_id, populate_existing=True)
    if token is not None and token.spent_at is None and token.expires_at is not None and now >= token.expires_at:
        return "expired"
    return "spent"
