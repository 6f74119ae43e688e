"""Audit log entries as sentences: "Cán bộ quản lý Phường 2 (demo-manager) đã mở đợt khảo
sát «SIPAS 2026» (từ nháp sang đang mở)".

:func:`sentence` turns one :class:`~survey_app.models.AuditEvent` into a sentence in the
reader's language: who (the official's full name and username; the command line for
``system``), what (one sentence per action in :data:`audit.ACTIONS`), and the details
(statuses, roles, periods, access modes, alert kinds… in words; days as dd/mm/yyyy; a
unit's path as its name when :func:`unit_names` knows it). A detail a sentence does not
use is added in brackets with a readable label, never its raw key; an event whose details
lack what its sentence needs reads "who: what (details)".
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any, Callable, Iterable, Mapping

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import AuditEvent, Instrument, Unit
from . import audit

__all__ = ["sentence", "left_over", "unit_names", "action_label", "detail_label"]

_PATH = re.compile(r"^/(?:[a-z0-9-]+/)+$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def action_label(action: str) -> str:
    """What an action is, in a few words (the filter's choices)."""
    return {
        "user.created": _("account created"), "user.deactivated": _("account deactivated"),
        "user.activated": _("account reactivated"), "user.password_reset": _("password reset"),
        "user.password_changed": _("password changed"), "grant.added": _("access given"),
        "grant.changed": _("access changed"), "grant.revoked": _("access removed"),
        "login.locked": _("account locked after failed logins"), "unit.created": _("unit created"),
        "unit.renamed": _("unit renamed"), "unit.moved": _("unit moved"), "unit.deactivated": _("unit deactivated"),
        "unit.activated": _("unit reactivated"), "unit.deleted": _("unit deleted"),
        "unit.succeeded": _("succession declared"), "grants.carried": _("access carried to the successor"),
        "campaign.created": _("campaign created"), "campaign.opened": _("campaign opened"),
        "campaign.paused": _("campaign paused"), "campaign.closed": _("campaign closed"),
        "instrument.uploaded": _("survey uploaded"), "tokens.issued": _("one-time codes issued"),
        "kiosk.enrolled": _("kiosk enrolled"), "kiosk.revoked": _("kiosk revoked"),
        "kiosk.campaign_chosen": _("kiosk's campaign chosen"), "export.created": _("data exported"),
        "report.published": _("report published"),
        "petition.assigned": _("petition assigned"), "petition.noted": _("petition note written"),
        "petition.answer_saved": _("petition answer saved"), "petition.answer_published": _("petition answer published"),
        "petition.text_approved": _("petition text approved for publication"),
        "petition.text_withheld": _("petition text withheld"), "petition.closed": _("petition closed"),
        "petition.reopened": _("petition reopened"), "petition.contact_viewed": _("petitioner's contact viewed"),
        "petition.contact_deleted": _("petitioner's contact deleted"),
        "petition.refused": _("petition refused as out of scope"),
        "petition.info_requested": _("more information asked of a petitioner"),
        "petition.info_recorded": _("petitioner's information recorded"),
        "petition.published": _("petition answer made public"),
        "petition.merged": _("petition merged into another"),
        "petition.repeat_unmarked": _("petition no longer counted as a repeat"),
        "report.unpublished": _("report publication withdrawn"), "comment.hidden": _("comment hidden"),
        "comment.restored": _("comment shown again"), "apikey.created": _("API key created"),
        "apikey.revoked": _("API key revoked"),
        "dossiers.imported": _("dossiers imported"), "dossiers.staff_viewed": _("ratings by counter staff viewed"),
        "dossiers.flagged": _("ratings flagged: more than dossiers served"),
        "alertrule.created": _("alert rule added"), "alertrule.deleted": _("alert rule removed"),
        "alert.acknowledged": _("alert acknowledged"), "user.email_changed": _("e-mail address changed"),
        "retention.run": _("expired personal data purged"),
        "retention.responses": _("old months of responses archived and dropped"),
    }.get(action) or _readable(action)


def detail_label(key: str) -> str:
    """A detail's name in words; a key nobody named reads with spaces, never as a raw key."""
    return {
        "role": _("role"), "unit": _("unit"), "units": _("units"), "username": _("username"), "name": _("name"),
        "path": _("path"), "code": _("code"), "kind": _("kind"), "from": _("from"), "to": _("to"),
        "instrument": _("survey"), "version": _("version"), "access_mode": _("access"), "count": _("count"),
        "campaign": _("campaign"), "campaign_id": _("campaign"), "points": _("service points"), "file": _("file"),
        "key": _("key"), "failures": _("failed attempts"), "minutes": _("minutes"), "before": _("before"),
        "after": _("after"), "name_vi": _("name"), "name_en": _("English name"), "late": _("late"),
        "first": _("first answer"), "note": _("note"), "threshold": _("threshold"), "format": _("format"),
        "period": _("trend by"), "channels": _("channels"), "include_suspect": _("suspect responses included"),
        "rows": _("rows"), "office": _("office"), "label": _("name"), "scopes": _("permissions"),
        "response": _("response no."), "question": _("question"), "reason": _("reason"),
        "supersedes": _("replaces publication no."), "successor": _("successor"), "predecessor": _("predecessor"),
        "effective_on": _("from"), "change": _("change"), "share": _("share"), "grants": _("access rights"),
        "responses": _("responses"), "periods": _("months"), "created": _("new"), "updated": _("updated"),
        "unchanged": _("unchanged"),
    }.get(key) or _readable(key)


def _readable(key: str) -> str:
    return re.sub(r"[._:]+", " ", key).strip()


def _words(kind: str, value: str) -> str:
    """A coded value in words (statuses, roles, access modes, alert kinds, …)."""
    tables: dict[str, dict[str, str]] = {
        "status": {"draft": _("draft"), "open": _("open"), "paused": _("paused"), "closed": _("closed")},
        "role": {"viewer": _("Viewer"), "manager": _("Manager"), "admin": _("Administrator")},
        "access_mode": {"open": _("Poster QR"), "visit_token": _("One-time codes per visit"),
                        "respondent_token": _("A code per respondent")},
        "alert": {"below": _("index below the threshold"), "drop": _("significant drop"),
                  "spike": _("spike of negative answers"), "petition_deadline": _("petition near its deadline")},
        "period": {"month": _("month"), "quarter": _("quarter")},
        "unit_kind": {"one_stop": _("One-stop service"), "health": _("Health"), "education": _("Education"),
                      "admin": _("administrative unit")},
        "office": {"centre": _("public administration service centre"), "reception": _("reception point"),
                   "station": _("health station"), "school": _("school"), "class": _("class")},
        "change": {"merger": _("merger"), "split": _("split"), "rename": _("renaming")},
        "scope": {"reports:read": _("read reports"), "dossiers:write": _("send dossiers")},
        "channel": {"qr": _("QR code"), "kiosk": _("kiosk"), "link": _("link"), "paper": _("paper"),
                    "api": _("software (API)")},
    }
    return tables.get(kind, {}).get(value) or _readable(value)


_CODED = {"role": "role", "access_mode": "access_mode", "period": "period", "change": "change", "office": "office"}


class _Values:
    """An event's details as words, remembering which were used."""

    def __init__(self, detail: Mapping[str, Any], names: Mapping[str, str], surveys: Mapping[str, str]):
        self.detail = dict(detail or {})
        self.names = names
        self.surveys = surveys
        self.used: set[str] = set()

    def has(self, *keys: str) -> bool:
        return all(self.detail.get(k) not in (None, "", [], {}) for k in keys)

    def raw(self, key: str) -> Any:
        self.used.add(key)
        return self.detail.get(key)

    def text(self, key: str, kind: str | None = None) -> str:
        return show(self.raw(key), kind or _CODED.get(key), self.names, self.surveys)

    def extras(self) -> str:
        """The details no sentence used, in brackets."""
        parts = []
        for key in sorted(self.detail):
            value = self.detail[key]
            if key in self.used or value in (None, "", [], {}):
                continue
            parts.append(f"{detail_label(key)}: {show(value, _CODED.get(key), self.names, self.surveys)}")
        return f" ({'; '.join(parts)})" if parts else ""


def show(value: Any, kind: str | None, names: Mapping[str, str], surveys: Mapping[str, str]) -> str:
    """One detail value in words."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, (list, tuple)):
        return ", ".join(show(v, kind, names, surveys) for v in value)
    if isinstance(value, Mapping):
        return "; ".join(f"{detail_label(k)} {show(v, _CODED.get(k), names, surveys)}" for k, v in value.items()
                         if v not in (None, ""))
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    if kind == "plain":
        return text
    if kind == "survey":
        return surveys.get(text, text)
    if kind:
        return _words(kind, text)
    if _PATH.match(text):
        return names.get(text, text)
    if _DAY.match(text):
        return date.fromisoformat(text).strftime("%d/%m/%Y")
    return text


def _who(event: AuditEvent) -> str:
    if event.actor_id is None and event.actor_name == audit.SYSTEM:
        return _("The command line")
    actor = event.actor if event.actor_id is not None else None
    name = actor.display_name if actor is not None and actor.display_name else None
    username = event.actor_name or "—"
    return f"{name} ({username})" if name and name != username else username


def _transition(v: _Values) -> str:
    if v.has("from", "to"):
        return " " + _("(from %(before)s to %(after)s)", before=v.text("from", "status"), after=v.text("to", "status"))
    return ""


def _export(v: _Values, who: str) -> str:
    text = _("%(who)s exported the %(survey)s report as %(format)s, %(first)s to %(last)s, by %(period)s",
             who=who, survey=v.text("instrument", "survey"), format=str(v.raw("format")).upper(),
             first=v.text("from"), last=v.text("to"), period=v.text("period"))
    more = []
    if v.has("channels"):
        more.append(_("channels: %(list)s", list=v.text("channels", "channel")))
    if v.raw("include_suspect"):
        more.append(_("suspect responses included"))
    if v.has("campaign"):
        more.append(_("campaign no. %(id)s", id=v.text("campaign")))
    if v.detail.get("rows") is not None:
        more.append(_("%(rows)s rows", rows=v.text("rows")))
    return text + (f"; {'; '.join(more)}" if more else "")


def _answer_published(v: _Values, who: str) -> str:
    text = _("%(who)s published the answer to petition %(code)s", who=who, code=v.text("code"))
    notes = []
    if v.raw("first"):
        notes.append(_("the first answer"))
    late = v.raw("late")
    if late is not None:
        notes.append(_("late") if late else _("on time"))
    return text + (f" ({', '.join(notes)})" if notes else "")


def _kiosk_campaign(v: _Values, who: str) -> str:
    if v.has("campaign"):
        return _("%(who)s chose the campaign «%(campaign)s» for the kiosk «%(name)s» at %(unit)s", who=who,
                 campaign=v.text("campaign"), name=v.text("name"), unit=v.text("unit"))
    return _("%(who)s set the kiosk «%(name)s» at %(unit)s back to its service point's quick survey", who=who,
             name=v.text("name"), unit=v.text("unit"))


def _unit_created(v: _Values, who: str) -> str:
    kind = v.text("kind", "unit_kind") + (", " + v.text("office") if v.has("office") else "")
    text = _("%(who)s created the unit %(name)s (%(kind)s, %(path)s)", who=who, name=v.text("name"),
             kind=kind, path=v.text("path", "plain"))
    return text + _code(v)


def _code(v: _Values) -> str:
    return ", " + _("code %(code)s", code=v.text("code")) if v.has("code") else ""


def _published(v: _Values, who: str) -> str:
    text = _("%(who)s published the %(survey)s report, %(first)s to %(last)s", who=who,
             survey=v.text("instrument", "survey"), first=v.text("from"), last=v.text("to"))
    if v.has("supersedes"):
        text += ", " + _("replacing publication no. %(id)s", id=v.text("supersedes"))
    return text + _quoted_note(v)


def _quoted_note(v: _Values, key: str = "note") -> str:
    if not v.has(key):
        return ""
    if key == "reason":
        return " – " + _("reason: «%(reason)s»", reason=v.text(key))
    return " – " + _("note: «%(note)s»", note=v.text(key))


def _renamed(v: _Values, who: str) -> str:
    before, after = v.raw("before") or {}, v.raw("after") or {}
    text = _("%(who)s renamed the unit %(before)s to %(after)s", who=who, before=before.get("name_vi", "—"),
             after=after.get("name_vi", "—"))
    if before.get("path") and after.get("path") and before["path"] != after["path"]:
        text += " " + _("(path %(before)s became %(after)s)", before=before["path"], after=after["path"])
    return text


def _flagged(v: _Values, who: str) -> str:
    from ..reports.text import period_label

    periods = v.raw("periods") or []
    return _("%(who)s marked %(count)s responses suspect: more ratings than dossiers served in %(periods)s",
             who=who, count=v.text("responses"),
             periods=", ".join(period_label(str(p)) for p in periods) if periods else "—")


def _retired(v: _Values, who: str) -> str:
    """``retention.responses``: the months dropped, what they held, where the archives went."""
    from ..reports.text import period_label

    months, archives, skipped = v.raw("months") or [], v.raw("archives") or [], v.raw("skipped") or []
    if months:
        text = _("%(who)s archived and dropped the responses of %(months)s, older than the %(keep)s months kept "
                 "(before %(cutoff)s): %(responses)s responses and %(answers)s answers, in %(files)s archive files "
                 "in %(directory)s; the reports keep their figures", who=who,
                 months=", ".join(period_label(str(m)) for m in months), keep=v.text("keep_months"),
                 cutoff=v.text("cutoff"), responses=v.text("responses"), answers=v.text("answers"),
                 files=sum(len(m.get("archives", [])) for m in archives), directory=v.text("archive_dir", "plain"))
    else:
        v.raw("responses"), v.raw("answers"), v.raw("archive_dir")
        text = _("%(who)s checked the responses kept (%(keep)s months, from %(cutoff)s): no month was old enough "
                 "to drop", who=who, keep=v.text("keep_months"), cutoff=v.text("cutoff"))
    if skipped:
        text += "; " + _("kept for now, not yet in the reports' rollups: %(months)s",
                         months=", ".join(period_label(str(m)) for m in skipped))
    return text


def _succeeded(v: _Values, who: str) -> str:
    text = _("%(who)s declared %(successor)s the successor of %(predecessor)s from %(day)s (%(change)s)", who=who,
             successor=v.text("successor"), predecessor=v.text("predecessor"), day=v.text("effective_on"),
             change=v.text("change"))
    if v.has("share"):
        text += ", " + _("share %(share)s", share=v.text("share"))
    return text


def _survey_note(v: _Values) -> str:
    return " (" + v.text("instrument", "survey") + ")" if v.has("instrument") else ""


#: Details a sentence leaves out on purpose: said by the rest of the entry, or an internal key.
QUIET = {
    "user.password_changed": ("username",), "report.published": ("period",),
    "comment.hidden": ("question",), "comment.restored": ("question",), "kiosk.campaign_chosen": ("campaign_id",),
}

Builder = Callable[[_Values, str], str]
#: action → (the details its sentence needs, how it reads)
SENTENCES: dict[str, tuple[tuple[str, ...], Builder]] = {
    "user.created": (("username", "role", "unit"), lambda v, w: _(
        "%(who)s created the account %(username)s (%(role)s at %(unit)s)", who=w, username=v.text("username"),
        role=v.text("role"), unit=v.text("unit"))),
    "user.deactivated": (("username",), lambda v, w: _(
        "%(who)s deactivated the account %(username)s", who=w, username=v.text("username"))),
    "user.activated": (("username",), lambda v, w: _(
        "%(who)s reactivated the account %(username)s", who=w, username=v.text("username"))),
    "user.password_reset": (("username",), lambda v, w: _(
        "%(who)s reset the password of the account %(username)s", who=w, username=v.text("username"))),
    "user.password_changed": ((), lambda v, w: _("%(who)s changed their own password", who=w)),
    "user.email_changed": (("username",), lambda v, w: _(
        "%(who)s changed the e-mail address of the account %(username)s", who=w, username=v.text("username"))),
    "grant.added": (("username", "role", "unit"), lambda v, w: _(
        "%(who)s gave %(username)s access as %(role)s at %(unit)s", who=w, username=v.text("username"),
        role=v.text("role"), unit=v.text("unit"))),
    "grant.changed": (("username", "unit", "from", "to"), lambda v, w: _(
        "%(who)s changed the access of %(username)s at %(unit)s from %(before)s to %(after)s", who=w,
        username=v.text("username"), unit=v.text("unit"), before=v.text("from", "role"), after=v.text("to", "role"))),
    "grant.revoked": (("username", "unit", "role"), lambda v, w: _(
        "%(who)s removed the access of %(username)s as %(role)s at %(unit)s", who=w, username=v.text("username"),
        role=v.text("role"), unit=v.text("unit"))),
    "login.locked": (("failures", "minutes"), lambda v, w: _(
        "The account %(who)s was locked for %(minutes)s minutes after %(failures)s failed logins", who=w,
        minutes=v.text("minutes"), failures=v.text("failures"))),
    "unit.created": (("name", "kind", "path"), _unit_created),
    "unit.renamed": (("before", "after"), _renamed),
    "unit.moved": (("from", "to"), lambda v, w: _(
        "%(who)s moved the unit from %(before)s to %(after)s (%(count)s units updated)", who=w,
        before=v.text("from", "plain"), after=v.text("to", "plain"), count=v.text("units"))),
    "unit.deactivated": (("path",), lambda v, w: _(
        "%(who)s deactivated the unit %(unit)s and what is below it (%(count)s units)", who=w,
        unit=v.text("path"), count=v.text("units"))),
    "unit.activated": (("path",), lambda v, w: _(
        "%(who)s reactivated the unit %(unit)s and what is below it (%(count)s units)", who=w,
        unit=v.text("path"), count=v.text("units"))),
    "unit.deleted": (("name", "path"), lambda v, w: _(
        "%(who)s deleted the unit %(name)s (%(path)s)", who=w, name=v.text("name"), path=v.text("path", "plain"))
        + _code(v)),
    "unit.succeeded": (("successor", "predecessor", "effective_on", "change"), _succeeded),
    "grants.carried": (("from", "to"), lambda v, w: _(
        "%(who)s carried %(count)s access rights from %(before)s to %(after)s", who=w, count=v.text("grants"),
        before=v.text("from"), after=v.text("to"))),
    "campaign.created": (("name", "instrument", "access_mode"), lambda v, w: _(
        "%(who)s created the campaign «%(name)s» (%(survey)s, version %(version)s, %(access)s, %(count)s service "
        "points)", who=w, name=v.text("name"), survey=v.text("instrument", "survey"), version=v.text("version"),
        access=v.text("access_mode"), count=len(v.raw("points") or []))),
    "campaign.opened": (("name",), lambda v, w: _(
        "%(who)s opened the campaign «%(name)s»", who=w, name=v.text("name")) + _transition(v)),
    "campaign.paused": (("name",), lambda v, w: _(
        "%(who)s paused the campaign «%(name)s»", who=w, name=v.text("name")) + _transition(v)),
    "campaign.closed": (("name",), lambda v, w: _(
        "%(who)s closed the campaign «%(name)s»", who=w, name=v.text("name")) + _transition(v)),
    "instrument.uploaded": (("key", "version"), lambda v, w: _(
        "%(who)s uploaded version %(version)s of the survey %(survey)s (file %(file)s)", who=w,
        version=v.text("version"), survey=v.text("key", "survey"), file=v.text("file"))),
    "tokens.issued": (("count", "campaign"), lambda v, w: _(
        "%(who)s issued %(count)s one-time codes for the campaign «%(campaign)s» at %(unit)s (%(format)s)", who=w,
        count=v.text("count"), campaign=v.text("campaign"), unit=v.text("unit"),
        format=str(v.raw("format") or "").upper() or "—")),
    "kiosk.enrolled": (("name", "unit"), lambda v, w: _(
        "%(who)s enrolled the kiosk «%(name)s» at %(unit)s", who=w, name=v.text("name"), unit=v.text("unit"))),
    "kiosk.revoked": (("name", "unit"), lambda v, w: _(
        "%(who)s revoked the kiosk «%(name)s» at %(unit)s", who=w, name=v.text("name"), unit=v.text("unit"))),
    "kiosk.campaign_chosen": (("name", "unit"), _kiosk_campaign),
    "export.created": (("format", "instrument", "from", "to", "period"), _export),
    "report.published": (("instrument", "from", "to"), _published),
    "report.unpublished": (("instrument", "from", "to"), lambda v, w: _(
        "%(who)s withdrew the published %(survey)s report, %(first)s to %(last)s", who=w,
        survey=v.text("instrument", "survey"), first=v.text("from"), last=v.text("to"))),
    "comment.hidden": (("response",), lambda v, w: _(
        "%(who)s hid a comment of response no. %(response)s", who=w, response=v.text("response"))
        + _quoted_note(v, "reason")),
    "comment.restored": (("response",), lambda v, w: _(
        "%(who)s showed again a comment of response no. %(response)s", who=w, response=v.text("response"))
        + _quoted_note(v, "reason")),
    "apikey.created": (("label",), lambda v, w: _(
        "%(who)s created the API key «%(label)s» (may: %(scopes)s)", who=w, label=v.text("label"),
        scopes=v.text("scopes", "scope"))),
    "apikey.revoked": (("label",), lambda v, w: _(
        "%(who)s revoked the API key «%(label)s»", who=w, label=v.text("label"))),
    "petition.assigned": (("code", "from", "to"), lambda v, w: _(
        "%(who)s passed petition %(code)s from %(before)s to %(after)s", who=w, code=v.text("code"),
        before=v.text("from"), after=v.text("to"))),
    "petition.noted": (("code",), lambda v, w: _(
        "%(who)s wrote an internal note on petition %(code)s", who=w, code=v.text("code"))),
    "petition.answer_saved": (("code",), lambda v, w: _(
        "%(who)s saved a draft answer to petition %(code)s", who=w, code=v.text("code"))),
    "petition.answer_published": (("code",), _answer_published),
    "petition.text_approved": (("code",), lambda v, w: _(
        "%(who)s approved the text of petition %(code)s for publication", who=w, code=v.text("code"))),
    "petition.text_withheld": (("code",), lambda v, w: _(
        "%(who)s withheld the text of petition %(code)s from publication", who=w, code=v.text("code"))),
    "petition.closed": (("code",), lambda v, w: _(
        "%(who)s closed petition %(code)s", who=w, code=v.text("code"))),
    "petition.reopened": (("code",), lambda v, w: _(
        "%(who)s reopened petition %(code)s", who=w, code=v.text("code"))),
    "petition.contact_viewed": (("code",), lambda v, w: _(
        "%(who)s viewed the contact details of the sender of petition %(code)s", who=w, code=v.text("code"))),
    "petition.contact_deleted": (("code",), lambda v, w: _(
        "%(who)s deleted the contact details of the sender of petition %(code)s", who=w, code=v.text("code"))),
    "petition.refused": (("code",), lambda v, w: _(
        "%(who)s refused petition %(code)s as outside the unit's remit", who=w, code=v.text("code"))),
    "petition.info_requested": (("code",), lambda v, w: _(
        "%(who)s asked the sender of petition %(code)s for more information (request no. %(n)s)", who=w,
        code=v.text("code"), n=v.text("requests"))),
    "petition.info_recorded": (("code",), lambda v, w: _(
        "%(who)s recorded the information the sender of petition %(code)s gave (%(days)s working days waited)",
        who=w, code=v.text("code"), days=v.text("paused_days"))),
    "petition.published": (("code",), lambda v, w: _(
        "%(who)s published the answer to petition %(code)s on the unit's public page", who=w, code=v.text("code"))),
    "petition.merged": (("code", "into"), lambda v, w: _(
        "%(who)s merged petition %(code)s into petition %(into)s (it follows that one's answer)", who=w,
        code=v.text("code"), into=v.text("into"))),
    "petition.repeat_unmarked": (("code", "of"), lambda v, w: _(
        "%(who)s said petition %(code)s is not a repeat of petition %(of)s", who=w, code=v.text("code"),
        of=v.text("of"))),
    "dossiers.imported": (("created", "updated", "unchanged"), lambda v, w: _(
        "%(who)s imported dossiers: %(created)s new, %(updated)s updated, %(unchanged)s unchanged", who=w,
        created=v.text("created"), updated=v.text("updated"), unchanged=v.text("unchanged"))),
    "dossiers.staff_viewed": (("from", "to"), lambda v, w: _(
        "%(who)s viewed the ratings by counter staff, %(first)s to %(last)s", who=w, first=v.text("from"),
        last=v.text("to"))),
    "dossiers.flagged": (("responses",), _flagged),
    "alertrule.created": (("kind", "threshold"), lambda v, w: _(
        "%(who)s added an alert rule: %(kind)s, threshold %(threshold)s", who=w, kind=v.text("kind", "alert"),
        threshold=v.text("threshold")) + _survey_note(v)),
    "alertrule.deleted": (("kind",), lambda v, w: _(
        "%(who)s removed an alert rule: %(kind)s", who=w, kind=v.text("kind", "alert"))
        + _survey_note(v)),
    "alert.acknowledged": (("kind",), lambda v, w: _(
        "%(who)s acknowledged an alert: %(kind)s", who=w, kind=v.text("kind", "alert"))
        + _quoted_note(v)),
    "retention.responses": (("keep_months", "cutoff"), _retired),
    "retention.run": (("hash_cutoff", "contact_cutoff"), lambda v, w: _(
        "%(who)s purged personal data past its time: the device hashes of %(hashes)s responses sent before "
        "%(hash_day)s, the contact details of %(contacts)s petitions finished before %(contact_day)s, and "
        "%(runs)s old job records (hashes are kept %(margin)s day(s) after their day, contacts %(days)s days)",
        who=w, hashes=v.text("hashes_cleared"), hash_day=v.text("hash_cutoff"), contacts=v.text("contacts_deleted"),
        contact_day=v.text("contact_cutoff"), runs=v.text("job_runs_pruned"), margin=v.text("hash_margin_days"),
        days=v.text("contact_days"))),
}


def _compose(event: AuditEvent, names: Mapping[str, str] | None,
             surveys: Mapping[str, str] | None) -> tuple[str, _Values]:
    values = _Values(event.detail or {}, names or {}, surveys or {})
    values.used.update(QUIET.get(event.action, ()))
    who = _who(event)
    entry = SENTENCES.get(event.action)
    if entry is not None and values.has(*entry[0]):
        return entry[1](values, who), values
    return _("%(who)s: %(what)s", who=who, what=action_label(event.action)), values


def sentence(event: AuditEvent, names: Mapping[str, str] | None = None,
             surveys: Mapping[str, str] | None = None) -> str:
    """The event as one sentence in the current language (see the module doc).

    ``names`` maps unit paths to names and ``surveys`` instrument keys to titles (see
    :func:`unit_names`); without them paths and keys print as they are."""
    text, values = _compose(event, names, surveys)
    return text + values.extras()


def left_over(event: AuditEvent) -> list[str]:
    """The details of ``event`` its sentence does not say (they are added in brackets)."""
    _text, values = _compose(event, None, None)
    return sorted(k for k, v in values.detail.items() if k not in values.used and v not in (None, "", [], {}))


def unit_names(session: Session, events: Iterable[AuditEvent], lang: str = "vi") -> tuple[dict[str, str],
                                                                                          dict[str, str]]:
    """(unit path → name, instrument key → title) for the paths and survey keys in ``events``'
    details: two queries for a page of the log."""
    paths: set[str] = set()
    keys: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str) and _PATH.match(value):
            paths.add(value)
        elif isinstance(value, Mapping):
            for v in value.values():
                walk(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v)

    for e in events:
        walk(e.detail or {})
        for k in ("instrument", "key"):
            if isinstance((e.detail or {}).get(k), str):
                keys.add(e.detail[k])
    names: dict[str, str] = {}
    if paths:
        for path, vi, en in session.execute(select(Unit.path, Unit.name_vi, Unit.name_en)
                                            .where(Unit.path.in_(sorted(paths)))).all():
            names[path] = (en if lang == "en" and en else vi)
    surveys: dict[str, str] = {}
    if keys:
        from ..collect.instruments import latest_version

        for key in session.scalars(select(Instrument.key).where(Instrument.key.in_(sorted(keys)))).all():
            version = latest_version(session, key)
            title = (version.snapshot.get("title") or {}) if version is not None else {}
            surveys[key] = title.get(lang) or title.get("vi") or key
    return names, surveys
