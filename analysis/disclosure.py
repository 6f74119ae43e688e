"""Disclosure audit of every public figure at once, and the suppression that passes it.

How a publication service maps its releases onto this module
-------------------------------------------------------------
An *atom* is a whole number ≥ 0 for one **(leaf service point, calendar month,
measure)**: the measure is ``"responses"``, ``"answers"`` (scored answers),
``"satisfied"`` (satisfied answers), or one per criterion such as
``("satisfied", "q07")``. A unit's figure for a period is the sum of its atoms over the
leaf points below it and the months of the period; responses given at an
administrative unit itself belong to a leaf of their own ("at the ward itself"). A
release (one complete month, quarter or year of one unit) publishes

* counts — a sum expression (:class:`Linear`) and its exact value: the page total,
  each row of "units below", each period of the trend table;
* rounded shares — :class:`Share`: satisfied ÷ scored answers shown to one decimal of
  a percent (``scale=1000``), beside a row's count (``shown_with``).

Everything public *at the moment* — every release of every unit and period still on
line, month, quarter and year alike — goes into one call: the figures of releases
already out as ``frozen`` (they cannot be withdrawn), the new release's figures as
``figures``; withhold what :func:`protect` returns on the new release's pages.
Identical expressions are one
figure wherever they appear: a ward's row for point B and point B's own page total are
the same :class:`Linear`, so withholding it on one page withholds it on all.
:func:`figures_for_tree` builds these sums from the tree (leaf → units above it) and
the calendar (month → periods containing it)::

    tree = figures_for_tree(leaves, months, measures=("responses", "answers", "satisfied"))
    cells = [(unit, period) for unit, period in new_release_cells]   # total, rows, trend
    figures = [tree.count(u, p) for u, p in cells] + [tree.share(u, p) for u, p in cells]
    result = protect(tree.atoms, figures, true_values, frozen=figures_already_public,
                     sensitive=tree.sensitive_cells(true_values),
                     at_most=tree.at_most("satisfied", "answers"))
    # withhold result.withheld on every page of the new release

The auditor
-----------
:func:`audit` computes, for every withheld figure, the range [min, max] a reader can
still infer from all published figures by integer linear programming
(``scipy.optimize.milp``) and calls it safe when it spans at least ``threshold``
values. :func:`protect` starts from the counts below the threshold and withholds more
figures, one per round, until every withheld figure is safe.

Functions
---------
linear
    A canonical sum expression (an expression's identity as a figure).
evaluate
    An expression's value for given atom values.
is_safe
    The protection rule for one range.
audit
    Feasible ranges of withheld figures under every published figure.
protect
    Primary plus secondary suppression that passes the audit.
figures_for_tree
    Sum expressions for every (unit, period, measure) of a tree and a calendar.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType
from typing import Union

import numpy as np

__all__ = [
    "DEFAULT_THRESHOLD",
    "DEFAULT_TIME_LIMIT",
    "Audit",
    "FigureRange",
    "Linear",
    "Protection",
    "Share",
    "TreeFigures",
    "audit",
    "evaluate",
    "figures_for_tree",
    "is_safe",
    "linear",
    "protect",
]

#: A withheld figure is safe when a reader's range for it spans at least this many values.
DEFAULT_THRESHOLD = 10
#: Seconds allowed to each integer programme (one bound of one withheld figure).
DEFAULT_TIME_LIMIT = 10.0

Atom = Union[str, int, tuple]

_OPTIMAL = "optimal"


# --------------------------------------------------------------------------- ids


def _check_id(value: object, what: str) -> None:
    """Raise unless ``value`` is a str, an int or a non-empty tuple of such ids."""
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a string, a whole number or a tuple of them, got {value!r}.")
    if isinstance(value, (str, int)):
        return
    if isinstance(value, tuple) and value:
        for part in value:
            _check_id(part, what)
        return
    raise ValueError(f"{what} must be a string, a whole number or a tuple of them, got {value!r}.")


def _id_order(value: Atom) -> tuple:
    """A total, natural order over ids: numbers, then strings, then tuples element-wise."""
    if isinstance(value, int):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    return (2, tuple(_id_order(v) for v in value))


def _whole(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{what} must be a whole number, got {value!r}.")
    if isinstance(value, numbers.Integral):
        return int(value)
    f = float(value)
    if not math.isfinite(f) or f != math.floor(f):
        raise ValueError(f"{what} must be a whole number, got {value!r}.")
    return int(f)


# --------------------------------------------------------------------------- expressions


@dataclass(frozen=True)
class Linear:
    """A linear expression over atoms with whole coefficients: one figure's identity.

    The terms are stored canonically (like atoms merged, zero coefficients dropped,
    atoms in a fixed order), so two expressions with the same coefficient per atom are
    equal, hash alike and are the same figure wherever they are published.

    Attributes
    ----------
    terms : tuple of (atom, int)
        The canonical ``(atom, coefficient)`` pairs; this tuple is the figure's key.
    """

    terms: tuple

    def __post_init__(self) -> None:
        try:
            items = list(self.terms)
        except TypeError as exc:
            raise ValueError("terms must be an iterable of (atom, coefficient) pairs.") from exc
        merged: dict = {}
        for item in items:
            if not (isinstance(item, tuple) and len(item) == 2):
                raise ValueError(f"each term must be an (atom, coefficient) pair, got {item!r}.")
            atom, coef = item
            _check_id(atom, "an atom id")
            merged[atom] = merged.get(atom, 0) + _whole(coef, "a coefficient")
        terms = tuple(sorted(((a, c) for a, c in merged.items() if c != 0), key=lambda t: _id_order(t[0])))
        if not terms:
            raise ValueError("an expression needs at least one atom with a nonzero coefficient.")
        object.__setattr__(self, "terms", terms)

    @property
    def key(self) -> tuple:
        """The canonical key: the tuple of ``(atom, coefficient)`` pairs."""
        return self.terms

    @property
    def atoms(self) -> tuple:
        """The atoms with a nonzero coefficient, in canonical order."""
        return tuple(a for a, _ in self.terms)

    def __str__(self) -> str:
        return " + ".join(repr(a) if c == 1 else f"{c}·{a!r}" for a, c in self.terms)


@dataclass(frozen=True)
class Share:
    """A published share numerator ÷ denominator, shown rounded to ``1/scale``.

    The figure's identity is (numerator, denominator, scale). A share shown as
    ``p = k/scale`` tells a reader (p − h)·N ≤ S ≤ (p + h)·N with h = 1/(2·scale).

    Attributes
    ----------
    numerator : Linear
        S, e.g. satisfied answers of the unit and period.
    denominator : Linear
        N, e.g. scored answers of the unit and period.
    scale : int
        Rounding steps per 1: 1000 for one decimal of a percent (95.1 %), 100 for whole
        percents. The rounding half-width is ``half_width = 1/(2·scale)``.
    shown_with : Linear or None
        The count shown in the share's row (its respondents); when that count is
        withheld the share is withheld too. Not part of the identity.
    """

    numerator: Linear
    denominator: Linear
    scale: int = 1000
    shown_with: Linear | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.numerator, Linear) or not isinstance(self.denominator, Linear):
            raise ValueError("a share's numerator and denominator must be Linear expressions.")
        if self.shown_with is not None and not isinstance(self.shown_with, Linear):
            raise ValueError("a share's shown_with must be a Linear expression or None.")
        if isinstance(self.scale, bool) or not isinstance(self.scale, numbers.Integral) or self.scale < 1:
            raise ValueError(f"a share's scale must be a whole number of at least 1, got {self.scale!r}.")
        object.__setattr__(self, "scale", int(self.scale))

    @property
    def half_width(self) -> Fraction:
        """Half the rounding unit, 1/(2·scale)."""
        return Fraction(1, 2 * self.scale)

    @property
    def key(self) -> tuple:
        """The canonical key: numerator terms, denominator terms, scale."""
        return (self.numerator.terms, self.denominator.terms, self.scale)

    def __str__(self) -> str:
        return f"({self.numerator}) / ({self.denominator}) to 1/{self.scale}"


Figure = Union[Linear, Share]


def _figure_order(fig: Figure) -> tuple:
    """Deterministic order of figures: counts first, then shares, each by key."""
    if isinstance(fig, Linear):
        return (0, tuple((_id_order(a), c) for a, c in fig.terms))
    return (1, _figure_order(fig.numerator), _figure_order(fig.denominator), fig.scale)


def linear(terms: Mapping | Iterable) -> Linear:
    """A canonical linear expression: a sum of atoms, or a weighted one.

    Parameters
    ----------
    terms : mapping of atom to int, or iterable of atoms
        ``{atom: coefficient}``, or atoms that are summed with coefficient 1 (an atom
        listed twice gets 2). Atom ids are strings, whole numbers or tuples of them.

    Returns
    -------
    Linear
        Field ``terms``: the canonical ``(atom, coefficient)`` pairs (the figure's key).

    Raises
    ------
    ValueError
        If an atom id is not a string, whole number or tuple of them, a coefficient is
        not whole, or no atom keeps a nonzero coefficient.

    Notes
    -----
    e = Σⱼ cⱼ·xⱼ over atoms xⱼ. Canonical form: coefficients of the same atom added,
    zeros dropped, atoms ordered (numbers < strings < tuples, tuples element-wise).
    Equal canonical forms are the same published figure.

    References
    ----------
    A. Hundepool et al., Statistical Disclosure Control, Wiley, 2012, §4.2 (tables as
    linear relations between cells).

    Examples
    --------
    >>> linear(["b", "a"]) == linear({"a": 1, "b": 1})
    True
    >>> print(linear({"a": 2, "b": -1, "c": 0}))
    2·'a' + -1·'b'
    """
    if isinstance(terms, Mapping):
        pairs = list(terms.items())
    elif isinstance(terms, (str, bytes)) or not isinstance(terms, Iterable):
        raise ValueError("terms must be a mapping of atom to coefficient or an iterable of atoms.")
    else:
        pairs = [(atom, 1) for atom in terms]
    return Linear(tuple(pairs))


def evaluate(expr: Linear, values: Mapping) -> int:
    """The value of an expression for given atom values.

    Parameters
    ----------
    expr : Linear
        The expression.
    values : mapping of atom to int
        A whole value for every atom of ``expr``.

    Returns
    -------
    int
        Σⱼ cⱼ·xⱼ.

    Raises
    ------
    ValueError
        If ``expr`` is not a Linear or an atom has no whole value.

    Notes
    -----
    Exact integer arithmetic (Python ints).

    References
    ----------
    A. Hundepool et al., Statistical Disclosure Control, Wiley, 2012, §4.2.

    Examples
    --------
    >>> evaluate(linear({"a": 1, "b": 2}), {"a": 3, "b": 4})
    11
    """
    if not isinstance(expr, Linear):
        raise ValueError(f"expected a Linear expression, got {type(expr).__name__}.")
    total = 0
    for atom, coef in expr.terms:
        if atom not in values:
            raise ValueError(f"atom {atom!r} has no value.")
        total += coef * _whole(values[atom], f"the value of atom {atom!r}")
    return total


def is_safe(low: float | None, high: float | None, threshold: int = DEFAULT_THRESHOLD) -> bool:
    """Whether a reader's range [low, high] for a withheld count protects it.

    Parameters
    ----------
    low, high : int, float (±inf) or None
        The smallest and largest value the published figures allow; None for a bound
        that was not proved (a solver stopped early), which is never safe.
    threshold : int, optional
        t, default 10.

    Returns
    -------
    bool
        True when the range holds every value 0…t−1 or at least t values.

    Raises
    ------
    ValueError
        If the threshold is not a whole number of at least 1, or low > high.

    Notes
    -----
    safe ⇔ (low ≤ 0 and high ≥ t − 1) or (high − low + 1 ≥ t). For whole ranges the
    first case is a special case of the second; it is listed because it is the
    reason: a reader cannot tell which of 0…9 a withheld small count is.

    References
    ----------
    A. Hundepool et al., Statistical Disclosure Control, Wiley, 2012, §4.3 (protection
    intervals of a suppressed cell).

    Examples
    --------
    >>> is_safe(0, 147), is_safe(6, 6), is_safe(3, 12), is_safe(3, 11)
    (True, False, True, False)
    """
    t = _threshold(threshold)
    if low is None or high is None:
        return False
    if low > high:
        raise ValueError(f"low must not exceed high, got {low!r} > {high!r}.")
    return bool((low <= 0 and high >= t - 1) or (high - low + 1 >= t))


def _threshold(threshold: object) -> int:
    t = _whole(threshold, "threshold")
    if t < 1:
        raise ValueError("threshold must be at least 1.")
    return t


def _time_limit(time_limit: object) -> float:
    if isinstance(time_limit, bool) or not isinstance(time_limit, numbers.Real):
        raise ValueError(f"time_limit must be a number of seconds, got {time_limit!r}.")
    f = float(time_limit)
    if not (math.isfinite(f) and f > 0):
        raise ValueError(f"time_limit must be a positive number of seconds, got {time_limit!r}.")
    return f


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class FigureRange:
    """What a reader can infer about one withheld figure.

    Attributes
    ----------
    figure : Linear
        The withheld expression.
    low : int, float or None
        Its smallest value consistent with everything published (−inf if unbounded;
        None if the solver did not prove it).
    high : int, float or None
        Its largest value (inf if unbounded; None if not proved).
    safe : bool
        :func:`is_safe` of the range; False whenever a bound is unproved.
    status : str
        ``"optimal"`` when both bounds are proved, else the solver's reason.
    """

    figure: Linear
    low: int | float | None
    high: int | float | None
    safe: bool
    status: str


@dataclass(frozen=True)
class Audit:
    """The audit of a set of withheld figures against everything published.

    Attributes
    ----------
    ranges : tuple of FigureRange
        One per withheld figure (duplicates merged), in the order given.
    safe : bool
        True iff every range is safe.
    unsafe : tuple of Linear
        The withheld figures whose range is not safe, in the order given.
    feasible_status : str
        ``"optimal"`` when the published figures were shown consistent (some whole
        atom values give them all), else the solver's reason it could not tell.
    n_atoms : int
        Atoms (integer variables) in the programme.
    n_constraints : int
        Linear constraints: one per published count, four per published share, one per
        ``at_most`` relation.
    """

    ranges: tuple
    safe: bool
    unsafe: tuple
    feasible_status: str
    n_atoms: int
    n_constraints: int

    def range_of(self, figure: Linear) -> FigureRange:
        """The range of one withheld figure; ``KeyError`` if it was not audited."""
        for r in self.ranges:
            if r.figure == figure:
                return r
        raise KeyError(figure)


@dataclass(frozen=True)
class Protection:
    """The figures to withhold from every page, and the audit that passes.

    Attributes
    ----------
    withheld : tuple of Linear or Share
        Every figure of ``figures`` to withhold, in canonical order.
    primary : tuple of Linear or Share
        Withheld from the start: counts below the threshold, figures equal to a
        sensitive expression, and shares tied to either.
    secondary : tuple of Linear or Share
        Withheld by the rounds, in the order chosen (a share follows its count).
    audit : Audit
        The final audit of every withheld count and every sensitive expression.
    rounds : int
        Audits run by the greedy loop (the final audit not counted).
    """

    withheld: tuple
    primary: tuple
    secondary: tuple
    audit: Audit
    rounds: int


# --------------------------------------------------------------------------- the programme


def _check_atoms(atoms: Iterable) -> tuple:
    if isinstance(atoms, (str, bytes)) or not isinstance(atoms, Iterable):
        raise ValueError("atoms must be an iterable of atom ids.")
    out = tuple(atoms)
    if not out:
        raise ValueError("atoms must list at least one atom.")
    seen = set()
    for a in out:
        _check_id(a, "an atom id")
        if a in seen:
            raise ValueError(f"atom {a!r} is listed twice.")
        seen.add(a)
    return out


def _check_expr(expr: object, index: Mapping, what: str) -> Linear:
    if not isinstance(expr, Linear):
        raise ValueError(f"{what} must be a Linear expression, got {type(expr).__name__}.")
    for a in expr.atoms:
        if a not in index:
            raise ValueError(f"{what} {expr} uses atom {a!r}, which is not in atoms.")
    return expr


def _check_bounds(bounds: Mapping | None, index: Mapping) -> tuple[np.ndarray, np.ndarray]:
    lb = np.zeros(len(index))
    ub = np.full(len(index), np.inf)
    if bounds is None:
        return lb, ub
    if not isinstance(bounds, Mapping):
        raise ValueError("bounds must map atoms to (low, high) pairs.")
    for atom, pair in bounds.items():
        if atom not in index:
            raise ValueError(f"bounds name atom {atom!r}, which is not in atoms.")
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise ValueError(f"the bounds of atom {atom!r} must be a (low, high) pair.")
        low = _whole(pair[0], f"the lower bound of atom {atom!r}")
        high = None if pair[1] is None else _whole(pair[1], f"the upper bound of atom {atom!r}")
        if low < 0:
            raise ValueError(f"atoms are counts, so the lower bound of atom {atom!r} must not be negative.")
        if high is not None and high < low:
            raise ValueError(f"the bounds of atom {atom!r} are empty: {low} > {high}.")
        lb[index[atom]] = low
        ub[index[atom]] = np.inf if high is None else high
    return lb, ub


def _check_at_most(at_most: Iterable, index: Mapping) -> tuple:
    if isinstance(at_most, (str, bytes)) or not isinstance(at_most, Iterable):
        raise ValueError("at_most must be an iterable of (smaller, larger) expression pairs.")
    out = []
    for pair in at_most:
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise ValueError(f"each at_most relation must be a (smaller, larger) pair, got {pair!r}.")
        out.append((_check_expr(pair[0], index, "an at_most expression"),
                    _check_expr(pair[1], index, "an at_most expression")))
    return tuple(out)


def _share_step(share: Share, value: object) -> int:
    """The published share as a whole number k of rounding steps (value = k/scale)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"the shown value of share {share} must be a number, got {value!r}.")
    if isinstance(value, Fraction):
        scaled = value * share.scale
        if scaled.denominator != 1:
            raise ValueError(f"share {share} is shown as {value}, which is not a multiple of 1/{share.scale}.")
        k = int(scaled)
    else:
        f = float(value)
        if not math.isfinite(f):
            raise ValueError(f"the shown value of share {share} must be finite, got {value!r}.")
        k = round(f * share.scale)
        if abs(f * share.scale - k) > 1e-6:
            raise ValueError(f"share {share} is shown as {value!r}, which is not a multiple of 1/{share.scale}.")
    if not 0 <= k <= share.scale:
        raise ValueError(f"share {share} is shown as {value!r}; shares are fractions between 0 and 1.")
    return k


class _Model:
    """The reader's integer programme: atoms, bounds and the published constraints.

    Rows are kept as equalities (published counts) and ``≤ 0``-style inequalities
    (shares and ``at_most``) with whole coefficients, so a solver's rounded solution
    can be checked exactly. ``eq_source`` / ``ub_source`` name the figure behind each
    row (None for an ``at_most`` relation).
    """

    def __init__(self, atoms: tuple, published: Mapping, bounds: Mapping | None, at_most: Iterable):
        from scipy import sparse

        self.atoms = atoms
        self.index = {a: j for j, a in enumerate(atoms)}
        self.lb, self.ub = _check_bounds(bounds, self.index)
        self.relations = _check_at_most(at_most, self.index)
        if not isinstance(published, Mapping):
            raise ValueError("published must map figures (Linear or Share) to their shown values.")
        eq_rows: list[dict] = []
        eq_rhs: list[int] = []
        self.eq_source: list = []
        ub_rows: list[dict] = []
        ub_rhs: list[int] = []
        self.ub_source: list = []
        self.counts: dict = {}
        self.shares: dict = {}
        for fig, value in published.items():
            if isinstance(fig, Linear):
                _check_expr(fig, self.index, "a published count")
                v = _whole(value, f"the published value of {fig}")
                self.counts[fig] = v
                eq_rows.append(self._row(fig))
                eq_rhs.append(v)
                self.eq_source.append(fig)
            elif isinstance(fig, Share):
                _check_expr(fig.numerator, self.index, "a share's numerator")
                _check_expr(fig.denominator, self.index, "a share's denominator")
                k = _share_step(fig, value)
                self.shares[fig] = k
                two_s = 2 * fig.scale
                # (2k − 1)·N ≤ 2·scale·S ≤ (2k + 1)·N, i.e. (p − h)·N ≤ S ≤ (p + h)·N.
                ub_rows.append(self._row(fig.numerator, two_s, fig.denominator, -(2 * k + 1)))
                ub_rows.append(self._row(fig.denominator, 2 * k - 1, fig.numerator, -two_s))
                # A share is shown only when N ≥ 1, and it is a fraction: S ≤ N.
                ub_rows.append(self._row(fig.denominator, -1))
                ub_rows.append(self._row(fig.numerator, 1, fig.denominator, -1))
                ub_rhs += [0, 0, -1, 0]
                self.ub_source += [fig] * 4
            else:
                raise ValueError(f"published figures must be Linear or Share, got {type(fig).__name__}.")
        for small, large in self.relations:
            ub_rows.append(self._row(small, 1, large, -1))
            ub_rhs.append(0)
            self.ub_source.append(None)
        n = len(atoms)
        self.a_eq = self._matrix(eq_rows, n, sparse)
        self.b_eq = np.array(eq_rhs, dtype=np.int64)
        self.a_ub = self._matrix(ub_rows, n, sparse)
        self.b_ub = np.array(ub_rhs, dtype=np.int64)
        self.n_constraints = len(eq_rows) + len(ub_rows)
        self._constraints = self._linear_constraints()

    def _row(self, e1: Linear, c1: int = 1, e2: Linear | None = None, c2: int = 0) -> dict:
        row: dict = {}
        for a, c in e1.terms:
            row[self.index[a]] = row.get(self.index[a], 0) + c1 * c
        if e2 is not None:
            for a, c in e2.terms:
                row[self.index[a]] = row.get(self.index[a], 0) + c2 * c
        return {j: c for j, c in row.items() if c != 0}

    @staticmethod
    def _matrix(rows: list, n: int, sparse):
        data, ri, ci = [], [], []
        for i, row in enumerate(rows):
            for j, c in row.items():
                ri.append(i)
                ci.append(j)
                data.append(c)
        return sparse.csr_array((np.array(data, dtype=np.int64), (np.array(ri, dtype=np.int64),
                                 np.array(ci, dtype=np.int64))), shape=(len(rows), n))

    def _linear_constraints(self) -> list:
        from scipy.optimize import LinearConstraint

        out = []
        if self.a_eq.shape[0]:
            out.append(LinearConstraint(self.a_eq.astype(np.float64), self.b_eq, self.b_eq))
        if self.a_ub.shape[0]:
            out.append(LinearConstraint(self.a_ub.astype(np.float64), -np.inf, self.b_ub))
        return out

    def objective(self, expr: Linear, sign: int) -> np.ndarray:
        c = np.zeros(len(self.atoms))
        for a, coef in expr.terms:
            c[self.index[a]] = sign * coef
        return c

    def holds(self, x: np.ndarray) -> bool:
        """Exact check of a whole-number point against bounds and every row."""
        if np.any(x < self.lb) or np.any(x > self.ub):
            return False
        if self.a_eq.shape[0] and not np.array_equal(self.a_eq @ x, self.b_eq):
            return False
        if self.a_ub.shape[0] and np.any(self.a_ub @ x > self.b_ub):
            return False
        return True

    def solve(self, c: np.ndarray, time_limit: float) -> tuple[np.ndarray | None, str]:
        """Minimise c·x over whole x; (x, "optimal"), (None, "unbounded"), (None, why)."""
        from scipy.optimize import Bounds, linprog, milp

        res = milp(c, integrality=np.ones(len(c)), bounds=Bounds(self.lb, self.ub),
                   constraints=self._constraints,
                   options={"time_limit": time_limit, "mip_rel_gap": 0.0, "presolve": True})
        if res.status == 0:
            x = np.rint(res.x).astype(np.int64)
            if not self.holds(x):
                return None, "the solver's solution failed the exact integer check"
            return x, _OPTIMAL
        if res.status in (3, 4):
            # HiGHS reports "infeasible or unbounded" together. The model is known to be
            # feasible here, and with rational data a feasible integer programme whose LP
            # relaxation is unbounded is unbounded itself (Meyer 1974).
            lp = linprog(c, A_ub=self.a_ub if self.a_ub.shape[0] else None,
                         b_ub=self.b_ub if self.a_ub.shape[0] else None,
                         A_eq=self.a_eq if self.a_eq.shape[0] else None,
                         b_eq=self.b_eq if self.a_eq.shape[0] else None,
                         bounds=np.column_stack([self.lb, self.ub]), method="highs",
                         options={"time_limit": time_limit})
            if lp.status == 3:
                return None, "unbounded"
            if lp.status == 2:  # the relaxation is infeasible, so is the integer programme
                return None, "infeasible"
        if res.status == 2:
            return None, "infeasible"
        return None, str(res.message)

    def participants(self, expr: Linear, time_limit: float) -> set:
        """Figures with a nonzero dual value at the LP-relaxation optimum of min and max expr.

        Those rows form the certificate of the bound (LP duality): the published figures
        that, combined, pin the expression down.
        """
        from scipy.optimize import linprog

        found: set = set()
        for sign in (1, -1):
            lp = linprog(self.objective(expr, sign),
                         A_ub=self.a_ub if self.a_ub.shape[0] else None,
                         b_ub=self.b_ub if self.a_ub.shape[0] else None,
                         A_eq=self.a_eq if self.a_eq.shape[0] else None,
                         b_eq=self.b_eq if self.a_eq.shape[0] else None,
                         bounds=np.column_stack([self.lb, self.ub]), method="highs",
                         options={"time_limit": time_limit})
            if lp.status != 0:
                continue
            if self.a_eq.shape[0]:
                for i in np.flatnonzero(np.abs(lp.eqlin.marginals) > 1e-9):
                    found.add(self.eq_source[i])
            if self.a_ub.shape[0]:
                for i in np.flatnonzero(np.abs(lp.ineqlin.marginals) > 1e-9):
                    if self.ub_source[i] is not None:
                        found.add(self.ub_source[i])
        return found


def _check_values(values: Mapping, atoms: tuple) -> dict:
    if not isinstance(values, Mapping):
        raise ValueError("true_values must map every atom to its whole value.")
    out = {}
    for a in atoms:
        if a not in values:
            raise ValueError(f"true_values has no value for atom {a!r}.")
        v = _whole(values[a], f"the true value of atom {a!r}")
        if v < 0:
            raise ValueError(f"atoms are counts, so atom {a!r} must not be negative, got {v}.")
        out[a] = v
    return out


def _check_truth(model: _Model, values: dict) -> None:
    """Raise with the first published figure the true values contradict."""
    for j, a in enumerate(model.atoms):
        if not model.lb[j] <= values[a] <= model.ub[j]:
            raise ValueError(f"the true value {values[a]} of atom {a!r} is outside its bounds.")
    for small, large in model.relations:
        if evaluate(small, values) > evaluate(large, values):
            raise ValueError(f"the true values break the at_most relation {small} ≤ {large}.")
    for fig, v in model.counts.items():
        if evaluate(fig, values) != v:
            raise ValueError(f"count {fig} is published as {v} but the true values give {evaluate(fig, values)}.")
    for fig, k in model.shares.items():
        s, n = evaluate(fig.numerator, values), evaluate(fig.denominator, values)
        if not (2 * k - 1) * n <= 2 * fig.scale * s <= (2 * k + 1) * n:
            raise ValueError(f"share {fig} is shown as {k}/{fig.scale}, which does not round {s}/{n}.")


def _feasibility(model: _Model, time_limit: float) -> str:
    x, status = model.solve(np.zeros(len(model.atoms)), time_limit)
    if status == "infeasible":
        raise ValueError("the published figures contradict each other: no whole atom values within the bounds "
                         "give them all, so the figures, bounds or at_most relations were modelled wrongly.")
    return status


def _range(model: _Model, expr: Linear, threshold: int, time_limit: float) -> FigureRange:
    bounds = []
    status = _OPTIMAL
    for sign in (1, -1):
        x, why = model.solve(model.objective(expr, sign), time_limit)
        if why == _OPTIMAL:
            bounds.append(sum(c * int(x[model.index[a]]) for a, c in expr.terms))
        elif why == "unbounded":
            bounds.append(-math.inf if sign == 1 else math.inf)
        else:
            bounds.append(None)
            if status == _OPTIMAL:
                status = why
    low, high = bounds
    return FigureRange(figure=expr, low=low, high=high,
                       safe=status == _OPTIMAL and is_safe(low, high, threshold), status=status)


def _dedupe(items: Iterable, what: str) -> list:
    if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
        raise ValueError(f"{what} must be an iterable.")
    seen: set = set()
    out = []
    for item in items:
        try:
            hash(item)
        except TypeError:
            raise ValueError(f"{what} must hold Linear or Share figures, got {type(item).__name__}.") from None
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def _audit_model(model: _Model, withheld: list, threshold: int, time_limit: float, feasible_status: str) -> Audit:
    ranges = tuple(_range(model, e, threshold, time_limit) for e in withheld)
    unsafe = tuple(r.figure for r in ranges if not r.safe)
    return Audit(ranges=ranges, safe=not unsafe, unsafe=unsafe, feasible_status=feasible_status,
                 n_atoms=len(model.atoms), n_constraints=model.n_constraints)


def audit(
    atoms: Iterable,
    published: Mapping,
    withheld: Iterable,
    *,
    bounds: Mapping | None = None,
    at_most: Iterable = (),
    threshold: int = DEFAULT_THRESHOLD,
    time_limit: float = DEFAULT_TIME_LIMIT,
    true_values: Mapping | None = None,
) -> Audit:
    """What a reader can infer about each withheld figure from everything published.

    Parameters
    ----------
    atoms : iterable of atom ids
        Every atom (unknown whole number ≥ 0) the figures are made of.
    published : mapping of Linear or Share to its shown value
        Every figure public at the moment: a count (:class:`Linear`) to its exact whole
        value; a :class:`Share` to the rounded share shown, a fraction in [0, 1] that is
        a multiple of ``1/scale`` (a float such as 0.892 or a ``Fraction``).
    withheld : iterable of Linear
        The expressions to audit: withheld counts, and any sensitive quantity (the
        month inside two published windows, a small cell's satisfied answers).
    bounds : mapping of atom to (int, int or None), optional
        Known bounds ``(low, high)`` of an atom; default (0, no upper bound).
    at_most : iterable of (Linear, Linear), optional
        Relations a reader knows, ``smaller ≤ larger`` (satisfied ≤ answers,
        answers ≤ 19·responses; an equality is two relations).
    threshold : int, optional
        A range is safe when it spans at least this many values, default 10.
    time_limit : float, optional
        Seconds for each integer programme, default 10. A bound not proved in time
        makes its figure unsafe, and the status says why.
    true_values : mapping of atom to int, optional
        If given, first checked against every published figure, bound and relation, so
        a modelling mistake is reported by name.

    Returns
    -------
    Audit
        Fields ``ranges`` (each ``figure, low, high, safe, status``), ``safe``,
        ``unsafe``, ``feasible_status``, ``n_atoms``, ``n_constraints``.

    Raises
    ------
    ValueError
        If an argument is malformed, a figure uses an unknown atom, a withheld
        expression is also published, ``true_values`` contradict a published figure,
        or no whole atom values give every published figure (inconsistent modelling).

    Notes
    -----
    Atoms x ∈ ℤⁿ, lⱼ ≤ xⱼ ≤ uⱼ (default 0 ≤ xⱼ). Each published count c·x = v is an
    equality; each published share p = k/s of S/N, shown rounded to h = 1/(2s), gives
    (p − h)·N ≤ S ≤ (p + h)·N, kept in whole coefficients as
    (2k − 1)·N ≤ 2s·S ≤ (2k + 1)·N, and, since a share is shown only for N ≥ 1 and
    is a fraction, N ≥ 1 and S ≤ N; each relation a·x ≤ b·x is a row. For every
    withheld e·x the range is [min e·x, max e·x] over this set, two calls of
    ``scipy.optimize.milp`` (HiGHS branch and bound, relative gap 0); each solution
    is rounded and checked exactly against every row. The range is safe when
    (min ≤ 0 and max ≥ t − 1) or max − min + 1 ≥ t (:func:`is_safe`). A bound not
    proved optimal within the time limit counts as unsafe. An unbounded side is
    ±inf (LP relaxation unbounded and the programme feasible, Meyer 1974). The
    closed share interval also admits the exact rounding midpoints, which is
    conservative for neither side only at those points; no other values are
    admitted. The range is an interval hull: the values in it need not all be
    feasible.

    References
    ----------
    A. Hundepool et al., Statistical Disclosure Control, Wiley, 2012, ch. 4 (tabular
    data: secondary suppression and auditing a suppression pattern).
    M. Fischetti and J.-J. Salazar-González, "Solving the cell suppression problem on
    tabular data with linear constraints", Management Science 47 (2001) 1008–1027.
    R. R. Meyer, "On the existence of optimal solutions to integer and mixed-integer
    programming problems", Math. Program. 7 (1974) 223–235.

    Examples
    --------
    A ward of 886 responses, point B 141 and point C 739 published: A is 6.

    >>> a, b, c = linear(["A"]), linear(["B"]), linear(["C"])
    >>> res = audit(["A", "B", "C"], {linear(["A", "B", "C"]): 886, b: 141, c: 739}, [a])
    >>> r = res.range_of(a)
    >>> r.low, r.high, r.safe
    (6, 6, False)
    >>> r = audit(["A", "B", "C"], {linear(["A", "B", "C"]): 886, c: 739}, [a, b]).ranges[0]
    >>> r.low, r.high, r.safe
    (0, 147, True)
    """
    atoms_t = _check_atoms(atoms)
    t = _threshold(threshold)
    limit = _time_limit(time_limit)
    model = _Model(atoms_t, published, bounds, at_most)
    exprs = _dedupe(withheld, "withheld")
    for e in exprs:
        if isinstance(e, Share):
            raise ValueError("a withheld share has no range to audit: leave it out of published and audit its "
                             "numerator and denominator.")
        _check_expr(e, model.index, "a withheld figure")
        if e in model.counts:
            raise ValueError(f"{e} is both published and withheld; a figure shown on any page is public.")
    if true_values is not None:
        _check_truth(model, _check_values(true_values, atoms_t))
    return _audit_model(model, exprs, t, limit, _feasibility(model, limit))


# --------------------------------------------------------------------------- protection


def _shown(share: Share, values: dict) -> Fraction | None:
    """The share as the page shows it, rounded half up to 1/scale; None when N = 0."""
    s, n = evaluate(share.numerator, values), evaluate(share.denominator, values)
    if n == 0:
        return None
    if s < 0 or s > n:
        raise ValueError(f"share {share} has numerator {s} outside 0…{n}; shares are fractions between 0 and 1.")
    return Fraction((2 * share.scale * s + n) // (2 * n), share.scale)


def _touches(fig: Figure, atoms: set) -> bool:
    exprs = (fig,) if isinstance(fig, Linear) else (fig.numerator, fig.denominator)
    return any(a in atoms for e in exprs for a in e.atoms)


def protect(
    atoms: Iterable,
    figures: Iterable,
    true_values: Mapping,
    *,
    threshold: int = DEFAULT_THRESHOLD,
    withhold_zeros: bool = False,
    sensitive: Iterable = (),
    frozen: Iterable = (),
    bounds: Mapping | None = None,
    at_most: Iterable = (),
    time_limit: float = DEFAULT_TIME_LIMIT,
) -> Protection:
    """The figures to withhold so that no withheld figure can be narrowed below the rule.

    Parameters
    ----------
    atoms : iterable of atom ids
        Every atom.
    figures : iterable of Linear or Share
        Every figure the releases would show (all pages, all periods public at the
        moment); duplicates are one figure.
    true_values : mapping of atom to int
        The true value of every atom; the counts and shares shown are computed from it
        (shares rounded half up to ``1/scale``; a share with N = 0 shows N = 0).
    threshold : int, optional
        Counts below this are withheld, and a withheld figure must keep a range of at
        least this many values; default 10.
    withhold_zeros : bool, optional
        Whether a zero count is withheld as a primary figure (default False: zeros are
        published, as the public pages do, and chosen as secondary figures only when
        nothing else participates).
    sensitive : iterable of Linear, optional
        Quantities a reader must not learn whatever their value, although no page
        shows them as such: a month inside two published windows, the satisfied answers
        of a cell with few responses (:meth:`TreeFigures.sensitive_cells`). They are
        audited like withheld counts, and a figure equal to one is withheld.
    frozen : iterable of Linear or Share, optional
        Figures of releases already public (a release is frozen when published): they
        stay published and are never chosen, so a new release is protected by
        withholding its own figures. They need not be repeated in ``figures``.
    bounds, at_most, time_limit
        As in :func:`audit`.

    Returns
    -------
    Protection
        Fields ``withheld``, ``primary``, ``secondary``, ``audit``, ``rounds``.

    Raises
    ------
    ValueError
        If an argument is malformed, the true values break a bound or relation, a
        frozen figure is one that must be withheld (below the threshold, or
        sensitive), or a withheld figure stays narrow with every figure that could
        expose it withheld (its bounds, relations or frozen figures alone disclose it).

    Notes
    -----
    Primary: every count figure with true value v < t (v > 0 unless
    ``withhold_zeros``), every figure equal to a sensitive expression, and every share
    whose numerator, denominator or ``shown_with`` count is withheld or sensitive.
    Then, in rounds: :func:`audit` the withheld counts and sensitive expressions not
    yet known safe (withholding more only widens ranges, so a safe figure stays safe);
    take the first unsafe one e in canonical order; its *participants* are the
    published figures with a nonzero dual value at the optimum of the LP relaxation of
    min e·x or max e·x (by LP duality those rows certify the bound: for A = 886 −
    141 − 739 they are the ward total, B and C). Withhold the participating count with
    the smallest true value (zeros last), ties by canonical key; if no count
    participates, the participating share with the smallest denominator; if the
    relaxation names none, the same choice among published figures sharing an atom
    with e, then with atoms linked to e by ``at_most``. Shares tied to it follow.
    Repeat until all are safe; each round withholds a new figure, so it ends.
    Frozen figures are published throughout and never candidates.
    This greedy is deterministic and cheap but not minimal: an optimal pattern (least
    information withheld) is a much larger integer programme over all patterns
    (Fischetti & Salazar-González), and the greedy may withhold a figure that a later
    choice makes unnecessary.

    References
    ----------
    A. Hundepool et al., Statistical Disclosure Control, Wiley, 2012, ch. 4 (primary
    and secondary cell suppression, auditing).
    M. Fischetti and J.-J. Salazar-González, "Models and algorithms for the
    2-dimensional cell suppression problem in statistical disclosure control",
    Math. Program. 84 (1999) 283–312.

    Examples
    --------
    >>> a, b, c, w = linear(["A"]), linear(["B"]), linear(["C"]), linear(["A", "B", "C"])
    >>> p = protect(["A", "B", "C"], [w, a, b, c], {"A": 6, "B": 141, "C": 739})
    >>> [str(f) for f in p.withheld], p.rounds
    (["'A'", "'B'"], 2)
    >>> [(r.low, r.high) for r in p.audit.ranges]
    [(0, 147), (0, 147)]
    """
    atoms_t = _check_atoms(atoms)
    t = _threshold(threshold)
    limit = _time_limit(time_limit)
    if not isinstance(withhold_zeros, bool):
        raise ValueError("withhold_zeros must be True or False.")
    values = _check_values(true_values, atoms_t)
    figs = _dedupe(figures, "figures")
    if not figs:
        raise ValueError("figures must list at least one figure.")
    # Validate the figures and the relations against the atoms once.
    probe = _Model(atoms_t, {}, bounds, at_most)
    _check_truth(probe, values)
    frozen_l = _dedupe(frozen, "frozen")
    fixed = set(frozen_l)
    known = set(figs)
    figs += [f for f in frozen_l if f not in known]
    counts = [f for f in figs if isinstance(f, Linear)]
    shares = [f for f in figs if isinstance(f, Share)]
    if len(counts) + len(shares) != len(figs):
        bad = next(f for f in figs if not isinstance(f, (Linear, Share)))
        raise ValueError(f"figures must be Linear or Share, got {type(bad).__name__}.")
    for f in counts:
        _check_expr(f, probe.index, "a figure")
    for s in shares:
        for e in (s.numerator, s.denominator) + ((s.shown_with,) if s.shown_with is not None else ()):
            _check_expr(e, probe.index, "a share's expression")
    sens = [_check_expr(e, probe.index, "a sensitive expression") for e in _dedupe(sensitive, "sensitive")]
    value = {f: evaluate(f, values) for f in counts}
    shown = {s: _shown(s, values) for s in shares}
    count_set = set(counts)

    withheld: set = set()
    order: list = []  # withheld figures in the order chosen
    hidden = set(sens)  # expressions a share must not be shown beside or built on

    def withhold(fig: Figure) -> None:
        if fig in withheld:
            return
        if fig in fixed:
            raise ValueError(f"{fig} is in a frozen release but must be withheld: it is below the threshold, "
                             "sensitive, or tied to a withheld count.")
        withheld.add(fig)
        order.append(fig)
        if isinstance(fig, Linear):
            hidden.add(fig)
            for s in shares:
                if s not in withheld and s not in fixed and (s.numerator in hidden or s.denominator in hidden
                                                             or s.shown_with in hidden):
                    withheld.add(s)
                    order.append(s)

    for f in sorted(counts, key=_figure_order):
        if (value[f] < t and (value[f] > 0 or withhold_zeros)) or f in hidden:
            withhold(f)
    for s in sorted(shares, key=_figure_order):
        if s not in fixed and (s.numerator in hidden or s.denominator in hidden or s.shown_with in hidden):
            withhold(s)
    n_primary = len(order)

    def published_now() -> dict:
        pub: dict = {f: value[f] for f in counts if f not in withheld}
        for s in shares:
            if s in withheld:
                continue
            if shown[s] is None:
                pub[s.denominator] = 0  # "no answers" tells N = 0
            else:
                pub[s] = shown[s]
        return pub

    def audited() -> list:
        return sorted({f for f in withheld if isinstance(f, Linear)} | set(sens), key=_figure_order)

    def choose(model: _Model, exposed: Linear) -> Figure | None:
        def best(cands: Iterable) -> Figure | None:
            cands = [f for f in cands if f not in withheld and f not in fixed and (f in count_set or f in shown)]
            cs = [f for f in cands if isinstance(f, Linear)]
            if not withhold_zeros:
                cs = [f for f in cs if value[f] > 0] or cs
            if cs:
                return min(cs, key=lambda f: (value[f], _figure_order(f)))
            ss = [f for f in cands if isinstance(f, Share)]
            if ss:
                return min(ss, key=lambda s: (evaluate(s.denominator, values), _figure_order(s)))
            return None

        parts = model.participants(exposed, limit)
        # A zero-denominator share publishes "N = 0" as a count row: map it back.
        parts |= {s for s in shares if shown[s] is None and s.denominator in parts}
        pick = best(parts)
        if pick is not None:
            return pick
        reach = set(exposed.atoms)
        while True:
            pick = best(f for f in figs if _touches(f, reach))
            if pick is not None:
                return pick
            wider = set(reach)
            for small, large in model.relations:
                linked = set(small.atoms) | set(large.atoms)
                if linked & reach:
                    wider |= linked
            if wider == reach:
                return None
            reach = wider

    feasible = None
    check = audited()
    rounds = 0
    result: Audit | None = None
    while True:
        rounds += 1
        model = _Model(atoms_t, published_now(), bounds, at_most)
        if feasible is None:
            feasible = _feasibility(model, limit)
        result = _audit_model(model, check, t, limit, feasible)
        if result.safe:
            break
        exposed = result.unsafe[0]
        pick = choose(model, exposed)
        if pick is None:
            raise ValueError(f"{exposed} cannot be protected: it stays narrow with every figure that could "
                             "expose it withheld, so its bounds, at_most relations or frozen figures alone "
                             "disclose it.")
        withhold(pick)
        check = sorted(set(result.unsafe) | ({pick} if isinstance(pick, Linear) else set()), key=_figure_order)
    everything = audited()
    if check != everything:
        model = _Model(atoms_t, published_now(), bounds, at_most)
        result = _audit_model(model, everything, t, limit, feasible)
    return Protection(withheld=tuple(sorted(withheld, key=_figure_order)), primary=tuple(order[:n_primary]),
                      secondary=tuple(order[n_primary:]), audit=result, rounds=rounds)


# --------------------------------------------------------------------------- trees and calendars


@dataclass(frozen=True)
class TreeFigures:
    """Sum expressions of every (unit, period, measure) of a tree and a calendar.

    Atoms are ``(leaf, month, measure)``. Build with :func:`figures_for_tree`.

    Attributes
    ----------
    atoms : tuple
        Every atom, leaves × months × measures, in the order given.
    figures : mapping of (unit, period, measure) to Linear
        The sum over the unit's leaves and the period's months (read-only).
    units : tuple
        Leaves first, then the units above them, in first-seen order.
    periods : tuple
        Months first, then the periods containing them, in first-seen order.
    measures : tuple
        The measures.
    leaves : tuple
        The leaf service points.
    months : tuple
        The calendar months.
    """

    atoms: tuple
    figures: Mapping
    units: tuple
    periods: tuple
    measures: tuple
    leaves: tuple
    months: tuple

    def count(self, unit: Atom, period: Atom, measure: Atom = "responses") -> Linear:
        """The sum expression of one unit, period and measure (``ValueError`` if none)."""
        try:
            return self.figures[(unit, period, measure)]
        except (KeyError, TypeError):
            raise ValueError(f"there is no figure for unit {unit!r}, period {period!r}, measure {measure!r}.") from None

    def share(self, unit: Atom, period: Atom, numerator: Atom = "satisfied", denominator: Atom = "answers",
              scale: int = 1000, shown_with: Atom | None = "responses") -> Share:
        """The share numerator ÷ denominator of one unit and period, shown beside the
        ``shown_with`` count (None for no such count)."""
        return Share(self.count(unit, period, numerator), self.count(unit, period, denominator), scale,
                     None if shown_with is None else self.count(unit, period, shown_with))

    def at_most(self, smaller: Atom, larger: Atom, factor: int = 1) -> tuple:
        """Per leaf and month, the relation smaller ≤ factor·larger (for :func:`audit`)."""
        f = _whole(factor, "factor")
        for m in (smaller, larger):
            if m not in self.measures:
                raise ValueError(f"{m!r} is not one of the measures {self.measures!r}.")
        if f <= 0:
            raise ValueError("factor must be at least 1.")
        return tuple((Linear((((leaf, month, smaller), 1),)), Linear((((leaf, month, larger), f),)))
                     for leaf in self.leaves for month in self.months)

    def fixed_ratio(self, measure: Atom, base: Atom, factor: int) -> tuple:
        """Per leaf and month, measure = factor·base as two relations (e.g. answers =
        19·responses when every one of 19 scored questions must be answered)."""
        pairs = self.at_most(measure, base, factor)
        return pairs + tuple((large, small) for small, large in pairs)

    def sensitive_cells(self, true_values: Mapping, threshold: int = DEFAULT_THRESHOLD, count: Atom = "responses",
                        withhold_zeros: bool = False) -> tuple:
        """Every atom of each (leaf, month) whose ``count`` atom is below the threshold
        (above zero unless ``withhold_zeros``), as single-atom expressions for
        :func:`protect`'s ``sensitive``: what a reader must not learn about a small group
        of respondents even if no page shows that month alone."""
        t = _threshold(threshold)
        if count not in self.measures:
            raise ValueError(f"{count!r} is not one of the measures {self.measures!r}.")
        values = _check_values(true_values, self.atoms)
        out = []
        for leaf in self.leaves:
            for month in self.months:
                v = values[(leaf, month, count)]
                if v < t and (v > 0 or withhold_zeros):
                    out += [Linear((((leaf, month, m), 1),)) for m in self.measures]
        return tuple(out)


def figures_for_tree(
    leaves: Mapping,
    months: Mapping,
    measures: Sequence = ("responses",),
) -> TreeFigures:
    """Sum expressions for every unit, period and measure of a tree and a calendar.

    Parameters
    ----------
    leaves : mapping of leaf to sequence of units
        Each leaf service point and the units above it (ward, province, …). A leaf is a
        unit of its own; responses given at an administrative unit itself need a leaf of
        their own (e.g. ``("W", "itself")``).
    months : mapping of month to sequence of periods
        Each calendar month and the periods containing it (its quarter, its year, or any
        window). A month is a period of its own.
    measures : sequence of ids, optional
        What is counted per leaf and month, default ``("responses",)``; e.g.
        ``("responses", "answers", "satisfied")``.

    Returns
    -------
    TreeFigures
        Fields ``atoms``, ``figures``, ``units``, ``periods``, ``measures``, ``leaves``,
        ``months``; methods ``count``, ``share``, ``at_most``, ``fixed_ratio``,
        ``sensitive_cells``.

    Raises
    ------
    ValueError
        If a mapping is empty, an id is not a string, whole number or tuple of them, a
        leaf is also listed above a leaf, a month is also listed as a period containing
        a month, or a measure repeats.

    Notes
    -----
    Atom x(ℓ, m, k) for leaf ℓ, month m, measure k. For unit u and period P,
    figure(u, P, k) = Σ_{ℓ ∈ leaves(u)} Σ_{m ∈ P} x(ℓ, m, k), where leaves(u) are the
    leaves that name u (or are u). A unit with one leaf and a period with one month
    give the same expression as the leaf's month: one figure.

    References
    ----------
    A. Hundepool et al., Statistical Disclosure Control, Wiley, 2012, §4.2 (linked and
    hierarchical tables).

    Examples
    --------
    >>> tree = figures_for_tree({"A": ["W"], "B": ["W"]},
    ...                         {"2025-10": ["2025-Q4"], "2025-11": ["2025-Q4"]})
    >>> print(tree.count("W", "2025-10"))
    ('A', '2025-10', 'responses') + ('B', '2025-10', 'responses')
    >>> len(tree.count("W", "2025-Q4").terms), len(tree.figures)
    (4, 9)
    """
    if not isinstance(leaves, Mapping) or not leaves:
        raise ValueError("leaves must map at least one leaf to the units above it.")
    if not isinstance(months, Mapping) or not months:
        raise ValueError("months must map at least one month to the periods containing it.")
    if isinstance(measures, (str, bytes)) or not isinstance(measures, Sequence) or not measures:
        raise ValueError("measures must be a non-empty sequence of measure ids.")
    meas = tuple(measures)
    for k in meas:
        _check_id(k, "a measure id")
    if len(set(meas)) != len(meas):
        raise ValueError("measures must not repeat.")

    def groups(mapping: Mapping, what: str, above: str) -> tuple[tuple, dict]:
        inner = tuple(mapping)
        for x in inner:
            _check_id(x, f"a {what} id")
        outer: list = []
        member: dict = {}
        for x in inner:
            ups = mapping[x]
            if isinstance(ups, (str, bytes)) or not isinstance(ups, Iterable):
                raise ValueError(f"the {above} of {what} {x!r} must be a sequence of ids.")
            chain = [x]
            for u in ups:
                _check_id(u, f"an id of the {above}")
                if u in mapping and u != x:
                    raise ValueError(f"{u!r} is a {what} and is also listed among the {above} of {x!r}.")
                if u not in chain:
                    chain.append(u)
                if u != x and u not in outer:
                    outer.append(u)
            for u in chain:
                member.setdefault(u, []).append(x)
        return inner + tuple(outer), member

    units, unit_leaves = groups(leaves, "leaf", "units above")
    periods, period_months = groups(months, "month", "periods")
    leaf_t, month_t = tuple(leaves), tuple(months)
    atoms = tuple((leaf, m, k) for leaf in leaf_t for m in month_t for k in meas)
    figures: dict = {}
    for u in units:
        for p in periods:
            for k in meas:
                figures[(u, p, k)] = Linear(tuple(((leaf, m, k), 1) for leaf in unit_leaves[u]
                                                  for m in period_months[p]))
    return TreeFigures(atoms=atoms, figures=MappingProxyType(figures), units=units, periods=periods,
                       measures=meas, leaves=leaf_t, months=month_t)
