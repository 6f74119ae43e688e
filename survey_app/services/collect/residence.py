"""The commune a citizen lives in: one optional question at a one-stop point.

Since 1 July 2025 a commune's public administration service centre accepts dossiers from
anywhere in the province, so a centre's answers can be read by the point that served the
citizen (``Response.unit_id``) and by where the citizen lives (``Response.residence_unit_id``).
The question is asked once, at the end of the form, may be skipped, and is never required;
the choices are the active communes of the point's province.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ...models import Unit

FIELD = "residence"


@dataclass(frozen=True)
class Commune:
    id: int
    name_vi: str
    name_en: str

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" and self.name_en else self.name_vi


def province_path(path: str) -> str | None:
    """``/vn/qt/p2/mot-cua/`` → ``/vn/qt/`` (``None`` above a province)."""
    parts = path.strip("/").split("/")
    return "/" + "/".join(parts[:2]) + "/" if len(parts) >= 2 else None


def asks_residence(unit: Unit) -> bool:
    """Whether the form at ``unit`` asks where the citizen lives: at one-stop points."""
    return unit.is_service_point and unit.kind == "one_stop"


CACHE_SECONDS = 300


def choices(session: Session, unit: Unit, cache: dict | None = None) -> list[Commune]:
    """The active communes of ``unit``'s province, by name; empty when the form does not ask.

    ``cache`` (a dict the caller keeps, per app) holds each province's list for
    :data:`CACHE_SECONDS`: the survey page and its POST stay one statement each when warm,
    and the communes of a province change once in years."""
    top = province_path(unit.path)
    if not asks_residence(unit) or top is None:
        return []
    now = time.monotonic()
    if cache is not None:
        kept = cache.get(top)
        if kept is not None and kept[0] > now:
            return kept[1]
    found = _load(session, top)
    if cache is not None:
        if len(cache) > 100:
            cache.clear()
        cache[top] = (now + CACHE_SECONDS, found)
    return found


def _load(session: Session, top: str) -> list[Commune]:
    parent = aliased(Unit)
    rows = session.execute(
        select(Unit.id, Unit.name_vi, Unit.name_en).join(parent, parent.id == Unit.parent_id)
        .where(parent.path == top, Unit.kind == "admin", Unit.is_service_point.is_(False), Unit.active.is_(True))
        .order_by(Unit.name_vi)
    ).all()
    return [Commune(*r) for r in rows] if len(rows) >= 2 else []


def read(form, offered: list[Commune]) -> tuple[int | None, str | None]:
    """The chosen commune's id (``None`` when skipped), or an error for the citizen."""
    raw = (form.get(FIELD) or "").strip()
    if not raw:
        return None, None
    if raw.isdigit() and int(raw) in {c.id for c in offered}:
        return int(raw), None
    return None, _("Please choose your commune from the list, or leave it empty.")
