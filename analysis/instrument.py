"""What an instrument definition says about scoring, as plain data.

An instrument definition is the validated JSON snapshot of a ``surveys/*.toml`` file (see
``surveys/README.md``). These helpers read it; they know no database and no Flask.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable, Mapping

__all__ = ["ScoredQuestion", "Scoring", "scoring_of", "ResponseSummary", "summarise_response", "value_key",
           "MAX_DECIMALS", "decimals_of", "scaled", "unscale", "plain"]

#: The most digits after the decimal point a ``number`` question may declare.
MAX_DECIMALS = 4


def decimals_of(question: Mapping[str, Any]) -> int:
    """Digits after the decimal point of a question's answers: its ``decimals`` for a
    ``number`` question (0, the default, is a whole number), 0 for every other type.

    A number answer is stored as the whole number value × 10^decimals (3,5 with one
    decimal is stored as 35), so counts, rollups and sums stay exact integers; every
    reader divides by 10^decimals (:func:`unscale`).

    >>> decimals_of({"type": "number", "decimals": 2}), decimals_of({"type": "percent"})
    (2, 0)
    """
    if question.get("type") != "number":
        return 0
    return int(question.get("decimals") or 0)


def scaled(value: int | float | Decimal | str, decimals: int) -> int:
    """The stored whole number for ``value`` (a bound of the file, an answer):
    value × 10^decimals, exact. Raises ``ValueError`` if that is not a whole number
    (``value`` has more digits after the point than ``decimals``).

    >>> scaled(100.5, 1), scaled(0, 2), scaled("3.25", 2)
    (1005, 0, 325)
    """
    exact = Decimal(str(value)).scaleb(decimals)
    if exact != exact.to_integral_value():
        raise ValueError(f"{value} has more than {decimals} digits after the decimal point.")
    return int(exact)


def unscale(value_int: int, decimals: int) -> Decimal:
    """The answer a stored value stands for: value_int ÷ 10^decimals, exactly, written
    with ``decimals`` digits after the point.

    >>> unscale(35, 1), unscale(350, 2), unscale(7, 0)
    (Decimal('3.5'), Decimal('3.50'), Decimal('7'))
    """
    return Decimal(int(value_int)).scaleb(-decimals)


def plain(value: int | float | Decimal) -> str:
    """A number as people write it: no exponent, no trailing zeros after the point.

    >>> plain(Decimal("100.50")), plain(1000), plain(Decimal("1E+3")), plain(0.25)
    ('100.5', '1000', '1000', '0.25')
    """
    text = format(Decimal(str(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def value_key(value_int: int | None, value_text: str | None) -> str:
    """The text key of an answer value: ``"i:<n>"`` for numbers, ``"t:<key>"`` for options."""
    if value_int is not None:
        return f"i:{value_int}"
    if value_text is None:
        raise ValueError("an answer has either a number or a text value")
    return f"t:{value_text}"


@dataclass(frozen=True)
class ScoredQuestion:
    """A ``scale`` question that counts towards the index.

    Attributes: ``key``, ``factor`` (``None`` when the instrument has no factors),
    ``levels`` (level values in order), ``satisfied`` (the satisfied levels),
    ``points`` (level → points, or ``None``).
    """

    key: str
    factor: str | None
    levels: tuple[int, ...]
    satisfied: frozenset[int]
    points: Mapping[int, int] | None


@dataclass(frozen=True)
class Scoring:
    """The scoring plan of an instrument.

    Attributes: ``method``, ``questions`` (scored questions in file order), ``factors``
    (factor key → tuple of its scored question keys, in order; empty when the instrument
    has no factors), ``params`` (the rest of the ``[scoring]`` table).
    """

    method: str
    questions: tuple[ScoredQuestion, ...]
    factors: Mapping[str, tuple[str, ...]]
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def by_key(self) -> dict[str, ScoredQuestion]:
        return {q.key: q for q in self.questions}

    @property
    def scale_to_answered(self) -> bool:
        """Whether a respondent's point total is scaled to the criteria they answered
        (``scale_to_answered = true`` in the file's ``[scoring]``)."""
        return self.method == "points" and bool(self.params.get("scale_to_answered"))

    @property
    def answered_scale(self) -> int:
        """The smallest integer SCALE that keeps every total scaled to the criteria
        answered whole: ``SCALE × points × max_total ÷ best`` where ``best`` is the most
        points the answered criteria could give (any sum of the criteria's best points).
        SCALE = lcm(bests) ÷ gcd(lcm(bests), max_total): 280 for nine criteria of at most
        2 points out of 18. 1 unless the method is ``points``."""
        if self.method != "points":
            return 1
        reachable = {0}
        for q in self.questions:
            best = max((q.points or {}).values(), default=0)
            if best > 0:
                reachable |= {s + best for s in reachable}
        bests = sorted(reachable - {0})
        if not bests:
            return 1
        lcm = math.lcm(*bests)
        return lcm // math.gcd(lcm, int(self.params.get("max_total") or 1))

    def scaled_total(self, points: int, best: int) -> int:
        """``answered_scale × points × max_total ÷ best``, exact (0 when ``best`` is 0)."""
        if not best:
            return 0
        return self.answered_scale * points * int(self.params.get("max_total") or 0) // best

    @property
    def points_scale(self) -> int:
        """The factor in which stored per-respondent point totals are kept: 1 (whole
        points) unless the file says ``scale_to_answered``, then :attr:`answered_scale`."""
        return self.answered_scale if self.scale_to_answered else 1

    def stored_points(self, points: int, best: int) -> int:
        """A respondent's total as stored (in units of ``1 / points_scale``): ``points``
        earned, or with ``scale_to_answered`` those points scaled to the ``best`` the
        answered criteria could give."""
        return self.scaled_total(points, best) if self.scale_to_answered else points


def scoring_of(definition: Mapping[str, Any]) -> Scoring:
    """Read the scoring plan from an instrument definition."""
    has_factors = bool(definition.get("factors"))
    scored: list[ScoredQuestion] = []
    for q in definition["questions"]:
        if q["type"] != "scale" or (has_factors and not q.get("factor")):
            continue
        scale = definition["scales"][q["scale"]]
        points = scale.get("points")
        scored.append(ScoredQuestion(
            key=q["key"], factor=q.get("factor") if has_factors else None,
            levels=tuple(lv["value"] for lv in scale["levels"]),
            satisfied=frozenset(scale["satisfied"]),
            points={int(k): int(v) for k, v in points.items()} if points else None,
        ))
    factors: dict[str, tuple[str, ...]] = {}
    if has_factors:
        for f in definition["factors"]:
            items = tuple(q.key for q in scored if q.factor == f["key"])
            if items:
                factors[f["key"]] = items
    params = {k: v for k, v in definition.get("scoring", {}).items() if k != "method"}
    return Scoring(definition.get("scoring", {}).get("method", "satisfied_share"), tuple(scored), factors, params)


@dataclass(frozen=True)
class ResponseSummary:
    """What one response adds to the per-response rollups.

    Attributes: ``scored`` (scored answers given), ``satisfied`` (of those, at a satisfied
    level), ``all_satisfied`` (1 when at least one scored answer was given and every one
    was satisfied, else 0), ``points`` (the respondent's point total over the scored items
    they answered, in units of ``1 / scoring.points_scale`` points — scaled to the items
    answered when the file says ``scale_to_answered`` —, or ``None`` when the method is not
    ``points`` or nothing was answered),
    ``factor_vectors`` (factor key → the item scores, for factors answered completely).
    """

    scored: int
    satisfied: int
    all_satisfied: int
    points: int | None
    factor_vectors: Mapping[str, tuple[int, ...]]


def summarise_response(scoring: Scoring, answers: Iterable[tuple[str, int | None, str | None]]) -> ResponseSummary:
    """Summarise one response's answers ``(question_key, value_int, value_text)``."""
    by_key = scoring.by_key
    values: dict[str, int] = {}
    for key, value_int, _value_text in answers:
        q = by_key.get(key)
        if q is not None and value_int is not None and value_int in q.levels:
            values[key] = value_int
    scored = len(values)
    satisfied = sum(1 for k, v in values.items() if v in by_key[k].satisfied)
    points = None
    if scoring.method == "points" and values:
        earned = sum((by_key[k].points or {}).get(v, 0) for k, v in values.items())
        best = sum(max((by_key[k].points or {}).values(), default=0) for k in values)
        points = scoring.stored_points(earned, best)
    vectors = {
        f: tuple(values[k] for k in items)
        for f, items in scoring.factors.items()
        if all(k in values for k in items)
    }
    return ResponseSummary(scored, satisfied, int(scored > 0 and satisfied == scored), points, vectors)
