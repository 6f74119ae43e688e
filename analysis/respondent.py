"""Respondent-level estimators: the respondent, not the answer, is the sampling unit.

A citizen answers 17–19 scored items and those answers are correlated, so treating
answers as independent observations makes intervals 2.5–2.8 times too narrow. Here each
respondent contributes one integer *feature vector*; a slice of data (a unit, a day, a
period) is summarised by its :class:`Moments` — the number of respondents, the sums of
the features and the sums of their cross-products — which add up across slices and are
stored as exact integers. Point estimates are the official formulas; variances come from
linearization (Taylor series / Woodruff) of the estimator with the respondent as the
sampling unit, computed from the cross-products, so a report costs O(cells).

Feature vector (``m = 2k + 3`` integers for k scored items in ``scoring.questions``
order, see :class:`FeatureLayout`)::

    positions 0 .. k-1      y_c  1 if item c was answered at a satisfied level, else 0
    positions k .. 2k-1     x_c  1 if item c was answered (a valid level), else 0
    position  2k            L    sum of the answered levels over the scored items
    position  2k+1          T    SCALE × the respondent's one-stop total scaled to the
                                 items answered (method ``points``; else 0), an integer
    position  2k+2          P    1 if at least one scored item was answered, else 0

Functions
---------
feature_layout, respondent_features
    The layout of an instrument's feature vector, and one response's vector.
share_index
    SIPAS / education satisfied-share index and its factors.
ratio_index
    Any ratio of two feature totals ΣA/ΣB.
moh_general_rate, moh_mean_score, one_stop_mean_total
    Named ratios: MOH general satisfaction rate, MOH mean score, one-stop mean total.
index_change
    Difference between two independent periods' estimates with its test.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache, cached_property

import numpy as np
from scipy import special

from ._common import check_confidence, group_rows, z_value
from .instrument import Scoring

__all__ = [
    "FeatureLayout",
    "Moments",
    "group_stored_moments",
    "group_stored_moments_by",
    "Estimate",
    "FactorEstimate",
    "ShareIndex",
    "Change",
    "feature_layout",
    "respondent_features",
    "share_index",
    "ratio_index",
    "moh_general_rate",
    "moh_mean_score",
    "one_stop_mean_total",
    "index_change",
    "share_estimate",
    "mean_estimate",
    "remap_items",
]

_INT64_SAFE = 2**62  # products below this are computed in int64, above in Python ints
_FLOAT_EXACT = 2**53


# --------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class FeatureLayout:
    """Where each feature sits in an instrument's respondent feature vector.

    Attributes
    ----------
    method : str
        The instrument's scoring method (``satisfied_share``, ``moh`` or ``points``).
    items : tuple of str
        The k scored question keys, in ``scoring.questions`` order.
    k : int
        Number of scored items.
    size : int
        Length m = 2k + 3 of the feature vector.
    y : slice
        Positions 0 … k−1: y_c = 1 if item c was answered at a satisfied level.
    x : slice
        Positions k … 2k−1: x_c = 1 if item c was answered with a valid level.
    level_sum : int
        Position 2k: L = sum of the answered levels.
    total : int
        Position 2k+1: T = ``scale`` × the scaled one-stop total (0 unless ``points``).
    respondent : int
        Position 2k+2: P = 1 if at least one scored item was answered.
    scale : int
        SCALE, the smallest positive integer that makes T an integer for every
        possible set of answered items (1 unless ``points``; 280 for the one-stop
        form: 9 indicators × 2 points, ``max_total`` 18).
    max_total : int
        The points instrument's ``max_total`` (0 unless ``points``); the largest T is
        ``scale * max_total``.
    factors : tuple of (str, tuple of str)
        The instrument's factors (sections) and their item keys, in order; empty when
        it has none.
    level_range : tuple of (int, int)
        The lowest and highest level of any scored item (bounds of the mean score).
    names : tuple of str
        A name per position: ``y:<key>``, ``x:<key>``, ``L``, ``T``, ``P``.
    """

    method: str
    items: tuple[str, ...]
    k: int
    size: int
    y: slice = field(hash=False)
    x: slice = field(hash=False)
    level_sum: int
    total: int
    respondent: int
    scale: int
    max_total: int
    factors: tuple[tuple[str, tuple[str, ...]], ...]
    level_range: tuple[int, int]
    names: tuple[str, ...]


def _max_points(q) -> int:
    if not q.points:
        raise ValueError(f"scored question {q.key!r} has no points, which method 'points' needs.")
    best = max(int(v) for v in q.points.values())
    if best <= 0:
        raise ValueError(f"scored question {q.key!r} gives no points at any level.")
    return best


def feature_layout(scoring: Scoring) -> FeatureLayout:
    """The layout of an instrument's per-respondent feature vector.

    Parameters
    ----------
    scoring : Scoring
        The instrument's scoring plan (:func:`analysis.instrument.scoring_of`).

    Returns
    -------
    FeatureLayout
        Fields ``method``, ``items``, ``k``, ``size``, ``y``, ``x``, ``level_sum``,
        ``total``, ``respondent``, ``scale``, ``max_total``, ``factors``,
        ``level_range``, ``names``.

    Raises
    ------
    ValueError
        If ``scoring`` is not a :class:`~analysis.instrument.Scoring`, has no scored
        question, repeats a key, names an unknown item in a factor, or is a ``points``
        plan without a positive whole ``max_total`` or with an item without points.

    Notes
    -----
    For k scored items the vector is ``(y_1..y_k, x_1..x_k, L, T, P)``, m = 2k + 3.

    T is the one-stop total scaled to the items answered (INSTRUMENTS.md §2), times
    SCALE: with points pᵢ over the answered set A and Dᵢ = Σ_{c∈A} max points of c
    (= 2·answered for the one-stop form),
    Tᵢ = SCALE · pᵢ · max_total / Dᵢ. SCALE is the smallest positive integer with
    D | SCALE·max_total for every achievable D (every sum of the items' maximum points
    over a non-empty subset): SCALE = lcm(D) / gcd(lcm(D), max_total). For the one-stop
    form D ∈ {2, 4, …, 18}, lcm = 5040 and SCALE = 5040/18 = 280, so Tᵢ = 2520·pᵢ/answeredᵢ
    ≤ 5040. The mean total is ΣT / (SCALE·ΣP).

    References
    ----------
    Nghị định 61/2018/NĐ-CP; Thông tư 01/2018/TT-VPCP (one-stop indicators, 2 points
    each, 18 in all).

    Examples
    --------
    >>> from analysis.instrument import ScoredQuestion, Scoring
    >>> q = [ScoredQuestion(f"i{j}", "f", (1, 2, 3), frozenset({2, 3}),
    ...                     {1: 0, 2: 1, 3: 2}) for j in range(9)]
    >>> lay = feature_layout(Scoring("points", tuple(q), {"f": tuple(x.key for x in q)},
    ...                              {"max_total": 18}))
    >>> lay.size, lay.scale, lay.names[:2], lay.names[-3:]
    (21, 280, ('y:i0', 'y:i1'), ('L', 'T', 'P'))
    """
    if not isinstance(scoring, Scoring):
        raise ValueError("scoring must be an analysis.instrument.Scoring.")
    questions = tuple(scoring.questions)
    if not questions:
        raise ValueError("the scoring plan has no scored question, so there is no feature vector.")
    items = tuple(q.key for q in questions)
    if len(set(items)) != len(items):
        raise ValueError("the scoring plan repeats a scored question key.")
    known = set(items)
    factors: list[tuple[str, tuple[str, ...]]] = []
    for fkey, fitems in scoring.factors.items():
        fitems = tuple(fitems)
        unknown = [i for i in fitems if i not in known]
        if unknown:
            raise ValueError(f"factor {fkey!r} names items that are not scored: {unknown}.")
        factors.append((str(fkey), fitems))
    k = len(items)
    scale, max_total = 1, 0
    if scoring.method == "points":
        raw = scoring.params.get("max_total")
        if isinstance(raw, bool) or not isinstance(raw, numbers.Integral) or raw <= 0:
            raise ValueError("a points instrument needs scoring.max_total, a positive whole number.")
        max_total = int(raw)
        for q in questions:
            _max_points(q)  # every scored item must give points
        scale = scoring.answered_scale
    levels = [lv for q in questions for lv in q.levels]
    names = tuple([f"y:{i}" for i in items] + [f"x:{i}" for i in items] + ["L", "T", "P"])
    return FeatureLayout(
        method=scoring.method,
        items=items,
        k=k,
        size=2 * k + 3,
        y=slice(0, k),
        x=slice(k, 2 * k),
        level_sum=2 * k,
        total=2 * k + 1,
        respondent=2 * k + 2,
        scale=scale,
        max_total=max_total,
        factors=tuple(factors),
        level_range=(int(min(levels)), int(max(levels))),
        names=names,
    )


def respondent_features(
    scoring: Scoring, answers: Iterable[tuple[str, int | None, str | None]],
    layout: FeatureLayout | None = None,
) -> tuple[int, ...]:
    """One response's feature vector (see :class:`FeatureLayout`).

    Parameters
    ----------
    scoring : Scoring
        The instrument's scoring plan.
    answers : iterable of (str, int or None, str or None)
        The response's answers ``(question_key, value_int, value_text)``, as
        :func:`analysis.instrument.summarise_response` takes them. Answers to
        unscored questions and values that are not a level are ignored; if a key
        repeats, the last valid value counts (as in ``summarise_response``).
    layout : FeatureLayout, optional
        ``feature_layout(scoring)``, when the caller already has it (a catch-up does it
        once per version, not once per response).

    Returns
    -------
    tuple of int
        ``(y_1..y_k, x_1..x_k, L, T, P)``, length ``2k + 3``.

    Raises
    ------
    ValueError
        If the scoring plan is unusable (see :func:`feature_layout`) or an answer is
        not a ``(key, value_int, value_text)`` triple.

    Notes
    -----
    y_c = [item c answered at a satisfied level], x_c = [item c answered],
    L = Σ_c (level of c)·x_c, P = [Σ_c x_c > 0]. For method ``points``,
    T = SCALE · p · max_total / D with p the points of the answered items and D the sum
    of their maximum points (exact integer division, see :func:`feature_layout`);
    T = 0 otherwise or when nothing was answered. Σy = ``ResponseSummary.satisfied``,
    Σx = ``ResponseSummary.scored``.

    References
    ----------
    K. M. Wolter, *Introduction to Variance Estimation*, 2nd ed., Springer (2007),
    ch. 6 (the per-unit variables a linearized variance is built from).

    Examples
    --------
    >>> from analysis.instrument import ScoredQuestion, Scoring
    >>> q = [ScoredQuestion(k, None, (1, 2, 3, 4, 5), frozenset({4, 5}), None)
    ...      for k in ("a", "b", "c")]
    >>> respondent_features(Scoring("satisfied_share", tuple(q), {}),
    ...                     [("a", 5, None), ("b", 2, None), ("note", None, "hi")])
    (1, 0, 0, 1, 1, 0, 7, 0, 1)
    """
    layout = layout or feature_layout(scoring)
    by_key = scoring.by_key
    values: dict[str, int] = {}
    for answer in answers:
        try:
            key, value_int, _value_text = answer
        except (TypeError, ValueError) as exc:
            raise ValueError("each answer must be a (question_key, value_int, value_text) triple.") from exc
        q = by_key.get(key)
        if q is not None and value_int is not None and value_int in q.levels:
            values[key] = int(value_int)
    k = layout.k
    out = [0] * layout.size
    for c, q in enumerate(scoring.questions):
        if q.key in values:
            v = values[q.key]
            out[k + c] = 1
            out[c] = int(v in q.satisfied)
            out[layout.level_sum] += v
    if values:
        out[layout.respondent] = 1
        if layout.method == "points":
            pts = sum((by_key[key].points or {}).get(v, 0) for key, v in values.items())
            denominator = sum(_max_points(by_key[key]) for key in values)
            out[layout.total] = scoring.scaled_total(pts, denominator)
    return tuple(out)


# --------------------------------------------------------------------------- moments


def _whole(value: object, name: str) -> int:
    """An exact Python int from an int, numpy int, integral Decimal or small integral float."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a whole number, got {value!r}.")
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return int(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer() and abs(value) <= _FLOAT_EXACT:
        return int(value)
    raise ValueError(f"{name} must be a whole number, got {value!r}.")


def _exact_array(values: Sequence[int]) -> np.ndarray:
    """int64 array when every entry is small enough, else an object array of Python ints."""
    try:
        arr = np.array(values, dtype=np.int64)
    except OverflowError:
        return np.array(values, dtype=object)
    if arr.size and int(np.abs(arr).max()) >= _INT64_SAFE:
        return np.array(values, dtype=object)
    return arr


@dataclass(frozen=True)
class Moments:
    """Sufficient statistics of respondent feature vectors: n, Σv and Σvvᵀ, in exact integers.

    Attributes
    ----------
    n : int
        Number of respondents (feature vectors) summarised.
    sums : tuple of int
        Σᵢ vᵢ, one entry per feature (length m).
    cross : tuple of tuple of int
        Σᵢ vᵢvᵢᵀ, the full symmetric m × m matrix.

    Notes
    -----
    ``Moments.zeros(m)`` is the empty summary, ``Moments.of(rows)`` summarises a
    respondents × features integer array, ``a + b`` merges two disjoint sets of
    respondents, and ``to_json()`` / ``from_json()`` give a JSON-ready form with the
    upper triangle only (m(m + 1)/2 numbers, row by row). Every number is a Python
    int, so merging never overflows or rounds. The constructor accepts ints, numpy
    ints, integral ``Decimal`` (as SQL ``SUM`` returns) and integral floats up to 2⁵³,
    and checks that the matrix is symmetric and consistent with n and the sums
    (Cauchy–Schwarz: n·Σv_j² ≥ (Σv_j)²).

    Examples
    --------
    >>> a = Moments.of([[1, 1, 4], [0, 1, 2]])
    >>> b = Moments.of([[1, 1, 5]])
    >>> (a + b).n, (a + b).sums, Moments.from_json((a + b).to_json()) == a + b
    (3, (2, 3, 11), True)
    >>> a.to_json()
    {'n': 2, 'sums': [1, 2, 6], 'cross': [1, 1, 4, 2, 6, 20]}
    """

    n: int
    sums: tuple[int, ...]
    cross: tuple[tuple[int, ...], ...]

    def __post_init__(self) -> None:
        n = _whole(self.n, "n")
        if n < 0:
            raise ValueError(f"n must not be negative, got {n}.")
        try:
            sums = tuple(_whole(v, "each sum") for v in self.sums)
            rows = tuple(
                tuple(v if type(v) is int else _whole(v, "each cross-product") for v in row) for row in self.cross
            )
        except TypeError as exc:
            raise ValueError("sums must be a sequence and cross a matrix of whole numbers.") from exc
        m = len(sums)
        if m == 0:
            raise ValueError("sums must have at least one feature.")
        if len(rows) != m or any(len(r) != m for r in rows):
            raise ValueError(f"cross must be a {m} × {m} matrix to match the {m} sums.")
        s_arr, c_arr = _exact_array(sums), _exact_array(rows)
        if not np.array_equal(c_arr, c_arr.T):
            i, j = (int(v[0]) for v in np.nonzero(c_arr != c_arr.T))
            raise ValueError(f"cross is not symmetric: entry ({i}, {j}) differs from ({j}, {i}).")
        for j in range(m):
            if rows[j][j] < 0 or n * rows[j][j] < sums[j] * sums[j]:
                raise ValueError(
                    f"feature {j}: its sum of squares is inconsistent with n and its sum, which no data can give."
                )
        if n == 0 and (any(sums) or np.any(c_arr != 0)):
            raise ValueError("with n = 0 every sum and cross-product must be 0.")
        object.__setattr__(self, "n", n)
        object.__setattr__(self, "sums", sums)
        object.__setattr__(self, "cross", rows)
        self.__dict__["_arrays"] = (s_arr, c_arr)

    @classmethod
    def _trusted(cls, n: int, sums: tuple[int, ...], cross: tuple[tuple[int, ...], ...]) -> "Moments":
        obj = object.__new__(cls)
        object.__setattr__(obj, "n", n)
        object.__setattr__(obj, "sums", sums)
        object.__setattr__(obj, "cross", cross)
        return obj

    @property
    def size(self) -> int:
        """Number of features m."""
        return len(self.sums)

    @classmethod
    def zeros(cls, m: int) -> "Moments":
        """The summary of no respondents with m features."""
        mm = _whole(m, "m")
        if mm < 1:
            raise ValueError(f"m must be at least 1, got {m!r}.")
        return cls._trusted(0, (0,) * mm, ((0,) * mm,) * mm)

    @classmethod
    def of(cls, rows: object) -> "Moments":
        """Summarise a respondents × features array of whole numbers (one row each)."""
        try:
            arr = np.asarray(rows)
        except ValueError as exc:
            raise ValueError("rows must be a rectangular array of whole numbers.") from exc
        if arr.ndim != 2 or arr.shape[1] == 0:
            raise ValueError("rows must be a 2-D array with one row per respondent and at least one feature.")
        if arr.dtype.kind == "b" or arr.dtype.kind not in "iuf":
            raise ValueError("rows must hold whole numbers (not booleans or text).")
        if arr.dtype.kind == "f":
            if not np.all(np.isfinite(arr)) or not np.all(arr == np.floor(arr)) or np.any(np.abs(arr) > _FLOAT_EXACT):
                raise ValueError("rows must hold whole numbers.")
        if arr.dtype.kind == "u" and arr.size and int(arr.max()) >= 2**63:
            raise ValueError("rows hold a number too large for a feature.")
        a = arr.astype(np.int64)
        n, m = a.shape
        if n == 0:
            return cls.zeros(m)
        big = int(np.abs(a).max())
        bound = n * big * big
        if bound < _FLOAT_EXACT:  # every partial sum is a whole number below 2**53: exact in float64
            f = np.ascontiguousarray(a.T, dtype=np.float64)
            cross = np.rint(f @ f.T).astype(np.int64)
        elif bound < _INT64_SAFE:
            cross = a.T @ a
        else:
            o = a.astype(object)
            cross = o.T @ o
        sums = a.sum(axis=0) if bound < _INT64_SAFE else a.astype(object).sum(axis=0)
        obj = cls._trusted(n, tuple(sums.tolist()), tuple(map(tuple, cross.tolist())))
        obj.__dict__["_arrays"] = (_exact_array(obj.sums), cross if cross.dtype != object else _exact_array(obj.cross))
        return obj

    def __add__(self, other: object) -> "Moments":
        if not isinstance(other, Moments):
            return NotImplemented
        if other.size != self.size:
            raise ValueError(f"cannot merge moments of {self.size} and {other.size} features.")
        (s1, c1), (s2, c2) = self._arrays, other._arrays
        if c1.dtype != object and c2.dtype != object and s1.dtype != object and s2.dtype != object:
            # Both below _INT64_SAFE in magnitude, so their int64 sum is exact: a report adds
            # thousands of monthly moments, and tuple arithmetic on m² entries dominated it.
            sums, cross = s1 + s2, c1 + c2
            obj = Moments._trusted(self.n + other.n, tuple(sums.tolist()), tuple(map(tuple, cross.tolist())))
            if int(np.abs(cross).max(initial=0)) < _INT64_SAFE and int(np.abs(sums).max(initial=0)) < _INT64_SAFE:
                obj.__dict__["_arrays"] = (sums, cross)
            return obj
        return Moments._trusted(
            self.n + other.n,
            tuple(a + b for a, b in zip(self.sums, other.sums)),
            tuple(tuple(a + b for a, b in zip(ra, rb)) for ra, rb in zip(self.cross, other.cross)),
        )

    def to_json(self) -> dict[str, object]:
        """``{"n": n, "sums": [m ints], "cross": [upper triangle, row by row]}``."""
        m = self.size
        return {
            "n": self.n,
            "sums": list(self.sums),
            "cross": [self.cross[i][j] for i in range(m) for j in range(i, m)],
        }

    @classmethod
    def from_json(cls, data: object) -> "Moments":
        """Rebuild moments from :meth:`to_json`'s form (exact integers both ways)."""
        if not isinstance(data, Mapping) or set(data) != {"n", "sums", "cross"}:
            raise ValueError("moments JSON must be an object with exactly n, sums and cross.")
        sums, upper = data["sums"], data["cross"]
        if not isinstance(sums, Sequence) or not isinstance(upper, Sequence) or isinstance(sums, str):
            raise ValueError("moments JSON sums and cross must be lists.")
        m = len(sums)
        if len(upper) != m * (m + 1) // 2:
            raise ValueError(
                f"moments JSON cross has {len(upper)} numbers; {m} features need m(m+1)/2 = {m * (m + 1) // 2}."
            )
        fast = cls._from_json_fast(data["n"], sums, upper, m)
        if fast is not None:
            return fast
        full = [[0] * m for _ in range(m)]
        it = iter(upper)
        for i in range(m):
            for j in range(i, m):
                full[i][j] = full[j][i] = next(it)
        return cls(data["n"], tuple(sums), tuple(tuple(r) for r in full))

    @classmethod
    def _from_json_fast(cls, n: object, sums: Sequence, upper: Sequence, m: int) -> "Moments | None":
        """:meth:`from_json` with numpy for plain Python ints well inside int64 (what a
        catch-up stores): the same checks as ``__post_init__``, vectorised. ``None`` when
        the input is anything else or fails a check, so that the general path raises
        its precise error."""
        if m == 0 or type(n) is not int or n < 0:
            return None
        if not set(map(type, sums)) <= {int} or not set(map(type, upper)) <= {int}:
            return None
        stacked = _stacked([n], [sums], [upper])  # the same checks, for one row
        if stacked is None:
            return None
        s_arr, u_arr = stacked[1][0], stacked[2][0]
        full = np.zeros((m, m), dtype=np.int64)
        iu = np.triu_indices(m)
        full[iu] = u_arr
        full.T[iu] = u_arr
        obj = cls._trusted(n, tuple(sums), tuple(map(tuple, full.tolist())))
        obj.__dict__["_arrays"] = (s_arr, full)
        return obj

    @cached_property
    def _arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return _exact_array(self.sums), _exact_array(self.cross)


def group_stored_moments(n: Sequence[int], sums: Sequence[Sequence[int]], upper: Sequence[Sequence[int]],
                         groups: Sequence[int], n_groups: int) -> list["Moments | None"]:
    """Sum stored moments rows by group, exactly.

    (:func:`group_stored_moments_by` does the same for several groupings of the same rows,
    reading the rows once.)

    Parameters
    ----------
    n, sums, upper : sequences
        One entry per stored row, in :meth:`Moments.to_json` form: the respondent
        count, the m feature sums, and the upper triangle of the cross-products (row
        by row, m(m+1)/2 numbers).
    groups : sequence of int
        The group of each row, 0 ≤ group < ``n_groups``; a negative group leaves the
        row out.
    n_groups : int
        How many groups.

    Returns
    -------
    list of Moments or None
        Per group, the sum of its rows' moments (``None`` for a group without rows).

    Raises
    ------
    ValueError
        If a row is not valid stored moments (the error of :meth:`Moments.from_json`),
        or the rows do not all have the same number of features.

    Notes
    -----
    Moments add: (n, Σf, Σffᵀ) of a union of disjoint sets of respondents is the sum of
    theirs. Rows of plain integers below 2³¹ (what a catch-up stores for a month) are
    checked and summed as one int64 matrix per group (exact: at most 2³¹ rows of
    values below 2³¹ stay below 2⁶²), which is what lets a report over thousands of
    (unit, month) rows stay fast; any other row goes through :meth:`Moments.from_json`
    and Python integers.

    References
    ----------
    Chan, Golub & LeVeque (1979), "Updating formulae and a pairwise algorithm for
    computing sample variances" (combining sums of disjoint samples).

    Examples
    --------
    >>> a, b = Moments.of([[1, 2]]).to_json(), Moments.of([[3, 4], [0, 1]]).to_json()
    >>> [m.sums for m in group_stored_moments([a["n"], b["n"]], [a["sums"], b["sums"]],
    ...                                        [a["cross"], b["cross"]], [0, 0], 1)]
    [(4, 7)]
    """
    return group_stored_moments_by(n, sums, upper, [(groups, n_groups)])[0]


def group_stored_moments_by(n: Sequence[int], sums: Sequence[Sequence[int]], upper: Sequence[Sequence[int]],
                            groupings: Sequence[tuple[Sequence[int], int]]) -> list[list["Moments | None"]]:
    """:func:`group_stored_moments` for several groupings ``(groups, n_groups)`` of the same
    rows: the rows are checked and stacked once, then summed per grouping.

    Parameters
    ----------
    n, sums, upper : sequences
        The stored rows, as for :func:`group_stored_moments`.
    groupings : sequence of (groups, n_groups)
        Each a grouping of the rows, as for :func:`group_stored_moments`.

    Returns
    -------
    list of list of Moments or None
        Per grouping, per group, the sum of its rows (``None`` for an empty group).

    Raises
    ------
    ValueError
        As :func:`group_stored_moments`.

    Notes
    -----
    Same sums as calling :func:`group_stored_moments` once per grouping.

    References
    ----------
    As :func:`group_stored_moments`.

    Examples
    --------
    >>> a, b = Moments.of([[1, 2]]).to_json(), Moments.of([[3, 4]]).to_json()
    >>> whole, each = group_stored_moments_by([1, 1], [a["sums"], b["sums"]], [a["cross"], b["cross"]],
    ...                                       [([0, 0], 1), ([0, 1], 2)])
    >>> whole[0].sums, each[1].sums
    ((4, 6), (3, 4))
    """
    rows = len(n)
    if not (len(sums) == len(upper) == rows) or any(len(g) != rows for g, _k in groupings):
        raise ValueError("n, sums, upper and groups must have one entry per row.")
    results: list[list[Moments | None]] = [[None] * k for _g, k in groupings]
    if rows == 0:
        return results
    arrays = []
    for groups, n_groups in groupings:
        g = np.asarray(groups, dtype=np.int64)
        if g.ndim != 1 or (g.size and int(g.max()) >= n_groups):
            raise ValueError("every group must be below n_groups.")
        arrays.append(g)
    fast = _stacked(n, sums, upper)
    if fast is None:  # anything unusual: the precise, general path
        checked = [Moments.from_json({"n": n[i], "sums": sums[i], "cross": upper[i]}) for i in range(rows)]
        for out, g in zip(results, arrays):
            for i in range(rows):
                if g[i] >= 0:
                    out[g[i]] = checked[i] if out[g[i]] is None else out[g[i]] + checked[i]
        return results
    n_arr, s_arr, u_arr, mm = fast
    iu = np.triu_indices(mm)
    for out, g in zip(results, arrays):
        k = len(out)
        present = np.bincount(g[g >= 0], minlength=k) > 0
        ns = group_rows(n_arr[:, None], g, k)[:, 0]
        ss, us = group_rows(s_arr, g, k), group_rows(u_arr, g, k)
        for gi in np.flatnonzero(present).tolist():
            full = np.zeros((mm, mm), dtype=np.int64)
            full[iu] = us[gi]
            full.T[iu] = us[gi]
            obj = Moments._trusted(int(ns[gi]), tuple(ss[gi].tolist()), tuple(map(tuple, full.tolist())))
            obj.__dict__["_arrays"] = (ss[gi], full)
            out[gi] = obj
    return results


def _stacked(n, sums, upper):
    """``(n, sums, upper, m)`` as int64 arrays when every row is plain whole numbers below
    2³¹ that pass :meth:`Moments.from_json`'s checks; ``None`` otherwise."""
    try:
        s_arr = np.array(sums)
        u_arr = np.array(upper)
        n_arr = np.array(n)
    except (ValueError, OverflowError):
        return None
    if s_arr.ndim != 2 or u_arr.ndim != 2 or n_arr.ndim != 1 or s_arr.shape[1] == 0:
        return None
    if any(a.dtype.kind != "i" for a in (s_arr, u_arr, n_arr)):
        return None
    mm = s_arr.shape[1]
    if u_arr.shape[1] != mm * (mm + 1) // 2:
        return None
    bound = 2**31
    if (n_arr.size and (int(n_arr.min()) < 0 or int(n_arr.max()) >= bound)) or int(np.abs(s_arr).max()) >= bound \
            or int(np.abs(u_arr).max()) >= bound:
        return None
    s_arr, u_arr, n_arr = s_arr.astype(np.int64), u_arr.astype(np.int64), n_arr.astype(np.int64)
    diag_at = np.array([i * mm - i * (i - 1) // 2 for i in range(mm)])  # (i, i) in the row-major upper triangle
    diag = u_arr[:, diag_at]
    if np.any(diag < 0) or np.any(n_arr[:, None] * diag < s_arr * s_arr):
        return None
    empty = n_arr == 0
    if np.any(empty) and (np.any(s_arr[empty] != 0) or np.any(u_arr[empty] != 0)):
        return None
    return n_arr, s_arr, u_arr, mm


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Estimate:
    """An estimate with its respondent-level standard error and interval.

    Attributes
    ----------
    value : float
        Point estimate (the official formula); ``nan`` when it has no answers.
    se : float
        Linearized standard error √V̂ with the respondent as the sampling unit;
        ``nan`` when n < 2.
    low, high : float
        Confidence limits (``kind == "share"``: Wilson at the df-adjusted effective
        sample size; ``"mean"``: value ± t_{n−1}·se); ``nan`` when n < 2.
    n : int
        Respondents summarised (``Moments.n``); the sample size of the variance and
        of the t_{n−1} degrees of freedom. A respondent without a relevant answer
        counts and adds nothing to the totals (domain estimation).
    n_eff : float
        Effective sample size. Shares: p(1 − p)/V̂, capped at the number of answers
        the share is taken over (and equal to it when V̂ = 0) — the number of
        independent answers that would be as precise. Means: Kish's effective number
        of respondents (Σbᵢ)²/Σbᵢ² for the denominator b. ``nan`` when n < 2.
    score_variance : float
        Per-respondent variance of the linearized score, Σuᵢ²/(n − 1) = n·V̂; pool it
        to compare units. ``nan`` when n < 2.
    kind : str
        ``"share"`` (a fraction in [0, 1]) or ``"mean"``.
    confidence : float
        Confidence level of ``low`` and ``high``.
    """

    value: float
    se: float
    low: float
    high: float
    n: int
    n_eff: float
    score_variance: float
    kind: str
    confidence: float


@dataclass(frozen=True)
class FactorEstimate(Estimate):
    """The share index of one factor: the fields of :class:`Estimate`, plus

    Attributes
    ----------
    key : str
        The factor's key.
    criteria : int
        Its criteria with at least one answer (those that enter its mean).
    """

    key: str
    criteria: int


@dataclass(frozen=True)
class ShareIndex(Estimate):
    """The overall satisfied-share index: the fields of :class:`Estimate`, plus

    Attributes
    ----------
    factors : tuple of FactorEstimate
        One entry per factor in order (empty for an instrument without factors). A
        factor nobody answered has ``value`` ``nan`` and ``criteria`` 0.
    """

    factors: tuple[FactorEstimate, ...]


@dataclass(frozen=True)
class Change:
    """Change of an estimate between two independent periods.

    Attributes
    ----------
    before, after : float
        The two estimates (period a, then period b).
    difference : float
        after − before.
    se : float
        √(se_a² + se_b²), the standard error of the difference.
    low, high : float
        difference ∓ t_df·se.
    df : float
        Welch–Satterthwaite degrees of freedom of the interval.
    se_null : float
        Standard error of the difference if nothing changed (per-respondent score
        variances pooled over both periods).
    z : float
        difference / se_null (0 when both are equal and se_null = 0).
    p : float
        Two-sided normal p-value of z.
    confidence : float
        Confidence level of ``low`` and ``high``.
    """

    before: float
    after: float
    difference: float
    se: float
    low: float
    high: float
    df: float
    se_null: float
    z: float
    p: float
    confidence: float


# --------------------------------------------------------------------------- internals


@cache
def _t(df: float, confidence: float) -> float:
    return float(special.stdtrit(df, 0.5 + confidence / 2.0))


@cache
def _z(confidence: float) -> float:
    return z_value(confidence)


def _wilson_real(p: float, n_star: float, z: float) -> tuple[float, float]:
    """Wilson score limits for a share p at a real-valued sample size n*."""
    z2n = z * z / n_star
    centre = (p + z2n / 2.0) / (1.0 + z2n)
    half = z / (1.0 + z2n) * math.sqrt(max(p * (1.0 - p), 0.0) / n_star + z2n / (4.0 * n_star))
    low = 0.0 if p <= 0.0 else min(max(centre - half, 0.0), p)
    high = 1.0 if p >= 1.0 else max(min(centre + half, 1.0), p)
    return low, high


def _nan_estimate(value: float, n: int, kind: str, confidence: float) -> dict[str, object]:
    return dict(value=value, se=math.nan, low=math.nan, high=math.nan, n=n, n_eff=math.nan,
                score_variance=math.nan, kind=kind, confidence=confidence)


def _share_fields(value: float, var: float, n: int, answers: int, confidence: float) -> dict[str, object]:
    """Fields of a share estimate from its point value and linearized variance V̂."""
    if n < 2 or math.isnan(value):
        return _nan_estimate(value, n, "share", confidence)
    if var <= 0.0 or value * (1.0 - value) <= 0.0:
        n_eff = float(answers)
    else:
        n_eff = min(value * (1.0 - value) / var, float(answers))
    z = _z(confidence)
    ratio = z / _t(n - 1, confidence)
    low, high = _wilson_real(value, n_eff * ratio * ratio, z)
    return dict(value=value, se=math.sqrt(var), low=low, high=high, n=n, n_eff=n_eff,
                score_variance=n * var, kind="share", confidence=confidence)


def _mean_fields(value: float, var: float, n: int, n_eff: float, confidence: float,
                 bounds: tuple[float, float] | None) -> dict[str, object]:
    if n < 2:
        return _nan_estimate(value, n, "mean", confidence)
    se = math.sqrt(var)
    half = _t(n - 1, confidence) * se
    low, high = value - half, value + half
    if bounds is not None:
        low, high = max(bounds[0], low), min(bounds[1], high)
    return dict(value=value, se=se, low=low, high=high, n=n, n_eff=n_eff,
                score_variance=n * var, kind="mean", confidence=confidence)


def _check_moments(moments: object, layout: FeatureLayout) -> Moments:
    if not isinstance(moments, Moments):
        raise ValueError("moments must be a Moments.")
    if not isinstance(layout, FeatureLayout):
        raise ValueError("layout must be a FeatureLayout (see feature_layout).")
    if moments.size != layout.size:
        raise ValueError(f"the moments have {moments.size} features but the layout has {layout.size}.")
    return moments


def _residual_matrix(moments: Moments, layout: FeatureLayout, cols: np.ndarray) -> np.ndarray:
    """R_cd = Σᵢ r_ic r_id with r_ic = X_c y_ic − Y_c x_ic, exactly, for criteria ``cols``."""
    sums, cross = moments._arrays
    if len(cols) == cols[-1] - cols[0] + 1:  # contiguous items: slices, no copies of index grids
        yi = slice(layout.y.start + int(cols[0]), layout.y.start + int(cols[-1]) + 1)
        xi = slice(layout.x.start + int(cols[0]), layout.x.start + int(cols[-1]) + 1)
        cyy, cyx, cxx = cross[yi, yi], cross[yi, xi], cross[xi, xi]
    else:
        yi = cols + layout.y.start
        xi = cols + layout.x.start
        cyy, cyx, cxx = cross[np.ix_(yi, yi)], cross[np.ix_(yi, xi)], cross[np.ix_(xi, xi)]
    Y = sums[yi]
    X = sums[xi]
    big = int(max(int(v) for v in X)) if len(X) else 0
    if 4 * big * big * max(moments.n, 1) >= _INT64_SAFE or cross.dtype == object:
        Y, X, cyy, cyx, cxx = (a.astype(object) for a in (Y, X, cyy, cyx, cxx))
    return (np.multiply.outer(X, X) * cyy - np.multiply.outer(X, Y) * cyx
            - np.multiply.outer(Y, X) * cyx.T + np.multiply.outer(Y, Y) * cxx)


def _check_share_totals(moments: Moments, layout: FeatureLayout) -> tuple[list[int], list[int]]:
    sums, cross = moments._arrays
    Y, X = sums[layout.y], sums[layout.x]
    block = cross[layout.y, layout.x]
    counts_ok = (Y >= 0) & (Y <= X) & (X <= moments.n)
    binary = (np.diagonal(cross)[layout.y] == Y) & (np.diagonal(cross)[layout.x] == X) & (np.diagonal(block) == Y)
    for c in np.flatnonzero(~(counts_ok & binary)):
        key, s, a = layout.items[c], int(Y[c]), int(X[c])
        if not counts_ok[c]:
            raise ValueError(
                f"item {key!r}: the moments give {s} satisfied of {a} answers from {moments.n} respondents, "
                "which respondent features cannot give."
            )
        raise ValueError(f"item {key!r}: its y and x features are not 0/1 with y ≤ x, as the layout defines them.")
    return Y.tolist(), X.tolist()


def _groups(
    layout: FeatureLayout, factors: Mapping[str, Sequence[str]] | None
) -> tuple[list[tuple[str, list[int]]], bool]:
    """(factor key, item positions) groups, and whether they are named factors."""
    if factors is None:
        spec: Sequence[tuple[str, Sequence[str]]] = layout.factors
    elif isinstance(factors, Mapping):
        spec = list(factors.items())
    else:
        raise ValueError("factors must be a mapping of factor key to item keys, or None.")
    position = {key: c for c, key in enumerate(layout.items)}
    groups: list[tuple[str, list[int]]] = []
    for fkey, fitems in spec:
        if not isinstance(fkey, str):
            raise ValueError(f"factor keys must be strings, got {fkey!r}.")
        if isinstance(fitems, str):
            raise ValueError(f"factor {fkey!r} must list item keys, not one string.")
        cols = []
        for item in fitems:
            if item not in position:
                raise ValueError(f"factor {fkey!r} names {item!r}, which is not a scored item of the layout.")
            cols.append(position[item])
        if not cols:
            raise ValueError(f"factor {fkey!r} lists no items.")
        groups.append((fkey, cols))
    if groups:
        return groups, True
    return [("_all", list(range(layout.k)))], False


# --------------------------------------------------------------------------- estimators


def share_index(
    moments: Moments,
    layout: FeatureLayout,
    factors: Mapping[str, Sequence[str]] | None = None,
    confidence: float = 0.95,
) -> ShareIndex:
    """SIPAS / education satisfied-share index and its factors, respondent-level interval.

    Parameters
    ----------
    moments : Moments
        Moments of the respondents' feature vectors (:func:`respondent_features`).
    layout : FeatureLayout
        The instrument's layout (:func:`feature_layout`).
    factors : mapping of str to sequence of str, optional
        Factor key → its item keys, in order. Default: the layout's factors; an
        instrument without factors takes all its items as criteria of one index.
    confidence : float, optional
        Two-sided confidence level, default 0.95.

    Returns
    -------
    ShareIndex
        Fields ``value``, ``se``, ``low``, ``high``, ``n``, ``n_eff``,
        ``score_variance``, ``kind`` (``"share"``), ``confidence`` and ``factors``
        (each a :class:`FactorEstimate` with the same fields plus ``key`` and
        ``criteria``).

    Raises
    ------
    ValueError
        If the moments do not fit the layout or are impossible (more satisfied than
        answers), a factor names an unknown item, or no criterion has any answer.

    Notes
    -----
    Point estimate exactly as :func:`analysis.scores.satisfied_share_index`: criterion
    p_c = Y_c/X_c (Y_c = Σᵢ y_ic, X_c = Σᵢ x_ic); factor I_f = (1/k_f) Σ p_c over its
    k_f answered criteria; overall I = (1/F) Σ I_f over the F answered factors.

    Variance (Taylor linearization, respondent i as the sampling unit): with
    a_c = ∂I/∂p_c = 1/(F·k_f) (1/k_f for a factor's own index) and x̄_c = X_c/n, the
    linearized score is

    .. math:: u_i = \\sum_c a_c (y_{ic} - p_c x_{ic}) / \\bar x_c,
              \\qquad \\hat V = \\frac{\\sum_i u_i^2}{n(n-1)}

    (Σuᵢ = 0). Writing r_ic = X_c y_ic − Y_c x_ic, uᵢ = n Σ_c β_c r_ic with
    β_c = a_c/X_c², so V̂ = n/(n − 1) · βᵀRβ where
    R_cd = Σᵢ r_ic r_id = X_cX_d·C[y_c,y_d] − X_cY_d·C[y_c,x_d] − Y_cX_d·C[x_c,y_d]
    + Y_cY_d·C[x_c,x_d] is computed exactly in integers from the cross-products C.

    Interval: Wilson at the df-adjusted effective sample size (Korn & Graubard 1998):
    n_eff = I(1 − I)/V̂ capped at the answers ΣX_c (= ΣX_c when V̂ = 0),
    n* = n_eff·(z/t_{n−1})², limits = Wilson(I, n*). With n < 2, ``se``, ``low``,
    ``high``, ``n_eff`` and ``score_variance`` are ``nan``.

    References
    ----------
    Bộ Nội vụ, 1001/QĐ-BNV (2023), SIPAS methodology (the point estimate).
    K. M. Wolter, *Introduction to Variance Estimation*, 2nd ed. (2007), ch. 6.
    R. S. Woodruff, J. Am. Stat. Assoc. 66 (1971) 411–414.
    D. A. Binder, Int. Stat. Rev. 51 (1983) 279–292.
    E. L. Korn, B. I. Graubard, Survey Methodology 24 (1998) 193–201.
    N. Dean, M. Pagano, J. Surv. Stat. Methodol. 3 (2015) 484–503.

    Examples
    --------
    >>> from analysis.instrument import ScoredQuestion, Scoring
    >>> q = [ScoredQuestion(k, f, (1, 2, 3, 4, 5), frozenset({4, 5}), None)
    ...      for k, f in (("a1", "A"), ("a2", "A"), ("b1", "B"))]
    >>> scoring = Scoring("satisfied_share", tuple(q), {"A": ("a1", "a2"), "B": ("b1",)})
    >>> people = [(5, 4, 4), (4, 2, 5), (2, 2, 3), (5, 5, 4), (4, 4, 2)]  # a1, a2, b1
    >>> rows = [respondent_features(scoring, [("a1", a, None), ("a2", b, None), ("b1", c, None)])
    ...         for a, b, c in people]
    >>> r = share_index(Moments.of(rows), feature_layout(scoring))
    >>> round(r.value, 4), round(r.se, 4), round(r.low, 3), round(r.high, 3)
    (0.65, 0.1871, 0.208, 0.929)
    >>> [(f.key, f.value) for f in r.factors]
    [('A', 0.7), ('B', 0.6)]
    """
    c = check_confidence(confidence)
    _check_moments(moments, layout)
    Y, X = _check_share_totals(moments, layout)
    groups, named = _groups(layout, factors)
    n = moments.n
    used = sorted({col for _key, cols in groups for col in cols if X[col] > 0})
    if not used:
        raise ValueError("no criterion has any answer, so there is no index.")
    where = {col: j for j, col in enumerate(used)}
    live_of = [(fkey, [col for col in cols if X[col] > 0]) for fkey, cols in groups]
    answered = [live for _fkey, live in live_of if live]
    f_count = len(answered)
    # One row of a_c = ∂I/∂p_c per answered factor (its own index), and one for the overall index.
    a = np.zeros((f_count + 1, len(used)))
    for g, live in enumerate(answered):
        for col in live:
            a[g, where[col]] += 1.0 / len(live)
            a[f_count, where[col]] += 1.0 / (f_count * len(live))
    if n >= 2:
        R = _residual_matrix(moments, layout, np.asarray(used, dtype=np.intp)).astype(np.float64)
        beta = a / np.array([float(X[col]) ** 2 for col in used])
        q = ((beta @ R) * beta).sum(axis=1)
        noise = ((np.abs(beta) @ np.abs(R)) * np.abs(beta)).sum(axis=1)
        variances = [0.0 if v <= 1e-12 * e else n / (n - 1) * float(v) for v, e in zip(q, noise)]
    else:
        variances = [math.nan] * (f_count + 1)
    factor_out: list[FactorEstimate] = []
    values: list[float] = []
    g = 0
    for fkey, live in live_of:
        if not live:
            factor_out.append(FactorEstimate(**_nan_estimate(math.nan, n, "share", c), key=fkey, criteria=0))
            continue
        value = sum([Y[col] / X[col] for col in live]) / len(live)
        answers = sum(X[col] for col in live)
        factor_out.append(FactorEstimate(**_share_fields(value, variances[g], n, answers, c),
                                         key=fkey, criteria=len(live)))
        values.append(value)
        g += 1
    value = sum(values) / f_count
    answers = sum(X[col] for col in used)
    fields = _share_fields(value, variances[f_count], n, answers, c)
    return ShareIndex(**fields, factors=tuple(factor_out) if named else ())


def _weights(spec: object, m: int, name: str) -> np.ndarray:
    if isinstance(spec, bool):
        raise ValueError(f"{name} must be a feature position, a slice or {m} integer weights.")
    if isinstance(spec, numbers.Integral):
        j = int(spec)
        if not 0 <= j < m:
            raise ValueError(f"{name} position {j} is outside the {m} features.")
        w = [0] * m
        w[j] = 1
        return np.asarray(w, dtype=object)
    if isinstance(spec, slice):
        w = [0] * m
        for j in range(m)[spec]:
            w[j] = 1
        if not any(w):
            raise ValueError(f"{name} slice selects no feature.")
        return np.asarray(w, dtype=object)
    try:
        values = list(spec)  # type: ignore[call-overload]
    except TypeError as exc:
        raise ValueError(f"{name} must be a feature position, a slice or {m} integer weights.") from exc
    if len(values) != m:
        raise ValueError(f"{name} has {len(values)} weights but there are {m} features.")
    w = [_whole(v, f"each {name} weight") for v in values]
    if not any(w):
        raise ValueError(f"{name} weights are all zero.")
    return np.asarray(w, dtype=object)


def _gram(wa: np.ndarray, wb: np.ndarray, moments: Moments) -> tuple[int, int, int]:
    """(Σaᵢ², Σaᵢbᵢ, Σbᵢ²) exactly from the cross-products, on the support of the weights."""
    _sums, cross = moments._arrays
    idx = np.flatnonzero((wa != 0) | (wb != 0))
    sub = cross[np.ix_(idx, idx)]
    w = np.vstack([wa[idx], wb[idx]])
    bound = int(np.abs(w).sum()) ** 2 * max(int(v) for v in np.diagonal(sub))  # |wᵀCw'| ≤ Σ|w|Σ|w'| max C_jj
    if sub.dtype != object and bound < _INT64_SAFE:
        wi = w.astype(np.int64)
        g = (wi @ sub @ wi.T).tolist()
    else:
        wo = w.astype(object)
        g = (wo @ sub.astype(object) @ wo.T).tolist()
    return int(g[0][0]), int(g[0][1]), int(g[1][1])


def _ratio(moments: Moments, wa: np.ndarray, wb: np.ndarray, kind: str, confidence: float,
           bounds: tuple[float, float] | None = None) -> Estimate:
    sums = moments.sums
    A = sum(int(wa[j]) * sums[j] for j in np.flatnonzero(wa != 0))
    B = sum(int(wb[j]) * sums[j] for j in np.flatnonzero(wb != 0))
    if B <= 0:
        raise ValueError("the denominator total is not positive (nothing answered), so the ratio is undefined.")
    value = A / B
    n = moments.n
    if kind == "share" and not 0 <= A <= B:
        raise ValueError(f"a share needs 0 ≤ numerator ≤ denominator, got {A} and {B}.")
    if n < 2:
        return Estimate(**_nan_estimate(value, n, kind, confidence))
    s_aa, s_ab, s_bb = _gram(wa, wb, moments)
    resid = B * B * s_aa - 2 * A * B * s_ab + A * A * s_bb  # Σᵢ (B aᵢ − A bᵢ)², exact
    if resid < 0:
        raise ValueError("the cross-products are inconsistent (negative residual sum of squares).")
    var = n * resid / ((n - 1) * B**4)
    if kind == "share":
        return Estimate(**_share_fields(value, var, n, B, confidence))
    n_eff = B * B / s_bb if s_bb > 0 else math.nan
    return Estimate(**_mean_fields(value, var, n, n_eff, confidence, bounds))


def ratio_index(
    moments: Moments,
    numerator: object,
    denominator: object,
    kind: str = "mean",
    confidence: float = 0.95,
) -> Estimate:
    """Ratio of two feature totals ΣA/ΣB with its respondent-level interval.

    Parameters
    ----------
    moments : Moments
        Moments of the respondents' feature vectors.
    numerator, denominator : int, slice or sequence of int
        The per-respondent variables aᵢ and bᵢ: a feature position, a slice of
        positions (their sum), or m integer weights (aᵢ = Σ_j w_j v_ij).
    kind : {"mean", "share"}, optional
        ``"share"`` for a fraction in [0, 1] (Wilson interval at the effective sample
        size, as :func:`share_index`); ``"mean"`` (default) for a mean on a scale
        (t interval).
    confidence : float, optional
        Two-sided confidence level, default 0.95.

    Returns
    -------
    Estimate
        Fields ``value``, ``se``, ``low``, ``high``, ``n``, ``n_eff``,
        ``score_variance``, ``kind``, ``confidence``.

    Raises
    ------
    ValueError
        If a weight specification is malformed, ΣB ≤ 0, a share falls outside [0, 1],
        or ``kind`` is unknown.

    Notes
    -----
    R = ΣA/ΣB = A/B. Linearized score uᵢ = (aᵢ − R bᵢ)/b̄ with b̄ = B/n, so

    .. math:: \\hat V = \\frac{\\sum_i u_i^2}{n(n-1)}
              = \\frac{n}{n-1}\\,\\frac{B^2 S_{aa} - 2AB\\,S_{ab} + A^2 S_{bb}}{B^4}

    with S_aa = Σaᵢ², S_ab = Σaᵢbᵢ, S_bb = Σbᵢ² from the cross-products, all exact
    integers (the numerator is Σᵢ(B aᵢ − A bᵢ)²). ``"mean"``: value ± t_{n−1}·√V̂,
    n_eff = B²/S_bb (Kish). ``"share"``: n_eff = R(1 − R)/V̂ capped at B,
    n* = n_eff·(z/t_{n−1})², Wilson(R, n*). This is the cluster-robust (CR1) standard
    error of an intercept-only regression with the respondent as cluster.

    References
    ----------
    K. M. Wolter, *Introduction to Variance Estimation*, 2nd ed. (2007), ch. 6.
    W. G. Cochran, *Sampling Techniques*, 3rd ed., Wiley (1977), §6.3 (ratio
    estimators).
    E. L. Korn, B. I. Graubard, Survey Methodology 24 (1998) 193–201.

    Examples
    --------
    >>> m = Moments.of([[2, 3], [3, 3], [1, 2], [3, 3]])  # (satisfied, answered)
    >>> r = ratio_index(m, 0, 1, kind="share")
    >>> round(r.value, 4), round(r.se, 4), round(r.n_eff, 2)
    (0.8182, 0.1153, 11.0)
    """
    c = check_confidence(confidence)
    if not isinstance(moments, Moments):
        raise ValueError("moments must be a Moments.")
    if kind not in ("mean", "share"):
        raise ValueError(f"kind must be 'mean' or 'share', got {kind!r}.")
    m = moments.size
    return _ratio(moments, _weights(numerator, m, "numerator"), _weights(denominator, m, "denominator"), kind, c)


def _item_weights(layout: FeatureLayout, part: slice, items: Sequence[str] | None) -> np.ndarray:
    w = np.zeros(layout.size, dtype=object)
    if items is None:
        cols = range(layout.k)
    else:
        if isinstance(items, str):
            raise ValueError("items must list item keys, not one string.")
        position = {key: j for j, key in enumerate(layout.items)}
        cols = []
        for item in items:
            if item not in position:
                raise ValueError(f"{item!r} is not a scored item of the layout.")
            cols.append(position[item])
        if not cols:
            raise ValueError("items lists no item.")
    for j in cols:
        w[part.start + j] = 1
    return w


def moh_general_rate(
    moments: Moments, layout: FeatureLayout, items: Sequence[str] | None = None, confidence: float = 0.95
) -> Estimate:
    """MOH general satisfaction rate (satisfied item answers ÷ item answers), per respondent.

    Parameters
    ----------
    moments : Moments
        Moments of the respondents' feature vectors.
    layout : FeatureLayout
        The instrument's layout.
    items : sequence of str, optional
        Restrict to these items (e.g. one section); default all scored items.
    confidence : float, optional
        Two-sided confidence level, default 0.95.

    Returns
    -------
    Estimate
        As :func:`ratio_index` with ``kind == "share"``.

    Raises
    ------
    ValueError
        If the moments do not fit the layout, an item is unknown, or nothing was
        answered.

    Notes
    -----
    rate = Σᵢ Σ_c y_ic / Σᵢ Σ_c x_ic (exactly :func:`analysis.scores.moh_general_satisfaction`),
    with the variance of :func:`ratio_index` for aᵢ = Σ_c y_ic, bᵢ = Σ_c x_ic.

    References
    ----------
    Bộ Y tế, Quyết định 3869/QĐ-BYT (2019); Wolter (2007), ch. 6;
    Korn & Graubard (1998), Survey Methodology 24:193–201.

    Examples
    --------
    >>> from analysis.instrument import ScoredQuestion, Scoring
    >>> s = Scoring("moh", tuple(ScoredQuestion(k, None, (1, 2, 3, 4, 5), frozenset({4, 5}), None)
    ...                          for k in ("a", "b")), {})
    >>> rows = [respondent_features(s, [("a", a, None), ("b", b, None)])
    ...         for a, b in [(5, 4), (4, 3), (2, 1), (5, 5), (4, 4)]]
    >>> r = moh_general_rate(Moments.of(rows), feature_layout(s))
    >>> r.value, round(r.se, 4)
    (0.7, 0.2)
    """
    c = check_confidence(confidence)
    _check_moments(moments, layout)
    _check_share_totals(moments, layout)
    return _ratio(moments, _item_weights(layout, layout.y, items), _item_weights(layout, layout.x, items), "share", c)


def moh_mean_score(moments: Moments, layout: FeatureLayout, confidence: float = 0.95) -> Estimate:
    """MOH mean score over all item answers, ΣL/ΣX, with a respondent-level t interval.

    Parameters
    ----------
    moments : Moments
        Moments of the respondents' feature vectors.
    layout : FeatureLayout
        The instrument's layout.
    confidence : float, optional
        Two-sided confidence level, default 0.95.

    Returns
    -------
    Estimate
        As :func:`ratio_index` with ``kind == "mean"``; limits clipped to the levels.

    Raises
    ------
    ValueError
        If the moments do not fit the layout or nothing was answered.

    Notes
    -----
    mean = Σᵢ Lᵢ / Σᵢ Σ_c x_ic: the mean level over all item answers. It equals the
    official overall mean score (the mean of the item means,
    :func:`analysis.scores.moh_mean_scores`) when every item has the same number of
    answers (every item required); with skipped items it weights items by their
    answers. Variance of :func:`ratio_index` with aᵢ = Lᵢ, bᵢ = Σ_c x_ic.

    References
    ----------
    Bộ Y tế, Quyết định 3869/QĐ-BYT (2019); Wolter (2007), ch. 6.

    Examples
    --------
    >>> from analysis.instrument import ScoredQuestion, Scoring
    >>> s = Scoring("moh", tuple(ScoredQuestion(k, None, (1, 2, 3, 4, 5), frozenset({4, 5}), None)
    ...                          for k in ("a", "b")), {})
    >>> rows = [respondent_features(s, [("a", a, None), ("b", b, None)])
    ...         for a, b in [(5, 4), (4, 3), (2, 1), (5, 5), (4, 4)]]
    >>> r = moh_mean_score(Moments.of(rows), feature_layout(s))
    >>> r.value, round(r.se, 4), round(r.low, 3), round(r.high, 3)
    (3.7, 0.6042, 2.023, 5.0)
    """
    c = check_confidence(confidence)
    _check_moments(moments, layout)
    wa = np.zeros(layout.size, dtype=object)
    wa[layout.level_sum] = 1
    lo, hi = layout.level_range
    return _ratio(moments, wa, _item_weights(layout, layout.x, None), "mean", c, (float(lo), float(hi)))


def one_stop_mean_total(moments: Moments, layout: FeatureLayout, confidence: float = 0.95) -> Estimate:
    """One-stop mean total (scaled to the indicators answered), respondent-level t interval.

    Parameters
    ----------
    moments : Moments
        Moments of the respondents' feature vectors.
    layout : FeatureLayout
        The layout of a ``points`` instrument.
    confidence : float, optional
        Two-sided confidence level, default 0.95.

    Returns
    -------
    Estimate
        As :func:`ratio_index` with ``kind == "mean"``; limits clipped to
        [0, max_total].

    Raises
    ------
    ValueError
        If the instrument is not scored by points, the moments do not fit the layout,
        or nobody answered.

    Notes
    -----
    mean = ΣT / (SCALE·ΣP): the mean over respondents who answered of
    pointsᵢ/Dᵢ·max_total. Variance of :func:`ratio_index` with aᵢ = Tᵢ,
    bᵢ = SCALE·Pᵢ; when every respondent answered (ΣP = n) it is the usual s²/n of the
    totals.

    References
    ----------
    Nghị định 61/2018/NĐ-CP; Thông tư 01/2018/TT-VPCP; Wolter (2007), ch. 6.

    Examples
    --------
    >>> from analysis.instrument import ScoredQuestion, Scoring
    >>> q = tuple(ScoredQuestion(k, None, (1, 2, 3), frozenset({2, 3}), {1: 0, 2: 1, 3: 2})
    ...           for k in ("a", "b", "c"))
    >>> s = Scoring("points", q, {}, {"max_total": 6})
    >>> rows = [respondent_features(s, [(k, v, None) for k, v in zip("abc", r) if v])
    ...         for r in [(3, 3, 3), (3, 2, None), (2, 2, 1), (3, 1, 3)]]
    >>> r = one_stop_mean_total(Moments.of(rows), feature_layout(s))
    >>> r.value, round(r.se, 4)
    (4.125, 0.826)
    """
    c = check_confidence(confidence)
    _check_moments(moments, layout)
    if layout.method != "points":
        raise ValueError(f"the instrument is scored by {layout.method!r}, not by points.")
    wa = np.zeros(layout.size, dtype=object)
    wb = wa.copy()
    wa[layout.total] = 1
    wb[layout.respondent] = layout.scale
    return _ratio(moments, wa, wb, "mean", c, (0.0, float(layout.max_total)))


def index_change(a: Estimate, b: Estimate, confidence: float = 0.95) -> Change:
    """Change of an estimate from period a to a later period b (independent respondents).

    Parameters
    ----------
    a, b : Estimate
        The same estimator on two periods with different respondents (e.g. two
        :func:`share_index` results).
    confidence : float, optional
        Two-sided confidence level of the interval, default 0.95.

    Returns
    -------
    Change
        Fields ``before``, ``after``, ``difference``, ``se``, ``low``, ``high``,
        ``df``, ``se_null``, ``z``, ``p``, ``confidence``.

    Raises
    ------
    ValueError
        If either is not an :class:`Estimate`, their kinds differ, or a value is
        ``nan``.

    Notes
    -----
    d = I_b − I_a. Interval: SE = √(V_a + V_b) (independent samples) and
    d ± t_df·SE with the Welch–Satterthwaite
    df = (V_a + V_b)² / (V_a²/(n_a − 1) + V_b²/(n_b − 1)), as each V̂ rests on its
    period's n − 1 degrees of freedom.

    Test of no change: as the two-proportion z-test pools the share, the per-respondent
    score variances s² = ``score_variance`` (Σuᵢ²/(n − 1)) are pooled,
    s₀² = ((n_a − 1)s_a² + (n_b − 1)s_b²)/(n_a + n_b − 2), SE₀ = s₀√(1/n_a + 1/n_b),
    z = d/SE₀, p = 2(1 − Φ(|z|)). In simulation (ICC ≈ 0.4, 19 items) this keeps the
    false-alarm rate at 5 % also for a 30-respondent period against a 300-respondent
    one, where d/SE on the normal gives 6.5–7 %.

    If either period has n < 2 everything but the values and d is ``nan``. With
    SE₀ = 0, z = 0 and p = 1 when d = 0, else z = ±∞ and p = 0.

    References
    ----------
    K. M. Wolter, *Introduction to Variance Estimation*, 2nd ed. (2007), ch. 6
    (variance of a difference of independent estimates).
    F. E. Satterthwaite, Biometrics Bull. 2 (1946) 110–114.
    A. Agresti, *Categorical Data Analysis*, 3rd ed., Wiley (2013), §1.4 and §3.1
    (score tests use the variance under the null).

    Examples
    --------
    >>> m1 = Moments.of([[2, 3], [3, 3], [1, 2], [3, 3]])
    >>> m2 = Moments.of([[1, 3], [2, 3], [0, 2], [1, 3], [2, 3]])
    >>> ch = index_change(ratio_index(m1, 0, 1, "share"), ratio_index(m2, 0, 1, "share"))
    >>> round(ch.difference, 4), round(ch.se, 4), round(ch.se_null, 4), round(ch.p, 4)
    (-0.3896, 0.1598, 0.1612, 0.0157)
    """
    cl = check_confidence(confidence)
    if not isinstance(a, Estimate) or not isinstance(b, Estimate):
        raise ValueError("index_change compares two Estimate results.")
    if a.kind != b.kind:
        raise ValueError(f"cannot compare a {a.kind} with a {b.kind}.")
    if math.isnan(a.value) or math.isnan(b.value):
        raise ValueError("both periods need an estimate; one of them has none (nan).")
    d = b.value - a.value
    va, vb = a.se * a.se, b.se * b.se
    se = math.sqrt(va + vb)
    if math.isnan(se):
        nan = math.nan
        return Change(a.value, b.value, d, nan, nan, nan, nan, nan, nan, nan, cl)
    pooled = ((a.n - 1) * a.score_variance + (b.n - 1) * b.score_variance) / (a.n + b.n - 2)
    se_null = math.sqrt(pooled * (1.0 / a.n + 1.0 / b.n))
    if se_null == 0.0:
        z = 0.0 if d == 0 else math.copysign(math.inf, d)
    else:
        z = d / se_null
    p = float(2.0 * special.ndtr(-abs(z)))
    if se == 0.0:
        df = float(a.n + b.n - 2)
    else:
        df = (va + vb) ** 2 / (va * va / (a.n - 1) + vb * vb / (b.n - 1))
    half = float(special.stdtrit(df, 0.5 + cl / 2.0)) * se
    return Change(a.value, b.value, d, se, d - half, d + half, df, se_null, z, p, cl)


# --------------------------------------------------------------------------- windows and versions


def share_estimate(value: float, variance: float, n: int, answers: int, confidence: float = 0.95) -> Estimate:
    """A share's :class:`Estimate` from its point value and a variance estimated elsewhere.

    Parameters
    ----------
    value : float
        The official share (e.g. computed from a window's answer counts).
    variance : float
        Its sampling variance V̂, e.g. ``score_variance / n`` with the per-respondent
        score variance of the months the window lies in.
    n : int
        Respondents behind ``value``.
    answers : int
        Answers the share is taken over (the cap of the effective sample size).
    confidence : float, optional
        Two-sided confidence level, default 0.95.

    Returns
    -------
    Estimate
        As the estimators above return it (``kind = "share"``): Wilson limits at the
        df-adjusted effective sample size; ``nan`` limits when n < 2 or the variance is
        unknown.

    Raises
    ------
    ValueError
        If ``n`` or ``answers`` is not a whole number ≥ 0 or ``confidence`` is not in (0, 1).

    Notes
    -----
    The same interval as :func:`share_index` uses, applied to a value and variance
    given separately.

    References
    ----------
    E. L. Korn, B. I. Graubard, "Confidence intervals for proportions with small
    expected number of positive counts estimated from survey data", Survey
    Methodology 24 (1998) 193–201.

    Examples
    --------
    >>> e = share_estimate(0.8, 0.0004, 300, 5700)
    >>> round(e.low, 3), round(e.high, 3), round(e.score_variance, 3)
    (0.758, 0.836, 0.12)
    """
    cl = check_confidence(confidence)
    nn = _whole(n, "n")
    if math.isnan(variance) or variance < 0:
        return Estimate(**_nan_estimate(float(value), nn, "share", cl))
    return Estimate(**_share_fields(float(value), float(variance), nn, _whole(answers, "answers"), cl))


def mean_estimate(value: float, variance: float, n: int, confidence: float = 0.95,
                  bounds: tuple[float, float] | None = None) -> Estimate:
    """A mean's :class:`Estimate` from its value and a variance estimated elsewhere.

    Parameters
    ----------
    value : float
        The mean.
    variance : float
        Its sampling variance V̂ (``nan`` when unknown).
    n : int
        Respondents behind it.
    confidence : float, optional
        Two-sided confidence level, default 0.95.
    bounds : (float, float), optional
        Limits to clip the interval to.

    Returns
    -------
    Estimate
        ``kind = "mean"``, limits value ± t_{n−1}·√V̂; ``nan`` limits when n < 2 or the
        variance is unknown.

    Raises
    ------
    ValueError
        If ``n`` is not a whole number ≥ 0 or ``confidence`` is not in (0, 1).

    Notes
    -----
    As :func:`ratio_index` with ``kind = "mean"`` forms its interval.

    References
    ----------
    K. M. Wolter, *Introduction to Variance Estimation*, 2nd ed., Springer (2007), ch. 6.

    Examples
    --------
    >>> e = mean_estimate(4.2, 0.01, 101)
    >>> round(e.low, 3), round(e.high, 3)
    (4.002, 4.398)
    """
    cl = check_confidence(confidence)
    nn = _whole(n, "n")
    if math.isnan(variance) or variance < 0:
        return Estimate(**_nan_estimate(float(value), nn, "mean", cl))
    return Estimate(**_mean_fields(float(value), float(variance), nn, math.nan, cl, bounds))


def remap_items(moments: Moments, items_from: Sequence[str], items_to: Sequence[str]) -> Moments:
    """Moments of one item layout expressed in another (another version of a survey).

    Parameters
    ----------
    moments : Moments
        Moments in the layout of ``items_from`` (``(y, x, L, T, P)``, see
        :class:`FeatureLayout`).
    items_from, items_to : sequence of str
        The scored item keys of the two layouts, in order.

    Returns
    -------
    Moments
        In the layout of ``items_to``: an item of both keeps its y and x; an item only
        in ``items_to`` was not answered (zeros); an item only in ``items_from`` is
        dropped. L, T and P are carried as they were summed.

    Raises
    ------
    ValueError
        If the moments do not have 2·len(items_from) + 3 features.

    Notes
    -----
    A version of a survey may add, drop or reorder criteria; reports score every
    version with the latest one's layout, by item key, as they do with the answer counts.

    References
    ----------
    DESIGN.md, "Instrument / InstrumentVersion": reports never mix versions silently;
    scoring follows the latest version.

    Examples
    --------
    >>> m = Moments.of([[1, 1, 5, 0, 1]])  # one item "a": y, x, L, T, P
    >>> remap_items(m, ["a"], ["b", "a"]).sums
    (0, 1, 0, 1, 5, 0, 1)
    """
    k0 = len(items_from)
    if moments.size != 2 * k0 + 3:
        raise ValueError(f"the moments have {moments.size} features, not {2 * k0 + 3} for {k0} items.")
    if tuple(items_from) == tuple(items_to):
        return moments
    where = {key: i for i, key in enumerate(items_from)}
    source: list[int | None] = ([where.get(key) for key in items_to]
                                + [None if where.get(key) is None else k0 + where[key] for key in items_to]
                                + [2 * k0, 2 * k0 + 1, 2 * k0 + 2])
    sums = tuple(0 if j is None else moments.sums[j] for j in source)
    cross = tuple(tuple(0 if (i is None or j is None) else moments.cross[i][j] for j in source) for i in source)
    return Moments(moments.n, sums, cross)
