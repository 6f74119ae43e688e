"""Keeping the petitioner informed: an e-mail at each public step of their petition
(received, assigned, answered — with the answer —, closed, reopened), only to a petitioner
who gave an e-mail address with consent to be contacted about this petition, and never
after they followed the "stop these e-mails" link in any of them.

How it runs (``survey_app/jobs.py``): every minute :func:`queue_new` finds public events
of the last :data:`MAX_AGE` without a notice and writes one ``petition_notice`` row each
(unique per event, so two workers cannot both take one); each row is one
``send_petition_notice`` task, retried with backoff, which sends it at most once
(:func:`deliver`). The sending goes through the same SMTP settings as the alerts
(``services/alerts/mail.send_message``). Another channel (SMS, Zalo) would be a second
``send`` beside :func:`deliver` reading the same rows: a provider is not built here.

The message is in the petition's language, names the tracking code and links to the public
status page; it carries ``List-Unsubscribe`` (and ``List-Unsubscribe-Post`` for one-click,
RFC 8058) with a signed link that only stops the e-mails of this petition.
"""
from __future__ import annotations

import smtplib
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any, Mapping

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...models import Petition, PetitionContact, PetitionEvent, PetitionNotice, utcnow
from ..alerts.mail import send_message
from .operations import format_tracking

__all__ = ["MAX_AGE", "NOTIFY_KINDS", "queue_new", "compose", "deliver", "unsubscribe_token", "petition_for_token",
           "unsubscribe"]

NOTIFY_KINDS = ("received", "assigned", "answered", "closed", "reopened", "refused", "info_requested", "published",
                "not_resolved", "merged")
#: Older events are history, not news: a worker that was down for a week does not send it.
MAX_AGE = timedelta(days=2)
SALT = "petition-unsubscribe"


def _subscribed():
    return sa.and_(PetitionContact.email.is_not(None), PetitionContact.email != "",
                   PetitionContact.unsubscribed_at.is_(None))


def queue_new(session: Session, now: datetime | None = None) -> list[int]:
    """Write a pending notice for every recent public event that should be e-mailed and has
    none yet; returns their ids (commits)."""
    now = now or utcnow()
    events = session.execute(
        sa.select(PetitionEvent.id, PetitionEvent.petition_id)
        .join(PetitionContact, PetitionContact.petition_id == PetitionEvent.petition_id)
        .outerjoin(PetitionNotice, PetitionNotice.event_id == PetitionEvent.id)
        .where(PetitionEvent.public.is_(True), PetitionEvent.kind.in_(NOTIFY_KINDS),
               PetitionEvent.at >= now - MAX_AGE,
               _subscribed(), PetitionNotice.id.is_(None))
        .order_by(PetitionEvent.id)).all()
    made: list[int] = []
    for event_id, petition_id in events:
        notice = PetitionNotice(petition_id=petition_id, event_id=event_id, status="pending", created_at=now,
                                attempts=0)
        try:
            with session.begin_nested():
                session.add(notice)
        except IntegrityError:  # another worker took this event a moment ago
            continue
        made.append(notice.id)
    session.commit()
    return made


def unsubscribe_token(secret: str, petition_id: int) -> str:
    return URLSafeSerializer(secret, salt=SALT).dumps(petition_id)


def petition_for_token(session: Session, secret: str, token: str) -> Petition | None:
    try:
        petition_id = URLSafeSerializer(secret, salt=SALT).loads(token)
    except BadSignature:
        return None
    return session.get(Petition, petition_id) if isinstance(petition_id, int) else None


def unsubscribe(session: Session, petition: Petition, now: datetime | None = None) -> bool:
    """Stop the e-mails about ``petition``; False when there were none to stop (commits)."""
    contact = petition.contact
    if contact is None or not contact.email or contact.unsubscribed_at is not None:
        return False
    contact.unsubscribed_at = now or utcnow()
    session.commit()
    return True


def _sentence(event: PetitionEvent, petition: Petition) -> str:
    lang = petition.language
    if event.kind == "received":
        return _("We have received your petition and will answer it by %(day)s.",
                 day=petition.due_on.strftime("%d/%m/%Y"))
    if event.kind == "assigned":
        return _("Your petition has been passed to %(unit)s, which will answer it.", unit=event.unit_name(lang)
                 if event.unit_id else petition.unit.name(lang))
    if event.kind == "answered":
        return _("Your petition has been answered. The answer:")
    if event.kind == "closed":
        return _("Your petition has been closed.")
    if event.kind == "refused":
        return _("The unit cannot handle your petition, for this reason:")
    if event.kind == "info_requested":
        return _("The unit needs more information from you to answer your petition. Its question is below; "
                 "please reply on the petition's page (link below). The time limit is stopped until you reply.")
    if event.kind == "published":
        return _("The answer to your petition is now published on the unit's public page.")
    if event.kind == "not_resolved":
        return _("You said the answer did not resolve the matter. Your petition is reopened and will be answered "
                 "again by %(day)s.", day=petition.due_on.strftime("%d/%m/%Y"))
    if event.kind == "merged":
        return _("Your petition concerns the same matter as petition %(other)s; they are handled together and "
                 "you will receive the same answer. Your tracking code stays valid.",
                 other=format_tracking(petition.merged_into.tracking_code) if petition.merged_into else "")
    return _("Your petition has been reopened and will be looked at again.")


def compose(petition: Petition, event: PetitionEvent, *, sender: str, to: str, status_url: str,
            unsubscribe_url: str) -> EmailMessage:
    code = format_tracking(petition.tracking_code)
    with force_locale(petition.language):
        subject = {
            "received": _("Petition %(code)s received", code=code),
            "assigned": _("Petition %(code)s: passed to the unit that answers it", code=code),
            "answered": _("Petition %(code)s: answered", code=code),
            "closed": _("Petition %(code)s: closed", code=code),
            "reopened": _("Petition %(code)s: reopened", code=code),
            "refused": _("Petition %(code)s: outside the unit's remit", code=code),
            "info_requested": _("Petition %(code)s: more information needed", code=code),
            "published": _("Petition %(code)s: answer published", code=code),
            "not_resolved": _("Petition %(code)s: reopened", code=code),
            "merged": _("Petition %(code)s: handled together with another", code=code),
        }[event.kind]
        lines = [_sentence(event, petition), ""]
        if event.kind == "answered" and petition.answer_text:
            lines += [petition.answer_text, ""]
        if event.kind in ("refused", "info_requested") and event.note:
            lines += [event.note, ""]
        lines += [_("Follow your petition with its tracking code %(code)s: %(url)s", code=code, url=status_url), "",
                  _("You receive this e-mail because you asked to be contacted about this petition. "
                    "To stop these e-mails: %(url)s", url=unsubscribe_url),
                  "", "Hài Lòng"]
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = to
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["X-HaiLong-Petition"] = code
    msg.set_content("\n".join(lines))
    return msg


def deliver(session: Session, config: Mapping[str, Any], notice_id: int, base_url: str) -> str:
    """Send one notice at most once: ``sent``, ``already sent``, ``skipped`` (no address or
    consent any more), ``not configured`` or ``gone``; raises on an SMTP error after
    recording it, so the queue retries."""
    notice = session.get(PetitionNotice, notice_id)
    if notice is None:
        return "gone"
    if notice.status != "pending":
        return "already sent" if notice.status == "sent" else notice.status
    petition, event = notice.petition, notice.event
    contact = petition.contact
    if contact is None or not contact.email or contact.unsubscribed_at is not None:
        notice.status = "skipped"
        session.commit()
        return "skipped"
    missing = [name for name, value in (("MAIL_SERVER", config.get("MAIL_SERVER")), ("PUBLIC_BASE_URL", base_url))
               if not value]
    if missing:  # e-mail cannot be sent, or its links would lead nowhere
        notice.error = " and ".join(missing) + " not set"
        session.commit()
        return "not configured"
    code = format_tracking(petition.tracking_code)
    token = unsubscribe_token(config["SECRET_KEY"], petition.id)
    status_url = f"{base_url}/t/{code}?lang={petition.language}"  # petitions.status
    unsubscribe_url = f"{base_url}/u/{token}?lang={petition.language}"  # petitions.unsubscribe
    msg = compose(petition, event, sender=config.get("MAIL_FROM") or "hailong@localhost", to=contact.email,
                  status_url=status_url, unsubscribe_url=unsubscribe_url)
    notice.attempts = (notice.attempts or 0) + 1
    try:
        send_message(config, msg)
    except (OSError, smtplib.SMTPException) as exc:
        notice.error = f"{type(exc).__name__}: {exc}"[:300]
        session.commit()
        raise
    notice.status, notice.sent_at, notice.error = "sent", utcnow(), None
    session.commit()
    return "sent"
