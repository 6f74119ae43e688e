"""The demo tree and campaigns that ``make run`` loads: the real new Quảng Trị, with no
district (since 1 July 2025). Tỉnh Quảng Trị › Phường Quảng Trị, formed on 1 July 2025 from
Phường 1, Phường 2, Phường 3, Phường An Đôn and xã Hải Lệ of the former Thị xã Quảng Trị
(Nghị quyết 1680/NQ-UBTVQH15). Phường Quảng Trị runs the public administration service
centre with a reception point, and the health station; the five former wards and communes
are its predecessors (``Succession``, merger, 2025-07-01). Phường 1 and Phường 2 keep their
one-stop counters, health stations and primary schools and their history; in the demo those
points still take answers, so the printed links keep working (a real installation
deactivates a predecessor's points on the merger date)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Campaign, Succession, Unit
from ..collect.instruments import latest_version
from ..officials.units import by_path, create_unit

MERGER_DAY = date(2025, 7, 1)
SUCCESSOR_PATH = "/vn/qt/quang-tri/"

TREE = [
    # (parent path, slug, kind, name_vi, name_en, code, official code or office, active)
    (None, "vn", "admin", "Việt Nam", "Viet Nam", None, None, True),
    ("/vn/", "qt", "admin", "Tỉnh Quảng Trị", "Quang Tri Province", None, "44", True),
    ("/vn/qt/", "quang-tri", "admin", "Phường Quảng Trị", "Quang Tri Ward", None, "19360", True),
    ("/vn/qt/quang-tri/", "ttpvhcc", "one_stop", "Trung tâm Phục vụ hành chính công Phường Quảng Trị",
     "Quang Tri Ward public administration service centre", "pqtttpv", "centre", True),
    ("/vn/qt/quang-tri/ttpvhcc/", "diem-tiep-nhan-1", "one_stop", "Điểm tiếp nhận số 1 (trụ sở Phường 1 cũ)",
     "Reception point 1 (former Ward 1 office)", "pqtdtn1", "reception", True),
    ("/vn/qt/quang-tri/", "tram-y-te", "health", "Trạm Y tế Phường Quảng Trị", "Quang Tri Ward health station",
     "pqtyte", "station", True),
    # The predecessors: the former wards and commune, kept with their own paths and history.
    ("/vn/qt/", "p2", "admin", "Phường 2", "Ward 2", None, None, True),
    ("/vn/qt/p2/", "mot-cua", "one_stop", "Bộ phận Một cửa Phường 2", "Ward 2 one-stop counter", "p2motcua",
     "reception", True),
    ("/vn/qt/p2/", "tram-y-te", "health", "Trạm Y tế Phường 2", "Ward 2 health station", "p2yte", "station", True),
    ("/vn/qt/p2/", "th-p2", "education", "Trường Tiểu học Phường 2", "Ward 2 Primary School", "p2tieuhoc",
     "school", True),
    ("/vn/qt/", "p1", "admin", "Phường 1", "Ward 1", None, None, True),
    ("/vn/qt/p1/", "mot-cua", "one_stop", "Bộ phận Một cửa Phường 1", "Ward 1 one-stop counter", "p1motcua",
     "reception", True),
    ("/vn/qt/p1/", "tram-y-te", "health", "Trạm Y tế Phường 1", "Ward 1 health station", "p1yte", "station", True),
    ("/vn/qt/p1/", "th-p1", "education", "Trường Tiểu học Phường 1", "Ward 1 Primary School", "p1tieuhoc",
     "school", True),
    ("/vn/qt/", "p3", "admin", "Phường 3", "Ward 3", None, None, False),
    ("/vn/qt/", "an-don", "admin", "Phường An Đôn", "An Don Ward", None, None, False),
    ("/vn/qt/", "hai-le", "admin", "Xã Hải Lệ", "Hai Le Commune", None, None, False),
]
PREDECESSOR_PATHS = ("/vn/qt/p1/", "/vn/qt/p2/", "/vn/qt/p3/", "/vn/qt/an-don/", "/vn/qt/hai-le/")
DIVISION_OF_DEMO = {"/vn/qt/": "province", "/vn/qt/quang-tri/": "ward", "/vn/qt/hai-le/": "commune"}

INSTRUMENT_FOR_KIND = {"one_stop": "sipas", "health": "health-outpatient", "education": "education-parents"}
CAMPAIGN_NAMES = {
    "one_stop": "Khảo sát SIPAS {year} – {unit}",
    "health": "Khảo sát hài lòng người bệnh ngoại trú {year} – {unit}",
    "education": "Khảo sát phụ huynh {year} – {unit}",
}


#: The kiosks' survey (``services/qr/kiosks.py``): one question, at each one-stop counter.
QUICK_CAMPAIGN_NAME = "Đánh giá nhanh tại quầy – {unit}"


@dataclass(frozen=True)
class DemoPoint:
    code: str
    name_vi: str
    instrument: str


def load_demo(session: Session, now: datetime | None = None) -> list[DemoPoint]:
    """Create whatever part of the demo is missing; an existing demo is left as it is."""
    now = now or datetime.now(timezone.utc)
    points: list[DemoPoint] = []
    for parent_path, slug, kind, name_vi, name_en, code, extra, active in TREE:
        parent = by_path(session, parent_path) if parent_path else None
        path = (parent_path or "/") + slug + "/"
        unit = by_path(session, path)
        if unit is None:
            unit = create_unit(session, parent, slug, kind, name_vi, name_en, code)
            unit.active = active
            if code is not None:
                unit.office = extra
            elif extra is not None:
                unit.official_code = extra
            if kind == "admin" and path not in ("/vn/",):
                unit.division = DIVISION_OF_DEMO.get(path, "ward")
        if code is None:
            continue
        key = INSTRUMENT_FOR_KIND[kind]
        version = latest_version(session, key)
        if version is None:
            raise RuntimeError(f"instrument {key!r} is not loaded; run 'flask instruments load' first")
        if not _has_campaign(session, unit):
            campaign = Campaign(
                name=CAMPAIGN_NAMES[kind].format(year=now.year, unit=name_vi),
                instrument_version=version, access_mode="open", status="open",
                starts_at=datetime(now.year, 1, 1, tzinfo=timezone.utc), ends_at=None,
            )
            campaign.units.append(unit)
            session.add(campaign)
        points.append(DemoPoint(code, name_vi, key))
    load_demo_lineage(session)
    load_demo_accounts(session)
    session.commit()
    return points


def add_quick_feedback(session: Session, now: datetime | None = None) -> int:
    """Give each one-stop demo point an open poster-style campaign of the quick instrument
    (those missing), so a kiosk there shows the one-question survey while the point's
    poster keeps its full survey (``surveys.resolve_open_campaign``); returns how many were
    made. Commits."""
    from ...models import Instrument, InstrumentVersion, campaign_unit

    now = now or datetime.now(timezone.utc)
    version = latest_version(session, "quick-feedback")
    if version is None:
        raise RuntimeError("instrument 'quick-feedback' is not loaded; run 'flask instruments load' first")
    made = 0
    for parent_path, slug, kind, name_vi, _en, code, _extra, _active in TREE:
        unit = by_path(session, f"{parent_path}{slug}/") if kind == "one_stop" and code else None
        if unit is None:
            continue
        quick = session.scalar(select(Campaign.id).join(campaign_unit).join(InstrumentVersion).join(Instrument).where(
            campaign_unit.c.unit_id == unit.id, Campaign.access_mode == "open", Instrument.key == "quick-feedback"))
        if quick is None:
            campaign = Campaign(name=QUICK_CAMPAIGN_NAME.format(unit=name_vi), instrument_version=version,
                                access_mode="open", status="open",
                                starts_at=datetime(now.year, 1, 1, tzinfo=timezone.utc), ends_at=None)
            campaign.units.append(unit)
            session.add(campaign)
            made += 1
    session.commit()
    return made


def load_demo_lineage(session: Session) -> None:
    """Phường Quảng Trị succeeds the five former units from 1 July 2025 (what is missing)."""
    successor = by_path(session, SUCCESSOR_PATH)
    for path in PREDECESSOR_PATHS:
        predecessor = by_path(session, path)
        if successor is None or predecessor is None:
            continue
        if session.scalar(select(Succession.id).where(Succession.predecessor_id == predecessor.id,
                                                      Succession.successor_id == successor.id)) is None:
            session.add(Succession(predecessor=predecessor, successor=successor, effective_on=MERGER_DAY,
                                   change="merger"))
    session.flush()


# One demo official per role. The password is fixed and printed by ``flask demo load``:
# for the demo only — real accounts come from ``flask users create``.
DEMO_PASSWORD = "demo-hailong-2026"
DEMO_ACCOUNTS = [
    # (username, display name, unit path, role)
    ("demo-admin", "Quản trị tỉnh (demo)", "/vn/qt/", "admin"),
    ("demo-manager", "Cán bộ quản lý Phường 2 (demo)", "/vn/qt/p2/", "manager"),
    ("demo-viewer", "Cán bộ xem báo cáo Phường 2 (demo)", "/vn/qt/p2/", "viewer"),
    # The new ward's official: reads Phường Quảng Trị and, through the lineage, its predecessors.
    ("demo-phuong", "Cán bộ quản lý Phường Quảng Trị (demo)", SUCCESSOR_PATH, "manager"),
]


def load_demo_accounts(session: Session) -> list[tuple[str, str, str]]:
    """Create the demo officials that are missing (an existing one is left as it is);
    returns (username, role, unit path) for each. The caller commits."""
    from sqlalchemy import select

    from ...models import Grant, User
    from ..officials.accounts import hash_password

    made = []
    for username, display_name, path, role in DEMO_ACCOUNTS:
        unit = by_path(session, path)
        if unit is None:
            continue
        if session.scalar(select(User.id).where(User.username == username)) is None:
            user = User(username=username, display_name=display_name, password_hash=hash_password(DEMO_PASSWORD),
                        home_unit=unit)
            user.grants.append(Grant(unit=unit, role=role))
            session.add(user)
        made.append((username, role, path))
    session.flush()
    return made


def _has_campaign(session: Session, unit: Unit) -> bool:
    from sqlalchemy import select

    from ...models import campaign_unit

    return session.scalar(select(campaign_unit.c.campaign_id).where(campaign_unit.c.unit_id == unit.id).limit(1)) is not None
