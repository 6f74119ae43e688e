"""The rest of the demo, so every page and every README command has something to show:

* one-time-code campaigns: the one-stop evaluation at ``p2motcua`` (the same campaign the
  demo dossiers use, ``demo_dossiers.ensure_campaign``) with a batch of issued slips, and
  the parents' survey at ``p2tieuhoc`` with codes for a class (``respondent_token``);
* kiosks at the counters: one enrolled tablet at ``p2motcua`` and, at ``pqtttpv``, a fresh
  enrolment link that ``flask demo load`` prints (open it once in a browser to see kiosk
  mode; a later load replaces a link nobody opened);
* a publication of results (Phường 2's counter, SIPAS, second quarter of 2025, the last
  full quarter of the former ward) at ``/p/p2motcua``;
* petitions at every stage of the national portal's rules — received (one overdue), waiting
  for the citizen's information, refused as out of scope, assigned, answered, published on
  the unit's page, closed with the citizen's text made public, and one the petitioner
  reopened ("the answer did not resolve it"); a duplicate merged into another (it follows
  that one's answer), a repeat of an answered one, and the public's verdicts on the published
  answer — at Phường 2's points, handled by ``demo-manager``;
* open answers (comments) on some responses, one of them hidden by a manager (with the
  history only: ``demo load --no-history`` adds no responses).

Everything goes through the services the web pages use, is audited like them and is
idempotent: what exists is left as it is (only the unused kiosk link is replaced).
"""
from __future__ import annotations

import random
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from ...models import (Answer, Campaign, CommentFlag, Dossier, Kiosk, Petition, Publication, Unit, User, VisitToken,
                       campaign_unit)
from ..collect.instruments import latest_version
from ..collect.surveys import SurveyTarget, submit_response
from ..officials import audit
from ..officials.scope import Scope
from ..petitions import operations as petitions
from ..qr import kiosks, tokens
from ..reports import comments, publication
from . import demo_dossiers

__all__ = ["Extras", "add_extras"]

CODE_POINT = "p2motcua"
SLIPS = 30
SCHOOL_POINT = "p2tieuhoc"
SCHOOL_CAMPAIGN = "Phiếu phụ huynh lớp 5A {year} (mã dùng một lần) – {unit}"
CLASS_SIZE = 35
KIOSK_POINT, KIOSK_LABEL = "p2motcua", "Quầy 1 (demo)"
LINK_POINT, LINK_LABEL = "pqtttpv", "Máy tính bảng thử (demo)"
PUBLISHED = ("p2motcua", "sipas", "2025-Q2", date(2025, 4, 1), date(2025, 6, 30))
MANAGER = "demo-manager"

#: (key, point, category, text, days ago, stage, the citizen allows publishing the text)
PETITIONS = [
    ("demo-petition-received", "p2motcua", "procedure",
     "Tôi nộp hồ sơ đăng ký khai sinh từ tuần trước nhưng chưa được hẹn ngày trả kết quả.", 2, "received", False),
    ("demo-petition-overdue", "p2yte", "health",
     "Buổi sáng chỉ có một bác sĩ khám, người bệnh phải chờ hơn hai tiếng.", 30, "received", False),
    ("demo-petition-assigned", "p2motcua", "health",
     "Trạm y tế không có chỗ ngồi chờ có mái che, trời mưa người già phải đứng ngoài.", 6, "assigned", False),
    ("demo-petition-answered", "p2tieuhoc", "education",
     "Đề nghị nhà trường thông báo lịch họp phụ huynh sớm hơn, ít nhất trước một tuần.", 12, "answered", False),
    ("demo-petition-closed", "p2motcua", "procedure",
     "Cán bộ quầy chứng thực hướng dẫn rất tận tình, nhưng máy lấy số thứ tự hay bị hỏng.", 20, "closed", True),
    ("demo-petition-waiting", "p2motcua", "infrastructure",
     "Đèn đường trong hẻm bị tắt nhiều đêm liền, đi lại rất nguy hiểm.", 4, "waiting", False),
    ("demo-petition-refused", "p2motcua", "other",
     "Đề nghị xem xét lại bản án dân sự sơ thẩm của Toà án nhân dân khu vực.", 3, "refused", False),
    ("demo-petition-published", "p2yte", "health",
     "Trạm y tế nên niêm yết giá các dịch vụ tiêm chủng ở nơi dễ thấy.", 15, "published", True),
    ("demo-petition-reopened", "p2motcua", "environment",
     "Rác thải tập kết ở đầu tổ 3 không được thu gom, bốc mùi suốt cả tuần.", 25, "reopened", True),
    # Merged into demo-petition-waiting (the same street light), then a repeat of the closed one.
    ("demo-petition-duplicate", "p2motcua", "infrastructure",
     "Đèn đường trong hẻm bị tắt nhiều đêm liền, đi lại rất nguy hiểm cho người già và trẻ em.", 3, "merged",
     False),
    ("demo-petition-repeat", "p2motcua", "procedure",
     "Cán bộ quầy chứng thực hướng dẫn tận tình, nhưng máy lấy số thứ tự lại hay bị hỏng.", 1, "received", False),
]
MERGED_INTO = "demo-petition-waiting"
#: The public's verdicts on the published answer: enough (≥ 10) for /p/ to show the counts.
VERDICT_MARKS = ("satisfied",) * 9 + ("dissatisfied",) * 3
ASSIGNED_TO = "p2yte"
ANSWERS = {
    "answered": "Nhà trường xin tiếp thu. Từ học kỳ II, lịch họp phụ huynh sẽ được gửi qua sổ liên lạc điện tử "
                "trước ít nhất 7 ngày.",
    "closed": "Bộ phận Một cửa đã thay máy lấy số thứ tự mới từ ngày 15. Cảm ơn ông/bà đã góp ý.",
    "published": "Trạm Y tế đã niêm yết bảng giá dịch vụ tiêm chủng tại sảnh chờ và trên trang thông tin của phường.",
    "reopened": "Phường đã nhắc đơn vị thu gom rác thu gom đúng lịch tại điểm tập kết đầu tổ 3.",
}
QUESTION = "Xin Ông/Bà cho biết tên hẻm và số nhà gần cột đèn bị tắt."
REFUSAL = ("Nội dung đề nghị thuộc thẩm quyền của Toà án; Ông/Bà có thể kháng cáo hoặc đề nghị giám đốc thẩm "
           "theo Bộ luật Tố tụng dân sự.")

#: (point, comment) — open answers on some demo responses; the last one is hidden by a manager.
COMMENTS = [
    ("p2motcua", "Cán bộ hướng dẫn nhiệt tình, thủ tục nhanh hơn trước nhiều."),
    ("p2motcua", "Nên có thêm ghế ngồi chờ và nước uống cho người dân."),
    ("p2motcua", "Phải quay lại hai lần vì thiếu giấy tờ, mong niêm yết rõ hơn thành phần hồ sơ."),
    ("p2yte", "Bác sĩ khám kỹ, giải thích dễ hiểu. Nhà vệ sinh cần sạch hơn."),
    ("p2yte", "Thời gian chờ khám buổi sáng quá lâu."),
    ("p2tieuhoc", "Cô giáo chủ nhiệm rất quan tâm đến các cháu."),
    ("pqtttpv", "Trung tâm mới rộng rãi, có bảng hướng dẫn rõ ràng."),
    ("pqtttpv", "Quầy đất đai đông, nên bố trí thêm cán bộ vào sáng thứ Hai."),
    ("p2motcua", "Cán bộ quầy 2 là đồ vô dụng!!!"),  # abusive: hidden (kept, audited)
]
HIDDEN_REASON = "Lời lẽ xúc phạm cán bộ (demo)"


@dataclass
class Extras:
    """What one run added (zero when it was all there), and the kiosk link to print."""

    slips: int = 0
    petitions: int = 0
    comments: int = 0
    published: bool = False
    kiosk_link_path: str | None = None
    kiosk_link_expires: datetime | None = None
    notes: list[str] = field(default_factory=list)


def _point(session: Session, code: str) -> Unit | None:
    return session.scalar(select(Unit).where(Unit.code == code))


def _manager(session: Session) -> tuple[User, Scope] | None:
    user = session.scalar(select(User).where(User.username == MANAGER))
    if user is None:
        return None
    return user, Scope.for_user(user, session)


def add_extras(session: Session, now: datetime | None = None, kiosk_valid_for: timedelta = timedelta(hours=24),
               comments: bool = True) -> Extras:
    """Add what is missing (see the module's docstring); the comments are responses, so
    they come with the history (``comments=False`` for ``demo load --no-history``, whose
    points keep no answers at all). Commits."""
    now = now or datetime.now(timezone.utc)
    extras = Extras()
    managed = _manager(session)
    if managed is None:
        return extras
    user, scope = managed
    extras.slips = _code_campaigns(session, user, now)
    _kiosks(session, extras, now, kiosk_valid_for)
    extras.published = _publication(session, scope, user, now)
    extras.petitions = _petitions(session, scope, user, now)
    extras.comments = _comments(session, scope, user, now) if comments else 0
    session.commit()
    return extras


# ------------------------------------------------------------------ one-time codes

def _unused_slips(session: Session, campaign: Campaign, unit: Unit) -> int:
    return session.scalar(select(func.count(VisitToken.id)).where(
        VisitToken.campaign_id == campaign.id, VisitToken.unit_id == unit.id,
        ~exists().where(Dossier.token_id == VisitToken.id)))


def _issue(session: Session, user: User, campaign: Campaign, unit: Unit, n: int, now: datetime) -> int:
    """A batch of slips, as the campaign page issues them (audited), unless it has some."""
    if _unused_slips(session, campaign, unit):
        return 0
    codes = tokens.issue_tokens(session, campaign, unit, n, now=now)
    audit.record(session, "tokens.issued", actor=user, unit=unit, target=f"campaign:{campaign.id}",
                 detail={"campaign": campaign.name, "unit": unit.path, "count": len(codes), "format": "pdf"})
    session.commit()
    return len(codes)


def _code_campaigns(session: Session, user: User, now: datetime) -> int:
    issued = 0
    counter = _point(session, CODE_POINT)
    if counter is not None:
        campaign = demo_dossiers.ensure_campaign(session, counter, now)
        session.commit()
        issued += _issue(session, user, campaign, counter, SLIPS, now)
    school = _point(session, SCHOOL_POINT)
    version = latest_version(session, "education-parents")
    if school is not None and version is not None:
        campaign = session.scalar(select(Campaign).join(campaign_unit).where(
            campaign_unit.c.unit_id == school.id, Campaign.access_mode == "respondent_token").order_by(Campaign.id))
        if campaign is None:
            campaign = Campaign(name=SCHOOL_CAMPAIGN.format(year=now.year, unit=school.name_vi),
                                instrument_version=version, access_mode="respondent_token", status="open",
                                starts_at=now - timedelta(days=30), ends_at=None)
            campaign.units.append(school)
            session.add(campaign)
            session.commit()
        if campaign.state_at(now) == "open":
            issued += _issue(session, user, campaign, school, CLASS_SIZE, now)
    return issued


# ------------------------------------------------------------------ kiosks

def _kiosks(session: Session, extras: Extras, now: datetime, valid_for: timedelta) -> None:
    counter = _point(session, KIOSK_POINT)
    if counter is not None and session.scalar(select(Kiosk.id).where(
            Kiosk.unit_id == counter.id, Kiosk.label == KIOSK_LABEL)) is None:
        enrolment = kiosks.enrol_kiosk(session, counter, KIOSK_LABEL, valid_for=valid_for, now=now)
        audit.record(session, "kiosk.enrolled", actor_name="demo", unit=counter, target=f"kiosk:{enrolment.kiosk.id}",
                     detail={"label": KIOSK_LABEL})
        session.commit()
        kiosks.complete_enrolment(session, enrolment.secret, now=now)  # the demo's tablet opened its link
    centre = _point(session, LINK_POINT)
    if centre is None:
        return
    # A link is shown once; the one printed last time cannot be printed again, so an unopened
    # one is revoked and a fresh one made.
    for stale in session.scalars(select(Kiosk).where(Kiosk.unit_id == centre.id, Kiosk.label == LINK_LABEL,
                                                     Kiosk.enrolled_at.is_(None), Kiosk.revoked_at.is_(None))):
        kiosks.revoke_kiosk(session, stale.id, now=now)
        audit.record(session, "kiosk.revoked", actor_name="demo", unit=centre, target=f"kiosk:{stale.id}",
                     detail={"label": LINK_LABEL, "reason": "replaced by a fresh demo link"})
    enrolment = kiosks.enrol_kiosk(session, centre, LINK_LABEL, valid_for=valid_for, now=now)
    audit.record(session, "kiosk.enrolled", actor_name="demo", unit=centre, target=f"kiosk:{enrolment.kiosk.id}",
                 detail={"label": LINK_LABEL})
    session.commit()
    extras.kiosk_link_path = enrolment.path
    extras.kiosk_link_expires = enrolment.expires_at


# ------------------------------------------------------------------ publication

def _publication(session: Session, scope: Scope, user: User, now: datetime) -> bool:
    code, instrument, window, date_from, date_to = PUBLISHED
    point = _point(session, code)
    if point is None or latest_version(session, instrument) is None:
        return False
    before = session.scalar(select(func.count(Publication.id)).where(Publication.unit_id == point.id))
    publication.publish(session, scope, point, publication.public_filters_for(instrument, window, date_from, date_to),
                        actor=user)  # the period already public: returns that release, adds nothing
    session.commit()
    return session.scalar(select(func.count(Publication.id)).where(Publication.unit_id == point.id)) > before


# ------------------------------------------------------------------ petitions

def _petitions(session: Session, scope: Scope, user: User, now: datetime) -> int:
    made = 0
    for key, code, category, text, days_ago, stage, consent in PETITIONS:
        point = _point(session, code)
        if point is None or session.scalar(select(Petition.id).where(Petition.submission_key == key)) is not None:
            continue
        received = now - timedelta(days=days_ago)
        filed = petitions.file_petition(session, point, category=category, text=text, publish_consent=consent,
                                        submission_key=key, now=received)
        petition = session.get(Petition, filed.petition.id)
        made += 1
        if stage == "assigned":
            target = _point(session, ASSIGNED_TO)
            petitions.assign(session, scope, petition, target, actor=user, now=received + timedelta(hours=20))
            petitions.add_note(session, scope, petition, "Chuyển Trạm Y tế xem xét bố trí mái che.", actor=user,
                               now=received + timedelta(hours=21))
        if stage == "waiting":
            petitions.request_info(session, scope, petition, QUESTION, actor=user, now=received + timedelta(hours=3))
        if stage == "refused":
            petitions.refuse(session, scope, petition, REFUSAL, actor=user, now=received + timedelta(hours=5))
        if stage in ("answered", "closed", "published", "reopened"):
            answered = received + timedelta(days=3)
            petitions.save_answer(session, scope, petition, ANSWERS[stage], actor=user, now=answered)
            petitions.send_answer(session, scope, petition, actor=user, now=answered + timedelta(minutes=5))
        if stage in ("published", "reopened"):
            if consent:
                petitions.set_text_public(session, scope, petition, True, actor=user, now=received + timedelta(days=4))
            petitions.make_public(session, scope, petition, actor=user, now=received + timedelta(days=4, hours=1))
        if stage == "reopened":
            petitions.not_resolved(session, petition, now=received + timedelta(days=10))
        if stage == "merged":
            survivor = session.scalar(select(Petition).where(Petition.submission_key == MERGED_INTO))
            if survivor is not None:
                petitions.merge(session, scope, petition, survivor, actor=user, now=received + timedelta(hours=2))
        if stage == "published":
            _verdicts(session, petition, received + timedelta(days=5))
        if stage == "closed":
            if consent:
                petitions.set_text_public(session, scope, petition, True, actor=user,
                                          now=received + timedelta(days=4))
            petitions.close(session, scope, petition, actor=user, now=received + timedelta(days=5))
    return made


def _verdicts(session: Session, petition: Petition, at: datetime) -> None:
    """Marks as the /a/<id> form would store them, one per (made-up) device."""
    from ..collect.formtoken import FormToken
    from ..petitions import verdicts

    for i, mark in enumerate(VERDICT_MARKS):
        verdicts.record(session, petition, mark, FormToken(nonce=f"demo-verdict-{petition.id}-{i}", issued_at=at),
                        verdicts.VerdictSignals(device_hash=f"demo-device-{i:02d}", fill_seconds=30.0),
                        now=at + timedelta(minutes=7 * i))


# ------------------------------------------------------------------ comments

def _answers(rng: random.Random, definition: dict, good: bool) -> list[tuple[str, int | None, str | None]]:
    answers = []
    for q in definition["questions"]:
        if q["type"] != "scale":
            continue
        levels = [lv["value"] for lv in definition["scales"][q["scale"]]["levels"]]
        top = levels[-2:] if good else levels[1:-1]
        answers.append((q["key"], rng.choice(top), None))
    return answers


def _comment_key(definition: dict) -> str | None:
    return next((q["key"] for q in definition["questions"] if q["type"] in comments.TEXT_TYPES), None)


def _poster_campaign(session: Session, unit: Unit) -> Campaign | None:
    """The point's poster campaign of a full survey (the one its QR opens)."""
    return session.scalar(select(Campaign).join(campaign_unit).where(
        campaign_unit.c.unit_id == unit.id, Campaign.access_mode == "open").order_by(Campaign.id))


def _comments(session: Session, scope: Scope, user: User, now: datetime) -> int:
    made = 0
    last_answer_id = None
    for i, (code, text) in enumerate(COMMENTS):
        point = _point(session, code)
        campaign = _poster_campaign(session, point) if point is not None else None
        if campaign is None:
            continue
        definition = campaign.instrument_version.snapshot
        question = _comment_key(definition)
        if question is None:
            continue
        rng = random.Random(zlib.crc32(f"comment-{i}".encode()))
        answers = [*_answers(rng, definition, good=i % 3 == 0), (question, None, text)]
        submitted = submit_response(
            session, SurveyTarget(point, campaign, campaign.instrument_version), answers, channel="qr",
            language="vi", idempotency_key=f"extra-comment-{i}",
            submitted_at=now - timedelta(days=3 + 4 * i, hours=rng.randint(0, 6)))
        made += int(submitted.created)
        last_answer_id = session.scalar(select(Answer.id).where(Answer.response_id == submitted.response_id,
                                                                Answer.question_key == question))
    # The abusive one (the last) is hidden once; a later run finds it hidden and changes nothing.
    if last_answer_id is not None and session.scalar(
            select(CommentFlag.id).where(CommentFlag.answer_id == last_answer_id)) is None:
        comments.set_hidden(session, scope, last_answer_id, True, actor=user, reason=HIDDEN_REASON)
        session.commit()
    return made
