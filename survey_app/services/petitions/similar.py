"""Similar petitions: the suggestions shown to a citizen before a petition is stored, the
repeats marked at filing, and the duplicates an official may merge.

**Similarity** is trigram similarity as PostgreSQL's ``pg_trgm`` computes it: the texts are
cut into words (runs of letters and digits), each word padded with two spaces before and one
after, and the score is the number of distinct three-character pieces the two texts share
divided by the number they have together (0 = nothing shared, 1 = the same words). Before
that both texts are *folded*: NFC, Vietnamese letters without their diacritics (đ → d,
ường → uong) and lower case, so that "đèn đường hỏng" and "den duong hong" (a keyboard
without Telex) count as the same words. Folding is done in SQL with ``translate()`` and
``lower()`` of ASCII, so it does not depend on the database's locale.

* On PostgreSQL with the ``pg_trgm`` extension installed, ``similarity()`` runs in the
  database (the extension's schema is looked up in ``pg_extension``: the function is called
  by its qualified name, whatever the ``search_path``).
* Otherwise (SQLite, or PostgreSQL without the extension) the same score is computed in
  Python over at most :data:`CANDIDATES` candidates, the newest first.

**Threshold.** :data:`THRESHOLD` = 0.35: two petitions about the same broken street light
or the same blocked drain, written by different people, score about 0.5–0.9 once folded;
petitions on other matters of the same topic and unit about 0.2 (short Vietnamese syllables
share many trigrams such as "  d"; see ``tests/petitions/test_similar.py`` for the texts
measured). ``pg_trgm``'s own default is 0.3; a little stricter here because a suggestion
costs the citizen a second click, and a loosely worded repeat may be missed (staff see
similar open petitions on the petition's page anyway).

**What is compared.** Only petitions of the same unit (where it was filed or the unit
handling it now) and the same topic, never suspect ones (a honeypot, a burst), never ones
merged into another (their survivor stands for them).

* Suggestions (:func:`suggestions`): open ones (received, waiting, assigned), at most
  :data:`LIMIT`, most similar first; what the citizen sees is :class:`Suggestion` — status,
  topic, date of receipt, and the text only when it is public (``text_is_public``), never a
  tracking code.
* Repeats (:func:`repeat_of`): a petition filed again within :data:`REPEAT_WINDOW` (12
  months) after a similar one was answered (answered, answer published or closed, by its
  first answer of the round) is a repeat of the most similar of them.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ...models import Petition, Unit, utcnow

__all__ = ["THRESHOLD", "LIMIT", "CANDIDATES", "REPEAT_WINDOW", "Suggestion", "fold", "trigrams", "similarity",
           "trgm_schema", "find_similar", "suggestions", "repeat_of"]

THRESHOLD = 0.35
LIMIT = 5
CANDIDATES = 200
REPEAT_WINDOW = timedelta(days=365)
OPEN = ("received", "waiting", "assigned")
ANSWERED = ("answered", "published", "closed")


def _fold_table() -> tuple[str, str]:
    """Every precomposed Latin letter whose base is an ASCII letter (all of Vietnamese's
    134 and more), and đ/Đ: the letter and its base, for ``translate()``."""
    src, dst = [], []
    for code in list(range(0x00C0, 0x0250)) + list(range(0x1E00, 0x1F00)):
        char = chr(code)
        base = unicodedata.normalize("NFD", char)[0]
        if char != base and base.isascii() and base.isalpha():
            src.append(char)
            dst.append(base.lower())
    for char, base in (("đ", "d"), ("Đ", "d")):
        src.append(char)
        dst.append(base)
    return "".join(src), "".join(dst)


FOLD_FROM, FOLD_TO = _fold_table()
_FOLD = str.maketrans(FOLD_FROM, FOLD_TO)


def fold(text: str) -> str:
    """NFC, diacritics off (the table above), lower case: the form texts are compared in."""
    return unicodedata.normalize("NFC", text or "").translate(_FOLD).lower()


def trigrams(text: str) -> set[str]:
    """pg_trgm's trigrams of an already folded text (words of letters and digits)."""
    grams: set[str] = set()
    words = "".join(c if c.isalnum() else " " for c in text).split()
    for word in words:
        padded = f"  {word} "
        grams.update(padded[i:i + 3] for i in range(len(padded) - 2))
    return grams


def similarity(a: str, b: str) -> float:
    """pg_trgm's ``similarity()`` of the two texts, folded."""
    ta, tb = trigrams(fold(a)), trigrams(fold(b))
    if not ta or not tb:
        return 0.0
    common = len(ta & tb)
    return common / (len(ta) + len(tb) - common)


def trgm_schema(session: Session) -> str | None:
    """The schema ``pg_trgm`` is installed in, or None (SQLite, or not installed)."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    return session.scalar(sa.text(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_trgm'"))


def _folded_column():
    return sa.func.lower(sa.func.translate(Petition.body, sa.literal(FOLD_FROM), sa.literal(FOLD_TO)))


def _candidates(unit: Unit, category: str, statuses: Sequence[str], *, since: datetime | None = None,
                exclude_ids: Iterable[int] = ()) -> sa.Select:
    query = sa.select(Petition).where(
        sa.or_(Petition.unit_id == unit.id, Petition.origin_unit_id == unit.id),
        Petition.category == category, Petition.status.in_(statuses), Petition.trust == "ok",
        Petition.merged_into_id.is_(None))
    if since is not None:
        query = query.where(Petition.answered_at >= since)
    exclude = [i for i in exclude_ids if i is not None]
    if exclude:
        query = query.where(Petition.id.not_in(exclude))
    return query


def _in_database(session: Session, schema: str, query: sa.Select, text: str,
                 limit: int) -> list[tuple[Petition, float]] | None:
    # ``schema.similarity(…)``, the schema quoted by SQLAlchemy when it needs it
    score = sa.type_coerce(sa.Function("similarity", _folded_column(), sa.literal(fold(text)),
                                       packagenames=(schema,)), sa.Float).label("score")
    ranked = (query.add_columns(score).where(score >= THRESHOLD)
              .order_by(score.desc(), Petition.received_at.desc(), Petition.id.desc()).limit(limit))
    try:
        with session.begin_nested():
            return [(p, float(s)) for p, s in session.execute(ranked).all()]
    except DBAPIError:  # the extension went away under us: compute it here instead
        return None


def find_similar(session: Session, unit: Unit, category: str, text: str, *, statuses: Sequence[str] = OPEN,
                 since: datetime | None = None, exclude_ids: Iterable[int] = (),
                 limit: int = LIMIT) -> list[tuple[Petition, float]]:
    """Petitions like ``text`` (of ``unit``, ``category``, with one of ``statuses``, not
    suspect, not merged) scoring at least :data:`THRESHOLD`, most similar first."""
    query = _candidates(unit, category, statuses, since=since, exclude_ids=exclude_ids)
    schema = trgm_schema(session)
    if schema is not None:
        found = _in_database(session, schema, query, text, limit)
        if found is not None:
            return found
    wanted = trigrams(fold(text))
    if not wanted:
        return []
    scored = []
    rows = session.scalars(query.order_by(Petition.received_at.desc(), Petition.id.desc()).limit(CANDIDATES))
    for petition in rows:
        theirs = trigrams(fold(petition.body))
        if not theirs:
            continue
        common = len(wanted & theirs)
        score = common / (len(wanted) + len(theirs) - common)
        if score >= THRESHOLD:
            scored.append((petition, score))
    scored.sort(key=lambda pair: (-pair[1], -pair[0].received_at.timestamp(), -pair[0].id))
    return scored[:limit]


@dataclass(frozen=True)
class Suggestion:
    """What a citizen may see of a similar petition (it links to its public page ``/a/<id>``)."""

    id: int
    status: str
    category: str
    received_at: datetime
    #: Only when the petitioner allowed it and an official approved it.
    text: str | None


def suggestions(session: Session, unit: Unit, category: str, text: str) -> list[Suggestion]:
    """Open petitions of this unit and topic like ``text`` (see the module docstring)."""
    return [Suggestion(id=p.id, status=p.status, category=p.category, received_at=p.received_at,
                       text=p.body if p.text_is_public else None)
            for p, _score in find_similar(session, unit, category, text)]


def repeat_of(session: Session, unit: Unit, category: str, text: str, now: datetime | None = None) -> Petition | None:
    """The answered petition (within :data:`REPEAT_WINDOW` before ``now``) this one repeats, or None."""
    now = now or utcnow()
    found = find_similar(session, unit, category, text, statuses=ANSWERED, since=now - REPEAT_WINDOW, limit=1)
    return found[0][0] if found else None
