"""Lineage: a successor's reports over a window crossing its date include its predecessors'
answers (marked before the merger); predecessors stay readable; access follows exactly."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from helpers import add_response
from survey_app.extensions import db
from survey_app.models import Grant, Response, Succession, Unit, User
from survey_app.services.data import demo, demo_history
from survey_app.services.officials import lineage
from survey_app.services.officials.scope import GrantInfo, Scope
from survey_app.services.officials.units import by_path, create_unit
from survey_app.services.reports import build as reports

NOW = datetime(2026, 11, 15, 5, tzinfo=timezone.utc)
SUCCESSOR = "/vn/qt/quang-tri/"
PREDECESSORS = ["/vn/qt/an-don/", "/vn/qt/hai-le/", "/vn/qt/p1/", "/vn/qt/p2/", "/vn/qt/p3/"]


@pytest.fixture(autouse=True)
def in_english(demo_app):
    """The services' messages in English, as the command line has them."""
    from flask_babel import force_locale

    with demo_app.test_request_context("/?lang=en"), force_locale("en"):
        yield


def system() -> Scope:
    return Scope(db.session, None, [GrantInfo(0, 0, "/", "admin")])


def responses_under(paths, instrument_version_ids, start: date, end: date) -> int:
    """Trusted responses at units under any of ``paths`` on local days start–end, counted
    from the response table itself (an independent check of the rollups)."""
    from zoneinfo import ZoneInfo

    from sqlalchemy import or_

    zone = ZoneInfo("Asia/Ho_Chi_Minh")
    rows = db.session.execute(select(Response.submitted_at).join(Unit, Unit.id == Response.unit_id).where(
        or_(*(Unit.path.like(p + "%") for p in paths)), Response.trust == "ok",
        Response.instrument_version_id.in_(instrument_version_ids))).scalars().all()
    return sum(1 for at in rows if start <= at.astimezone(zone).date() <= end)


def report(ref: str, start: date, end: date, key: str = "sipas", source: str = "rollups") -> dict:
    unit = reports.find_unit(db.session, ref)
    return reports.make_report(db.session, reports.ReportRequest(
        unit=unit, instrument_key=key, date_from=start, date_to=end, as_of=date(2026, 11, 16)), source)


@pytest.fixture
def history(demo_app):
    assert demo_history.add_history(db.session, months=24, now=NOW) > 0
    return demo_app


def sipas_versions() -> list[int]:
    return [v.id for v in reports.instrument_versions(db.session, "sipas")]


def test_the_demo_ward_succeeds_five_former_units_on_1_july_2025(demo_app):
    ward = by_path(db.session, SUCCESSOR)
    rows = db.session.scalars(select(Succession).where(Succession.successor_id == ward.id)).all()
    assert sorted(r.predecessor.path for r in rows) == PREDECESSORS
    assert {(r.effective_on, r.change, r.grants_carried) for r in rows} == {(demo.MERGER_DAY, "merger", False)}
    demo.load_demo(db.session)  # idempotent
    assert db.session.scalar(select(func.count(Succession.id))) == 5


def test_a_two_year_trend_of_the_merged_ward_shows_its_predecessors_before_the_merger(history):
    start, end = date(2024, 12, 1), date(2026, 10, 31)
    r = report(SUCCESSOR, start, end)
    own = responses_under([SUCCESSOR], sipas_versions(), start, end)
    before = responses_under(["/vn/qt/p1/", "/vn/qt/p2/"], sipas_versions(), start, end)
    assert own > 0 and before > 0
    assert r["responses"] == own + before
    assert [p["unit"] for p in r["lineage"]["predecessors"]] == PREDECESSORS
    assert r["lineage"]["effective_on"] == "2025-07-01"
    trend = {t["period"]: t for t in r["trend"]}
    assert trend["2025-06"]["before_merger"] is True and trend["2025-06"]["n"] > 0
    assert trend["2025-07"]["before_merger"] is False and trend["2025-07"]["n"] > 0
    assert all(t["before_merger"] == (t["period"] < "2025-07") for t in r["trend"])
    assert all(t["n"] > 0 for t in r["trend"]), "no hole at the merger"
    # the same from the raw responses: the hook is at the unit selection, not in the rollups
    raw = report(SUCCESSOR, start, end, source="raw")
    assert raw["responses"] == r["responses"] and raw["index"] == pytest.approx(r["index"])
    # the comparison stays the ward's own points
    assert {u["unit"] for u in r["units"]} == {"/vn/qt/quang-tri/ttpvhcc/", "/vn/qt/quang-tri/tram-y-te/"}


def test_a_predecessor_stays_readable_on_its_own_and_a_window_after_the_merger_is_the_ward_alone(history):
    start, end = date(2024, 12, 1), date(2026, 10, 31)
    p2 = report("/vn/qt/p2/", start, end)
    assert p2["responses"] == responses_under(["/vn/qt/p2/"], sipas_versions(), start, end) > 0
    assert "lineage" not in p2 and not any(t.get("before_merger") for t in p2["trend"])
    after = report(SUCCESSOR, date(2025, 7, 1), end)
    assert "lineage" not in after
    assert after["responses"] == responses_under([SUCCESSOR], sipas_versions(), date(2025, 7, 1), end)
    # the province counts every answer once: the predecessors are below it already
    province = report("/vn/qt/", start, end)
    assert province["responses"] == responses_under(["/vn/qt/"], sipas_versions(), start, end)


def test_the_trend_chart_draws_the_merger_line(history):
    from survey_app.services.reports.charts import charts_for

    r = report(SUCCESSOR, date(2024, 12, 1), date(2026, 10, 31))
    definition = reports.instrument_versions(db.session, "sipas")[-1].snapshot
    for lang, words in (("vi", "Trước sáp nhập"), ("en", "Before the merger")):
        ax = charts_for(r, definition, lang)["trend"]
        assert words in [t.get_text() for t in ax.texts]
        lines = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
        periods = [t["period"] for t in r["trend"]]
        assert len(lines) == 1 and lines[0].get_xdata()[0] == periods.index("2025-07") - 0.5


def test_nothing_about_old_responses_changes_when_a_succession_is_declared(demo_app):
    when = datetime(2025, 3, 3, 3, tzinfo=timezone.utc)
    ids = [add_response("p1motcua", [("tc1", 4, None)], when), add_response("p2motcua", [("tc1", 5, None)], when)]
    before = db.session.execute(select(Response.id, Response.unit_id, Response.submitted_at, Response.answer_digest)
                                .order_by(Response.id)).all()
    ward = by_path(db.session, "/vn/qt/dong-ha/") or create_unit(db.session, by_path(db.session, "/vn/qt/"),
                                                                  "dong-ha", "admin", "Phường Đông Hà", "Dong Ha Ward")
    lineage.declare(db.session, system(), ward, [(by_path(db.session, "/vn/qt/p1/"), None)],
                    effective_on=date(2025, 7, 1), change="rename")
    after = db.session.execute(select(Response.id, Response.unit_id, Response.submitted_at, Response.answer_digest)
                               .order_by(Response.id)).all()
    assert after == before and len(ids) == 2


@pytest.mark.parametrize("case, message", [
    ("self", "cannot succeed itself"),
    ("circle", "cannot go in a circle"),
    ("inside", "in one another's subtree"),
    ("rename-two", "exactly one former unit"),
    ("split-no-share", "needs the share"),
    ("share-over", "more than 1"),
    ("bad-share", "between 0 and 1"),
])
def test_a_succession_that_makes_no_sense_is_refused_before_anything_is_written(demo_app, case, message):
    s = db.session
    province = by_path(s, "/vn/qt/")
    ward, p1, p2 = by_path(s, SUCCESSOR), by_path(s, "/vn/qt/p1/"), by_path(s, "/vn/qt/p2/")
    other = create_unit(s, province, "dong-ha", "admin", "Phường Đông Hà", "Dong Ha Ward")
    s.commit()
    count = s.scalar(select(func.count(Succession.id)))
    args = {
        "self": (ward, [(ward, None)], "merger"),
        "circle": (p1, [(ward, None)], "merger"),
        "inside": (ward, [(by_path(s, "/vn/qt/quang-tri/tram-y-te/"), None)], "merger"),
        "rename-two": (other, [(p1, None), (p2, None)], "rename"),
        "split-no-share": (other, [(p1, None)], "split"),
        "share-over": None,
        "bad-share": (other, [(p1, "abc")], "split"),
    }[case]
    if case == "share-over":
        lineage.declare(s, system(), other, [(p1, "0.7")], effective_on=date(2025, 7, 1), change="split")
        count += 1
        third = create_unit(s, province, "nam-dong-ha", "admin", "Phường Nam Đông Hà", "Nam Dong Ha Ward")
        args = (third, [(p1, "0.4")], "split")
    with pytest.raises(lineage.LineageError, match=message):
        lineage.declare(s, system(), args[0], args[1], effective_on=date(2025, 7, 1), change=args[2])
    s.rollback()
    assert s.scalar(select(func.count(Succession.id))) == count


def test_a_split_gives_each_part_the_former_unit_and_its_share(demo_app):
    s = db.session
    province = by_path(s, "/vn/qt/")
    old = create_unit(s, province, "xa-cu", "admin", "Xã Cũ", "Old Commune")
    a = create_unit(s, province, "xa-a", "admin", "Xã A", "Commune A")
    b = create_unit(s, province, "xa-b", "admin", "Xã B", "Commune B")
    lineage.declare(s, system(), a, [(old, "0,6")], effective_on=date(2025, 7, 1), change="split")
    lineage.declare(s, system(), b, [(old, 0.4)], effective_on=date(2025, 7, 1), change="split")
    assert [p.share for p in lineage.predecessors_of(s, a)] == [0.6]
    assert [(p.path, p.share) for p in lineage.predecessors_of(s, b)] == [("/vn/qt/xa-cu/", 0.4)]
    assert [p.path for p in lineage.covered(s, a, date(2025, 1, 1))] == ["/vn/qt/xa-cu/"]
    assert lineage.covered(s, a, date(2025, 7, 1)) == []


def scope_of(username: str) -> Scope:
    user = db.session.scalar(select(User).where(User.username == username))
    return Scope.for_user(user, db.session)


def test_the_new_wards_official_reads_its_predecessors_and_only_theirs(demo_app):
    s = db.session
    province = by_path(s, "/vn/qt/")
    other = create_unit(s, province, "dong-ha", "admin", "Phường Đông Hà", "Dong Ha Ward")
    p5 = create_unit(s, province, "p5", "admin", "Phường 5", "Ward 5")
    lineage.declare(s, system(), other, [(p5, None)], effective_on=date(2025, 7, 1), change="merger")
    scope = scope_of("demo-phuong")
    assert scope.role_at("/vn/qt/p1/mot-cua/") == "viewer" and scope.role_at("/vn/qt/p2/") == "viewer"
    assert scope.role_at(SUCCESSOR) == "manager"
    assert scope.role_at("/vn/qt/p5/") is None and scope.role_at("/vn/qt/dong-ha/") is None
    assert [g.derived for g in scope.grants if g.role == "viewer"] == [True] * 5  # read-only, never rows
    assert not scope.has_shared_role("viewer")  # a derived grant gives no say over shared data
    # a predecessor's officials get nothing on the successor
    p2_scope = scope_of("demo-manager")
    assert p2_scope.role_at(SUCCESSOR) is None and p2_scope.role_at("/vn/qt/p1/") is None


def test_grants_carry_to_the_successor_only_when_an_admin_says_so(demo_app):
    s = db.session
    ward, p2 = by_path(s, SUCCESSOR), by_path(s, "/vn/qt/p2/")
    row = s.scalar(select(Succession).where(Succession.predecessor_id == p2.id, Succession.successor_id == ward.id))
    with pytest.raises(Exception):
        lineage.carry_grants(s, scope_of("demo-phuong"), row)  # a manager, not an admin of both
    s.rollback()
    assert scope_of("demo-manager").role_at(SUCCESSOR) is None
    added = lineage.carry_grants(s, system(), row)
    assert added == 2  # demo-manager and demo-viewer
    assert scope_of("demo-manager").role_at(SUCCESSOR) == "manager"
    assert scope_of("demo-viewer").role_at(SUCCESSOR) == "viewer"
    assert s.get(Succession, row.id).grants_carried is True
    assert lineage.carry_grants(s, system(), s.get(Succession, row.id)) == 0  # twice adds nothing
    assert s.scalar(select(func.count(Grant.id)).where(Grant.unit_id == p2.id)) == 2  # kept on the predecessor


def test_the_cli_declares_a_succession_and_imports_a_mapping(demo_app, tmp_path):
    s = db.session
    province = by_path(s, "/vn/qt/")
    for slug, name in (("dong-ha", "Phường Đông Hà"), ("p5", "Phường 5"), ("p6", "Phường 6"), ("xa-x", "Xã X")):
        create_unit(s, province, slug, "admin", name, name)
    by_path(s, "/vn/qt/dong-ha/").official_code = "19333"
    s.commit()
    runner = demo_app.test_cli_runner()
    done = runner.invoke(args=["tree", "succeed", "19333", "--predecessor", "/vn/qt/p5/", "--from", "2025-07-01"])
    assert done.exit_code == 0, done.output
    assert "/vn/qt/dong-ha/ succeeds /vn/qt/p5/ from 2025-07-01 (merger)" in done.output
    twice = runner.invoke(args=["tree", "succeed", "19333", "--predecessor", "/vn/qt/p5/", "--from", "2025-07-01"])
    assert twice.exit_code == 0, twice.output  # the same declaration again: nothing to do, said so
    assert "/vn/qt/dong-ha/ already succeeds /vn/qt/p5/ from 2025-07-01 (merger): nothing changed" in twice.output
    other_day = runner.invoke(args=["tree", "succeed", "19333", "--predecessor", "/vn/qt/p5/", "--from", "2025-08-01"])
    assert other_day.exit_code == 1 and "already succeeds" in other_day.output
    mapping = tmp_path / "map.csv"
    mapping.write_text("predecessor,successor,effective_on,change,share\n"
                       "/vn/qt/p6/,19333,2025-07-01,merger,\n"
                       "/vn/qt/xa-x/,/vn/qt/dong-ha/,2025-07-01,split,0.5\n"
                       "/vn/qt/p5/,19333,2025-07-01,merger,\n", encoding="utf-8-sig")
    imported = runner.invoke(args=["tree", "import-lineage", str(mapping)])
    assert imported.exit_code == 0, imported.output
    assert "2 successions declared." in imported.output
    again = runner.invoke(args=["tree", "import-lineage", str(mapping)])
    assert "0 successions declared." in again.output
    dong_ha = by_path(s, "/vn/qt/dong-ha/")
    assert sorted(p.path for p in lineage.predecessors_of(s, dong_ha)) == ["/vn/qt/p5/", "/vn/qt/p6/", "/vn/qt/xa-x/"]
    bad = tmp_path / "bad.csv"
    bad.write_text("predecessor,successor,effective_on\n/vn/qt/p3/,19333,2025-07-01\n/vn/qt/nowhere/,19333,2025-07-01\n",
                   encoding="utf-8")
    refused = runner.invoke(args=["tree", "import-lineage", str(bad)])
    assert refused.exit_code != 0 and "Row 3: no unit /vn/qt/nowhere/." in refused.output
    assert by_path(s, "/vn/qt/p3/").id not in {p.unit_id for p in lineage.predecessors_of(s, dong_ha)}
    circle = runner.invoke(args=["tree", "succeed", "/vn/qt/p5/", "--predecessor", "19333", "--from", "2025-07-01"])
    assert circle.exit_code != 0 and "circle" in circle.output


def csrf_of(html: str) -> str:
    import re

    return re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', html).group(1)


def test_the_admin_page_declares_a_merger_and_carries_grants(demo_app, login):
    s = db.session
    province = by_path(s, "/vn/qt/")
    dong_ha = create_unit(s, province, "dong-ha", "admin", "Phường Đông Hà", "Dong Ha Ward")
    p5 = create_unit(s, province, "p5", "admin", "Phường 5", "Ward 5")
    p6 = create_unit(s, province, "p6", "admin", "Phường 6", "Ward 6")
    s.commit()
    client = demo_app.test_client()
    login(client, "demo-admin")
    with client.get(f"/admin/units/{dong_ha.id}/lineage?lang=vi") as page:
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and "Các đơn vị cũ của Phường Đông Hà" in html
        assert f'value="{p5.id}"' in html and f'value="{dong_ha.id}"' not in html
    token = csrf_of(html)
    bad = client.post(f"/admin/units/{dong_ha.id}/lineage", data={
        "csrf_token": token, "predecessors": [str(p5.id)], "effective_on": "31/02/2025", "change": "merger"})
    assert bad.status_code == 422 and "Vui lòng ghi ngày theo dạng 01/07/2025." in bad.get_data(as_text=True)
    foreign = client.post(f"/admin/units/{dong_ha.id}/lineage", data={
        "csrf_token": token, "predecessors": ["999999"], "effective_on": "01/07/2025", "change": "merger"})
    assert foreign.status_code == 422
    made = client.post(f"/admin/units/{dong_ha.id}/lineage", data={
        "csrf_token": token, "predecessors": [str(p5.id), str(p6.id)], "effective_on": "01/07/2025",
        "change": "merger", "note": "Nghị quyết (thử)"})
    assert made.status_code == 303, made.get_data(as_text=True)
    rows = s.scalars(select(Succession).where(Succession.successor_id == dong_ha.id)).all()
    assert sorted(r.predecessor.path for r in rows) == ["/vn/qt/p5/", "/vn/qt/p6/"]
    assert {r.effective_on for r in rows} == {date(2025, 7, 1)}
    page = client.get(f"/admin/units/{dong_ha.id}?lang=vi").get_data(as_text=True)
    assert "Kế thừa Phường 5 từ ngày 01/07/2025" in page
    # carrying grants: a p5 viewer gets Đông Hà only after the admin's decision
    from survey_app.services.officials import accounts

    accounts.create_user(s, username="p5viewer", display_name="P5", password="a long password for p5 viewer",
                         unit=p5, role="viewer")
    s.commit()
    assert scope_of("p5viewer").role_at("/vn/qt/dong-ha/") is None
    row = next(r for r in rows if r.predecessor_id == p5.id)
    carried = client.post(f"/admin/successions/{row.id}/carry-grants", data={"csrf_token": token})
    assert carried.status_code == 303
    assert scope_of("p5viewer").role_at("/vn/qt/dong-ha/") == "viewer"


def test_a_release_of_the_merged_ward_before_its_date_is_refused_with_a_reason(history):
    """The public-release audit models a figure as its unit's own subtree: a release that
    would also count the former units is refused, one from the merger day on is fine."""
    from survey_app.services.reports.publication import PublicationError, publish
    from survey_app.services.reports.views import ReportFilters

    ward = by_path(db.session, SUCCESSOR)
    admin = db.session.scalar(select(User).where(User.username == "demo-admin"))
    scope = scope_of("demo-admin")

    def filters(window, start, end):
        return ReportFilters(instrument="sipas", window=window, date_from=start, date_to=end, period="month",
                             include_suspect=False, channels=(), campaign_id=None)

    with pytest.raises(PublicationError, match="begins before Phường Quảng Trị was formed \\(01/07/2025\\)"):
        publish(db.session, scope, ward, filters("2025", date(2025, 1, 1), date(2025, 12, 31)), actor=admin,
                today=date(2026, 11, 16))
    pub = publish(db.session, scope, ward, filters("2025-08", date(2025, 8, 1), date(2025, 8, 31)), actor=admin,
                  today=date(2026, 11, 16))
    assert pub.figures["results"]["responses"] > 0


def test_the_provinces_comparison_counts_the_former_wards_under_the_new_one_across_the_merger(history):
    start, end = date(2025, 1, 1), date(2025, 12, 31)
    r = report("/vn/qt/", start, end)
    rows = {u["unit"]: u for u in r["units"]}
    assert "/vn/qt/quang-tri/" in rows and not set(PREDECESSORS) & set(rows)
    assert rows["/vn/qt/quang-tri/"]["n"] == r["responses"] == responses_under(["/vn/qt/"], sipas_versions(),
                                                                               start, end)
    # entirely before the merger: the wards as they were
    before = report("/vn/qt/", date(2025, 1, 1), date(2025, 6, 30))
    assert {u["unit"] for u in before["units"] if u["n"]} == {"/vn/qt/p1/", "/vn/qt/p2/"}
    # a province release across the merger is refused (its audit models rows as subtrees)
    from survey_app.services.reports.publication import PublicationError, publish
    from survey_app.services.reports.views import ReportFilters

    admin = db.session.scalar(select(User).where(User.username == "demo-admin"))
    with pytest.raises(PublicationError, match="were merged during this period"):
        publish(db.session, scope_of("demo-admin"), by_path(db.session, "/vn/qt/"),
                ReportFilters(instrument="sipas", window="2025", date_from=start, date_to=end), actor=admin,
                today=date(2026, 11, 16))
