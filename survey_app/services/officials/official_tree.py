"""The official two-tier tree since 1 July 2025: 34 provinces and 3,321 commune-level units.

:func:`load_official` creates or updates them below ``/vn/`` from the national list with
their official codes and names, set-based (one read of what exists, bulk inserts and bulk
updates: seconds for the whole country on SQLite and PostgreSQL). It is idempotent, and it
never touches a service point, anything below a commune, or a unit it did not match: a
commune typed in by hand under its province is adopted (given its code) when its name is the
official one, and kept otherwise.

The list comes from the ``vietnam-provinces`` package (its ``nested-divisions.json``: names
and codes of the General Statistics Office's catalogue, data of 2025-10-18; GPL-3.0-or-later,
read as data only). :func:`national_list` is the one place that reads it; tests pass a small
list of their own through ``divisions=``.
"""
from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from ...models import Unit, utcnow
from .tree import slugify
from .units import path_under

ROOT_PATH = "/vn/"

#: The package's division types → ours (``Unit.division``), with the English word.
DIVISION_OF = {
    "tỉnh": ("province", "Province"),
    "thành phố trung ương": ("city", "City"),
    "xã": ("commune", "Commune"),
    "phường": ("ward", "Ward"),
    "đặc khu": ("special_zone", "Special Zone"),
}
PROVINCE_PREFIX = {"province": "Tỉnh ", "city": ""}  # the package's city names already say "Thành phố"


@dataclass(frozen=True)
class Division:
    """One official unit: its code, full Vietnamese name, our division, and the English name."""

    code: str
    name_vi: str
    division: str
    name_en: str
    slug: str


@dataclass(frozen=True)
class ProvinceList:
    province: Division
    communes: tuple[Division, ...]


@dataclass
class LoadResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    provinces: int = 0
    communes: int = 0
    skipped: list[str] = field(default_factory=list)


class OfficialTreeError(ValueError):
    """The load cannot be made; the message says why."""


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return unicodedata.normalize("NFC", "".join(c for c in text if not unicodedata.combining(c)))


def _short(name: str, division_vi: str) -> str:
    """``"Phường Đông Hà"`` → ``"Đông Hà"``; ``"Thành phố Hà Nội"`` → ``"Hà Nội"``."""
    for prefix in (division_vi, "thành phố"):
        if name.lower().startswith(prefix + " "):
            return name[len(prefix) + 1:]
    return name


def national_list() -> list[ProvinceList]:
    """The 34 provinces and their communes, in the package's order."""
    from vietnam_provinces import NESTED_DIVISIONS_JSON_PATH

    return parse_divisions(json.loads(NESTED_DIVISIONS_JSON_PATH.read_text(encoding="utf-8")))


def parse_divisions(data: Sequence[dict]) -> list[ProvinceList]:
    """The package's nested JSON (``[{name, code, division_type, codename, wards: [...]}]``) as ours."""
    out = []
    for p in data:
        division, word = DIVISION_OF[p["division_type"]]
        short = _short(unicodedata.normalize("NFC", p["name"]), p["division_type"])
        province = Division(code=f"{int(p['code']):02d}", name_vi=PROVINCE_PREFIX[division] + short
                            if division == "province" else unicodedata.normalize("NFC", p["name"]),
                            division=division, name_en=f"{_plain(short)} {word}", slug=slugify(short))
        communes = []
        for w in p["wards"]:
            c_division, c_word = DIVISION_OF[w["division_type"]]
            name = unicodedata.normalize("NFC", w["name"])
            c_short = _short(name, w["division_type"])
            communes.append(Division(code=f"{int(w['code']):05d}", name_vi=name, division=c_division,
                                     name_en=f"{_plain(c_short)} {c_word}", slug=slugify(c_short)))
        out.append(ProvinceList(province, tuple(communes)))
    return out


def _key(name: str) -> str:
    return unicodedata.normalize("NFC", name).strip().casefold()


def load_official(session: Session, province_code: str | None = None,
                  divisions: Iterable[ProvinceList] | None = None) -> LoadResult:
    """Create or update the official provinces and communes below ``/vn/``; commits once.

    ``province_code`` (``"44"`` or ``"44"`` without the leading zero) limits the load to one
    province and its communes. Returns what was created, updated and left as it was.
    """
    lists = list(divisions) if divisions is not None else national_list()
    if province_code is not None:
        wanted = province_code.strip()
        wanted = f"{int(wanted):02d}" if wanted.isdigit() else wanted
        lists = [pl for pl in lists if pl.province.code == wanted]
        if not lists:
            raise OfficialTreeError(f"no province with the official code {province_code!r}")
    result = LoadResult()
    root = session.scalar(select(Unit).where(Unit.path == ROOT_PATH))
    if root is None:
        root = Unit(parent=None, slug="vn", path=ROOT_PATH, kind="admin", name_vi="Việt Nam", name_en="Viet Nam",
                    is_service_point=False, active=True)
        session.add(root)
        session.flush()
        result.created += 1
    # One read of every unit down to commune level (service points are only read to keep
    # their paths free).
    rows = session.execute(
        select(Unit.id, Unit.parent_id, Unit.path, Unit.official_code, Unit.name_vi, Unit.name_en, Unit.division,
               Unit.is_service_point)
        .where(path_under(Unit.path, ROOT_PATH), Unit.path != ROOT_PATH)
    ).all()
    by_code = {r.official_code: r for r in rows if r.official_code}
    taken_paths = {r.path for r in rows}
    children: dict[int, list] = {}
    for r in rows:
        children.setdefault(r.parent_id, []).append(r)

    updates: list[dict] = []

    def match(parent_id: int, division: Division):
        """The existing row for ``division``: by official code, else a not-yet-coded
        administrative unit of the same name under the same parent."""
        row = by_code.get(division.code)
        if row is not None:
            return row
        names = {_key(division.name_vi), _key(_short(division.name_vi, "tỉnh"))}
        for r in children.get(parent_id, ()):
            if not r.official_code and not r.is_service_point and _key(r.name_vi) in names:
                return r
        return None

    def fresh_path(parent_path: str, slug: str, code: str) -> str:
        path = parent_path + slug + "/"
        if path in taken_paths:
            path = parent_path + f"{slug[:33]}-{code}/"
        taken_paths.add(path)
        return path

    def note(row, division: Division) -> None:
        change = {}
        if row.official_code != division.code:
            change["official_code"] = division.code
        if row.name_vi != division.name_vi:
            change["name_vi"] = division.name_vi
        if row.name_en != division.name_en:
            change["name_en"] = division.name_en
        if row.division != division.division:
            change["division"] = division.division
        if change:
            updates.append({"id": row.id, **change})
            result.updated += 1
        else:
            result.unchanged += 1

    province_rows: dict[str, tuple[int, str]] = {}
    new_provinces = []
    for pl in lists:
        row = match(root.id, pl.province)
        if row is not None:
            if row.is_service_point:
                result.skipped.append(row.path)
                continue
            note(row, pl.province)
            province_rows[pl.province.code] = (row.id, row.path)
        else:
            new_provinces.append(_values(pl.province, root.id, fresh_path(ROOT_PATH, pl.province.slug,
                                                                          pl.province.code)))
    if new_provinces:
        session.execute(insert(Unit), new_provinces)
        result.created += len(new_provinces)
        for pid, code, path in session.execute(select(Unit.id, Unit.official_code, Unit.path).where(
                Unit.official_code.in_([v["official_code"] for v in new_provinces]))):
            province_rows[code] = (pid, path)
    result.provinces = len(province_rows)

    new_communes = []
    for pl in lists:
        if pl.province.code not in province_rows:
            continue
        pid, ppath = province_rows[pl.province.code]
        for commune in pl.communes:
            row = match(pid, commune)
            if row is not None and not row.is_service_point:
                note(row, commune)
            else:
                new_communes.append(_values(commune, pid, fresh_path(ppath, commune.slug, commune.code)))
            result.communes += 1
    if new_communes:
        session.execute(insert(Unit), new_communes)
        result.created += len(new_communes)
    if updates:
        session.execute(update(Unit), updates)
    session.commit()
    return result


def _values(division: Division, parent_id: int, path: str) -> dict:
    return {"parent_id": parent_id, "slug": path.rstrip("/").rsplit("/", 1)[1], "path": path, "kind": "admin",
            "name_vi": division.name_vi, "name_en": division.name_en, "code": None,
            "official_code": division.code, "division": division.division, "is_service_point": False,
            "active": True, "created_at": utcnow()}
