"""``flask demo load`` adds code campaigns with slips, kiosks (one enrolled, one fresh link),
a publication, petitions at every stage and comments (``services/data/demo_extras.py``),
through the services and idempotently."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import (AuditEvent, Answer, Campaign, CommentFlag, Kiosk, Petition, PetitionEvent, Publication,
                               Response, Unit, VisitToken)
from survey_app.models import PETITION_STATUSES
from survey_app.services.data import demo_extras
from survey_app.services.qr import kiosks


def counts() -> dict[str, int]:
    db.session.expire_all()
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Campaign, VisitToken, Publication, Petition, PetitionEvent, Response, Answer, CommentFlag,
                          AuditEvent)}


def point(code: str) -> Unit:
    return db.session.scalar(select(Unit).where(Unit.code == code))


def test_demo_load_adds_the_extras_once(demo_app):
    runner = demo_app.test_cli_runner()
    result = runner.invoke(args=["demo", "load", "--no-history", "--base-url", "http://127.0.0.1:5077"])
    assert result.exit_code == 0, result.output
    assert "Added 65 one-time codes, 11 petitions, a publication (/p/p2motcua)." in result.output
    assert counts()["Response"] == 0  # --no-history: no answers, so no comments either
    link = re.search(r"http://127\.0\.0\.1:5077/k/enrol/(\S+)", result.output)
    assert link, result.output

    # Code campaigns with slips: the one-stop evaluation at a counter, the parents' survey for a class.
    counter = point("p2motcua")
    code_campaigns = db.session.scalars(select(Campaign).where(Campaign.access_mode != "open")).all()
    by_kind = {c.instrument_version.snapshot["kind"]: c for c in code_campaigns}
    assert by_kind["one_stop"].units == [counter] and by_kind["one_stop"].status == "open"
    assert by_kind["education"].access_mode == "respondent_token"
    for campaign, n in ((by_kind["one_stop"], 30), (by_kind["education"], 35)):
        assert db.session.scalar(select(func.count(VisitToken.id)).where(VisitToken.campaign_id == campaign.id)) == n
        assert db.session.scalar(select(AuditEvent.detail).where(AuditEvent.action == "tokens.issued",
                                                                 AuditEvent.target == f"campaign:{campaign.id}"))["count"] == n

    # Kiosks: an enrolled tablet at the counter, and a link that still works.
    enrolled = db.session.scalar(select(Kiosk).where(Kiosk.label == demo_extras.KIOSK_LABEL))
    assert enrolled.unit == counter and enrolled.enrolled_at is not None and enrolled.revoked_at is None
    state, pending = kiosks.enrolment_state(db.session, link.group(1))
    assert state == "pending" and pending.unit.code == demo_extras.LINK_POINT

    # A publication, public without login.
    pub = db.session.scalar(select(Publication))
    assert pub.unit == counter and pub.instrument.key == "sipas" and pub.period == "quarter"
    with demo_app.test_client().get("/p/p2motcua") as page:
        assert page.status_code == 200

    # Petitions at every stage, with their public events.
    petitions = db.session.scalars(select(Petition).order_by(Petition.id)).all()
    assert {p.status for p in petitions} == set(PETITION_STATUSES)
    closed = next(p for p in petitions if p.status == "closed")
    assert closed.text_approved and closed.answer_text and closed.closed_at is not None
    assigned = next(p for p in petitions if p.status == "assigned")
    assert assigned.unit.code == demo_extras.ASSIGNED_TO and assigned.origin_unit_id != assigned.unit_id
    assert any(p.status == "received" and petitions_overdue(p) for p in petitions)  # one is overdue
    waiting = next(p for p in petitions if p.status == "waiting")
    assert waiting.events[-1].kind == "info_requested" and not petitions_overdue(waiting)
    refused = next(p for p in petitions if p.status == "refused")
    assert refused.refusal_reason and refused.events[-1].kind == "refused"
    published = next(p for p in petitions if p.status == "published")
    assert published.published_at is not None and published.text_is_public
    reopened = next(p for p in petitions if p.reopen_count == 1)
    assert reopened.status == "received" and reopened.answered_at is None and reopened.answer_text
    assert [e.kind for e in reopened.events][-1] == "not_resolved"
    duplicate = next(p for p in petitions if p.merged_into_id is not None)
    assert duplicate.merged_into.status == "waiting" and duplicate.events[-1].kind == "merged"
    repeat = next(p for p in petitions if p.repeat_of_id is not None)
    assert repeat.repeat_of.status == "closed" and repeat.repeat_of.category == repeat.category
    from survey_app.services.petitions import verdicts
    assert verdicts.counts(db.session, [published.id])[published.id].satisfied == 9
    with demo_app.test_client().get(f"/t/{closed.tracking_code}", follow_redirects=True) as page:
        assert page.status_code == 200 and "máy lấy số thứ tự mới" in page.get_data(as_text=True)

    # Comments on responses (with the history), one hidden by a manager.
    assert demo_extras.add_extras(db.session).comments == len(demo_extras.COMMENTS)
    wanted = [text for _code, text in demo_extras.COMMENTS]
    stored = db.session.execute(select(Answer.value_text, Unit.code).join(Response, Response.id == Answer.response_id)
                                .join(Unit, Unit.id == Response.unit_id).where(Answer.value_text.in_(wanted))).all()
    assert sorted(stored) == sorted((text, code) for code, text in demo_extras.COMMENTS)
    flag = db.session.scalar(select(CommentFlag))
    assert flag.hidden and flag.reason == demo_extras.HIDDEN_REASON
    assert db.session.get(Answer, flag.answer_id).value_text == demo_extras.COMMENTS[-1][1]

    # Again: nothing new but a fresh kiosk link (the unused one is revoked).
    before = counts()
    assert demo_extras.add_extras(db.session).comments == 0
    result = runner.invoke(args=["demo", "load", "--no-history"])
    assert result.exit_code == 0, result.output
    assert "one-time codes" not in result.output and "petitions" not in result.output
    after = counts()
    assert {k: v for k, v in after.items() if k != "AuditEvent"} == {k: v for k, v in before.items() if k != "AuditEvent"}
    again = re.search(r"/k/enrol/(\S+)", result.output).group(1)
    assert kiosks.enrolment_state(db.session, again)[0] == "pending"
    assert kiosks.enrolment_state(db.session, link.group(1))[0] == "revoked"
    assert db.session.scalar(select(func.count(Kiosk.id)).where(Kiosk.revoked_at.is_(None))) == 2


def petitions_overdue(petition: Petition) -> bool:
    from survey_app.services.petitions.operations import is_overdue, local_day
    from survey_app.models import utcnow

    return is_overdue(petition, local_day(utcnow()))
