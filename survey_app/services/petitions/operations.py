"""Petitions (góp ý, phản ánh, kiến nghị): filing with a tracking code, the public status,
the officials' workflow, and the accountability figures.

Rules kept here, whatever the route:

* **Consent.** Contact details are stored only as a :class:`ContactInput` carrying the
  consent text the citizen saw; the routes build one only when the consent box is ticked,
  so without consent nothing of the contact fields reaches the database.
* **Public view.** :func:`public_status` is the only thing the public status page gets:
  status, public history, due date, the published answer, and the petition's text only
  when the citizen allowed it *and* an official approved it. Never notes, drafts, the
  photo or contact details.
* **Scope.** Officials reach petitions through :func:`scoped_query` and
  :func:`get_for_official`, built on :class:`survey_app.services.officials.scope.Scope`: a petition
  is in scope by the unit responsible for it now (an assignment moves it). Viewers read;
  managers run the workflow; contact details need a manager of the petition's unit (or
  above) and every view of them is audited.
* **Stages and time limits** (the national portal's rules; :mod:`.clocks`): received →
  refused (with a reason) | waiting for the citizen (more information asked; the clock stops)
  | assigned → answered (the answer given to the petitioner) → published (the answer public
  on the unit's page). ``due_on`` is the resolve due day: the n-th working day after the day
  of receipt (Asia/Ho_Chi_Minh; :mod:`survey_app.services.petitions.workdays`), n from
  ``PETITION_DEADLINES`` per category or ``PETITION_DEADLINE_DAYS`` (default 15), moved on by
  the working days spent waiting for the citizen. An answer counts on time when it is given on
  or before the due day; an unanswered petition not waiting is overdue from the day after.
  The petitioner may say once, with the tracking code, that the answer did not resolve it:
  the petition is reopened with a new clock from that day.
"""
from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable, Mapping, Sequence
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...models import (PETITION_CATEGORIES, PUBLIC_EVENT_KINDS, Petition, PetitionContact, PetitionEvent,
                      PetitionPhoto, Unit, User, utcnow)
from ..collect import formtoken
from ..collect.formtoken import FormToken
from ..collect.text import clean_text
from ..officials import audit
from ..officials.scope import Scope, not_found, path_under
from ..qr import codes
from ..qr.codes import ALPHABET
from . import clocks, similar, verdicts
from .clocks import StageClock
from .workdays import WorkdayCalendar

__all__ = [
    "ALPHABET", "CATEGORIES", "LOCAL_ZONE", "OPEN_STATUSES", "ContactInput", "Filed", "InboxFilter",
    "PetitionError", "PetitionSettings", "PhotoError", "ProcessedPhoto", "PublicStatus",
    "accountability", "portal_figures", "add_note", "assign", "assign_targets", "can_see_contact", "close", "count_overdue",
    "citizen_reply", "count_due_soon", "delete_contact", "due_soon_cutoff", "file_petition", "is_overdue", "make_public",
    "not_resolved", "refuse", "request_info", "resume", "send_answer", "stage_clocks", "RUNNING_STATUSES", "clock_running",
    "STATUS_ORDER",
    "find_by_tracking", "find_public", "format_tracking", "public_petition", "PublicPetition", "get_for_official", "inbox_query", "is_low_score",
    "issue_form_token", "local_day", "new_tracking_code", "normalize_tracking", "process_photo",
    "public_status", "read_form_token", "reopen", "save_answer", "scoped_query",
    "set_text_public", "view_contact", "merge", "merge_candidates", "already_filed", "merged_into", "unmark_repeat",
]

CATEGORIES = PETITION_CATEGORIES
#: Not answered yet. ``waiting`` is open but its clock stands still (never overdue).
OPEN_STATUSES = ("received", "waiting", "assigned")
#: Open and running: these can be overdue.
RUNNING_STATUSES = ("received", "assigned")


def clock_running():
    """SQL: the resolve clock runs — received or assigned, not answered, and not a duplicate
    merged into another (it follows that one). Only these can be overdue or due soon."""
    return and_(Petition.status.in_(RUNNING_STATUSES), Petition.answered_at.is_(None),
                Petition.merged_into_id.is_(None))
STATUS_ORDER = ("received", "waiting", "assigned", "refused", "answered", "published", "closed")
LOCAL_ZONE = "Asia/Ho_Chi_Minh"

# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class PetitionSettings:
    """The settings the petition rules read (``from_config`` takes them from the app)."""

    deadline_days: int = 15
    deadlines: Mapping[str, int] = field(default_factory=dict)
    #: Stage limits in working days (``refuse``, ``info``, ``publish``; ``resolve`` is
    #: ``deadline_days`` and per category ``deadlines``).
    refuse_days: int = 2
    info_days: int = 5
    publish_days: int = 2
    text_max: int = 4000
    photo_max_bytes: int = 5 * 1024 * 1024
    photo_max_side: int = 1600
    zone: str = LOCAL_ZONE
    calendar: WorkdayCalendar = field(default_factory=WorkdayCalendar)

    @classmethod
    def from_config(cls, config: Mapping[str, Any], calendar: WorkdayCalendar | None = None) -> "PetitionSettings":
        return cls(
            deadline_days=config.get("PETITION_DEADLINE_DAYS", 15),
            deadlines=dict(config.get("PETITION_DEADLINES") or {}),
            refuse_days=config.get("PETITION_REFUSE_DAYS", 2),
            info_days=config.get("PETITION_INFO_DAYS", 5),
            publish_days=config.get("PETITION_PUBLISH_DAYS", 2),
            text_max=config.get("PETITION_TEXT_MAX", 4000),
            photo_max_bytes=config.get("PETITION_PHOTO_MAX_BYTES", 5 * 1024 * 1024),
            photo_max_side=config.get("PETITION_PHOTO_MAX_SIDE", 1600),
            zone=config.get("DISPLAY_TIMEZONE", LOCAL_ZONE),
            calendar=calendar or WorkdayCalendar.from_config(config),
        )

    def limit_for(self, category: str) -> int:
        """Working days to answer a petition of ``category``."""
        return int(self.deadlines.get(category, self.deadline_days))

    def limits(self, category: str) -> dict[str, int]:
        """The four stage limits for a petition of ``category`` (see :mod:`.clocks`)."""
        return {"refuse": self.refuse_days, "info": self.info_days, "resolve": self.limit_for(category),
                "publish": self.publish_days}


_DEFAULT_SETTINGS: PetitionSettings | None = None


def _settings(settings: PetitionSettings | None) -> PetitionSettings:
    global _DEFAULT_SETTINGS
    if settings is not None:
        return settings
    if _DEFAULT_SETTINGS is None:
        _DEFAULT_SETTINGS = PetitionSettings()
    return _DEFAULT_SETTINGS


def local_day(moment: datetime, zone: str = LOCAL_ZONE) -> date:
    """The calendar day of ``moment`` in Viet Nam."""
    return moment.astimezone(ZoneInfo(zone)).date()


def _day_start_utc(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(timezone.utc)


class PetitionError(Exception):
    """A petition or an action on it was refused; ``field`` names the form field at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


# --------------------------------------------------------------------------- tracking codes

CODE_LENGTH = 10  # 10 × 5 = 50 random bits


def new_tracking_code() -> str:
    """Ten random Crockford base-32 characters (50 bits), stored without separators."""
    return codes.new_code(CODE_LENGTH)


def normalize_tracking(raw: str | None) -> str | None:
    """A typed code in canonical form, or ``None`` if it cannot be one (``services.qr.codes``)."""
    return codes.normalize_code(raw, CODE_LENGTH, max_typed=40)


def format_tracking(code: str) -> str:
    """``7K3QM-XD9FP``: two groups of five, easy to read aloud."""
    return codes.group_code(code, 5)


def find_by_tracking(session: Session, raw: str | None) -> Petition | None:
    code = normalize_tracking(raw)
    if code is None:
        return None
    return session.scalar(select(Petition).where(Petition.tracking_code == code))


# --------------------------------------------------------------------------- the citizen form's token

FORM_SALT = "hailong.petition-form"


def issue_form_token(secret: str, unit: Unit) -> str:
    """A signed token naming this form (``services.collect.formtoken``): its nonce becomes the
    petition's submission key and its time shows how fast the form was filled."""
    return formtoken.issue(secret, FORM_SALT, {"u": unit.id})


def read_form_token(secret: str, token: str | None, unit: Unit, max_age: int) -> FormToken | None:
    return formtoken.read(secret, FORM_SALT, token, {"u": unit.id}, max_age)

# --------------------------------------------------------------------------- photos

class PhotoError(PetitionError):
    """The uploaded photo is refused (``reason``: too_large, not_image, too_many_pixels)."""

    def __init__(self, reason: str, message: str):
        super().__init__(message, "photo")
        self.reason = reason


@dataclass(frozen=True)
class ProcessedPhoto:
    content: bytes
    mime: str
    width: int
    height: int


MAX_PIXELS = 50_000_000  # refuse before decoding anything bigger (decompression bombs)


def process_photo(data: bytes, *, max_bytes: int, max_side: int) -> ProcessedPhoto:
    """Check and re-encode an uploaded photo.

    Only JPEG and PNG (by content, not name) up to ``max_bytes``; turned upright by its
    EXIF orientation, shrunk to ``max_side`` pixels on its longer side and saved again as
    a fresh JPEG (quality 85) — which carries none of the original's metadata (EXIF
    including GPS, XMP, comments, PNG text chunks).
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if len(data) > max_bytes:
        raise PhotoError("too_large", _("The photo is larger than %(mb)d MB. Please choose a smaller one.",
                                        mb=max(1, max_bytes // (1024 * 1024))))
    def too_many_pixels() -> PhotoError:
        return PhotoError("too_many_pixels", _("The photo has too many pixels. Please send a smaller one."))

    try:
        # Only the header is read here. Pillow's own bomb check (a warning above
        # Image.MAX_IMAGE_PIXELS, an error above twice that) counts as a refusal too,
        # whatever that global is set to by anyone else.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                kind = probe.format
                width, height = probe.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_many_pixels() from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise PhotoError("not_image", _("The photo must be a JPEG or PNG image.")) from None
    if kind not in ("JPEG", "PNG"):
        raise PhotoError("not_image", _("The photo must be a JPEG or PNG image."))
    if width * height > MAX_PIXELS:  # refused before any pixel is decoded
        raise too_many_pixels()
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            image = ImageOps.exif_transpose(image)
            if image.mode not in ("RGB", "L"):
                rgba = image.convert("RGBA")
                image = Image.new("RGB", rgba.size, (255, 255, 255))
                image.paste(rgba, mask=rgba.getchannel("A"))
            image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
            # A fresh image from the pixels alone: no info dict, so no EXIF, comment or
            # ICC profile can travel into the saved file.
            clean = Image.frombytes(image.mode, image.size, image.tobytes())
            out = io.BytesIO()
            clean.save(out, format="JPEG", quality=85, optimize=True)
            size = clean.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_many_pixels() from None
    except (OSError, ValueError):
        raise PhotoError("not_image", _("The photo could not be read. Please send another one.")) from None
    return ProcessedPhoto(out.getvalue(), "image/jpeg", size[0], size[1])


# --------------------------------------------------------------------------- filing

@dataclass(frozen=True)
class ContactInput:
    """Contact details given together with consent: ``consent_text`` is the exact text the
    citizen saw next to the box they ticked."""

    consent_text: str
    consent_language: str
    name: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Filed:
    petition: Petition
    created: bool
    #: Known without a query: the petition's attributes expire with the commit.
    tracking_code: str


def _check_text(text: str, limit: int) -> str:
    text = clean_text(text or "")
    if not text:
        raise PetitionError(_("Please write your feedback."), "text")
    if len(text) > limit:
        raise PetitionError(_("Please shorten your text to %(limit)d characters (it has %(length)d).",
                              limit=limit, length=len(text)), "text")
    return text


def _written(raw: str | None, field: str, limit: int, empty: Callable[[], str], too_long: Callable[[], str]) -> str:
    """An official's text (a note, an answer, a reason, a question): cleaned, required, at
    most ``limit`` characters; ``empty`` / ``too_long`` give the messages (called only when
    refused: translating needs a request, and the services also run without one)."""
    text = clean_text(raw or "")
    if not text:
        raise PetitionError(empty(), field)
    if len(text) > limit:
        raise PetitionError(too_long(), field)
    return text


def _unit_names(unit: Unit) -> dict[str, str]:
    return {"unit_name_vi": unit.name_vi, "unit_name_en": unit.name_en or unit.name_vi}


def file_petition(session: Session, unit: Unit, *, category: str, text: str, language: str = "vi",
                  contact: ContactInput | None = None, publish_consent: bool = False,
                  photo: ProcessedPhoto | None = None, submission_key: str | None = None,
                  trust: str = "ok", trust_reason: str | None = None, now: datetime | None = None,
                  settings: PetitionSettings | None = None) -> Filed:
    """Store a petition with its first event (and contact, photo) in one transaction.

    A repeated ``submission_key`` (a double tap, a retry) returns the petition stored the
    first time (``created=False``). A petition like one of the same unit and topic answered in
    the last 12 months is marked as its repeat (``repeat_of_id``; :func:`.similar.repeat_of`). Contact details are stored only from a
    :class:`ContactInput` (which carries the consent); everything else about the citizen is
    never stored.
    """
    cfg = _settings(settings)
    if category not in CATEGORIES:
        raise PetitionError(_("Please choose what your feedback is about."), "category")
    body = _check_text(text, cfg.text_max)
    if language not in ("vi", "en"):
        language = "vi"
    if contact is not None:
        if not contact.consent_text.strip():
            raise ValueError("contact details need the consent text the citizen agreed to")
        if not any((contact.name, contact.phone, contact.email)):
            contact = None
    now = now or utcnow()
    limit = cfg.limit_for(category)
    due = cfg.calendar.due_date(local_day(now, cfg.zone), limit)
    # Filed again within a year after a similar petition was answered: a repeat (:mod:`.similar`).
    repeated = similar.repeat_of(session, unit, category, body, now)
    repeat_id = repeated.id if repeated is not None else None
    for _attempt in range(5):
        petition = Petition(
            tracking_code=new_tracking_code(), unit_id=unit.id, origin_unit_id=unit.id, category=category,
            body=body, language=language, status="received", received_at=now, deadline_days=limit, due_on=due,
            publish_consent=bool(publish_consent), publish_consent_at=now if publish_consent else None,
            text_approved=False, trust=trust, trust_reason=trust_reason, submission_key=submission_key,
        )
        if contact is not None:
            petition.contact = PetitionContact(
                name=contact.name or None, phone=contact.phone or None, email=contact.email or None,
                consent_text=contact.consent_text, consent_language=contact.consent_language, consent_at=now)
        if photo is not None:
            petition.photo = PetitionPhoto(content=photo.content, mime=photo.mime, width=photo.width,
                                           height=photo.height)
        petition.events.append(PetitionEvent(at=now, kind="received", public=True, unit_id=unit.id,
                                             **_unit_names(unit)))
        if repeat_id is not None:
            petition.repeat_of_id = repeat_id
        session.add(petition)
        tracking_code = petition.tracking_code
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            if submission_key:
                existing = session.scalar(select(Petition).where(Petition.submission_key == submission_key))
                if existing is not None:
                    return Filed(existing, created=False, tracking_code=existing.tracking_code)
            continue  # a tracking code collision (1 in 2**50 per pair): draw another
        return Filed(petition, created=True, tracking_code=tracking_code)
    raise RuntimeError("could not draw a unique tracking code")


def already_filed(session: Session, submission_key: str | None) -> bool:
    """Whether a petition was stored from this form already (a double tap, a retry)."""
    if not submission_key:
        return False
    return session.scalar(select(Petition.id).where(Petition.submission_key == submission_key)) is not None


# --------------------------------------------------------------------------- the public view

@dataclass(frozen=True)
class PublicEvent:
    kind: str
    at: datetime
    unit_name_vi: str
    unit_name_en: str

    def unit_name(self, lang: str) -> str:
        return self.unit_name_en if lang == "en" and self.unit_name_en else self.unit_name_vi


@dataclass(frozen=True)
class PublicStatus:
    """Everything the public status page may show, and nothing else."""

    tracking: str
    category: str
    status: str
    unit_name_vi: str
    unit_name_en: str
    received_at: datetime
    due_on: date
    overdue: bool
    answered_late: bool
    text: str | None
    answer: str | None
    answer_published_at: datetime | None
    history: tuple[PublicEvent, ...]
    #: What the unit asked the petitioner (while waiting for them), and the refusal reason.
    question: str | None = None
    refusal_reason: str | None = None
    #: The petitioner may reply (waiting) / say the answer did not resolve it (once).
    can_reply: bool = False
    can_say_not_resolved: bool = False
    reopened: bool = False
    #: The answer is public on the unit's page (and open to everyone's verdict).
    published: bool = False

    def unit_name(self, lang: str) -> str:
        return self.unit_name_en if lang == "en" and self.unit_name_en else self.unit_name_vi


def is_overdue(petition: Petition, today: date) -> bool:
    """Past the resolve due day and not answered (a petition waiting for the citizen never is)."""
    return (petition.status in RUNNING_STATUSES and petition.answered_at is None and petition.merged_into_id is None
            and today > petition.due_on)


def stage_clocks(petition: Petition, today: date, settings: PetitionSettings | None = None) -> dict[str, StageClock]:
    """The petition's stage clocks now (:func:`.clocks.stage_clocks` with the app's limits)."""
    cfg = _settings(settings)
    return clocks.stage_clocks(petition, cfg.calendar, cfg.limits(petition.category), today, cfg.zone)


def _last_public_note(petition: Petition, kind: str) -> str | None:
    for event in reversed(petition.events):
        if event.kind == kind:
            return event.note
    return None


def public_status(petition: Petition, today: date, zone: str = LOCAL_ZONE) -> PublicStatus:
    """What anyone with the tracking code sees (see the module docstring)."""
    answered_late = petition.answered_at is not None and local_day(petition.answered_at, zone) > petition.due_on
    return PublicStatus(
        tracking=format_tracking(petition.tracking_code), category=petition.category, status=petition.status,
        unit_name_vi=petition.unit.name_vi, unit_name_en=petition.unit.name_en or petition.unit.name_vi,
        received_at=petition.received_at, due_on=petition.due_on, overdue=is_overdue(petition, today),
        answered_late=answered_late,
        text=petition.body if petition.text_is_public else None,
        answer=petition.answer_text if petition.answer_published_at is not None else None,
        answer_published_at=petition.answer_published_at,
        history=tuple(PublicEvent(e.kind, e.at, e.unit_name_vi or "", e.unit_name_en or "")
                      for e in petition.events if e.public and e.kind in PUBLIC_EVENT_KINDS),
        question=_last_public_note(petition, "info_requested") if petition.status == "waiting" else None,
        refusal_reason=petition.refusal_reason if petition.status == "refused" else None,
        can_reply=petition.status == "waiting",
        can_say_not_resolved=_can_say_not_resolved(petition),
        reopened=(petition.reopen_count or 0) > 0,
        published=petition.published_at is not None and petition.status in ("published", "closed"),
    )


@dataclass(frozen=True)
class PublicPetition:
    """A petition as anyone sees it at ``/a/<id>`` (no tracking code needed, so nothing that
    only the petitioner may do or read): status, unit, topic, dates, the text only when the
    citizen allowed it and it was approved, the answer only once published (the publish
    stage), and the petition it was merged into."""

    id: int
    category: str
    status: str
    unit_name_vi: str
    unit_name_en: str
    received_at: datetime
    due_on: date
    overdue: bool
    text: str | None
    answer: str | None
    published_at: datetime | None
    merged_into_id: int | None

    def unit_name(self, lang: str) -> str:
        return self.unit_name_en if lang == "en" and self.unit_name_en else self.unit_name_vi


def public_petition(petition: Petition, today: date) -> PublicPetition:
    published = petition.published_at is not None and petition.status in ("published", "closed")
    return PublicPetition(
        id=petition.id, category=petition.category, status=petition.status, unit_name_vi=petition.unit.name_vi,
        unit_name_en=petition.unit.name_en or petition.unit.name_vi, received_at=petition.received_at,
        due_on=petition.due_on, overdue=is_overdue(petition, today),
        text=petition.body if petition.text_is_public else None,
        answer=petition.answer_text if published else None, published_at=petition.published_at if published else None,
        merged_into_id=petition.merged_into_id,
    )


def find_public(session: Session, petition_id: int) -> Petition | None:
    """A petition for its public page; suspect ones (a honeypot, a burst) are not shown."""
    if not 0 < petition_id < 2**31:
        return None
    petition = session.get(Petition, petition_id)
    return petition if petition is not None and petition.trust == "ok" else None


# --------------------------------------------------------------------------- officials: scope

def scoped_query(scope: Scope, min_role: str = "viewer") -> Select[tuple[Petition]]:
    """Petitions whose responsible unit lies in ``scope`` with ``min_role``."""
    return (select(Petition).join(Unit, Unit.id == Petition.unit_id)
            .where(scope.path_clause(Unit.path, min_role)))


def get_for_official(scope: Scope, petition_id: int, min_role: str = "viewer") -> Petition:
    """A petition by id, checked: 404 outside every grant, 403 with too low a role."""
    petition = scope.session.get(Petition, petition_id) if 0 < petition_id < 2**31 else None
    if petition is None:
        not_found()
    scope.require(petition.unit, min_role)
    return petition


@dataclass(frozen=True)
class InboxFilter:
    status: str = ""        # "", "open", or one of the statuses
    category: str = ""
    unit: Unit | None = None
    overdue: bool = False
    suspect: bool = False
    due_soon: bool = False


def due_soon_cutoff(today: date, settings: PetitionSettings | None = None) -> date:
    """The last due day that counts as "due soon" today (:data:`.clocks.DUE_SOON_DAYS` working days on)."""
    return _settings(settings).calendar.add_working_days(today, clocks.DUE_SOON_DAYS)


def inbox_query(scope: Scope, filters: InboxFilter, today: date,
                settings: PetitionSettings | None = None) -> Select[tuple[Petition]]:
    """The inbox: petitions in scope, filtered; open ones first by due date, then newest."""
    query = scoped_query(scope, "viewer")
    if filters.status == "open":
        query = query.where(Petition.status.in_(OPEN_STATUSES))
    elif filters.status:
        query = query.where(Petition.status == filters.status)
    if filters.category:
        query = query.where(Petition.category == filters.category)
    if filters.unit is not None:
        scope.require(filters.unit, "viewer")
        query = query.where(path_under(Unit.path, filters.unit.path))
    if filters.overdue:
        query = query.where(clock_running(), Petition.due_on < today)
    if filters.due_soon:
        query = query.where(clock_running(), Petition.due_on >= today,
                            Petition.due_on <= due_soon_cutoff(today, settings))
    if filters.suspect:
        query = query.where(Petition.trust == "suspect")
    is_open = case((Petition.status.in_(OPEN_STATUSES), 0), else_=1)
    open_due = case((Petition.status.in_(OPEN_STATUSES), Petition.due_on), else_=None)
    return query.order_by(is_open, open_due.asc(), Petition.received_at.desc(), Petition.id.desc())


# --------------------------------------------------------------------------- officials: workflow

def _event(petition: Petition, kind: str, actor: User, now: datetime, *, public: bool = False,
           unit: Unit | None = None, note: str | None = None) -> PetitionEvent:
    event = PetitionEvent(at=now, kind=kind, public=public, actor_id=actor.id, actor_name=actor.username,
                          note=note, **({"unit_id": unit.id, **_unit_names(unit)} if unit is not None else {}))
    petition.events.append(event)
    return event


def _audit(session: Session, action: str, petition: Petition, actor: User, unit: Unit | None = None,
           **detail: Any) -> None:
    audit.record(session, action, actor=actor, unit=unit or petition.unit,
                 target=f"petition:{petition.id}", detail={"code": format_tracking(petition.tracking_code), **detail})


def assign_targets(session: Session, scope: Scope, petition: Petition) -> list[Unit]:
    """Where a manager may move the petition: active units they manage, but not its own."""
    return [u for u in session.scalars(scope.units_query("manager").where(Unit.active.is_(True)))
            if u.id != petition.unit_id]


def assign(session: Session, scope: Scope, petition: Petition, target: Unit, *, actor: User,
           now: datetime | None = None) -> None:
    """Move the petition to ``target`` (it leaves the scope of whoever covers only the old
    unit); a public event names the new unit."""
    scope.require(petition.unit, "manager")
    scope.require(target, "manager")
    if petition.status in ("closed", "refused"):
        raise PetitionError(_("A closed petition cannot be assigned. Reopen it first."))
    if target.id == petition.unit_id:
        raise PetitionError(_("The petition is already with this unit."), "unit")
    if not target.active:
        raise PetitionError(_("This unit is inactive."), "unit")
    now = now or utcnow()
    old = petition.unit
    petition.unit_id = target.id
    petition.unit = target
    petition.assigned_at = now
    if petition.status == "received":
        petition.status = "assigned"
    _event(petition, "assigned", actor, now, public=True, unit=target)
    _audit(session, "petition.assigned", petition, actor, unit=old, **{"from": old.path, "to": target.path})
    session.commit()


def add_note(session: Session, scope: Scope, petition: Petition, text: str, *, actor: User,
             now: datetime | None = None) -> None:
    """An internal note: seen by officials in scope, never by the public."""
    scope.require(petition.unit, "manager")
    note = _written(text, "note", 4000, lambda: _("Please write the note."),
                    lambda: _("Please shorten the note to %(limit)d characters.", limit=4000))
    _event(petition, "note", actor, now or utcnow(), note=note)
    _audit(session, "petition.noted", petition, actor)
    session.commit()


def save_answer(session: Session, scope: Scope, petition: Petition, text: str, *, actor: User,
                now: datetime | None = None) -> None:
    """Save the working copy of the answer (not public until published)."""
    scope.require(petition.unit, "manager")
    answer = _written(text, "answer", 8000, lambda: _("Please write the answer."),
                      lambda: _("Please shorten the answer to %(limit)d characters.", limit=8000))
    if petition.status in ("closed", "refused"):
        raise PetitionError(_("A closed petition cannot be changed. Reopen it first."))
    petition.answer_draft = answer
    _event(petition, "answer_saved", actor, now or utcnow())
    _audit(session, "petition.answer_saved", petition, actor)
    session.commit()


def send_answer(session: Session, scope: Scope, petition: Petition, *, actor: User,
                now: datetime | None = None, zone: str = LOCAL_ZONE) -> None:
    """Give the saved answer to the petitioner (stage ``answered``): they (and anyone with the
    code) read it at the tracking code, and are e-mailed it with consent. The first answer of
    the round is the answer's time for the resolve limit; it is made public on the unit's page
    by :func:`make_public` (the publish stage). A corrected answer sent later replaces the text
    (publicly too, when already published)."""
    scope.require(petition.unit, "manager")
    _not_merged(petition)
    if petition.status in ("closed", "refused"):
        raise PetitionError(_("A closed petition cannot be changed. Reopen it first."))
    if petition.status == "waiting":
        raise PetitionError(_("The petition is waiting for the citizen's information. Record their reply first."))
    if not petition.answer_draft:
        raise PetitionError(_("Write and save the answer first."), "answer")
    if petition.answer_published_at is not None and petition.answer_text == petition.answer_draft:
        raise PetitionError(_("This answer is already published."))
    now = now or utcnow()
    first = petition.answered_at is None
    petition.answer_text = petition.answer_draft
    petition.answer_published_at = now
    if first:
        petition.answered_at = now
    petition.status = "published" if petition.published_at is not None else "answered"
    _event(petition, "answered", actor, now, public=True)
    _audit(session, "petition.answer_published", petition, actor,
           late=local_day(petition.answered_at, zone) > petition.due_on, first=first)
    for merged in merged_into(session, petition):
        _follow_answer(session, merged, petition, actor, now, zone)
    session.commit()


def merged_into(session: Session, survivor: Petition) -> list[Petition]:
    """The petitions merged into ``survivor`` (they follow its answer), oldest first."""
    return list(session.scalars(select(Petition).where(Petition.merged_into_id == survivor.id)
                                .order_by(Petition.received_at, Petition.id)))


def _follow_answer(session: Session, merged: Petition, survivor: Petition, actor: User, now: datetime,
                   zone: str) -> None:
    """A merged petition gets the survivor's answer as its own (its petitioner is told at its
    own tracking code, and e-mailed with consent): same text and time, its own event."""
    first = merged.answered_at is None
    merged.answer_draft = merged.answer_text = survivor.answer_text
    merged.answer_published_at = now
    if first:
        merged.answered_at = now
    merged.waiting_since = None
    merged.status = "published" if merged.published_at is not None else "answered"
    _event(merged, "answered", actor, now, public=True)
    _audit(session, "petition.answer_published", merged, actor,
           late=local_day(merged.answered_at, zone) > merged.due_on, first=first)


def _follow_publication(session: Session, merged: Petition, actor: User, now: datetime) -> None:
    if merged.status != "answered" or merged.answer_published_at is None:
        return
    merged.status = "published"
    merged.published_at = now
    _event(merged, "published", actor, now, public=True)
    _audit(session, "petition.published", merged, actor)


def set_text_public(session: Session, scope: Scope, petition: Petition, approve: bool, *, actor: User,
                    now: datetime | None = None) -> None:
    """Approve (or withhold) the publication of the citizen's text; approval needs the
    citizen's own permission."""
    scope.require(petition.unit, "manager")
    if approve and not petition.publish_consent:
        raise PetitionError(_("The citizen did not allow the text to be published."))
    if petition.text_approved == approve:
        return
    petition.text_approved = approve
    _event(petition, "text_approved" if approve else "text_withheld", actor, now or utcnow())
    _audit(session, "petition.text_approved" if approve else "petition.text_withheld", petition, actor)
    session.commit()


def make_public(session: Session, scope: Scope, petition: Petition, *, actor: User,
                now: datetime | None = None) -> None:
    """Publish the answer on the unit's public page (stage ``published``): anyone may then read
    it and say whether it satisfies them. The petition's own text is shown only when the
    citizen allowed it and it was approved."""
    scope.require(petition.unit, "manager")
    _not_merged(petition)
    if petition.status != "answered" or petition.answer_published_at is None:
        raise PetitionError(_("Only an answered petition can have its answer published."))
    now = now or utcnow()
    petition.status = "published"
    petition.published_at = now
    _event(petition, "published", actor, now, public=True)
    _audit(session, "petition.published", petition, actor)
    for merged in merged_into(session, petition):
        _follow_publication(session, merged, actor, now)
    session.commit()


def _not_merged(petition: Petition) -> None:
    if petition.merged_into_id is not None:
        raise PetitionError(_("This petition is merged into petition no. %(id)d and follows its answer: answer "
                              "that one.", id=petition.merged_into_id))


# --------------------------------------------------------------------------- duplicates and repeats

def merge(session: Session, scope: Scope, duplicate: Petition, survivor: Petition, *, actor: User,
          now: datetime | None = None, settings: PetitionSettings | None = None) -> None:
    """Merge ``duplicate`` into ``survivor`` (the same matter, the same unit): the duplicate
    keeps its tracking code and follows the survivor's answer (:func:`send_answer`,
    :func:`make_public`), at once if the survivor is already answered. A public ``merged``
    event tells its petitioner (e-mailed with consent). One level only: a survivor is never
    itself merged, and a petition others are merged into cannot be merged."""
    cfg = _settings(settings)
    scope.require(duplicate.unit, "manager")
    scope.require(survivor.unit, "manager")
    if duplicate.id == survivor.id:
        raise PetitionError(_("A petition cannot be merged into itself."), "into")
    if duplicate.merged_into_id is not None:
        raise PetitionError(_("This petition is already merged into petition no. %(id)d.",
                              id=duplicate.merged_into_id), "into")
    if survivor.merged_into_id is not None:
        raise PetitionError(_("Petition no. %(id)d is itself merged into petition no. %(other)d: merge into that "
                              "one.", id=survivor.id, other=survivor.merged_into_id), "into")
    if merged_into(session, duplicate):
        raise PetitionError(_("Other petitions are merged into this one: merge those into petition no. %(id)d "
                              "instead, or merge petition no. %(id)d into this one.", id=survivor.id), "into")
    if duplicate.unit_id != survivor.unit_id:
        raise PetitionError(_("Only petitions handled by the same unit can be merged. Assign one of them "
                              "first."), "into")
    if duplicate.status not in OPEN_STATUSES:
        raise PetitionError(_("This petition already has an answer or is closed: only a petition not yet "
                              "answered can be merged into another."), "into")
    if survivor.status in ("closed", "refused"):
        raise PetitionError(_("Petition no. %(id)d is closed or refused: it cannot take other petitions.",
                              id=survivor.id), "into")
    now = now or utcnow()
    if duplicate.status == "waiting":
        _end_wait(duplicate, now, cfg)
    duplicate.merged_into_id = survivor.id
    duplicate.merged_into = survivor
    _event(duplicate, "merged", actor, now, public=True)
    _audit(session, "petition.merged", duplicate, actor, into=format_tracking(survivor.tracking_code))
    if survivor.answer_published_at is not None and survivor.answer_text:
        _follow_answer(session, duplicate, survivor, actor, now, cfg.zone)
        if survivor.published_at is not None and survivor.status == "published":
            _follow_publication(session, duplicate, actor, now)
    session.commit()


def merge_candidates(session: Session, scope: Scope, petition: Petition) -> list[tuple[Petition, float]]:
    """Petitions an official might merge this one into: similar, of the same unit and topic,
    not closed or refused, not merged, in the official's scope as a manager."""
    if petition.merged_into_id is not None or petition.status not in OPEN_STATUSES:
        return []
    found = similar.find_similar(session, petition.unit, petition.category, petition.body,
                                 statuses=("received", "waiting", "assigned", "answered", "published"),
                                 exclude_ids=[petition.id])
    return [(p, score) for p, score in found if p.unit_id == petition.unit_id and scope.covers(p.unit, "manager")]


def unmark_repeat(session: Session, scope: Scope, petition: Petition, *, actor: User) -> None:
    """Staff say the petition is not a repeat after all (it counts again as a new matter)."""
    scope.require(petition.unit, "manager")
    if petition.repeat_of_id is None:
        raise PetitionError(_("This petition is not marked as a repeat."))
    previous = petition.repeat_of
    petition.repeat_of_id = None
    petition.repeat_of = None
    _audit(session, "petition.repeat_unmarked", petition, actor,
           of=format_tracking(previous.tracking_code) if previous is not None else "")
    session.commit()


def refuse(session: Session, scope: Scope, petition: Petition, reason: str, *, actor: User,
           now: datetime | None = None) -> None:
    """Refuse the petition as outside what the unit may handle (stage ``refused``); the
    petitioner reads the reason at the tracking code."""
    scope.require(petition.unit, "manager")
    if petition.status not in RUNNING_STATUSES:
        raise PetitionError(_("Only a petition not yet answered can be refused."))
    text = _written(reason, "reason", 2000, lambda: _("Please write the reason: the citizen reads it."),
                    lambda: _("Please shorten the reason to %(limit)d characters.", limit=2000))
    now = now or utcnow()
    petition.status = "refused"
    petition.refused_at = now
    petition.refusal_reason = text
    _event(petition, "refused", actor, now, public=True, note=text)
    _audit(session, "petition.refused", petition, actor)
    session.commit()


def request_info(session: Session, scope: Scope, petition: Petition, question: str, *, actor: User,
                 now: datetime | None = None) -> None:
    """Ask the petitioner for more information (stage ``waiting``): the resolve clock stops
    until they reply at the tracking code (or staff record a reply given another way)."""
    scope.require(petition.unit, "manager")
    if petition.status not in RUNNING_STATUSES:
        raise PetitionError(_("More information can be asked only of a petition not yet answered."))
    text = _written(question, "question", 2000, lambda: _("Please write what the citizen should add: they read it."),
                    lambda: _("Please shorten the question to %(limit)d characters.", limit=2000))
    now = now or utcnow()
    petition.status = "waiting"
    petition.waiting_since = now
    petition.info_requests = (petition.info_requests or 0) + 1
    if petition.info_requested_at is None or (petition.reopened_at is not None
                                              and petition.info_requested_at < petition.reopened_at):
        petition.info_requested_at = now
    _event(petition, "info_requested", actor, now, public=True, note=text)
    _audit(session, "petition.info_requested", petition, actor, requests=petition.info_requests)
    session.commit()


def _end_wait(petition: Petition, now: datetime, settings: PetitionSettings) -> int:
    """Leave ``waiting``: the working days waited move the resolve due day on."""
    asked = local_day(petition.waiting_since or now, settings.zone)
    paused = clocks.pause_days(settings.calendar, asked, local_day(now, settings.zone))
    petition.paused_days = (petition.paused_days or 0) + paused
    petition.due_on = settings.calendar.add_working_days(petition.due_on, paused)
    petition.waiting_since = None
    petition.status = "assigned" if petition.assigned_at is not None else "received"
    return paused


def citizen_reply(session: Session, petition: Petition, text: str, *, now: datetime | None = None,
                  settings: PetitionSettings | None = None) -> int:
    """The petitioner's reply to a request for information, sent with the tracking code: the
    clock runs again, its due day moved on by the working days waited (returned). The text is
    for the officials (never shown at the public status page)."""
    cfg = _settings(settings)
    if petition.status != "waiting":
        raise PetitionError(_("This petition is not waiting for information from you."))
    body = _check_text(text, cfg.text_max)
    now = now or utcnow()
    paused = _end_wait(petition, now, cfg)
    petition.events.append(PetitionEvent(at=now, kind="info_provided", public=True, note=body))
    session.commit()
    return paused


def resume(session: Session, scope: Scope, petition: Petition, note: str, *, actor: User,
           now: datetime | None = None, settings: PetitionSettings | None = None) -> int:
    """Staff record that the citizen gave the information another way (by phone, at the
    counter): as :func:`citizen_reply`, with the note of what was given."""
    cfg = _settings(settings)
    scope.require(petition.unit, "manager")
    if petition.status != "waiting":
        raise PetitionError(_("This petition is not waiting for the citizen."))
    text = _written(note, "note", 4000, lambda: _("Please write what the citizen added."),
                    lambda: _("Please shorten the note to %(limit)d characters.", limit=4000))
    now = now or utcnow()
    paused = _end_wait(petition, now, cfg)
    _event(petition, "info_provided", actor, now, public=True, note=text)
    _audit(session, "petition.info_recorded", petition, actor, paused_days=paused)
    session.commit()
    return paused


def _can_say_not_resolved(petition: Petition) -> bool:
    return (petition.reopen_count or 0) == 0 and petition.answer_published_at is not None \
        and petition.status in ("answered", "published", "closed") and petition.merged_into_id is None


def not_resolved(session: Session, petition: Petition, *, now: datetime | None = None,
                 settings: PetitionSettings | None = None) -> None:
    """The petitioner says, with the tracking code, that the answer did not resolve the
    matter: the petition is reopened (once) with a new resolve clock from today. The given
    answer stays readable until a new one is sent."""
    cfg = _settings(settings)
    if not _can_say_not_resolved(petition):
        if (petition.reopen_count or 0) > 0:
            raise PetitionError(_("This petition has already been reopened once. If the matter is still not "
                                  "resolved, please send a new petition."))
        raise PetitionError(_("This petition has no answer yet, so it cannot be reopened."))
    now = now or utcnow()
    limit = cfg.limit_for(petition.category)
    petition.reopen_count = 1
    petition.reopened_at = now
    petition.status = "assigned" if petition.assigned_at is not None else "received"
    petition.answered_at = None
    petition.published_at = None
    petition.closed_at = None
    petition.paused_days = 0
    petition.deadline_days = limit
    petition.due_on = cfg.calendar.due_date(local_day(now, cfg.zone), limit)
    petition.events.append(PetitionEvent(at=now, kind="not_resolved", public=True))
    session.commit()


def close(session: Session, scope: Scope, petition: Petition, *, actor: User, now: datetime | None = None) -> None:
    """Close an answered petition."""
    scope.require(petition.unit, "manager")
    if petition.status == "closed":
        raise PetitionError(_("This petition is already closed."))
    if petition.answer_published_at is None:
        raise PetitionError(_("Publish an answer before closing the petition."))
    now = now or utcnow()
    petition.status = "closed"
    petition.closed_at = now
    _event(petition, "closed", actor, now, public=True)
    _audit(session, "petition.closed", petition, actor)
    session.commit()


def reopen(session: Session, scope: Scope, petition: Petition, *, actor: User, now: datetime | None = None) -> None:
    """Reopen a closed petition: it is in hand again (the published answer stays public;
    a new one can be published)."""
    scope.require(petition.unit, "manager")
    if petition.status not in ("closed", "refused"):
        raise PetitionError(_("Only a closed or refused petition can be reopened."))
    now = now or utcnow()
    petition.status = "assigned" if petition.assigned_at is not None else "received"
    petition.closed_at = None
    petition.refused_at = None
    _event(petition, "reopened", actor, now, public=True)
    _audit(session, "petition.reopened", petition, actor)
    session.commit()


def can_see_contact(scope: Scope, petition: Petition) -> bool:
    return scope.covers(petition.unit, "manager")


def view_contact(session: Session, scope: Scope, petition: Petition, *, actor: User) -> PetitionContact | None:
    """The contact details, for a manager of the petition's unit or above; the view is
    recorded in the audit log (in the same transaction)."""
    scope.require(petition.unit, "manager")
    contact = petition.contact
    if contact is None:
        return None
    _audit(session, "petition.contact_viewed", petition, actor)
    session.commit()
    return contact


def delete_contact(session: Session, scope: Scope, petition: Petition, *, actor: User,
                   now: datetime | None = None) -> bool:
    """Delete the contact details (on the citizen's request); the petition stays."""
    scope.require(petition.unit, "manager")
    if petition.contact is None:
        return False
    petition.contact = None
    _event(petition, "contact_deleted", actor, now or utcnow())
    _audit(session, "petition.contact_deleted", petition, actor)
    session.commit()
    return True


# --------------------------------------------------------------------------- low scores

def is_low_score(definition: Mapping[str, Any], answers: Sequence[tuple[str, int | None, str | None]]) -> bool:
    """Whether a survey answer rated something low: some scale question got a level that is
    not "satisfied" and lies below the middle of its scale (1–2 of 5; 1 of 3)."""
    questions = {q["key"]: q for q in definition.get("questions", [])}
    scales = definition.get("scales", {})
    for key, value, _text in answers:
        q = questions.get(key)
        if q is None or q.get("type") != "scale" or value is None:
            continue
        scale = scales.get(q.get("scale"), {})
        levels = [lv["value"] for lv in scale.get("levels", [])]
        if not levels:
            continue
        middle = (min(levels) + max(levels)) / 2
        if value not in set(scale.get("satisfied", [])) and value < middle:
            return True
    return False


# --------------------------------------------------------------------------- accountability

def _nan_to_none(value: float | None) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def _figures_dict(figures, public: bool) -> dict[str, Any]:
    from analysis.accountability import suppress_figures

    withheld = suppress_figures(figures) if public else None
    share = None
    if figures.decided:
        share = {"share": _nan_to_none(figures.on_time_share), "low": _nan_to_none(figures.on_time_low),
                 "high": _nan_to_none(figures.on_time_high), "n": figures.decided}
    result: dict[str, Any] = {
        "received": figures.received, "answered": figures.answered,
        "answered_on_time": figures.answered_on_time, "on_time": share,
        "median_working_days": _nan_to_none(figures.median_days),
        "p90_working_days": _nan_to_none(figures.p90_days),
        "open": figures.open, "overdue_open": figures.overdue_open, "withheld": [],
    }
    if withheld is not None:
        for name in ("received", "answered", "answered_on_time", "open", "overdue_open"):
            if getattr(withheld, name):
                result[name] = None
                result["withheld"].append(name)
        if withheld.on_time_share:
            result["on_time"] = None
            result["withheld"].append("on_time")
        if withheld.days:
            result["median_working_days"] = result["p90_working_days"] = None
            result["withheld"] += ["median_working_days", "p90_working_days"]
    return result


def accountability(session: Session, unit: Unit, date_from: date, date_to: date, *, public: bool = False,
                   as_of: date | None = None, settings: PetitionSettings | None = None,
                   children: bool = True, include_suspect: bool = False) -> dict[str, Any]:
    """Accountability figures for the petitions of ``unit``'s subtree received from
    ``date_from`` to ``date_to`` (local days, inclusive), as they stand on ``as_of``
    (default today, Viet Nam time). JSON-ready.

    A petition belongs to the unit responsible for it now. Petitions flagged as suspect
    (a honeypot or a burst) are left out unless ``include_suspect``.

    Returns a dict::

        unit       {path, name{vi,en}, code}
        window     {from, to, as_of}            ISO dates
        public     bool                         whether small cells were withheld
        figures    {received, answered, answered_on_time,
                    on_time {share, low, high, n} | null,
                    median_working_days, p90_working_days, open, overdue_open,
                    withheld [names]}
        units[]    {unit {path, name, code}, figures {…}}   each direct child's subtree
                                                            (when ``children``)
        portal     {satisfaction {…}, stages {…}} | null   the national portal's figures
                                                            (:func:`portal_figures`), beside
                                                            ours; ``null`` with ``public``
                                                            (their counts overlap ours and
                                                            have no disclosure check yet);
                                                            also in each ``units[]``

    ``answered`` counts answers published by ``as_of``; ``on_time.share`` is answered on
    time ÷ (answered + overdue open), with a Wilson 95% interval (``n`` is that
    denominator); ``median_working_days`` and ``p90_working_days`` (nearest rank) are
    working days from receipt to the first published answer; ``overdue_open`` are not
    answered and past their due day. With ``public=True`` counts are passed through
    ``analysis.accountability.suppress_figures`` (cells below 10 withheld, with
    secondary suppression): withheld values are ``null`` and named in ``withheld``.
    See ``analysis/accountability.py`` for the formulas.
    """
    from analysis.accountability import accountability_figures

    cfg = _settings(settings)
    if date_to < date_from:
        raise ValueError("date_to must not be before date_from")
    today = local_day(utcnow(), cfg.zone)
    as_of = as_of or today
    start, end = _day_start_utc(date_from, cfg.zone), _day_start_utc(date_to + timedelta(days=1), cfg.zone)
    query = (select(Unit.path, Petition)
             .join(Unit, Unit.id == Petition.unit_id)
             .where(path_under(Unit.path, unit.path), Petition.received_at >= start, Petition.received_at < end))
    if not include_suspect:
        query = query.where(Petition.trust == "ok")
    loaded = session.execute(query).all()
    rows = [(path, local_day(p.received_at, cfg.zone),
             local_day(p.answered_at, cfg.zone) if p.answered_at is not None else None, _due_as_of(p, as_of, cfg))
            for path, p in loaded]
    marks = verdicts.counts(session, query.with_only_columns(Petition.id).subquery()) if loaded and not public else {}
    last = max([as_of] + [a for _p, _r, a, _d in rows if a is not None])
    years = range(date_from.year, last.year + 1)
    holidays = sorted(d for y in years for d in cfg.calendar.holidays(y) if d.weekday() < 5
                      and not cfg.calendar.is_working_day(d))
    weekend_work = sorted(d for y in years for d in cfg.calendar.weekend_working_days(y))

    def figures_for(selected):
        f = accountability_figures([r for _p, r, _a, _d in selected], [a for _p, _r, a, _d in selected],
                                   [d for _p, _r, _a, d in selected], as_of=as_of, holidays=holidays,
                                   weekend_workdays=weekend_work)
        return _figures_dict(f, public)

    def describe(u: Unit) -> dict[str, Any]:
        return {"path": u.path, "name": {"vi": u.name_vi, "en": u.name_en or u.name_vi}, "code": u.code}

    def portal_for(selected):
        # Not on public pages (yet): see the docstring.
        return None if public else portal_figures([p for _path, p in selected], marks, as_of, cfg)

    result: dict[str, Any] = {
        "unit": describe(unit),
        "window": {"from": date_from.isoformat(), "to": date_to.isoformat(), "as_of": as_of.isoformat()},
        "public": public,
        "figures": figures_for(rows),
        "portal": portal_for(loaded),
    }
    if children:
        kids = session.scalars(select(Unit).where(Unit.parent_id == unit.id).order_by(Unit.path)).all()
        result["units"] = [{"unit": describe(k), "figures": figures_for([row for row in rows if row[0].startswith(k.path)]),
                            "portal": portal_for([item for item in loaded if item[0].startswith(k.path)])}
                           for k in kids]
    return result


def _due_as_of(petition: Petition, as_of: date, cfg: PetitionSettings) -> date:
    """The resolve due day as it stands on ``as_of``: while the citizen is asked for
    information the clock stands still, so the working days waited so far move it on (as
    the reply would), and a waiting petition is overdue only if it already was."""
    if petition.status != "waiting" or petition.waiting_since is None:
        return petition.due_on
    waited = clocks.pause_days(cfg.calendar, local_day(petition.waiting_since, cfg.zone), as_of)
    return cfg.calendar.add_working_days(petition.due_on, waited)


def portal_figures(petitions: Sequence[Petition], marks: Mapping[int, Any], as_of: date,
                   settings: PetitionSettings | None = None) -> dict[str, Any]:
    """The national portal's figures for these petitions (JSON-ready), shown beside ours:

    ``satisfaction {petitions, disliked, overdue, repeated, excluded, share}``
        ``analysis.accountability.portal_petition_satisfaction``: share = 100 × (petitions −
        those disliked more than liked, overdue or repeated, each once) ÷ petitions, percent
        with two decimals, ``null`` = N/A. A petition merged into another (a duplicate that
        follows the survivor's answer) is left out: the matter is counted once, with the
        survivor. Overdue = its resolve clock (:func:`.clocks.stage_clocks` on ``as_of``) is
        ``late`` or ``overdue`` (a refused petition has none; a waiting one is paused);
        repeated = ``repeat_of_id`` set; disliked = trusted "not satisfied" marks more than
        "satisfied" ones (``marks``: petition id → :class:`.verdicts.VerdictCounts`).
    ``stages {refuse|info|resolve|publish: {on_time, late, overdue, decided, share}}``
        ``analysis.accountability.stage_on_time_shares`` over the same petitions' clocks.
    """
    from analysis.accountability import portal_petition_satisfaction, stage_on_time_shares

    cfg = _settings(settings)
    counted = [p for p in petitions if p.merged_into_id is None]
    states = [{stage: clock.state for stage, clock in
               clocks.stage_clocks(p, cfg.calendar, cfg.limits(p.category), as_of, cfg.zone).items()}
              for p in counted]
    none = verdicts.VerdictCounts()
    f = portal_petition_satisfaction(
        [s.get("resolve") in ("late", "overdue") for s in states], [p.repeat_of_id is not None for p in counted],
        [marks.get(p.id, none).satisfied for p in counted], [marks.get(p.id, none).dissatisfied for p in counted])
    stages = stage_on_time_shares(states)
    return {
        "satisfaction": {"petitions": f.petitions, "disliked": f.disliked, "overdue": f.overdue,
                         "repeated": f.repeated, "excluded": f.excluded, "share": f.satisfaction},
        "stages": {name: {"on_time": st.on_time, "late": st.late, "overdue": st.overdue, "decided": st.decided,
                          "share": st.share} for name, st in stages.items()},
    }


def count_due_soon(session: Session, scope: Scope, today: date, settings: PetitionSettings | None = None) -> int:
    """Petitions in scope not answered whose due day is today or within the next
    :data:`.clocks.DUE_SOON_DAYS` working days."""
    query = scoped_query(scope, "viewer").where(clock_running(), Petition.due_on >= today,
                                                Petition.due_on <= due_soon_cutoff(today, settings))
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def count_overdue(session: Session, scope: Scope, today: date) -> int:
    """Overdue petitions in the official's scope (for the inbox's header)."""
    query = scoped_query(scope, "viewer").where(clock_running(), Petition.due_on < today)
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0
