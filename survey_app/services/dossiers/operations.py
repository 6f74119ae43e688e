"""Dossiers from the one-stop software: checking, creating or updating them, and their
evaluation codes.

A dossier arrives as a JSON object (the API, one or up to :data:`MAX_BATCH` at once) or a
CSV row (``flask dossiers import``); both go through :func:`check_fields`, which names
every problem with its field (and, in a batch, its index) and writes nothing. Times are
ISO 8601; one without an offset is Vietnam time (``Asia/Ho_Chi_Minh``); they are stored
in UTC.

Idempotent on the dossier code: sending a dossier again with the same content changes
nothing and says so (``unchanged``); with other content it updates the dossier
(``updated``); a code never seen makes a new dossier (``created``) with a one-time
evaluation code: a :class:`~survey_app.models.VisitToken` of the open one-time-code campaign
of a one-stop instrument at the dossier's service point. The plain code exists only in the
answer to the request that created it (only its digest is stored, as for every code); the
short ``check_code`` printed beside the dossier code on the receipt is kept, so the
citizen can always open the survey at ``/d`` by typing both.

The check code is random (6 symbols of Crockford's base 32, 30 bits), not derived from
the dossier code with a key: a key would tie every printed receipt to the current
``SECRET_KEY`` (see :mod:`survey_app.services.qr.tokens`). Guessing is held back by the
rate limits of ``/d``: at 10 tries a minute, a 30-bit code takes about 100 years on average.
"""
from __future__ import annotations

import hmac
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Mapping, Sequence

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import DOSSIER_STATUSES, Campaign, Dossier, Unit, VisitToken, campaign_unit, utcnow
from ..qr import codes, tokens
from ..reports.rollup import LOCAL_TZ

__all__ = [
    "CHECK_LENGTH", "FIELDS", "MAX_BATCH", "DossierData", "DossierInvalid", "Outcome", "Problem",
    "apply_status", "check_fields", "check_status_fields", "entry_check", "find_campaign", "normalize_dossier_code",
    "parse_time", "rows_to_payloads", "upsert", "upsert_many",
]

MAX_BATCH = 1000
CHECK_LENGTH = 6
CODE_VALID_DAYS = 120  # an evaluation code can be used this long after the dossier is first reported
#: The fields of a dossier, as the API and the CSV name them.
FIELDS = ("code", "procedure_code", "procedure_name", "sector", "service_point", "received_at", "due_at",
          "returned_at", "status", "waited_minutes", "document_requests", "petition", "staff")
REQUIRED = ("code", "procedure_code", "procedure_name", "sector", "service_point", "received_at")
STATUS_FIELDS = ("status", "returned_at", "due_at", "waited_minutes", "document_requests", "petition")
_LIMITS = {"code": 64, "procedure_code": 64, "procedure_name": 500, "sector": 200, "service_point": 16, "staff": 100}
_MAX_MINUTES = 60 * 24 * 366 * 5


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: the field (``None`` for the whole object), the
    message for the person who sent it, and the index in a batch."""
    field: str | None
    message: str
    index: int | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field, "message": self.message}
        if self.index is not None:
            out["index"] = self.index
        return out


class DossierInvalid(ValueError):
    """The input cannot be taken; ``problems`` names every problem. Nothing was written.
    ``status`` is the HTTP status that fits (422 bad values, 404 unknown dossier, 409 a
    code that belongs to a point outside the caller's units)."""

    def __init__(self, problems: Sequence[Problem], status: int = 422):
        super().__init__("; ".join(p.message for p in problems))
        self.problems = list(problems)
        self.status = status


@dataclass
class DossierData:
    """A checked dossier: canonical code, its point, the times in UTC."""
    code: str
    point: Unit
    procedure_code: str
    procedure_name: str
    sector: str
    received_at: datetime
    due_at: datetime | None = None
    returned_at: datetime | None = None
    status: str = "processing"
    waited_minutes: int = 0
    document_requests: int = 0
    petition: bool = False
    staff: str | None = None

    def values(self) -> dict[str, Any]:
        return {"unit_id": self.point.id, "procedure_code": self.procedure_code,
                "procedure_name": self.procedure_name, "sector": self.sector, "received_at": self.received_at,
                "due_at": self.due_at, "returned_at": self.returned_at, "status": self.status,
                "waited_minutes": self.waited_minutes, "document_requests": self.document_requests,
                "petition": self.petition, "staff": self.staff}


@dataclass
class Outcome:
    """What a write did: ``created``, ``updated`` or ``unchanged``; ``evaluation_code`` (formatted)
    only for ``created``; ``changed`` names the fields an update changed."""
    dossier: Dossier
    result: str
    evaluation_code: str | None = None
    changed: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- checking

def normalize_dossier_code(raw: Any) -> str | None:
    """A dossier code as the software prints it: NFC, no spaces around, upper case; ``None``
    if empty, too long or holding characters other than letters, digits and ``.-_/``."""
    if not isinstance(raw, str):
        return None
    value = unicodedata.normalize("NFC", raw).strip().upper()
    if not value or len(value) > _LIMITS["code"]:
        return None
    if any(not (ch.isascii() and (ch.isalnum() or ch in ".-_/")) for ch in value):
        return None
    return value


def parse_time(raw: Any) -> datetime | None:
    """ISO 8601 date-time (``2026-03-02T08:15``, ``…+07:00``, ``…Z``) in UTC; no offset means
    Vietnam time. ``None`` if it is not one."""
    if not isinstance(raw, str) or not 10 <= len(raw.strip()) <= 40:
        return None
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)
    if not 2000 <= moment.year <= 2100:
        return None
    return moment.astimezone(timezone.utc)


def _text(value: Any, name: str, problems: list[Problem], required: bool) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.append(Problem(name, _("%(field)s is required.", field=name)))
        return None
    if not isinstance(value, str):
        problems.append(Problem(name, _("%(field)s must be text.", field=name)))
        return None
    text = unicodedata.normalize("NFC", value).strip()
    if len(text) > _LIMITS[name]:
        problems.append(Problem(name, _("%(field)s is longer than %(limit)d characters.", field=name,
                                        limit=_LIMITS[name])))
        return None
    if any(ord(ch) < 32 for ch in text):
        problems.append(Problem(name, _("%(field)s holds control characters.", field=name)))
        return None
    return text


def _time(value: Any, name: str, problems: list[Problem], required: bool) -> datetime | None:
    if value is None or value == "":
        if required:
            problems.append(Problem(name, _("%(field)s is required.", field=name)))
        return None
    moment = parse_time(value)
    if moment is None:
        problems.append(Problem(name, _(
            "%(field)s must be an ISO 8601 date and time, like 2026-03-02T08:15 (Vietnam time) or "
            "2026-03-02T08:15:00+07:00.", field=name)))
    return moment


def _count(value: Any, name: str, problems: list[Problem]) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_MINUTES:
        problems.append(Problem(name, _("%(field)s must be a whole number, 0 or more.", field=name)))
        return None
    return value


def _flag(value: Any, name: str, problems: list[Problem]) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "có", "0", "false", "no", "không"):
        return value.strip().lower() in ("1", "true", "yes", "có")
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    problems.append(Problem(name, _("%(field)s must be true or false.", field=name)))
    return None


def _status(value: Any, problems: list[Problem]) -> str | None:
    if value is None or value == "":
        return None
    if value not in DOSSIER_STATUSES:
        problems.append(Problem("status", _("status must be one of %(choices)s.", choices=", ".join(DOSSIER_STATUSES))))
        return None
    return value


def _unknown(payload: Mapping[str, Any], allowed: Iterable[str], problems: list[Problem]) -> None:
    for name in payload:
        if name not in allowed:
            problems.append(Problem(str(name)[:40], _("%(field)s is not a field of a dossier.", field=str(name)[:40])))


def _check_order(received: datetime | None, due: datetime | None, returned: datetime | None,
                 problems: list[Problem], now: datetime) -> None:
    if received is not None and received > now + timedelta(minutes=10):
        problems.append(Problem("received_at", _("received_at is in the future.")))
    if received is not None and due is not None and due < received:
        problems.append(Problem("due_at", _("due_at is before received_at.")))
    if received is not None and returned is not None and returned < received:
        problems.append(Problem("returned_at", _("returned_at is before received_at.")))
    if returned is not None and returned > now + timedelta(minutes=10):
        problems.append(Problem("returned_at", _("returned_at is in the future.")))


def check_fields(session: Session, scope, payload: Any, now: datetime | None = None) -> tuple[DossierData | None, list[Problem]]:
    """A whole dossier (``POST``): the checked data, or ``None`` and every problem.

    ``scope`` decides which service points the caller may report for (a point outside it
    is "unknown", as if it did not exist)."""
    now = now or utcnow()
    problems: list[Problem] = []
    if not isinstance(payload, Mapping):
        return None, [Problem(None, _("A dossier must be a JSON object."))]
    _unknown(payload, FIELDS, problems)
    raw_code = payload.get("code")
    code = None
    if raw_code is None or raw_code == "":
        problems.append(Problem("code", _("%(field)s is required.", field="code")))
    else:
        code = normalize_dossier_code(raw_code)
        if code is None:
            problems.append(Problem("code", _(
                "code must be 1–64 letters, digits or . - _ / (the dossier code the one-stop software gave).")))
    texts = {name: _text(payload.get(name), name, problems, name in REQUIRED)
             for name in ("procedure_code", "procedure_name", "sector", "staff")}
    point_ref = _text(payload.get("service_point"), "service_point", problems, True)
    point = None
    if point_ref is not None:
        point = session.scalar(select(Unit).where(Unit.code == point_ref.lower(), Unit.is_service_point.is_(True)))
        if point is None or not scope.covers(point) or not point.active:
            problems.append(Problem("service_point", _(
                "service_point %(code)s is not an active service point of your units.", code=point_ref)))
            point = None
        elif point.kind != "one_stop":
            problems.append(Problem("service_point", _(
                "service_point %(code)s is not a one-stop counter.", code=point_ref)))
            point = None
    received = _time(payload.get("received_at"), "received_at", problems, True)
    due = _time(payload.get("due_at"), "due_at", problems, False)
    returned = _time(payload.get("returned_at"), "returned_at", problems, False)
    status = _status(payload.get("status"), problems)
    waited = _count(payload.get("waited_minutes"), "waited_minutes", problems)
    requests = _count(payload.get("document_requests"), "document_requests", problems)
    petition = _flag(payload.get("petition"), "petition", problems)
    _check_order(received, due, returned, problems, now)
    status = _settle_status(status, returned, problems)
    if problems:
        return None, problems
    return DossierData(code=code, point=point, procedure_code=texts["procedure_code"],
                       procedure_name=texts["procedure_name"], sector=texts["sector"], staff=texts["staff"],
                       received_at=received, due_at=due, returned_at=returned, status=status,
                       waited_minutes=waited or 0, document_requests=requests or 0,
                       petition=bool(petition)), []


def _settle_status(status: str | None, returned: datetime | None, problems: list[Problem]) -> str | None:
    """A returned dossier has a return time, and a return time means it was returned."""
    if status in ("returned", "returned_late") and returned is None:
        problems.append(Problem("returned_at", _("returned_at is required when the status is %(status)s.",
                                                 status=status)))
    if status in ("processing", "waiting") and returned is not None:
        problems.append(Problem("status", _("A dossier with returned_at cannot be %(status)s.", status=status)))
    if status is None:
        return "returned" if returned is not None else "processing"
    return status


def check_status_fields(dossier: Dossier, payload: Any, now: datetime | None = None) -> tuple[dict[str, Any], list[Problem]]:
    """A later change (``PATCH``): the new values, or every problem."""
    now = now or utcnow()
    problems: list[Problem] = []
    if not isinstance(payload, Mapping) or not payload:
        return {}, [Problem(None, _("Send a JSON object with at least one of: %(fields)s.",
                                    fields=", ".join(STATUS_FIELDS)))]
    _unknown(payload, STATUS_FIELDS, problems)
    values: dict[str, Any] = {}
    if "status" in payload:
        values["status"] = _status(payload["status"], problems) or dossier.status
    if "returned_at" in payload:
        values["returned_at"] = _time(payload["returned_at"], "returned_at", problems, False)
    if "due_at" in payload:
        values["due_at"] = _time(payload["due_at"], "due_at", problems, False)
    for name in ("waited_minutes", "document_requests"):
        if name in payload:
            count = _count(payload[name], name, problems)
            if count is not None:
                values[name] = count
    if "petition" in payload:
        flag = _flag(payload["petition"], "petition", problems)
        if flag is not None:
            values["petition"] = flag
    returned = values.get("returned_at", dossier.returned_at)
    _check_order(dossier.received_at, values.get("due_at", dossier.due_at), returned, problems, now)
    if "status" in values or "returned_at" in values:
        values["status"] = _settle_status(values.get("status") if "status" in payload else None, returned, problems)
    return values, problems


# --------------------------------------------------------------------------- writing

def find_campaign(session: Session, point: Unit, now: datetime) -> Campaign | None:
    """The open one-time-code campaign of a one-stop instrument at ``point`` (the newest if several)."""
    candidates = session.scalars(
        select(Campaign).join(campaign_unit, campaign_unit.c.campaign_id == Campaign.id)
        .where(campaign_unit.c.unit_id == point.id, Campaign.access_mode == "visit_token",
               Campaign.status == "open").order_by(Campaign.id.desc()))
    for campaign in candidates:
        if campaign.state_at(now) == "open" and campaign.instrument_version.snapshot.get("kind") == "one_stop":
            return campaign
    return None


def _no_campaign(point: Unit) -> Problem:
    return Problem("service_point", _(
        "%(code)s has no open one-time-code campaign of a one-stop survey, so no evaluation code can be made. "
        "A manager must open one (access: one-time codes) first.", code=point.code))


def _new_check_code() -> str:
    return codes.new_code(CHECK_LENGTH)


def _issue(session: Session, campaign: Campaign, point: Unit, now: datetime) -> tuple[VisitToken, str]:
    code = tokens.new_code()
    token = VisitToken(campaign_id=campaign.id, unit_id=point.id, code_hash=tokens.code_hash(code), created_at=now,
                       expires_at=now + timedelta(days=CODE_VALID_DAYS))
    session.add(token)
    return token, tokens.format_code(code)


def _apply(session: Session, existing: Dossier, values: Mapping[str, Any], now: datetime) -> list[str]:
    changed = [name for name, value in values.items() if getattr(existing, name) != value]
    for name in changed:
        setattr(existing, name, values[name])
    if changed:
        existing.updated_at = now
    return changed


def _write(session: Session, data: DossierData, existing: Dossier | None, campaigns: dict[int, Campaign | None],
           actor_name: str, source: str, now: datetime) -> Outcome:
    if existing is not None:
        changed = _apply(session, existing, data.values(), now)
        return Outcome(existing, "updated" if changed else "unchanged", changed=changed)
    campaign = campaigns[data.point.id]
    token, plain = _issue(session, campaign, data.point, now)
    dossier = Dossier(code=data.code, check_code=_new_check_code(), token=token, source=source,
                      created_at=now, updated_at=now, created_by=actor_name[:64], **data.values())
    session.add(dossier)
    return Outcome(dossier, "created", evaluation_code=plain)


def _existing(session: Session, codes_: Sequence[str]) -> dict[str, Dossier]:
    found: dict[str, Dossier] = {}
    for start in range(0, len(codes_), 500):
        chunk = codes_[start:start + 500]
        for dossier in session.scalars(select(Dossier).where(Dossier.code.in_(chunk))):
            found[dossier.code] = dossier
    return found


def upsert_many(session: Session, scope, payloads: Sequence[Any], *, actor_name: str, source: str = "api",
                now: datetime | None = None, batch: bool = True, limit: int | None = MAX_BATCH) -> list[Outcome]:
    """Check every dossier, then write them all, or none: :class:`DossierInvalid` names each
    problem with its index. The caller commits (and must roll back on an error)."""
    now = now or utcnow()
    if batch and limit is not None and not 1 <= len(payloads) <= limit:
        raise DossierInvalid([Problem(None, _("A batch holds 1 to %(limit)d dossiers, not %(n)d.",
                                              limit=MAX_BATCH, n=len(payloads)))])
    problems: list[Problem] = []
    checked: list[tuple[int, DossierData]] = []
    seen: dict[str, int] = {}
    for index, payload in enumerate(payloads):
        data, found = check_fields(session, scope, payload, now)
        where = index if batch else None
        problems.extend(Problem(p.field, p.message, where) for p in found)
        if data is None:
            continue
        if data.code in seen:
            problems.append(Problem("code", _("code %(code)s is also at index %(other)d of this batch.",
                                              code=data.code, other=seen[data.code]), where))
            continue
        seen[data.code] = index
        checked.append((index, data))
    existing = _existing(session, [d.code for _i, d in checked])
    campaigns: dict[int, Campaign | None] = {}
    status = 422
    for index, data in checked:
        where = index if batch else None
        old = existing.get(data.code)
        if old is not None:
            if not scope.covers(old.unit):
                problems.append(Problem("code", _(
                    "Dossier %(code)s was reported by another unit; a dossier code cannot be reused.",
                    code=data.code), where))
                status = 409
            continue
        if data.point.id not in campaigns:
            campaigns[data.point.id] = find_campaign(session, data.point, now)
        if campaigns[data.point.id] is None:
            problem = _no_campaign(data.point)
            problems.append(Problem(problem.field, problem.message, where))
    if problems:
        raise DossierInvalid(problems, status if all(p.field == "code" for p in problems) and status == 409 else 422)
    outcomes = [_write(session, data, existing.get(data.code), campaigns, actor_name, source, now)
                for _index, data in checked]
    session.flush()
    return outcomes


def upsert(session: Session, scope, payload: Any, *, actor_name: str, now: datetime | None = None) -> Outcome:
    """One dossier (``POST /api/v1/dossiers``); problems are named without an index."""
    return upsert_many(session, scope, [payload], actor_name=actor_name, now=now, batch=False)[0]


def find_in_scope(session: Session, scope, raw_code: str) -> Dossier | None:
    code = normalize_dossier_code(raw_code)
    if code is None:
        return None
    dossier = session.scalar(select(Dossier).where(Dossier.code == code))
    if dossier is None or not scope.covers(dossier.unit):
        return None
    return dossier


def apply_status(session: Session, scope, raw_code: str, payload: Any, now: datetime | None = None) -> Outcome:
    """A later change of a dossier (``PATCH``): ``updated`` or ``unchanged``. The caller commits."""
    now = now or utcnow()
    dossier = find_in_scope(session, scope, raw_code)
    if dossier is None:
        raise DossierInvalid([Problem(None, _("There is no dossier %(code)s among your units.",
                                              code=str(raw_code)[:64]))], status=404)
    values, problems = check_status_fields(dossier, payload, now)
    if problems:
        raise DossierInvalid(problems)
    changed = _apply(session, dossier, values, now)
    session.flush()
    return Outcome(dossier, "updated" if changed else "unchanged", changed=changed)


def rows_to_payloads(columns: Sequence[str], rows: Sequence[Mapping[str, str]]) -> tuple[list[dict], list[int], list[str]]:
    """A one-stop software's CSV export (a header of :data:`FIELDS`, any order) as
    dossier objects, with the file's row number of each; blank rows are skipped. The
    third item names unknown columns."""
    unknown = [c for c in columns if c and c not in FIELDS]
    payloads, numbers = [], []
    for number, row in enumerate(rows, start=2):
        if not any((v or "").strip() for v in row.values()):
            continue
        payloads.append({name: (row.get(name) or "").strip() or None for name in columns if name in FIELDS})
        numbers.append(number)
    return payloads, numbers, unknown


# --------------------------------------------------------------------------- the citizen's side

def entry_check(session: Session, raw_code: str | None, raw_check: str | None) -> Dossier | None:
    """The dossier whose code and check code were typed (``/d``), or ``None`` when the pair
    does not match (one answer for an unknown code and a wrong check code, so the page
    tells nothing about which dossier codes exist)."""
    code = normalize_dossier_code(raw_code)
    check = codes.normalize_code(raw_check, CHECK_LENGTH, max_typed=16)
    if code is None or check is None:
        return None
    dossier = session.scalar(select(Dossier).where(Dossier.code == code))
    expected = dossier.check_code if dossier is not None else "0" * CHECK_LENGTH
    matched = hmac.compare_digest(expected.encode(), check.encode())
    return dossier if dossier is not None and matched else None
