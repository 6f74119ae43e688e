"""Finding a unit the way people name it: a service point by its public code, any unit
(admin units have no code) by its materialized path; and the landing page's search for a
service point by name or code (:func:`search_points`)."""
from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Campaign, Unit, campaign_unit, utcnow


def find_unit(session: Session, ref: str) -> Unit | None:
    """``p2motcua`` (a code) or ``/vn/qt/p2/`` (a path; the slashes at either end
    may be left out when the value contains a slash)."""
    ref = (ref or "").strip()
    if not ref or len(ref) > 400:
        return None
    if "/" in ref:
        path = "/" + ref.strip("/") + "/"
        return session.scalar(select(Unit).where(Unit.path == path))
    return session.scalar(select(Unit).where(Unit.code == ref.lower()))


def find_point(session: Session, code: str) -> Unit | None:
    """The active service point with public code ``code``."""
    if not code or len(code) > 16:
        return None
    return session.scalar(select(Unit).where(Unit.code == code, Unit.active.is_(True),
                                             Unit.is_service_point.is_(True)))


# ------------------------------------------------------------------ the landing page's search

#: At most this many points are listed for one search (the page says when there are more).
SEARCH_MAX_RESULTS = 10
#: Only the first characters of what was typed are read.
SEARCH_MAX_CHARS = 100
#: The folded names of the active units are kept this long per app (``cache``).
SEARCH_CACHE_SECONDS = 60

_MARKS = re.compile(r"[\u0300-\u036f]")
_NOT_WORD = re.compile(r"[\W_]+")


def fold(text: str | None) -> str:
    """``text`` for matching: NFC-normalised, without diacritics (``đ`` → ``d``), case-folded,
    every run of punctuation, spaces or control characters one space.

    >>> fold("Bộ phận Một cửa — PHƯỜNG 2")
    'bo phan mot cua phuong 2'
    """
    text = unicodedata.normalize("NFD", unicodedata.normalize("NFC", text or "")[: SEARCH_MAX_CHARS * 4])
    text = _MARKS.sub("", text).replace("đ", "d").replace("Đ", "D").casefold()
    return " ".join(_NOT_WORD.sub(" ", text).split())


@dataclass(frozen=True)
class _Point:
    """A service point as the landing page's search knows it. ``trail_vi``/``trail_en``: the
    names of the units above it, nearest first (the country left out)."""

    id: int
    code: str
    name_vi: str
    name_en: str
    trail_vi: tuple[str, ...]
    trail_en: tuple[str, ...]

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" and self.name_en else self.name_vi

    def trail(self, lang: str) -> tuple[str, ...]:
        return self.trail_en if lang == "en" else self.trail_vi


@dataclass(frozen=True)
class PointMatch(_Point):
    """A point found by the search; ``open_survey``: a campaign a citizen can answer at
    ``/s/<code>`` is open now."""

    open_survey: bool = False


@dataclass(frozen=True)
class SearchResult:
    query: str                 # what was read of the query (NFC, trimmed, at most SEARCH_MAX_CHARS)
    matches: list[PointMatch]
    more: bool                 # more points matched than are listed


@dataclass(frozen=True)
class _Indexed(_Point):
    folded_name: str = ""
    haystack: str = ""         # the folded names, the code and the names above


def _index(session: Session, cache: dict | None) -> list[_Indexed]:
    now = time.monotonic()
    if cache is not None:
        kept = cache.get("points")
        if kept is not None and kept[0] > now:
            return kept[1]
    rows = session.execute(select(Unit.path, Unit.name_vi, Unit.name_en, Unit.code, Unit.id, Unit.is_service_point)
                           .where(Unit.active.is_(True))).all()
    names = {path: (vi, en or vi) for path, vi, en, _code, _id, _point in rows}
    points = []
    for path, vi, en, code, unit_id, is_point in rows:
        if not is_point or not code:
            continue
        parts = path.strip("/").split("/")
        above = ["/" + "/".join(parts[:i]) + "/" for i in range(len(parts) - 1, 1, -1)]  # nearest first, no country
        trail = [names[p] for p in above if p in names]
        trail_vi = tuple(t[0] for t in trail)
        trail_en = tuple(t[1] for t in trail)
        haystack = " ".join([fold(vi), fold(en), code.lower(), *(fold(t) for t in trail_vi + trail_en)])
        points.append(_Indexed(unit_id, code, vi, en or vi, trail_vi, trail_en, fold(vi), haystack))
    if cache is not None:
        cache["points"] = (now + SEARCH_CACHE_SECONDS, points)
    return points


def _clean(query: str | None) -> str:
    text = unicodedata.normalize("NFC", (query or "")[: SEARCH_MAX_CHARS * 4])
    text = "".join(" " if unicodedata.category(c)[0] in "CZ" else c for c in text)
    return " ".join(text.split())[:SEARCH_MAX_CHARS]


def search_points(session: Session, query: str | None, *, cache: dict | None = None,
                  limit: int = SEARCH_MAX_RESULTS, now: datetime | None = None) -> SearchResult:
    """The active service points whose name (Vietnamese or English), code or the names of
    the units above contain every word of ``query``, diacritics and case ignored
    (:func:`fold`): an exact code first, then names that start with the query, then by
    name; at most ``limit``. Any input is accepted: empty, very long, control characters
    (only the first :data:`SEARCH_MAX_CHARS` characters are read).

    ``cache`` (a dict the caller keeps, per app) holds the folded names for
    :data:`SEARCH_CACHE_SECONDS`; what is listed is read again from the database (still
    active, a campaign open now), so a point deactivated meanwhile is not offered."""
    cleaned = _clean(query)
    words = fold(cleaned).split()
    if not words:
        return SearchResult(cleaned, [], False)
    exact = cleaned.lower()
    folded_query = " ".join(words)
    found = [p for p in _index(session, cache) if all(w in p.haystack for w in words)]
    found.sort(key=lambda p: (p.code != exact, not p.folded_name.startswith(folded_query), p.folded_name, p.id))
    shown, more = found[:limit], len(found) > limit
    if not shown:
        return SearchResult(cleaned, [], False)
    ids = [p.id for p in shown]
    still_active = set(session.scalars(select(Unit.id).where(Unit.id.in_(ids), Unit.active.is_(True),
                                                              Unit.is_service_point.is_(True))))
    now = now or utcnow()
    campaigns = session.execute(
        select(campaign_unit.c.unit_id, Campaign).join(Campaign, Campaign.id == campaign_unit.c.campaign_id)
        .where(campaign_unit.c.unit_id.in_(ids), Campaign.access_mode == "open", Campaign.status == "open")).all()
    open_at = {unit_id for unit_id, campaign in campaigns if campaign.state_at(now) == "open"}
    matches = [PointMatch(p.id, p.code, p.name_vi, p.name_en, p.trail_vi, p.trail_en, p.id in open_at)
               for p in shown if p.id in still_active]
    return SearchResult(cleaned, matches, more)
