"""THE scoping helper: the one way official pages load units, campaigns, responses, users
and audit events. Nothing an official sees or changes is loaded around it.

Rules
-----
* A grant ``(user, unit, role)`` covers the unit and everything below it (materialized path
  prefix). Roles are ordered ``viewer < manager < admin``; a user's role at a unit is the
  highest role among the grants covering it.
* **Unit**: not covered by any grant → **404** (existence is not revealed); covered, but
  with a role lower than needed → **403**.
* **Campaign**: in scope for a role when it has at least one unit and *all* its units are
  covered with that role. Some unit not covered by any grant → 404; all covered but some
  with too low a role → 403. A province-wide campaign is therefore managed from the
  province, not from one of its wards.
* **Response**: in scope by the unit where it was given, whatever the campaign's extent: a
  ward reads its own answers to a province-wide campaign (but cannot manage the campaign).
* **User** (admin pages): visible when the account's home unit or any of its grants lies
  in the admin's subtree; *manageable* (password, deactivation) only when the home unit and
  every grant lie there, so a ward admin never touches a province official's account.
* **Audit event**: by the unit it concerns (its path at the time, if the unit is gone).
* **Lineage**: a grant on a unit (or above it) also *reads* the unit's predecessors
  (``services/officials/lineage.py``), as a viewer: its reports include their answers, so
  their own pages are readable too. Grants on a predecessor give nothing on its successor
  unless an administrator carries them over.
* **Shared data** (instruments, used by every unit): needs the role on a unit at depth
  ``SHARED_ADMIN_MAX_DEPTH`` or above (default 1: a province).

Usage (routes get the request's scope from ``survey_app.guard.current_scope()``)::

    scope = Scope.for_user(user)
    unit = scope.get_unit_or_404(unit_id, "manager")
    units = db.session.scalars(scope.units_query("viewer")).all()
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, NoReturn, Sequence

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, and_, exists, false, not_, or_, select
from sqlalchemy.orm import Session, aliased

from ...errors import abort_with
from ...models import ROLE_RANK, AuditEvent, Campaign, Grant, Response, Unit, User, campaign_unit
from .units import escape_like, path_under

__all__ = ["GrantInfo", "Scope", "escape_like", "path_under"]


def _rank(role: str) -> int:
    try:
        return ROLE_RANK[role]
    except KeyError:
        raise ValueError(f"unknown role {role!r} (expected one of {', '.join(ROLE_RANK)})") from None


def not_found() -> NoReturn:
    abort_with(404, _("We could not find this page, or it is outside your area."))


def forbidden() -> NoReturn:
    abort_with(403, _("Your role does not allow this here. Ask an administrator of your unit if you need it."))


@dataclass(frozen=True)
class GrantInfo:
    grant_id: int
    unit_id: int
    path: str
    role: str
    #: A viewer grant derived from a grant on a successor (read-only, never a grant row).
    derived: bool = False

    @property
    def rank(self) -> int:
        return ROLE_RANK[self.role]

    @property
    def depth(self) -> int:
        return self.path.strip("/").count("/")


class Scope:
    """What one official may see and do, computed once from their grants."""

    def __init__(self, session: Session, user: User | None, grants: Sequence[GrantInfo],
                 shared_max_depth: int = 1):
        self.session = session
        self.user = user
        self.grants = tuple(sorted(grants, key=lambda g: g.path))
        self.shared_max_depth = shared_max_depth

    @classmethod
    def for_user(cls, user: User, session: Session | None = None) -> "Scope":
        if session is None:
            from ...extensions import db

            session = db.session
        rows = session.execute(
            select(Grant.id, Grant.unit_id, Unit.path, Grant.role)
            .join(Unit, Unit.id == Grant.unit_id)
            .where(Grant.user_id == user.id)
        ).all()
        grants = [GrantInfo(*row) for row in rows] if user.active else []
        if grants:
            from .lineage import successors_reading

            grants += [GrantInfo(0, unit_id, path, "viewer", derived=True)
                       for unit_id, path in successors_reading(session, [g.path for g in grants])]
        return cls(session, user, grants, current_app.config.get("SHARED_ADMIN_MAX_DEPTH", 1))

    # ------------------------------------------------------------------ roles

    def rank_at(self, path: str) -> int:
        """The highest rank of the grants covering ``path`` (0 when none does)."""
        return max((g.rank for g in self.grants if path.startswith(g.path)), default=0)

    def role_at(self, unit: Unit | str) -> str | None:
        rank = self.rank_at(unit if isinstance(unit, str) else unit.path)
        return next((role for role, r in ROLE_RANK.items() if r == rank), None)

    def covers(self, unit: Unit | str, min_role: str = "viewer") -> bool:
        return self.rank_at(unit if isinstance(unit, str) else unit.path) >= _rank(min_role)

    def has_role(self, min_role: str) -> bool:
        """Whether the user holds ``min_role`` (or higher) anywhere."""
        needed = _rank(min_role)
        return any(g.rank >= needed for g in self.grants)

    def has_shared_role(self, min_role: str) -> bool:
        """Whether the user may act on data shared by the whole tree (instruments)."""
        needed = _rank(min_role)
        return any(g.rank >= needed and g.depth <= self.shared_max_depth and not g.derived for g in self.grants)

    def require(self, unit: Unit, min_role: str = "viewer") -> None:
        """404 when no grant covers ``unit``; 403 when the role there is too low."""
        rank = self.rank_at(unit.path)
        if rank == 0:
            not_found()
        if rank < _rank(min_role):
            forbidden()

    def require_shared(self, min_role: str) -> None:
        if not self.has_shared_role(min_role):
            forbidden()

    def prefixes(self, min_role: str = "viewer") -> list[str]:
        """The fewest paths whose subtrees make up everything covered with ``min_role``."""
        needed = _rank(min_role)
        paths = sorted({g.path for g in self.grants if g.rank >= needed})
        result: list[str] = []
        for path in paths:
            if not any(path.startswith(p) for p in result):
                result.append(path)
        return result

    def path_clause(self, column, min_role: str = "viewer") -> ColumnElement[bool]:
        """An SQL condition: the path in ``column`` lies in scope with ``min_role``."""
        prefixes = self.prefixes(min_role)
        if not prefixes:
            return false()
        return or_(*(path_under(column, p) for p in prefixes))

    # ------------------------------------------------------------------ units

    def units_query(self, min_role: str = "viewer") -> Select[tuple[Unit]]:
        """Every unit in scope with ``min_role``, in tree order."""
        return select(Unit).where(self.path_clause(Unit.path, min_role)).order_by(Unit.path)

    def roots(self, min_role: str = "viewer") -> list[Unit]:
        """The top units of the user's scope (their grants, without nested ones)."""
        prefixes = self.prefixes(min_role)
        if not prefixes:
            return []
        return list(self.session.scalars(select(Unit).where(Unit.path.in_(prefixes)).order_by(Unit.path)))

    def get_unit_or_404(self, ident: int | str, min_role: str = "viewer") -> Unit:
        """A unit by id, by path (``/vn/qt/…/``) or by service point code, checked."""
        unit: Unit | None
        if isinstance(ident, int) or (isinstance(ident, str) and ident.isascii() and ident.isdigit()):
            unit_id = int(ident)
            unit = self.session.get(Unit, unit_id) if 0 < unit_id < 2**31 else None
        elif isinstance(ident, str) and ident.startswith("/"):
            path = ident if ident.endswith("/") else ident + "/"
            unit = self.session.scalar(select(Unit).where(Unit.path == path))
        elif isinstance(ident, str) and ident:
            unit = self.session.scalar(select(Unit).where(Unit.code == ident.lower()))
        else:
            unit = None
        if unit is None:
            not_found()
        self.require(unit, min_role)
        return unit

    def ancestors_in_scope(self, unit: Unit) -> list[Unit]:
        """``unit``'s ancestors that the user can see, top first (for breadcrumbs)."""
        paths = []
        parts = unit.path.strip("/").split("/")
        for i in range(1, len(parts)):
            path = "/" + "/".join(parts[:i]) + "/"
            if self.covers(path):
                paths.append(path)
        if not paths:
            return []
        return list(self.session.scalars(select(Unit).where(Unit.path.in_(paths)).order_by(Unit.path)))

    # ------------------------------------------------------------------ campaigns

    def _campaign_units_within(self, min_role: str) -> ColumnElement[bool]:
        member = aliased(Unit)
        some_unit = exists().where(campaign_unit.c.campaign_id == Campaign.id)
        outside = (
            select(campaign_unit.c.unit_id)
            .join(member, member.id == campaign_unit.c.unit_id)
            .where(campaign_unit.c.campaign_id == Campaign.id, not_(self.path_clause(member.path, min_role)))
            .exists()
        )
        return and_(some_unit, not_(outside))

    def campaigns_query(self, min_role: str = "viewer") -> Select[tuple[Campaign]]:
        """Campaigns all of whose units are in scope with ``min_role``, newest first."""
        return (select(Campaign).where(self._campaign_units_within(min_role))
                .order_by(Campaign.created_at.desc(), Campaign.id.desc()))

    def require_campaign(self, campaign: Campaign, min_role: str = "viewer") -> None:
        ranks = [self.rank_at(u.path) for u in campaign.units]
        if not ranks or min(ranks) == 0:
            not_found()
        if min(ranks) < _rank(min_role):
            forbidden()

    def get_campaign_or_404(self, campaign_id: int, min_role: str = "viewer") -> Campaign:
        campaign = self.session.get(Campaign, campaign_id) if 0 < campaign_id < 2**31 else None
        if campaign is None:
            not_found()
        self.require_campaign(campaign, min_role)
        return campaign

    def get_in_unit_or_404(self, model, object_id: int, min_role: str = "viewer"):
        """An object that belongs to one unit (a ``unit`` relationship: a kiosk, later a
        petition, …) by id: 404 unless its unit is covered, 403 with too low a role."""
        obj = self.session.get(model, object_id) if 0 < object_id < 2**31 else None
        if obj is None:
            not_found()
        self.require(obj.unit, min_role)
        return obj

    # ------------------------------------------------------------------ responses

    def responses_query(self, min_role: str = "viewer", *, campaign: Campaign | None = None,
                        unit: Unit | None = None) -> Select[tuple[Response]]:
        """Responses given at units in scope (optionally: of one campaign, below one unit)."""
        where = Unit.path
        query = select(Response).join(Unit, Unit.id == Response.unit_id).where(self.path_clause(where, min_role))
        if campaign is not None:
            query = query.where(Response.campaign_id == campaign.id)
        if unit is not None:
            self.require(unit, min_role)
            query = query.where(path_under(Unit.path, unit.path))
        return query

    # ------------------------------------------------------------------ users and grants

    def users_query(self) -> Select[tuple[User]]:
        """Accounts an admin may see: home unit or some grant in their admin subtree."""
        home = aliased(Unit)
        granted = aliased(Unit)
        some_grant = (
            select(Grant.id).join(granted, granted.id == Grant.unit_id)
            .where(Grant.user_id == User.id, self.path_clause(granted.path, "admin"))
            .exists()
        )
        return (select(User).join(home, home.id == User.home_unit_id)
                .where(or_(self.path_clause(home.path, "admin"), some_grant))
                .order_by(User.username))

    def can_see_user(self, user: User) -> bool:
        return self.covers(user.home_unit, "admin") or any(self.covers(g.unit, "admin") for g in user.grants)

    def can_manage_user(self, user: User) -> bool:
        return self.covers(user.home_unit, "admin") and all(self.covers(g.unit, "admin") for g in user.grants)

    def get_user_or_404(self, user_id: int, *, manage: bool = False) -> User:
        user = self.session.get(User, user_id) if 0 < user_id < 2**31 else None
        if user is None or not self.can_see_user(user):
            not_found()
        if manage and not self.can_manage_user(user):
            forbidden()
        return user

    def get_grant_or_404(self, grant_id: int) -> Grant:
        grant = self.session.get(Grant, grant_id) if 0 < grant_id < 2**31 else None
        if grant is None or not self.can_see_user(grant.user):
            not_found()
        self.require(grant.unit, "admin")
        return grant

    def grantable_roles(self, unit: Unit) -> list[str]:
        """The roles this user may grant at ``unit``: admins only, and not above their own."""
        rank = self.rank_at(unit.path)
        if rank < ROLE_RANK["admin"]:
            return []
        return [role for role, r in ROLE_RANK.items() if r <= rank]

    # ------------------------------------------------------------------ audit

    def audit_query(self, min_role: str = "admin") -> Select[tuple[AuditEvent]]:
        """Events about units in scope: by the unit's current path, or the recorded path
        when the unit no longer exists."""
        current = aliased(Unit)
        return (
            select(AuditEvent)
            .outerjoin(current, current.id == AuditEvent.unit_id)
            .where(or_(
                and_(current.id.is_not(None), self.path_clause(current.path, min_role)),
                and_(current.id.is_(None), AuditEvent.unit_path.is_not(None),
                     self.path_clause(AuditEvent.unit_path, min_role)),
            ))
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        )

    def acting_unit(self, min_role: str = "viewer", within: Iterable[Unit] = ()) -> Unit | None:
        """The unit in whose name the user acts: the grant covering ``within``, else their
        highest grant (for the audit log's "from which unit")."""
        candidates = [g for g in self.grants if g.rank >= _rank(min_role)]
        for unit in within:
            covering = [g for g in candidates if unit.path.startswith(g.path)]
            if covering:
                return self.session.get(Unit, max(covering, key=lambda g: (g.rank, -g.depth)).unit_id)
        if not candidates:
            return None
        best = min(candidates, key=lambda g: (g.depth, -g.rank))
        return self.session.get(Unit, best.unit_id)
