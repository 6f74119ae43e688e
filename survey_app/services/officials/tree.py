"""Managing the unit tree from the official pages: create, rename, move, deactivate, delete.

Every operation takes the official's :class:`~survey_app.services.officials.scope.Scope` and checks
it (manager role on every unit it touches), records an audit event, and commits once — or
raises :class:`TreeError` with a message for the person before writing anything.
"""
from __future__ import annotations

import re
import secrets
import unicodedata

from flask_babel import gettext as _
from sqlalchemy import exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...models import OFFICES, UNIT_KINDS, Campaign, Grant, Response, Unit, User, campaign_unit
from . import audit
from .scope import Scope, path_under
from .units import CODE_RE, SLUG_RE

#: Service point codes: lowercase, no look-alikes (0/o, 1/l/i).
CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
CODE_LENGTH = 6
MAX_PATH = 400


class TreeError(ValueError):
    """A change to the tree that cannot be made; the message is for the person."""


def slugify(name: str) -> str:
    """``"Phường Đông Lễ 3"`` → ``"phuong-dong-le-3"`` (at most 40 characters)."""
    text = unicodedata.normalize("NFD", name.replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return text[:40].strip("-") or "don-vi"


def generate_code(session: Session) -> str:
    """A fresh, unused service point code, e.g. ``k7rm2x``."""
    for _attempt in range(50):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if session.scalar(select(Unit.id).where(Unit.code == code)) is None:
            return code
    raise RuntimeError("could not find a free service point code")  # 31**6 codes: not in practice


def _clean_name(value: str | None) -> str:
    return unicodedata.normalize("NFC", value or "").strip()


def _check_names(name_vi: str, name_en: str) -> tuple[str, str]:
    name_vi, name_en = _clean_name(name_vi), _clean_name(name_en)
    if not name_vi:
        raise TreeError(_("Please give the unit's name in Vietnamese."))
    if len(name_vi) > 200 or len(name_en) > 200:
        raise TreeError(_("A name can have at most 200 characters."))
    return name_vi, name_en or name_vi


def _free_slug(session: Session, parent: Unit, wanted: str | None, name_vi: str, exclude: Unit | None = None) -> str:
    if wanted:
        slug = wanted.strip().lower()
        if not SLUG_RE.match(slug):
            raise TreeError(_("The short name may have 1 to 40 lowercase letters (no accents), digits and '-'."))
        clash = session.scalar(select(Unit).where(Unit.path == parent.path + slug + "/"))
        if clash is not None and clash is not exclude:
            raise TreeError(_("Another unit here already has the short name %(slug)s.", slug=slug))
        return slug
    base = slugify(name_vi)
    slug, n = base, 2
    while True:
        clash = session.scalar(select(Unit).where(Unit.path == parent.path + slug + "/"))
        if clash is None or clash is exclude:
            return slug
        suffix = f"-{n}"
        slug, n = base[: 40 - len(suffix)] + suffix, n + 1


def check_code(session: Session, code: str) -> str:
    code = code.strip().lower()
    if not CODE_RE.match(code):
        raise TreeError(_("A code has 3 to 16 lowercase letters (no accents) or digits."))
    if session.scalar(select(Unit.id).where(Unit.code == code)) is not None:
        raise TreeError(_("The code %(code)s is already used by another service point.", code=code))
    return code


def create_child(session: Session, scope: Scope, parent: Unit, *, name_vi: str, name_en: str, kind: str,
                 service_point: bool, slug: str | None = None, code: str | None = None,
                 office: str | None = None, actor: User | None = None) -> Unit:
    """A new unit (or service point, with a code chosen or generated) below ``parent``.

    ``office`` says what a service point is: a public administration service centre or one
    of its reception points (one-stop), a health station, a school or a class."""
    scope.require(parent, "manager")
    if kind not in UNIT_KINDS:
        raise TreeError(_("Please choose the kind of unit."))
    office = office or None
    if office is not None:
        if office not in OFFICES:
            raise TreeError(_("Please choose the kind of office."))
        if not service_point:
            raise TreeError(_("Only a service point has a kind of office."))
        if OFFICES[office] != kind:
            raise TreeError(_("This kind of office does not go with the kind of unit chosen."))
    name_vi, name_en = _check_names(name_vi, name_en)
    slug = _free_slug(session, parent, slug, name_vi)
    path = parent.path + slug + "/"
    if len(path) > MAX_PATH:
        raise TreeError(_("The tree is too deep here."))
    if service_point:
        code = check_code(session, code) if code and code.strip() else generate_code(session)
    else:
        code = None
    unit = Unit(parent=parent, slug=slug, path=path, kind=kind, name_vi=name_vi, name_en=name_en,
                code=code, office=office, is_service_point=service_point, active=True)
    session.add(unit)
    session.flush()
    audit.record(session, "unit.created", actor=actor, unit=unit, target=f"unit:{unit.id}",
                 detail={"path": path, "name": name_vi, "code": code, "kind": kind, "office": office})
    session.commit()
    return unit


def _rewrite_paths(session: Session, unit: Unit, new_path: str) -> int:
    """Give ``unit`` and its whole subtree the prefix ``new_path`` (same transaction)."""
    old_path = unit.path
    if len(new_path) - len(old_path) + session.scalar(
            select(func.max(func.length(Unit.path))).where(path_under(Unit.path, old_path))) > MAX_PATH:
        raise TreeError(_("The tree is too deep here."))
    rows = session.scalars(select(Unit).where(path_under(Unit.path, old_path)).order_by(Unit.path)).all()
    for row in rows:
        row.path = new_path + row.path[len(old_path):]
    session.flush()
    return len(rows)


def rename(session: Session, scope: Scope, unit: Unit, *, name_vi: str, name_en: str, slug: str | None = None,
           actor: User | None = None) -> Unit:
    """New names; a new short name also rewrites the paths below it."""
    scope.require(unit, "manager")
    name_vi, name_en = _check_names(name_vi, name_en)
    before = {"name_vi": unit.name_vi, "name_en": unit.name_en, "path": unit.path}
    if slug and slug.strip().lower() != unit.slug:
        if unit.parent is None:
            raise TreeError(_("The top of the tree cannot be renamed here."))
        if not scope.covers(unit.parent, "manager"):
            raise TreeError(_("The short name of the top unit of your area can only be changed from the unit above."))
        new_slug = _free_slug(session, unit.parent, slug, name_vi, exclude=unit)
        _rewrite_paths(session, unit, unit.parent.path + new_slug + "/")
        unit.slug = new_slug
    unit.name_vi, unit.name_en = name_vi, name_en
    audit.record(session, "unit.renamed", actor=actor, unit=unit, target=f"unit:{unit.id}",
                 detail={"before": before, "after": {"name_vi": name_vi, "name_en": name_en, "path": unit.path}})
    session.commit()
    return unit


def move_targets(session: Session, scope: Scope, unit: Unit) -> list[Unit]:
    """Where ``unit`` may move: units the official manages, outside its own subtree,
    other than its current parent."""
    query = scope.units_query("manager").where(~path_under(Unit.path, unit.path))
    if unit.parent_id is not None:
        query = query.where(Unit.id != unit.parent_id)
    return list(session.scalars(query))


def move(session: Session, scope: Scope, unit: Unit, new_parent: Unit, *, actor: User | None = None) -> int:
    """Move ``unit`` with its subtree below ``new_parent``; returns the units rewritten."""
    scope.require(unit, "manager")
    scope.require(new_parent, "manager")
    if unit.parent is None:
        raise TreeError(_("The top of the tree cannot be moved."))
    if new_parent.path.startswith(unit.path):
        raise TreeError(_("A unit cannot be moved below itself or one of its own units."))
    if new_parent.id == unit.parent_id:
        raise TreeError(_("The unit is already there."))
    new_path = new_parent.path + unit.slug + "/"
    if session.scalar(select(Unit.id).where(Unit.path == new_path)) is not None:
        raise TreeError(_("Another unit there already has the short name %(slug)s. Rename one of them first.",
                          slug=unit.slug))
    old_path = unit.path
    count = _rewrite_paths(session, unit, new_path)
    unit.parent = new_parent
    audit.record(session, "unit.moved", actor=actor, unit=unit, target=f"unit:{unit.id}",
                 detail={"from": old_path, "to": new_path, "units": count})
    session.commit()
    return count


def set_active(session: Session, scope: Scope, unit: Unit, active: bool, *, actor: User | None = None) -> int:
    """(De)activate ``unit`` and everything below it; a deactivated service point takes no
    answers, and nothing is deleted. Returns the number of units changed."""
    scope.require(unit, "manager")
    result = session.execute(
        update(Unit).where(path_under(Unit.path, unit.path), Unit.active != active)
        .values(active=active).execution_options(synchronize_session="fetch")
    )
    audit.record(session, "unit.activated" if active else "unit.deactivated", actor=actor, unit=unit,
                 target=f"unit:{unit.id}", detail={"path": unit.path, "units": result.rowcount})
    session.commit()
    return result.rowcount


def delete(session: Session, scope: Scope, unit: Unit, *, actor: User | None = None) -> None:
    """Delete a unit that never received an answer and has nothing below it.

    Its links to campaigns go with it; a campaign it is the only unit of must be dealt
    with first. A unit with answers can only be deactivated.
    """
    scope.require(unit, "manager")
    if unit.parent is None:
        raise TreeError(_("The top of the tree cannot be deleted."))
    if session.scalar(select(exists().where(Response.unit_id == unit.id))):
        raise TreeError(_("This unit has received answers, so it cannot be deleted. Deactivate it instead."))
    from ...models import Petition  # a petition keeps the unit it was filed at

    if session.scalar(select(exists().where((Petition.unit_id == unit.id) | (Petition.origin_unit_id == unit.id)))):
        raise TreeError(_("This unit has received petitions, so it cannot be deleted. Deactivate it instead."))
    if session.scalar(select(exists().where(Unit.parent_id == unit.id))):
        raise TreeError(_("This unit has units below it. Move or delete them first."))
    if session.scalar(select(exists().where(Grant.unit_id == unit.id))) or session.scalar(
            select(exists().where(User.home_unit_id == unit.id))):
        raise TreeError(_("Officials have access to this unit. Remove their access first."))
    campaign_ids = session.scalars(select(campaign_unit.c.campaign_id).where(campaign_unit.c.unit_id == unit.id)).all()
    sole = []
    for campaign_id in campaign_ids:
        others = session.scalar(select(func.count()).select_from(campaign_unit).where(
            campaign_unit.c.campaign_id == campaign_id, campaign_unit.c.unit_id != unit.id))
        if not others:
            sole.append(session.get(Campaign, campaign_id).name)
    if sole:
        raise TreeError(_("This unit is the only unit of the campaign %(names)s. Deactivate the unit instead.",
                          names=", ".join(sole)))
    detail = {"path": unit.path, "name": unit.name_vi, "code": unit.code}
    session.execute(campaign_unit.delete().where(campaign_unit.c.unit_id == unit.id))
    audit.record(session, "unit.deleted", actor=actor, unit=unit, target=f"unit:{unit.id}", detail=detail)
    session.flush()
    session.delete(unit)
    try:
        session.commit()
    except IntegrityError:  # still referenced elsewhere (one-time codes, kiosks, …): keep it all
        session.rollback()
        raise TreeError(_("Other records still refer to this unit (codes, kiosks or reports). "
                          "Deactivate it instead.")) from None
