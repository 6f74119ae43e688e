"""The route walk: EVERY official route, discovered from ``app.url_map`` through
``app.config["OFFICIAL_BLUEPRINTS"]``, is tried with the other ward's objects, anonymously,
and with roles too low — so a new view that forgets the scope fails here, not in production.

To cover a new URL argument, add a value for its name to ``OTHER_WARD`` / ``OWN_WARD``:
the walk fails on an argument it does not know. The ward's own pages are also walked with
the other ward's ids in the query string and in the form body (``other_ward_fields``: add
a new id-carrying field name there).
"""
from __future__ import annotations

import itertools
import re

import pytest
import sqlalchemy as sa
from flask import Flask

from survey_app.guard import check_official_routes, unguarded_endpoints, view_policy
from survey_app.extensions import db
from survey_app.models import ROLE_RANK, InstrumentVersion

STATE_METHODS = ("GET", "POST")


def official_rules(app: Flask):
    """(rule, view) for every route of every official blueprint."""
    names = app.config["OFFICIAL_BLUEPRINTS"]
    assert "admin" in names
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.rpartition(".")[0] in names]
    assert len(rules) > 20, "the walk found suspiciously few official routes"
    return [(rule, app.view_functions[rule.endpoint]) for rule in rules]


def petition_ids(*units) -> list[int]:
    """The petitions the world fixture filed at these units."""
    from survey_app.models import Petition

    return list(db.session.scalars(sa.select(Petition.id).where(Petition.unit_id.in_([u.id for u in units]))
                                   .order_by(Petition.id)))


def succession_id(predecessor, successor_path: str = "/vn/qt/quang-tri/") -> int:
    """The demo's succession of ``predecessor`` by Phường Quảng Trị (1 July 2025)."""
    from survey_app.models import Succession, Unit

    return db.session.scalar(sa.select(Succession.id).join(Unit, Unit.id == Succession.successor_id).where(
        Succession.predecessor_id == predecessor.id, Unit.path == successor_path))


def alert_ids(*units) -> tuple[list[int], list[int]]:
    """The alerts and alert rules the ``alerts_in_world`` fixture made at these units."""
    from survey_app.models import Alert, AlertRule

    ids = [u.id for u in units]
    return (list(db.session.scalars(sa.select(Alert.id).where(Alert.unit_id.in_(ids)).order_by(Alert.id))),
            list(db.session.scalars(sa.select(AlertRule.id).where(AlertRule.unit_id.in_(ids)).order_by(AlertRule.id))))


@pytest.fixture(autouse=True)
def alerts_in_world(request):
    """An alert rule with an open alert at each ward's counter and at the town, so the walk
    tries the alert pages with another ward's alerts and rules."""
    if "world" not in request.fixturenames:
        return
    from survey_app.models import Alert, AlertRule

    world = request.getfixturevalue("world")
    for unit in (world.p1_point, world.p2_point, world.town):
        rule = AlertRule(unit=unit, kind="below", instrument_key="quick-feedback", threshold=70.0)
        db.session.add(rule)
        db.session.flush()
        db.session.add(Alert(rule_id=rule.id, unit_id=unit.id, kind="below", subject="", status="open",
                             email_attempts=0, detail={"period": "2026-10", "n": 12, "value": 40.0, "low": 20.0,
                                                       "high": 60.0, "threshold": 70.0, "unit": "share"}))
    db.session.commit()


def argument_values(world, own: bool) -> dict[str, list]:
    """Candidate values per URL argument name: the other ward's objects (or p2's own)."""
    version_id = db.session.scalar(sa.select(InstrumentVersion.id).limit(1))
    instrument_id = db.session.scalar(sa.select(InstrumentVersion.instrument_id).limit(1))
    if own:
        return {
            "unit_id": [world.p2.id, world.p2_point.id],
            "campaign_id": [world.p2_campaign.id],
            "user_id": [world.demo_viewer.id],
            "grant_id": [world.grant_of(world.demo_viewer).id],
            "version_id": [version_id], "instrument_id": [instrument_id],
            "code": [world.p2_point.code], "unit_path": [world.p2.path.strip("/")],
            "kiosk_id": [world.p2_kiosk.id],
            "petition_id": petition_ids(world.p2_point),
            "chart": ["trend"],  # a report chart's name
            "succession_id": [succession_id(world.p2)],  # p2 → Phường Quảng Trị
            "alert_id": alert_ids(world.p2_point)[0], "rule_id": alert_ids(world.p2_point)[1],
            "token": [],  # a large export's page is its requester's only (tests/reports/test_export_jobs.py)
        }
    return {
        # the other ward, a point of it, and the town above the ward (not covered either)
        "unit_id": [world.p1.id, world.p1_point.id, world.town.id],
        # the other ward's campaign, and a campaign spanning both wards
        "campaign_id": [world.p1_campaign.id, world.wide_campaign.id],
        "user_id": [world.p1manager.id, world.demo_admin.id],
        "grant_id": [world.grant_of(world.p1manager).id, world.grant_of(world.demo_admin).id],
        # shared by the whole tree: a ward official is refused by role (403)
        "version_id": [version_id], "instrument_id": [instrument_id],
        "code": [world.p1_point.code], "unit_path": [world.p1.path.strip("/")],
        "kiosk_id": [world.p1_kiosk.id],
        # the other ward's petition, and one at the town above the ward
        "petition_id": petition_ids(world.p1_point, world.town),
        # a report chart's name (the unit in its URL is what is refused)
        "chart": ["trend"],
        # the other ward's merger into Phường Quảng Trị (neither end is the ward's)
        "succession_id": [succession_id(world.p1)],
        # the other ward's alert and rule, and the town's above the ward
        "alert_id": alert_ids(world.p1_point, world.town)[0], "rule_id": alert_ids(world.p1_point, world.town)[1],
        # a large export's token that is nobody's here (another's is checked in tests/reports/test_export_jobs.py)
        "token": ["x" * 32],
    }


def urls_for(rule, values: dict[str, list]) -> list[str]:
    missing = sorted(a for a in rule.arguments if a not in values)
    assert not missing, f"the walk has no value for {missing} of {rule.rule}; add them to argument_values()"
    names = sorted(rule.arguments)
    urls = []
    for combo in itertools.product(*(values[n] for n in names)):
        urls.append(rule.build(dict(zip(names, combo)), append_unknown=False)[1])
    return urls


def db_state() -> dict:
    """Every row of every table (the demo is small): to prove a request wrote nothing."""
    state = {}
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(sa.select(table)).all()
        state[table.name] = sorted(map(repr, rows))
    db.session.rollback()
    return state


def walk(app: Flask, client, token: str, values: dict[str, list], check, only=None) -> int:
    """Request every official route (those ``only(view)`` accepts, if given) with every
    method it accepts; ``check(rule, view, method, url, response)`` asserts. First of all,
    every view must declare its role."""
    undeclared = unguarded_endpoints(app)
    assert not undeclared, f"official views without @official_route: {undeclared}"
    tried = 0
    for rule, view in official_rules(app):
        if only is not None and not only(view):
            continue
        for method in STATE_METHODS:
            if method not in rule.methods:
                continue
            for url in urls_for(rule, values):
                data = {"csrf_token": token} if method == "POST" else None
                with client.open(url, method=method, data=data) as response:
                    check(rule, view, method, url, response)
                tried += 1
    return tried


OTHER_WARD_MARKERS = ("Phường 1", "p1motcua", "p1manager", "Khảo sát nhanh toàn thị xã", "Tỉnh Quảng Trị",
                      "Máy tính bảng P1")


def test_a_ward_admin_is_refused_everything_of_the_other_ward(demo_app, world, as_user, csrf):
    client = as_user("p2admin")
    token = csrf(client)
    before = db_state()
    seen = []

    def check(rule, view, method, url, response):
        seen.append(url)
        body = response.get_data(as_text=True)
        if rule.arguments:
            assert response.status_code in (403, 404), f"{method} {url} → {response.status_code}"
        elif method == "GET":
            # lists and forms without an object in the URL show only the ward's own things
            assert response.status_code in (200, 403), f"{method} {url} → {response.status_code}"
            for marker in OTHER_WARD_MARKERS:
                assert marker not in body, f"{method} {url} shows {marker!r}"
        else:
            assert response.status_code in (403, 404), f"{method} {url} → {response.status_code}"

    tried = walk(demo_app, client, token, argument_values(world, own=False), check)
    assert tried > 60
    assert db_state() == before, "a refused request changed the database"
    # the walk really reached the other ward's pages, not just a login redirect
    with client.get(f"/admin/units/{world.p1.id}") as response:
        assert response.status_code == 404
    with client.get(f"/admin/units/{world.p2.id}") as response:
        assert response.status_code == 200


@pytest.fixture
def other_commune(world):
    """A second new commune, Phường Đông Hà, formed on 1 July 2025 from a Phường 5 with a
    one-stop counter; and its administrator ``dhadmin``."""
    from datetime import date

    from survey_app.services.officials import accounts, lineage
    from survey_app.services.officials.scope import GrantInfo, Scope
    from survey_app.services.officials.units import create_unit

    s = db.session
    dong_ha = create_unit(s, world.province, "dong-ha", "admin", "Phường Đông Hà", "Dong Ha Ward")
    p5 = create_unit(s, world.province, "p5", "admin", "Phường 5 (Đông Hà)", "Ward 5")
    point = create_unit(s, p5, "mot-cua", "one_stop", "Bộ phận Một cửa Phường 5", "Ward 5 counter", "p5motcua")
    lineage.declare(s, Scope(s, None, [GrantInfo(0, 0, "/", "admin")]), dong_ha, [(p5, None)],
                    effective_on=date(2025, 7, 1), change="merger")
    accounts.create_user(s, username="dhadmin", display_name="DH", password="an ward official's long password",
                         unit=dong_ha, role="admin")
    s.commit()
    return dong_ha, p5, point


def refused_walk(demo_app, client, token, values):
    before = db_state()

    def check(rule, view, method, url, response):
        if rule.arguments:
            assert response.status_code in (403, 404), f"{method} {url} → {response.status_code}"

    tried = walk(demo_app, client, token, values, check)
    assert db_state() == before, "a refused request changed the database"
    return tried


def test_a_new_communes_official_never_reads_another_communes_predecessors(demo_app, world, other_commune,
                                                                           as_user, csrf):
    """Phường Đông Hà's admin and Phường Quảng Trị's predecessors (p1, p2) and the ward itself;
    Phường Quảng Trị's manager and Phường Đông Hà's predecessor: every route refuses."""
    from survey_app.services.officials.units import by_path

    dong_ha, p5, point = other_commune
    ward = by_path(db.session, "/vn/qt/quang-tri/")
    client = as_user("dhadmin")
    values = argument_values(world, own=False)
    values["unit_id"] = values["unit_id"] + [world.p2.id, world.p2_point.id, ward.id]
    values["succession_id"] = [succession_id(world.p1), succession_id(world.p2)]
    assert refused_walk(demo_app, client, csrf(client), values) > 60
    with client.get(f"/reports/{p5.id}") as response:  # its own predecessor: readable
        assert response.status_code == 200

    client = as_user("demo-phuong")
    nowhere = [2**31 + 1]
    values = {name: nowhere for name in argument_values(world, own=False)}
    values.update(unit_id=[p5.id, point.id, dong_ha.id], code=[point.code], unit_path=[p5.path.strip("/")],
                  chart=["trend"], succession_id=[succession_id(p5, dong_ha.path)])
    assert refused_walk(demo_app, client, csrf(client), values) > 30
    # the ward's own predecessors are readable, read-only
    with client.get(f"/reports/{world.p1.id}") as response:
        assert response.status_code == 200
    with client.get(f"/admin/units/{world.p1.id}") as response:
        assert response.status_code == 200
    with client.get(f"/admin/units/{world.p1.id}/new") as response:
        assert response.status_code == 403


def test_anonymous_visitors_are_sent_to_the_login_page_everywhere(demo_app, world, csrf):
    client = demo_app.test_client()
    token = csrf(client)

    def check(rule, view, method, url, response):
        assert response.status_code == 302, f"{method} {url} → {response.status_code}"
        assert response.headers["Location"].startswith("/login"), f"{method} {url} → {response.headers['Location']}"

    assert walk(demo_app, client, token, argument_values(world, own=True), check) > 30


def test_a_viewer_cannot_change_anything(demo_app, world, as_user, csrf):
    """Every POST of every official route, with the viewer's own ward's objects: 403 —
    or, for the few views declared read-only (a survey preview), no write at all."""
    client = as_user("demo-viewer")
    token = csrf(client)
    before = db_state()
    posts = []

    def check(rule, view, method, url, response):
        if method != "POST":
            return
        posts.append(url)
        _role, _shared, read_only = view_policy(view)
        if read_only:
            assert response.status_code in (200, 403, 422), f"POST {url} → {response.status_code}"
        else:
            assert response.status_code == 403, f"POST {url} → {response.status_code}"

    walk(demo_app, client, token, argument_values(world, own=True), check)
    assert len(posts) > 15
    assert db_state() == before, "a viewer's POST changed the database"


def test_a_manager_cannot_do_an_administrators_work(demo_app, world, as_user, csrf):
    """Every admin-only route, with the manager's own ward's objects: 403."""
    client = as_user("demo-manager")
    token = csrf(client)
    before = db_state()
    admin_only = []

    def check(rule, view, method, url, response):
        admin_only.append(url)
        assert response.status_code == 403, f"{method} {url} → {response.status_code}"

    walk(demo_app, client, token, argument_values(world, own=True), check,
         only=lambda view: ROLE_RANK[view_policy(view)[0]] > ROLE_RANK["manager"])
    assert len(admin_only) >= 10
    assert db_state() == before


def test_a_manager_can_reach_the_managers_pages_of_their_own_ward(demo_app, world, as_user):
    """The other side of the walk: the same pages answer 200 inside the ward."""
    client = as_user("demo-manager")
    for url in [f"/admin/units/{world.p2.id}", f"/admin/units/{world.p2.id}/new", f"/admin/units/{world.p2_point.id}/edit",
                f"/admin/units/{world.p2.id}/campaigns/new", f"/admin/campaigns/{world.p2_campaign.id}",
                f"/admin/campaigns/{world.p2_campaign.id}/preview"]:
        with client.get(url) as response:
            assert response.status_code == 200, url


def test_a_view_without_a_declared_role_is_refused_and_fails_the_walk(app, world, as_user, csrf):
    """Register an unguarded view on the admin blueprint's endpoint namespace: the guard
    refuses it (403, even for a province admin), the start-up check and the walk name it."""
    def forgotten(unit_id):
        return "the other ward's secrets"

    app.add_url_rule("/admin/forgotten/<int:unit_id>", endpoint="admin.forgotten", view_func=forgotten)
    assert unguarded_endpoints(app) == ["admin.forgotten"]
    with pytest.raises(RuntimeError, match="admin.forgotten"):
        check_official_routes(app)

    client = as_user("demo-admin")
    with client.get(f"/admin/forgotten/{world.p1.id}") as response:
        assert response.status_code == 403
        assert "secrets" not in response.get_data(as_text=True)
    with pytest.raises(AssertionError, match="admin.forgotten"):
        walk(app, client, csrf(client), argument_values(world, own=False), lambda *a: None)


def test_an_app_refuses_to_start_with_an_unguarded_official_view():
    from survey_app.guard import OfficialBlueprint, official_route

    bp = OfficialBlueprint("reports", __name__)

    @bp.get("/reports/ok")
    @official_route("viewer")
    def fine():
        return "ok"

    @bp.get("/reports/forgot")
    def forgot():
        return "oops"

    app = Flask(__name__)
    app.config["OFFICIAL_BLUEPRINTS"] = []
    app.register_blueprint(bp)
    assert app.config["OFFICIAL_BLUEPRINTS"] == ["reports"]
    with pytest.raises(RuntimeError, match=re.escape("reports.forgot")):
        check_official_routes(app)


# ------------------------------------------------------------------ ids in the query and the body

def other_ward_fields(world) -> dict[str, str]:
    """Query or form fields naming the other ward's objects, by every name a view reads an
    id from (filters, form choices, the answer to hide), plus plain values that make the
    rest of a form valid, so that the id is what has to be refused."""
    from survey_app.models import Answer, Response

    p1_answer = db.session.scalar(sa.select(Answer.id).join(Response).where(Response.unit_id == world.p1_point.id))
    ids = {
        "unit": world.p1.id, "unit_id": world.p1.id, "parent": world.p1.id, "units": world.p1_point.id,
        "campaign": world.p1_campaign.id, "campaign_id": world.p1_campaign.id, "kiosk": world.p1_kiosk.id,
        "petition": petition_ids(world.p1_point)[0], "into": petition_ids(world.p1_point)[0],
        "user": world.p1manager.username,
        "grant": world.grant_of(world.p1manager).id, "answer": p1_answer,
    }
    plain = {
        "name": "Thử nghiệm đi dạo", "name_vi": "Điểm thử nghiệm", "display_name": "Người đi dạo",
        "username": "walker", "password": "a long enough walker password", "confirm": "a long enough walker password",
        "role": "viewer", "kind": "point", "service_point": "y", "access_mode": "open", "label": "Quầy thử",
        "count": "1", "format": "csv", "note": "Ghi chú thử", "action": "hide", "reason": "thử",
        "text": "Nội dung thử", "instrument": "sipas", "window": "12m",
    }
    return {**plain, **{k: str(v) for k, v in ids.items()}}


def other_ward_footprint(world) -> dict:
    """Every row that is, or points at, one of the other ward's units, campaign, officials
    or responses: what no request of ward p2's admin may create, change or delete."""
    from survey_app.models import Response, Unit

    p1_units = set(db.session.scalars(sa.select(Unit.id).where(Unit.path.startswith(world.p1.path))))
    targets = {"unit": p1_units, "campaign": {world.p1_campaign.id},
               "official": {world.p1manager.id, world.p1admin.id},
               "response": set(db.session.scalars(sa.select(Response.id).where(Response.unit_id.in_(p1_units))))}
    footprint = {}
    for table in db.metadata.sorted_tables:
        checks = [(col, targets[fk.column.table.name]) for col in table.columns for fk in col.foreign_keys
                  if fk.column.table.name in targets and fk.column.name == "id"]
        if table.name in targets and "id" in table.columns:
            checks.append((table.columns["id"], targets[table.name]))
        if not checks:
            continue
        rows = db.session.execute(sa.select(table).where(sa.or_(*(col.in_(ids) for col, ids in checks)))).all()
        footprint[table.name] = sorted(map(repr, rows))
    db.session.rollback()
    return footprint


@pytest.fixture
def p1_answer(world):
    """A response with a comment at the other ward's counter, so an answer id of it exists."""
    import secrets

    from survey_app.services.collect.surveys import SurveyTarget, submit_response

    campaign = world.p1_campaign
    submit_response(db.session, SurveyTarget(world.p1_point, campaign, campaign.instrument_version),
                    [(q["key"], None, "Góp ý của phường 1") for q in campaign.instrument_version.snapshot["questions"]
                     if q["type"] in ("text", "longtext")][:1] or [("comment", None, "Góp ý của phường 1")],
                    channel="qr", language="vi", idempotency_key=secrets.token_hex(16))


def test_the_other_wards_ids_in_a_query_string_reveal_nothing(demo_app, world, p1_answer, as_user):
    """Every official GET page of ward p2, asked with the other ward's ids in its query:
    no server error, and nothing of the other ward appears that the page without them
    did not show."""
    from urllib.parse import urlencode

    client = as_user("p2admin")
    fields = other_ward_fields(world)
    query = urlencode(fields)
    # What would leak: names and texts of the other ward, never the values sent (a filter
    # box or the language switch shows those back).
    markers = [m for m in OTHER_WARD_MARKERS + ("P1MANAGER", "Góp ý của phường 1") if m not in fields.values()]
    echo = re.compile(r'(?:href|value)="[^"]*"')
    tried = 0
    for rule, _view in official_rules(demo_app):
        if "GET" not in rule.methods:
            continue
        for url in urls_for(rule, argument_values(world, own=True)):
            with client.get(url) as plain:
                shown = plain.get_data().decode("utf-8", "replace") if plain.status_code == 200 else ""
            with client.get(url + ("&" if "?" in url else "?") + query) as response:
                assert response.status_code < 500, f"GET {url}?… → {response.status_code}"
                body = echo.sub("", response.get_data().decode("utf-8", "replace"))
            for marker in markers:
                assert marker in shown or marker not in body, f"GET {url}?{query[:80]}… shows {marker!r}"
            tried += 1
    assert tried > 30


def test_the_other_wards_ids_in_a_form_body_change_nothing_of_it(demo_app, world, p1_answer, as_user, csrf):
    """Every official POST of ward p2's own objects, with the other ward's ids in the body
    (and the rest of the form filled in): no server error, and not one row that is or
    points at the other ward is created, changed or deleted."""
    client = as_user("p2admin")
    body = other_ward_fields(world)
    before = other_ward_footprint(world)
    tried = 0
    for rule, _view in official_rules(demo_app):
        if "POST" not in rule.methods:
            continue
        for url in urls_for(rule, argument_values(world, own=True)):
            with client.post(url, data={**body, "csrf_token": csrf(client)}) as response:
                assert response.status_code < 500, f"POST {url} → {response.status_code}"
            tried += 1
    assert tried > 15
    assert other_ward_footprint(world) == before, "a POST of ward p2 touched the other ward"
