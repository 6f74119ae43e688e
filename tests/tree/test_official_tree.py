"""``flask tree load-official``: the 34 provinces and 3,321 communes of the national list."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Response, Unit
from survey_app.services.officials import official_tree
from survey_app.services.officials.units import by_path

SAMPLE = [
    {"name": "Quảng Trị", "code": 44, "division_type": "tỉnh", "codename": "quang_tri", "wards": [
        {"name": "Phường Quảng Trị", "code": 19360, "division_type": "phường", "short_codename": "quang_tri"},
        {"name": "Phường Đông Hà", "code": 19333, "division_type": "phường", "short_codename": "dong_ha"},
        {"name": "Đặc khu Cồn Cỏ", "code": 19999, "division_type": "đặc khu", "short_codename": "con_co"},
    ]},
    {"name": "Thành phố Huế", "code": 46, "division_type": "thành phố trung ương", "codename": "hue", "wards": [
        {"name": "Xã Phong Điền", "code": 19700, "division_type": "xã", "short_codename": "phong_dien"},
    ]},
]


def count_units() -> int:
    return db.session.scalar(select(func.count(Unit.id)))


def test_the_package_ships_the_2025_two_tier_list():
    lists = official_tree.national_list()
    assert len(lists) == 34
    assert sum(len(pl.communes) for pl in lists) == 3321
    qt = next(pl for pl in lists if pl.province.code == "44")
    assert qt.province.name_vi == "Tỉnh Quảng Trị" and qt.province.name_en == "Quang Tri Province"
    ward = next(c for c in qt.communes if c.code == "19360")
    assert (ward.name_vi, ward.name_en, ward.division) == ("Phường Quảng Trị", "Quang Tri Ward", "ward")
    hanoi = next(pl for pl in lists if pl.province.code == "01")
    assert (hanoi.province.name_vi, hanoi.province.division) == ("Thành phố Hà Nội", "city")
    kinds = {c.division for pl in lists for c in pl.communes}
    assert kinds == {"commune", "ward", "special_zone"}


def test_load_creates_then_changes_nothing_and_updates_renamed_names(app):
    lists = official_tree.parse_divisions(SAMPLE)
    first = official_tree.load_official(db.session, divisions=lists)
    assert (first.created, first.updated, first.provinces, first.communes) == (7, 0, 2, 4)
    hue = db.session.scalar(select(Unit).where(Unit.official_code == "46"))
    assert (hue.path, hue.name_vi, hue.division, hue.name_en) == ("/vn/hue/", "Thành phố Huế", "city", "Hue City")
    ward = db.session.scalar(select(Unit).where(Unit.official_code == "19360"))
    assert ward.parent.official_code == "44" and ward.path == "/vn/quang-tri/quang-tri/"
    assert ward.kind == "admin" and not ward.is_service_point and ward.code is None
    again = official_tree.load_official(db.session, divisions=lists)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 6)
    assert count_units() == 7
    SAMPLE_RENAMED = [dict(SAMPLE[0], wards=[dict(SAMPLE[0]["wards"][1], name="Phường Đông Hà Mới")])]
    renamed = official_tree.load_official(db.session, divisions=official_tree.parse_divisions(SAMPLE_RENAMED))
    assert (renamed.created, renamed.updated) == (0, 1)
    dong_ha = db.session.scalar(select(Unit).where(Unit.official_code == "19333"))
    assert dong_ha.name_vi == "Phường Đông Hà Mới" and dong_ha.path == "/vn/quang-tri/dong-ha/"  # paths stay


def test_load_adopts_the_demo_units_by_name_and_never_touches_service_points(demo_app):
    p2 = db.session.scalar(select(Unit).where(Unit.code == "p2motcua"))
    before = {u.path: (u.name_vi, u.code, u.active, u.parent_id) for u in db.session.scalars(
        select(Unit).where(Unit.is_service_point.is_(True)))}
    responses = db.session.scalar(select(func.count(Response.id)))
    result = official_tree.load_official(db.session, divisions=official_tree.parse_divisions(SAMPLE))
    db.session.expire_all()
    province = by_path(db.session, "/vn/qt/")
    assert province.official_code == "44"  # the demo's province, not a second Quảng Trị
    assert by_path(db.session, "/vn/quang-tri/") is None
    ward = by_path(db.session, "/vn/qt/quang-tri/")
    assert ward.official_code == "19360"
    # the two new communes of the sample are created beside the demo's, the rest is the demo's
    assert {u.path for u in db.session.scalars(select(Unit).where(Unit.parent_id == province.id))} >= {
        "/vn/qt/dong-ha/", "/vn/qt/con-co/", "/vn/qt/p1/", "/vn/qt/p2/"}
    after = {u.path: (u.name_vi, u.code, u.active, u.parent_id) for u in db.session.scalars(
        select(Unit).where(Unit.is_service_point.is_(True)))}
    assert after == before and db.session.scalar(select(func.count(Response.id))) == responses
    assert p2.path == "/vn/qt/p2/mot-cua/" and result.skipped == []


def test_one_province_only_and_an_unknown_code_is_refused(app):
    lists = official_tree.parse_divisions(SAMPLE)
    result = official_tree.load_official(db.session, "46", divisions=lists)
    assert (result.provinces, result.communes) == (1, 1)
    assert by_path(db.session, "/vn/quang-tri/") is None and by_path(db.session, "/vn/hue/phong-dien/") is not None
    with pytest.raises(official_tree.OfficialTreeError, match="no province with the official code '99'"):
        official_tree.load_official(db.session, "99", divisions=lists)


def test_a_clashing_short_name_gets_the_code_and_a_service_point_path_is_left_alone(app):
    lists = official_tree.parse_divisions([dict(SAMPLE[0], wards=[
        {"name": "Xã Cẩm Giang", "code": 10888, "division_type": "xã", "short_codename": "cam_giang"},
        {"name": "Xã Cẩm Giàng", "code": 10903, "division_type": "xã", "short_codename": "cam_giang"}])])
    official_tree.load_official(db.session, divisions=lists[:0] or lists)
    paths = sorted(u.path for u in db.session.scalars(select(Unit).where(Unit.division == "commune")))
    assert paths == ["/vn/quang-tri/cam-giang-10903/", "/vn/quang-tri/cam-giang/"]


def test_the_whole_country_loads_in_seconds_and_twice_is_idempotent(app, backend):
    started = time.monotonic()
    result = official_tree.load_official(db.session)
    elapsed = time.monotonic() - started
    assert (result.provinces, result.communes, result.created) == (34, 3321, 3356)
    assert elapsed < 10, f"{elapsed:.1f} s on {backend}"
    assert db.session.scalar(select(func.count(Unit.id)).where(Unit.division.in_(
        ("commune", "ward", "special_zone")))) == 3321
    assert db.session.scalar(select(func.count(Unit.id)).where(Unit.official_code.is_not(None))) == 3355
    assert len(set(db.session.scalars(select(Unit.path)))) == 3356
    again = official_tree.load_official(db.session)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3355)


def test_the_cli_prints_what_it_did(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["tree", "load-official", "--province", "44"])
    assert result.exit_code == 0, result.output
    assert "1 provinces, 78 communes: 80 created" in result.output  # and Việt Nam
    bad = runner.invoke(args=["tree", "load-official", "--province", "99"])
    assert bad.exit_code != 0 and "no province with the official code '99'" in bad.output
