"""Served dossiers for the demo: an open one-time-code campaign of the one-stop evaluation
at each demo counter, and a few hundred dossiers over the last six months with realistic
late shares (Phường 2 about 5%, Phường 1 about 12%), some waiting for the citizen's
documents, a few with a petition, and about a third rated through their evaluation code.
Results are handed back and rated while the counter is open (:mod:`.demo_hours`: never on
a Sunday), and a rating's nine indicators move together as real ones do (Cronbach's alpha
about 0.8).

Deterministic (seeded) and idempotent: a counter that already has demo dossiers is left
alone. Dossiers and ratings go in through the same services as the API's.
"""
from __future__ import annotations

import random
import secrets
import zlib
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...models import Campaign, Dossier, Unit, campaign_unit
from ..collect.instruments import latest_version
from ..collect.surveys import SurveyTarget, submit_response
from ..officials.scope import GrantInfo, Scope
from ..dossiers import operations
from .demo_hours import is_open, next_open

__all__ = ["CAMPAIGN_NAME", "PROCEDURES", "add_dossiers", "ensure_campaign"]

CAMPAIGN_NAME = "Đánh giá giải quyết hồ sơ {year} – {unit}"
#: (procedure code, name, sector, legal working days) — as ward counters see them (demo values).
PROCEDURES = [
    ("1.001193", "Đăng ký khai sinh", "Hộ tịch", 1),
    ("1.000894", "Đăng ký kết hôn", "Hộ tịch", 1),
    ("1.000656", "Đăng ký khai tử", "Hộ tịch", 1),
    ("1.004873", "Cấp giấy xác nhận tình trạng hôn nhân", "Hộ tịch", 3),
    ("2.000815", "Chứng thực bản sao từ bản chính giấy tờ, văn bản", "Chứng thực", 1),
    ("2.000884", "Chứng thực chữ ký trong các giấy tờ, văn bản", "Chứng thực", 1),
    ("1.003596", "Đăng ký biến động quyền sử dụng đất", "Đất đai", 10),
    ("1.001758", "Hỗ trợ chi phí mai táng cho đối tượng bảo trợ xã hội", "Bảo trợ xã hội", 7),
]
LATE_SHARE = {"p2motcua": 0.05, "p1motcua": 0.12}
STAFF = {"p2motcua": ["Quầy 1", "Quầy 2", "Quầy 3"], "p1motcua": ["Quầy 1", "Quầy 2"]}


def ensure_campaign(session: Session, point: Unit, now: datetime | None = None) -> Campaign:
    """The point's open one-time-code campaign of the one-stop evaluation (made if missing)."""
    now = now or datetime.now(timezone.utc)
    found = operations.find_campaign(session, point, now)
    if found is not None:
        return found
    version = latest_version(session, "one-stop")
    if version is None:
        raise RuntimeError("instrument 'one-stop' is not loaded; run 'flask instruments load' first")
    campaign = Campaign(name=CAMPAIGN_NAME.format(year=now.year, unit=point.name_vi), instrument_version=version,
                        access_mode="visit_token", status="open",
                        starts_at=now - timedelta(days=400), ends_at=None)
    campaign.units.append(point)
    session.add(campaign)
    session.flush()
    return campaign


#: Loading of each indicator on the citizen's latent satisfaction with the dossier's
#: handling, and how far a badly handled dossier lowers it: Cronbach's alpha of the
#: indicators comes out near 0.8 (eight for a citizen who came in person, nine online).
ITEM_LOADING = 0.55
BAD_SHIFT = -1.5
#: Latent cut points of the three levels: Không hài lòng below −1.2, Hài lòng up to 0,
#: Rất hài lòng above (a well handled dossier: about 12% / 38% / 50%).
CUTS = (-1.2, 0.0)
#: Citizens who filed online (and so rate indicator 9, the online service) — a demo value.
ONLINE_SHARE = 0.25


def _answers(rng: random.Random, definition: dict, good: bool) -> list[tuple[str, int | None, str | None]]:
    """One rating: a latent satisfaction z ~ N(0, 1) (shifted by :data:`BAD_SHIFT` when the
    dossier went badly), each indicator y = λ·z + √(1 − λ²)·e cut at :data:`CUTS` into the
    levels 1, 2, 3. Indicator 9 (online service) is answered only by the
    :data:`ONLINE_SHARE` of citizens who filed their dossier online."""
    z = rng.gauss(0.0, 1.0) + (0.0 if good else BAD_SHIFT)
    online = rng.random() < ONLINE_SHARE
    answers = []
    for q in definition["questions"]:
        if q["type"] != "scale" or (q["key"] == "online" and not online):
            continue
        y = ITEM_LOADING * z + (1 - ITEM_LOADING ** 2) ** 0.5 * rng.gauss(0.0, 1.0)
        answers.append((q["key"], 1 if y < CUTS[0] else 2 if y < CUTS[1] else 3, None))
    return answers


def _at_counter(rng: random.Random, returned: datetime, received: datetime, due: datetime, late: bool) -> datetime:
    """The return moved into the counter's opening hours: a time in its next opening
    period, or, when that would make an on-time dossier late, the last open quarter of an
    hour before ``returned`` (never before it was received)."""
    moved = next_open(returned, rng)
    if moved == returned or late or moved <= due:
        return moved
    back = returned
    while not is_open(back) and back > received:
        back -= timedelta(minutes=15)
    return max(back, received)


def add_dossiers(session: Session, months: int = 6, now: datetime | None = None) -> int:
    """Add ``months`` months of served dossiers to every demo counter without any; returns how many."""
    now = now or datetime.now(timezone.utc)
    added = 0
    for code, late_share in LATE_SHARE.items():
        point = session.scalar(select(Unit).where(Unit.code == code))
        if point is None:
            continue
        campaign = ensure_campaign(session, point, now)
        if session.scalar(select(func.count()).select_from(Dossier).where(Dossier.unit_id == point.id)):
            continue
        grant = GrantInfo(grant_id=0, unit_id=point.id, path=point.path, role="viewer")
        scope = Scope(session, None, [grant], 1)
        rng = random.Random(zlib.crc32(("dossiers-" + code).encode()))
        payloads, returned_late = [], []
        start = now - timedelta(days=30 * months)
        for day in range(30 * months - 2):
            moment = start + timedelta(days=day)
            if moment.weekday() >= 5:
                continue
            for seq in range(rng.randint(0, 3)):
                procedure_code, name, sector, days = rng.choice(PROCEDURES)
                received = next_open(moment.replace(hour=rng.randint(1, 8), minute=rng.randint(0, 59), second=0,
                                                    microsecond=0), rng)
                due = received + timedelta(days=days + 2 * (days // 5))
                late = rng.random() < late_share
                waited = rng.choice([0] * 8 + [60 * 24, 60 * 48])
                spent = timedelta(minutes=waited) + (due - received) * (1.3 if late else rng.uniform(0.2, 0.95))
                returned = _at_counter(rng, received + spent, received, due, late)
                if returned > now - timedelta(hours=1):
                    returned = None
                payloads.append({
                    "code": f"{code.upper()}-{received.astimezone(timezone(timedelta(hours=7))):%y%m%d}-{seq + 1:04d}",
                    "procedure_code": procedure_code, "procedure_name": name, "sector": sector,
                    "service_point": code, "staff": rng.choice(STAFF[code]),
                    "received_at": received.isoformat(), "due_at": due.isoformat(),
                    "returned_at": returned.isoformat() if returned else None,
                    "status": ("returned_late" if late else "returned") if returned else "processing",
                    "waited_minutes": waited, "document_requests": 1 if waited else 0,
                    "petition": late and rng.random() < 0.3,
                })
                returned_late.append(late)
        for chunk in range(0, len(payloads), operations.MAX_BATCH):
            outcomes = operations.upsert_many(session, scope, payloads[chunk:chunk + operations.MAX_BATCH],
                                              actor_name="demo", now=now)
            session.commit()
            definition = campaign.instrument_version.snapshot
            for outcome, late in zip(outcomes, returned_late[chunk:chunk + operations.MAX_BATCH]):
                dossier = outcome.dossier
                if dossier.returned_at is None or rng.random() > 0.35:
                    continue
                # rated with the receipt's code 1–30 h after the return, on the counter's
                # device: so while the counter is open (never on a Sunday)
                rated = next_open(dossier.returned_at + timedelta(hours=rng.randint(1, 30)), rng)
                good = not late and rng.random() < 0.9
                if rated > now:
                    continue
                submit_response(session, SurveyTarget(point, campaign, campaign.instrument_version),
                                _answers(rng, definition, good=good), channel="link",
                                language="vi", idempotency_key="demo-" + secrets.token_hex(12),
                                submitted_at=rated, spend_token_id=dossier.token_id)
            added += len(outcomes)
    session.commit()
    return added
