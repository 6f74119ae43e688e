"""E-mail for alerts through SMTP (``smtplib``; settings ``MAIL_*`` in ``config.py``).

Recipients are the active officials with an e-mail address and a grant covering the
alert's unit (the unit itself or a unit above it): the same officials whose inbox shows
it. :func:`deliver` is what the worker's ``send_alert_email`` task runs: it sends once
(``emailed_at`` set, later calls do nothing) and raises on an SMTP failure, so that Huey
retries it with backoff; each failure is counted on the alert.
"""
from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Mapping

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Alert, Grant, Unit, User, utcnow

__all__ = ["MailNotConfigured", "compose", "deliver", "recipients", "send_message"]


class MailNotConfigured(RuntimeError):
    """No ``MAIL_SERVER``: alerts stay in the inbox only."""


def recipients(session: Session, alert: Alert) -> list[str]:
    path = alert.unit.path
    rows = session.execute(
        select(User.email, Unit.path).join(Grant, Grant.user_id == User.id).join(Unit, Unit.id == Grant.unit_id)
        .where(User.active.is_(True), User.email.is_not(None), User.email != "")
    ).all()
    return sorted({email for email, granted in rows if path.startswith(granted)})


def describe(alert: Alert) -> str:
    """One sentence on what was found, in the current locale."""
    d: Mapping[str, Any] = alert.detail or {}
    unit = _("points") if d.get("unit") == "points" else "%"
    if alert.kind == "below":
        return _("The index of %(period)s is %(value)s%(unit)s (95%% interval %(low)s–%(high)s, %(n)s responses), "
                 "below the threshold of %(threshold)s%(unit)s.", period=d.get("period"), value=d.get("value"),
                 low=d.get("low"), high=d.get("high"), n=d.get("n"), threshold=d.get("threshold"), unit=unit)
    if alert.kind == "drop":
        return _("The index fell by %(drop)s%(unit)s from %(before)s to %(after)s (95%% interval of the change "
                 "%(low)s to %(high)s; %(n_from)s and %(n_to)s responses).", drop=-(d.get("difference") or 0),
                 unit=unit, before=d.get("from"), after=d.get("to"), low=d.get("low"), high=d.get("high"),
                 n_from=d.get("n_from"), n_to=d.get("n_to"))
    if alert.kind == "spike":
        return _("On %(day)s, %(negative)s of %(n)s responses were not satisfied (%(share)s%%), against about "
                 "%(expected)s expected from the previous %(days)s days (%(base)s%%).", day=d.get("day"),
                 negative=d.get("negative"), n=d.get("n"), share=d.get("share"), expected=d.get("expected"),
                 days=d.get("baseline_days"), base=d.get("baseline_share"))
    if alert.kind == "petition_deadline":
        left = d.get("working_days_left", 0)
        if left < 0:
            return _("Petition %(code)s is %(days)s working days past its deadline (%(due)s).",
                     code=d.get("tracking"), days=-left, due=d.get("due_on"))
        return _("Petition %(code)s is due on %(due)s: %(days)s working days left.", code=d.get("tracking"),
                 due=d.get("due_on"), days=left)
    return alert.kind


def compose(alert: Alert, sender: str, to: list[str], link: str) -> EmailMessage:
    with force_locale("vi"):  # officials' mail is in Vietnamese, the default language
        subject = _("[Hài Lòng] Alert: %(unit)s", unit=alert.unit.name_vi)
        body = "\n\n".join([
            _("Hello,"),
            _("An alert was raised for %(unit)s.", unit=alert.unit.name_vi),
            describe(alert),
            _("See it and acknowledge it with a note: %(link)s", link=link),
            _("This message was sent by Hài Lòng because you have access to this unit."),
        ])
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="hailong")
    msg["X-HaiLong-Alert"] = str(alert.id)
    msg.set_content(body)
    return msg


def send_message(config: Mapping[str, Any], msg: EmailMessage) -> None:
    server = config.get("MAIL_SERVER")
    if not server:
        raise MailNotConfigured("MAIL_SERVER is not set")
    port, timeout = int(config.get("MAIL_PORT", 25)), int(config.get("MAIL_TIMEOUT", 10))
    if config.get("MAIL_USE_SSL"):
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(server, port, timeout=timeout, context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(server, port, timeout=timeout)
    with smtp:
        if config.get("MAIL_USE_TLS") and not config.get("MAIL_USE_SSL"):
            smtp.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD", ""))
        smtp.send_message(msg)


def deliver(session: Session, config: Mapping[str, Any], alert_id: int, link: str) -> str:
    """Send the alert's e-mail once. Returns ``sent``, ``already sent``, ``no recipients``,
    ``not configured`` or ``gone``; raises on an SMTP error (after recording it)."""
    alert = session.get(Alert, alert_id)
    if alert is None:
        return "gone"
    if alert.emailed_at is not None:
        return "already sent"
    to = recipients(session, alert)
    if not to:
        return "no recipients"
    if not config.get("MAIL_SERVER"):
        alert.email_error = "MAIL_SERVER is not set"
        session.commit()
        return "not configured"
    msg = compose(alert, config.get("MAIL_FROM") or "hailong@localhost", to, link)
    try:
        send_message(config, msg)
    except (OSError, smtplib.SMTPException) as exc:
        alert.email_attempts = (alert.email_attempts or 0) + 1
        alert.email_error = f"{type(exc).__name__}: {exc}"[:300]
        session.commit()
        raise
    alert.emailed_at, alert.email_error = utcnow(), None
    alert.email_attempts = (alert.email_attempts or 0) + 1
    session.commit()
    return "sent"
