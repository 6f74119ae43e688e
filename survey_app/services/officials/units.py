"""The administrative tree: creating units and reading subtrees by materialized path."""
from __future__ import annotations

import re

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from ...models import UNIT_KINDS, Unit

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
CODE_RE = re.compile(r"^[a-z0-9]{3,16}$")


def child_path(parent: Unit | None, slug: str) -> str:
    if not SLUG_RE.match(slug):
        raise ValueError(f"slug {slug!r} must be 1–40 lowercase letters, digits or '-'")
    return (parent.path if parent else "/") + slug + "/"


def create_unit(session: Session, parent: Unit | None, slug: str, kind: str, name_vi: str, name_en: str,
                code: str | None = None) -> Unit:
    if kind not in UNIT_KINDS:
        raise ValueError(f"kind {kind!r} is not one of {', '.join(UNIT_KINDS)}")
    if code is not None and not CODE_RE.match(code):
        raise ValueError(f"code {code!r} must be 3–16 lowercase letters or digits")
    unit = Unit(parent=parent, slug=slug, path=child_path(parent, slug), kind=kind,
                name_vi=name_vi, name_en=name_en, code=code, is_service_point=code is not None)
    session.add(unit)
    session.flush()
    return unit


def escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def path_under(column, path: str) -> ColumnElement[bool]:
    """``column`` is ``path`` or below it (an indexed prefix match)."""
    return column.like(escape_like(path) + "%", escape="\\")


def subtree(unit: Unit) -> Select[tuple[Unit]]:
    """A query for ``unit`` and everything below it (one indexed prefix match)."""
    return select(Unit).where(path_under(Unit.path, unit.path))


def by_path(session: Session, path: str) -> Unit | None:
    return session.scalar(select(Unit).where(Unit.path == path))
