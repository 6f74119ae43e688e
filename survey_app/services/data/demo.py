"""The demo tree and campaigns that ``make run`` loads: Tỉnh Quảng Trị › Thị xã Quảng Trị
› Phường 2 (and Phường 1, so comparisons have something to compare), each ward with a
one-stop counter, a health station and a primary school, each with an open campaign."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy.orm import Session

from ...models import Campaign, Unit
from ..collect.instruments import latest_version
from ..officials.units import by_path, create_unit

TREE = [
    # (parent path, slug, kind, name_vi, name_en, code)
    (None, "vn", "admin", "Việt Nam", "Viet Nam", None),
    ("/vn/", "qt", "admin", "Tỉnh Quảng Trị", "Quang Tri Province", None),
    ("/vn/qt/", "tx-qt", "admin", "Thị xã Quảng Trị", "Quang Tri Town", None),
    ("/vn/qt/tx-qt/", "p2", "admin", "Phường 2", "Ward 2", None),
    ("/vn/qt/tx-qt/p2/", "mot-cua", "one_stop", "Bộ phận Một cửa Phường 2", "Ward 2 one-stop counter", "p2motcua"),
    ("/vn/qt/tx-qt/p2/", "tram-y-te", "health", "Trạm Y tế Phường 2", "Ward 2 health station", "p2yte"),
    ("/vn/qt/tx-qt/p2/", "th-p2", "education", "Trường Tiểu học Phường 2", "Ward 2 Primary School", "p2tieuhoc"),
    ("/vn/qt/tx-qt/", "p1", "admin", "Phường 1", "Ward 1", None),
    ("/vn/qt/tx-qt/p1/", "mot-cua", "one_stop", "Bộ phận Một cửa Phường 1", "Ward 1 one-stop counter", "p1motcua"),
    ("/vn/qt/tx-qt/p1/", "tram-y-te", "health", "Trạm Y tế Phường 1", "Ward 1 health station", "p1yte"),
    ("/vn/qt/tx-qt/p1/", "th-p1", "education", "Trường Tiểu học Phường 1", "Ward 1 Primary School", "p1tieuhoc"),
]

INSTRUMENT_FOR_KIND = {"one_stop": "sipas", "health": "health-outpatient", "education": "education-parents"}
CAMPAIGN_NAMES = {
    "one_stop": "Khảo sát SIPAS {year} – {unit}",
    "health": "Khảo sát hài lòng người bệnh ngoại trú {year} – {unit}",
    "education": "Khảo sát phụ huynh {year} – {unit}",
}


@dataclass(frozen=True)
class DemoPoint:
    code: str
    name_vi: str
    instrument: str


def load_demo(session: Session, now: datetime | None = None) -> list[DemoPoint]:
    """Create whatever part of the demo is missing; an existing demo is left as it is."""
    now = now or datetime.now(timezone.utc)
    points: list[DemoPoint] = []
    for parent_path, slug, kind, name_vi, name_en, code in TREE:
        parent = by_path(session, parent_path) if parent_path else None
        path = (parent_path or "/") + slug + "/"
        unit = by_path(session, path)
        if unit is None:
            unit = create_unit(session, parent, slug, kind, name_vi, name_en, code)
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
    load_demo_accounts(session)
    session.commit()
    return points


# One demo official per role. The password is fixed and printed by ``flask demo load``:
# for the demo only — real accounts come from ``flask users create``.
DEMO_PASSWORD = "demo-hailong-2026"
DEMO_ACCOUNTS = [
    # (username, display name, unit path, role)
    ("demo-admin", "Quản trị tỉnh (demo)", "/vn/qt/", "admin"),
    ("demo-manager", "Cán bộ quản lý Phường 2 (demo)", "/vn/qt/tx-qt/p2/", "manager"),
    ("demo-viewer", "Cán bộ xem báo cáo Phường 2 (demo)", "/vn/qt/tx-qt/p2/", "viewer"),
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
