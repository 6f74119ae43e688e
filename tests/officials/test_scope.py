"""The scoping helper itself: who sees which units, campaigns, responses, users and events."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from survey_app.errors import AppError
from survey_app.extensions import db
from survey_app.models import Answer, Campaign, Response, Unit, User
from survey_app.services.officials import accounts, audit
from survey_app.services.officials.scope import GrantInfo, Scope


@pytest.fixture(autouse=True)
def in_a_request(demo_app):
    """The scope's errors carry translated messages, as in a request."""
    with demo_app.test_request_context("/admin/"):
        yield


def scope_of(user: User) -> Scope:
    db.session.expire_all()
    return Scope.for_user(db.session.get(User, user.id), db.session)


def status_of(call) -> int:
    with pytest.raises(AppError) as raised:
        call()
    return raised.value.status


def add_response(campaign: Campaign, unit: Unit) -> Response:
    response = Response(campaign_id=campaign.id, unit_id=unit.id, instrument_version_id=campaign.instrument_version_id,
                        channel="qr", language="vi", idempotency_key=f"k{campaign.id}-{unit.id}")
    db.session.add(response)
    db.session.flush()
    db.session.add(Answer(response_id=response.id, submitted_at=response.submitted_at, question_key="x", value_int=5))
    db.session.commit()
    return response


def test_a_grant_covers_its_unit_and_everything_below(world):
    scope = scope_of(world.demo_manager)
    paths = [u.path for u in db.session.scalars(scope.units_query("viewer"))]
    assert paths[0] == "/vn/qt/p2/"
    assert all(p.startswith("/vn/qt/p2/") for p in paths) and len(paths) == 4
    assert scope.role_at(world.p2_point) == "manager"
    assert scope.role_at(world.p1_point) is None and scope.role_at(world.town) is None
    assert [u.path for u in scope.roots()] == ["/vn/qt/p2/"]
    assert list(db.session.scalars(scope.units_query("admin"))) == []


def test_the_highest_covering_grant_wins_and_nested_grants_collapse():
    scope = Scope(None, None, [GrantInfo(1, 1, "/vn/qt/", "viewer"), GrantInfo(2, 2, "/vn/qt/p2/", "admin"),
                               GrantInfo(3, 3, "/vn/qt/quang-tri/", "manager")])
    assert scope.role_at("/vn/qt/p2/mot-cua/") == "admin"
    assert scope.role_at("/vn/qt/quang-tri/tram-y-te/") == "manager"
    assert scope.role_at("/vn/qt/other/") == "viewer"
    assert scope.role_at("/vn/") is None
    assert scope.prefixes("viewer") == ["/vn/qt/"]
    assert scope.prefixes("manager") == ["/vn/qt/p2/", "/vn/qt/quang-tri/"]
    assert scope.prefixes("admin") == ["/vn/qt/p2/"]
    # a sibling whose path merely starts with the same letters is not below
    assert Scope(None, None, [GrantInfo(1, 1, "/vn/qt/p1/", "admin")]).role_at("/vn/qt/p10/") is None


def test_units_outside_are_404_and_a_low_role_is_403(world):
    viewer = scope_of(world.demo_viewer)
    assert viewer.get_unit_or_404(world.p2.id, "viewer") == world.p2
    assert viewer.get_unit_or_404("/vn/qt/p2/mot-cua/", "viewer") == world.p2_point
    assert viewer.get_unit_or_404("P2MOTCUA", "viewer") == world.p2_point
    assert status_of(lambda: viewer.get_unit_or_404(world.p1.id)) == 404
    assert status_of(lambda: viewer.get_unit_or_404("p1motcua")) == 404
    assert status_of(lambda: viewer.get_unit_or_404(world.town.path)) == 404
    assert status_of(lambda: viewer.get_unit_or_404(999999)) == 404
    assert status_of(lambda: viewer.get_unit_or_404(world.p2.id, "manager")) == 403
    assert status_of(lambda: viewer.require(world.p1, "admin")) == 404, "outside wins over role"


def test_a_campaign_is_in_scope_only_when_all_its_units_are(world):
    ward = scope_of(world.demo_manager)
    visible = set(db.session.scalars(ward.campaigns_query("viewer")))
    assert world.p2_campaign in visible
    assert world.p1_campaign not in visible
    assert world.wide_campaign not in visible, "it spans the other ward too"
    assert status_of(lambda: ward.get_campaign_or_404(world.wide_campaign.id)) == 404
    assert status_of(lambda: ward.get_campaign_or_404(world.p1_campaign.id)) == 404
    assert ward.get_campaign_or_404(world.p2_campaign.id, "manager") == world.p2_campaign
    province = scope_of(world.demo_admin)
    assert world.wide_campaign in set(db.session.scalars(province.campaigns_query("manager")))
    # admin on p2 but only viewer on p1: the wide campaign is visible, not manageable
    accounts.add_grant(db.session, db.session.get(User, world.p2admin.id), world.p1, "viewer")
    mixed = scope_of(world.p2admin)
    assert mixed.get_campaign_or_404(world.wide_campaign.id, "viewer") == world.wide_campaign
    assert status_of(lambda: mixed.get_campaign_or_404(world.wide_campaign.id, "manager")) == 403
    assert world.wide_campaign not in set(db.session.scalars(mixed.campaigns_query("manager")))


def test_responses_are_in_scope_by_the_unit_where_they_were_given(world):
    mine = add_response(world.p2_campaign, world.p2_point)
    theirs = add_response(world.p1_campaign, world.p1_point)
    shared_here = add_response(world.wide_campaign, world.p2_point)
    shared_there = add_response(world.wide_campaign, world.p1_point)
    ward = scope_of(world.demo_viewer)
    assert set(db.session.scalars(ward.responses_query())) == {mine, shared_here}
    assert set(db.session.scalars(ward.responses_query(campaign=world.wide_campaign))) == {shared_here}
    province = scope_of(world.demo_admin)
    assert set(db.session.scalars(province.responses_query())) == {mine, theirs, shared_here, shared_there}
    assert set(db.session.scalars(province.responses_query(unit=world.p1))) == {theirs, shared_there}
    assert status_of(lambda: ward.responses_query(unit=world.p1)) == 404


def test_admins_see_and_manage_accounts_of_their_subtree_only(world):
    ward = scope_of(world.p2admin)
    seen = {u.username for u in db.session.scalars(ward.users_query())}
    assert seen == {"p2admin", "demo-manager", "demo-viewer"}
    assert status_of(lambda: ward.get_user_or_404(world.p1manager.id)) == 404
    assert status_of(lambda: ward.get_user_or_404(world.demo_admin.id)) == 404
    # a province admin who also holds a ward grant is visible to the ward, not manageable
    accounts.add_grant(db.session, db.session.get(User, world.demo_admin.id), world.p2, "viewer")
    ward = scope_of(world.p2admin)
    assert ward.get_user_or_404(world.demo_admin.id) is not None
    assert status_of(lambda: ward.get_user_or_404(world.demo_admin.id, manage=True)) == 403
    assert ward.get_user_or_404(world.demo_manager.id, manage=True) is not None
    assert ward.grantable_roles(world.p2) == ["viewer", "manager", "admin"]
    assert ward.grantable_roles(world.p1) == []
    assert scope_of(world.demo_manager).grantable_roles(world.p2) == []


def test_the_audit_log_is_scoped_and_survives_a_deleted_unit(world):
    point = Unit(parent=world.p2, slug="tmp", path=world.p2.path + "tmp/", kind="one_stop", name_vi="Tạm",
                 name_en="Tmp", code="tmpcode", is_service_point=True)
    db.session.add(point)
    db.session.flush()
    audit.record(db.session, "unit.created", unit=point)
    audit.record(db.session, "unit.created", unit=world.p1_point)
    db.session.commit()
    db.session.delete(point)
    db.session.commit()
    ward = scope_of(world.p2admin)
    events = list(db.session.scalars(ward.audit_query()))
    paths = {e.unit_path for e in events}
    assert world.p2.path + "tmp/" in paths, "kept by its recorded path after the unit is gone"
    assert not any(p and p.startswith(world.p1.path) for p in paths)
    assert all(e.unit_id is None for e in events if e.unit_path == world.p2.path + "tmp/")


def test_shared_data_needs_a_grant_high_in_the_tree(world):
    assert scope_of(world.demo_admin).has_shared_role("admin")
    assert not scope_of(world.p2admin).has_shared_role("viewer")
    assert not scope_of(world.p2admin).has_shared_role("admin")


def test_an_inactive_account_has_no_scope(world):
    user = db.session.get(User, world.p2admin.id)
    user.active = False
    db.session.commit()
    assert scope_of(world.p2admin).grants == ()
    assert list(db.session.scalars(select(Unit).where(scope_of(world.p2admin).path_clause(Unit.path)))) == []
