"""analysis.disclosure: replayed differencing attacks, a brute-force audit, validation.

The attacks are the two seen on the published pages: a small point recovered across
levels (ward total minus the other points' own pages) and a month recovered across
overlapping windows (counts and rounded shares). Each is first shown to work against
the old table-by-table rule (analysis.suppress applied page by page), then to fail
after :func:`protect`. Run with ``-s`` to see the ranges before and after.
"""

import doctest
import importlib
import inspect
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.disclosure import (
    Share,
    audit,
    evaluate,
    figures_for_tree,
    is_safe,
    linear,
    protect,
)
from analysis.suppress import suppress_counts

T = 10
ROOT = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------- the old rule


def old_group(counts):
    """publication._withheld_group: zeros are published and never protect; the rest is
    one analysis.suppress.suppress_counts group."""
    nonzero = [i for i, c in enumerate(counts) if c > 0]
    hidden = [False] * len(counts)
    if nonzero:
        cells = suppress_counts([counts[i] for i in nonzero], threshold=T).cells.tolist()
        for i, h in zip(nonzero, cells):
            hidden[i] = bool(h)
    return hidden


def old_rule(tree, values, pages):
    """What the old table-by-table rule publishes: each page alone, as
    publication.suppress_report does (a page under 10 shows nothing; its "units below"
    and its trend are one suppress_counts group each; a row's share goes with its count).

    ``pages`` are (unit, period, children, trend periods). Returns the published mapping
    (counts and shares) and the cells that appear on some page but are never shown.
    """
    shown, seen = set(), set()
    for unit, period, children, trend in pages:
        seen.add((unit, period))
        total = evaluate(tree.count(unit, period), values)
        if not suppress_counts([total], threshold=T).total:
            shown.add((unit, period))
        else:
            seen.update((c, period) for c in children)
            seen.update((unit, p) for p in trend)
            continue
        for group in ([(c, period) for c in children], [(unit, p) for p in trend]):
            seen.update(group)
            hidden = old_group([evaluate(tree.count(*cell), values) for cell in group])
            shown.update(cell for cell, h in zip(group, hidden) if not h)
    published = {}
    for cell in shown:
        published[tree.count(*cell)] = evaluate(tree.count(*cell), values)
        if "satisfied" in tree.measures:
            share = tree.share(*cell)
            if evaluate(share.denominator, values):
                published[share] = shown_share(share, values)
    never = {tree.count(*cell) for cell in seen - shown} - set(published)
    return published, sorted(never, key=str)


def shown_share(share, values):
    """The share as the page prints it: a percent with one decimal, rounded half up."""
    s, n = evaluate(share.numerator, values), evaluate(share.denominator, values)
    pct = (Decimal(100 * s) / Decimal(n)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return Fraction(pct) / 100


def page_figures(tree, pages):
    """Every figure the pages would show if nothing were withheld."""
    cells = []
    for unit, period, children, trend in pages:
        cells += [(unit, period)] + [(c, period) for c in children] + [(unit, p) for p in trend]
    figs = [tree.count(*c) for c in cells]
    if "satisfied" in tree.measures:
        figs += [tree.share(*c) for c in cells]
    return figs


def show(title, ranges, values):
    print(f"\n{title}")
    for r in ranges:
        print(f"  {str(r.figure)[:90]:<90} true {evaluate(r.figure, values):>5}  range [{r.low}, {r.high}]"
              f"  {'safe' if r.safe else 'UNSAFE'}")


def width(r):
    return r.high - r.low + 1


# --------------------------------------------------------------------------- attack 1: levels


def test_levels_attack_works_on_the_old_rule_and_protect_stops_it():
    tree = figures_for_tree({"A": ["W"], "B": ["W"], "C": ["W"]}, {"2025-10": []})
    m = "2025-10"
    values = {("A", m, "responses"): 6, ("B", m, "responses"): 141, ("C", m, "responses"): 739}
    a, b, c, w = (tree.count(u, m) for u in "ABCW")
    assert evaluate(w, values) == 886

    # The ward's page alone is protected: A and its partner B are withheld there.
    ward_page = suppress_counts([6, 141, 739], threshold=T)
    assert ward_page.cells.tolist() == [True, True, False] and not ward_page.total
    pages = [("W", m, ["A", "B", "C"], []), ("A", m, [], []), ("B", m, [], []), ("C", m, [], [])]
    published, never = old_rule(tree, values, pages)
    assert published == {w: 886, b: 141, c: 739}  # B's own page shows 141
    assert never == [a]

    before = audit(tree.atoms, published, never, true_values=values)
    show("old rule: ward 886, B's page 141, C 739", before.ranges, values)
    r = before.range_of(a)
    assert (r.low, r.high, r.safe) == (6, 6, False)  # 886 − 739 − 141

    result = protect(tree.atoms, page_figures(tree, pages), values)
    show(f"protect ({result.rounds} rounds), withheld {[str(f) for f in result.withheld]}",
         result.audit.ranges, values)
    assert result.primary == (a,)
    # The ward keeps its total; B is withheld on every page, its own included.
    assert result.withheld == (a, b)
    assert result.audit.safe
    # Hand check: the reader now knows A + B = 886 − 739 = 147 and nothing else.
    assert [(r.low, r.high) for r in result.audit.ranges] == [(0, 147), (0, 147)]
    assert all(width(r) >= T for r in result.audit.ranges)


# --------------------------------------------------------------------------- attack 2: periods

MONTHS_2025 = {f"2025-{k:02d}": [f"2025-Q{(k - 1) // 3 + 1}", "2025"] for k in range(7, 13)}
P_RESPONSES = [24, 31, 29, 30, 2, 27]  # July … December; November is 2
Q_RESPONSES = [35, 44, 40, 45, 38, 50]
P_SATISFIED = [400, 500, 490, 510, 29, 450]
Q_SATISFIED = [560, 700, 600, 700, 580, 800]


def month_values(tree, months, per_point):
    values = {}
    for point, (responses, satisfied) in per_point.items():
        for month, r, s in zip(months, responses, satisfied or [None] * len(months)):
            values[(point, month, "responses")] = r
            if "answers" in tree.measures:
                values[(point, month, "answers")] = 19 * r  # 19 scored questions, all answered
                values[(point, month, "satisfied")] = s
    return values


def release_pages(units, periods, months_of):
    """One page per unit and release: the ward lists its points, a quarter or year lists
    its months or quarters in the trend table."""
    pages = []
    for period in periods:
        for unit in units:
            children = ["P", "Q"] if unit == "W" else []
            pages.append((unit, period, children, months_of.get(period, [])))
    return pages


def test_new_release_model_months_quarters_year():
    """Releases for October, November, December, Q3, Q4 and 2025 all public at once."""
    tree = figures_for_tree({"P": ["W"], "Q": ["W"]}, MONTHS_2025, ("responses", "answers", "satisfied"))
    months = list(MONTHS_2025)
    values = month_values(tree, months, {"P": (P_RESPONSES, P_SATISFIED), "Q": (Q_RESPONSES, Q_SATISFIED)})
    relations = tree.at_most("satisfied", "answers") + tree.fixed_ratio("answers", "responses", 19)
    trend = {"2025-Q3": months[:3], "2025-Q4": months[3:], "2025": ["2025-Q3", "2025-Q4"]}
    pages = release_pages(["W", "P", "Q"], ["2025-10", "2025-11", "2025-12", "2025-Q3", "2025-Q4", "2025"], trend)
    p_nov = tree.count("P", "2025-11")
    p_nov_satisfied = tree.count("P", "2025-11", "satisfied")

    published, never = old_rule(tree, values, pages)
    assert p_nov in never and tree.count("Q", "2025-11") in published  # Q's own November page
    before = audit(tree.atoms, published, never + [p_nov_satisfied], at_most=relations, true_values=values)
    show("old rule over the month, quarter and year releases", before.ranges, values)
    r = before.range_of(p_nov)
    assert (r.low, r.high) == (2, 2)  # W Nov 40 − Q Nov 38, or P Q4 59 − Oct 30 − Dec 27
    # By hand: P's shares 89.5 % of 570 (October), 87.7 % of 513 (December) and 88.2 % of
    # 1121 (Q4) each allow one whole value, 510, 450 and 989; so November's is 29.
    r = before.range_of(p_nov_satisfied)
    assert (r.low, r.high) == (29, 29)

    result = protect(tree.atoms, page_figures(tree, pages), values, at_most=relations,
                     sensitive=tree.sensitive_cells(values))
    show(f"protect ({result.rounds} rounds)", result.audit.ranges, values)
    print("  withheld:", *[str(f)[:100] for f in result.withheld], sep="\n    ")
    assert p_nov in result.withheld and tree.share("P", "2025-11") in result.withheld
    assert result.audit.safe
    for r in result.audit.ranges:
        assert r.status == "optimal" and width(r) >= T
        assert r.low <= evaluate(r.figure, values) <= r.high
    # Independent re-audit of the final pattern from scratch: what stays public.
    withheld = set(result.withheld)
    public = {f: (evaluate(f, values) if not isinstance(f, Share) else shown_share(f, values))
              for f in page_figures(tree, pages) if f not in withheld}
    again = audit(tree.atoms, public, [p_nov, p_nov_satisfied], at_most=relations, true_values=values)
    assert again.safe
    # The headline figures survive: the ward's totals for every release.
    for period in ["2025-10", "2025-11", "2025-12", "2025-Q3", "2025-Q4", "2025"]:
        assert tree.count("W", period) in public


def test_releases_one_after_another_keep_earlier_ones_frozen():
    """October, November and December are released as they end, then Q4: each call
    may withhold only the new release's figures; the union stays safe."""
    months = {"2025-10": ["2025-Q4"], "2025-11": ["2025-Q4"], "2025-12": ["2025-Q4"]}
    tree = figures_for_tree({"P": ["W"], "Q": ["W"]}, months)
    values = month_values(tree, list(months), {"P": (P_RESPONSES[3:], None), "Q": (Q_RESPONSES[3:], None)})
    trend = {"2025-Q4": list(months)}
    public: dict = {}
    releases = []
    for period in ["2025-10", "2025-11", "2025-12", "2025-Q4"]:
        new = page_figures(tree, release_pages(["W", "P", "Q"], [period], trend))
        result = protect(tree.atoms, new, values, frozen=list(public))
        assert not set(result.withheld) & set(public)
        public.update({f: evaluate(f, values) for f in new if f not in result.withheld and f not in public})
        releases.append((period, result))
        show(f"release {period}: withheld {[str(f) for f in result.withheld]}", result.audit.ranges, values)
    p_nov, q_nov = tree.count("P", "2025-11"), tree.count("Q", "2025-11")
    assert releases[1][1].withheld == (p_nov, q_nov)  # W 40 − Q 38 would give P's 2
    q4 = releases[3][1]
    assert p_nov in q4.withheld and tree.count("W", "2025-Q4") in public
    # Q4 = Oct + Nov + Dec with October and December frozen: P's quarter would give P's
    # November, Q's quarter Q's November and so P's (W Nov 40 − Q Nov): both go.
    assert {tree.count("P", "2025-Q4"), tree.count("Q", "2025-Q4")} <= set(q4.withheld)
    withheld = sorted({f for f in page_figures(tree, release_pages(["W", "P", "Q"], list(months) + ["2025-Q4"], trend))
                       if f not in public}, key=str)
    final = audit(tree.atoms, public, withheld, true_values=values)
    assert final.safe and p_nov in withheld
    with pytest.raises(ValueError, match="frozen"):
        protect(tree.atoms, [tree.count("P", "2025-11")], values, frozen=[p_nov])


def test_overlapping_windows_counts_and_shares():
    """The old custom windows "to October" and "to November" (both from 1 September)."""
    months = {"2025-09": ["to Oct", "to Nov"], "2025-10": ["to Oct", "to Nov"], "2025-11": ["to Nov"]}
    tree = figures_for_tree({"P": ["W"], "Q": ["W"]}, months, ("responses", "answers", "satisfied"))
    values = month_values(tree, list(months), {"P": (P_RESPONSES[2:5], P_SATISFIED[2:5]),
                                               "Q": (Q_RESPONSES[2:5], Q_SATISFIED[2:5])})
    relations = tree.at_most("satisfied", "answers") + tree.fixed_ratio("answers", "responses", 19)
    pages = release_pages(["W", "P", "Q"], ["to Oct", "to Nov"], {})
    p_nov = tree.count("P", "2025-11")
    p_nov_satisfied = tree.count("P", "2025-11", "satisfied")
    assert evaluate(tree.count("P", "to Oct"), values) == 59 and evaluate(tree.count("P", "to Nov"), values) == 61

    published, never = old_rule(tree, values, pages)
    assert never == []  # every figure is ≥ 10: the old rule withholds nothing
    # Shares printed on the pages: 1000/1121 → 89.2 %, 1029/1159 → 88.8 %.
    assert published[tree.share("P", "to Oct")] == Fraction(892, 1000)
    assert published[tree.share("P", "to Nov")] == Fraction(888, 1000)
    before = audit(tree.atoms, published, [p_nov, p_nov_satisfied], at_most=relations, true_values=values)
    show("old windows: to October, to November", before.ranges, values)
    assert (before.range_of(p_nov).low, before.range_of(p_nov).high) == (2, 2)  # 61 − 59
    # By hand: 0.8915·1121 ≤ S ≤ 0.8925·1121 gives S = 1000; 0.8875·1159 ≤ S' ≤ 0.8885·1159
    # gives S' = 1029; so November's satisfied answers are 29 of its 38.
    r = before.range_of(p_nov_satisfied)
    assert (r.low, r.high) == (29, 29)

    result = protect(tree.atoms, page_figures(tree, pages), values, at_most=relations,
                     sensitive=tree.sensitive_cells(values))
    show(f"protect ({result.rounds} rounds)", result.audit.ranges, values)
    print("  withheld:", *[str(f)[:100] for f in result.withheld], sep="\n    ")
    assert {r.figure for r in result.audit.ranges} >= {p_nov, p_nov_satisfied}
    assert result.audit.safe
    for r in result.audit.ranges:
        assert r.status == "optimal" and width(r) >= T
    # The ward's own totals stay public; the points' "to October" rows go, shares with them.
    assert tree.count("W", "to Oct") not in result.withheld and tree.count("W", "to Nov") not in result.withheld
    for cell in [("P", "to Oct"), ("P", "to Nov")]:
        share = tree.share(*cell)
        if tree.count(*cell) in result.withheld:
            assert share in result.withheld  # a row is withheld whole


# --------------------------------------------------------------------------- brute force


TREE_SHAPES = [(2, 2), (2, 3), (3, 2), (3, 3), (4, 2)]  # (points, months); at most 9 atoms
SMALL_T = 3


@st.composite
def small_trees(draw):
    n_points, n_months = draw(st.sampled_from(TREE_SHAPES))
    upper = 4 if n_points * n_months <= 8 else 3
    wards = draw(st.lists(st.integers(0, 1), min_size=n_points, max_size=n_points))
    counts = draw(st.lists(st.integers(0, upper), min_size=n_points * n_months, max_size=n_points * n_months))
    return n_points, n_months, upper, wards, counts


def brute_ranges(atoms, upper, published, exprs):
    """Enumerate every whole assignment in [0, upper]^n; keep those giving every
    published count; return (min, max) of each expression over them."""
    n = len(atoms)
    grid = np.indices((upper + 1,) * n, dtype=np.int16).reshape(n, -1).T
    index = {a: j for j, a in enumerate(atoms)}

    def vector(expr):
        v = np.zeros(n, dtype=np.int16)
        for a, c in expr.terms:
            v[index[a]] = c
        return v

    ok = np.ones(len(grid), dtype=bool)
    for fig, value in published.items():
        ok &= grid @ vector(fig) == value
    kept = grid[ok]
    return kept, [(int((kept @ vector(e)).min()), int((kept @ vector(e)).max())) for e in exprs]


@settings(max_examples=15, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(small_trees())
def test_protect_agrees_with_brute_force(case):
    n_points, n_months, upper, wards, counts = case
    leaves = {f"p{i}": [f"w{wards[i]}", "root"] for i in range(n_points)}
    months = {f"m{k}": ["quarter", "year"] for k in range(n_months)}  # quarter == year: one figure
    tree = figures_for_tree(leaves, months)
    values = dict(zip(tree.atoms, counts))
    figures = list(tree.figures.values())
    assert tree.count("root", "quarter") == tree.count("root", "year")
    bounds = {a: (0, upper) for a in tree.atoms}

    result = protect(tree.atoms, figures, values, threshold=SMALL_T, bounds=bounds)
    withheld = set(result.withheld)
    for f in figures:
        if 0 < evaluate(f, values) < SMALL_T:
            assert f in withheld
    published = {f: evaluate(f, values) for f in figures if f not in withheld}
    exprs = [r.figure for r in result.audit.ranges]
    assert set(exprs) == withheld
    kept, ranges = brute_ranges(tree.atoms, upper, published, exprs)
    truth = np.array([values[a] for a in tree.atoms])
    assert (kept == truth).all(axis=1).any()  # the true values are among them
    for r, (low, high) in zip(result.audit.ranges, ranges):
        assert (r.low, r.high) == (low, high)
        assert high - low + 1 >= SMALL_T or (low == 0 and high >= SMALL_T - 1)
        assert r.safe


# --------------------------------------------------------------------------- smaller pieces


def test_tree_builder_sums_and_identities():
    tree = figures_for_tree({"A": ["W", "Prov"], "B": ["W", "Prov"], "C": ["V", "Prov"]},
                            {"2025-10": ["2025-Q4", "2025"], "2025-11": ["2025-Q4", "2025"]},
                            ("responses", "satisfied"))
    assert tree.units == ("A", "B", "C", "W", "Prov", "V")
    assert tree.periods == ("2025-10", "2025-11", "2025-Q4", "2025")
    assert len(tree.atoms) == 3 * 2 * 2 and len(tree.figures) == 6 * 4 * 2
    assert tree.count("W", "2025-Q4") == linear([(u, m, "responses") for u in "AB" for m in ("2025-10", "2025-11")])
    assert tree.count("V", "2025-10") == tree.count("C", "2025-10")  # one leaf: the same figure
    assert tree.count("Prov", "2025") == tree.count("Prov", "2025-Q4")
    values = {a: 1 for a in tree.atoms}
    assert evaluate(tree.count("Prov", "2025", "satisfied"), values) == 6
    share = tree.share("W", "2025-10", denominator="responses")
    assert share.shown_with == tree.count("W", "2025-10") and share.half_width == Fraction(1, 2000)
    assert len(tree.at_most("satisfied", "responses")) == 6 and len(tree.fixed_ratio("satisfied", "responses", 2)) == 12
    values[("A", "2025-10", "responses")] = 12
    assert tree.sensitive_cells(values, threshold=10) == tuple(
        linear([(u, m, k)]) for u in "ABC" for m in ("2025-10", "2025-11") for k in ("responses", "satisfied")
        if (u, m) != ("A", "2025-10"))
    with pytest.raises(ValueError, match="no figure"):
        tree.count("X", "2025")


def test_canonical_keys_and_the_safety_rule():
    assert linear({"b": 1, "a": 2}).terms == (("a", 2), ("b", 1))
    assert linear(["a", "b", "a"]) == linear({"a": 2, "b": 1})
    assert hash(linear([("P", 3), ("P", 10)])) == hash(linear([("P", 10), ("P", 3)]))
    assert [a for a, _ in linear([("P", 10), ("P", 3), ("P", "x"), 7]).terms] == [7, ("P", 3), ("P", 10), ("P", "x")]
    assert Share(linear(["s"]), linear(["n"]), 100) != Share(linear(["s"]), linear(["n"]), 1000)
    assert Share(linear(["s"]), linear(["n"]), shown_with=linear(["r"])) == Share(linear(["s"]), linear(["n"]))
    assert [is_safe(0, 9), is_safe(0, 8), is_safe(5, 14), is_safe(5, 13), is_safe(3, float("inf")),
            is_safe(None, 20)] == [True, False, True, False, True, False]


def test_unbounded_side_and_zero_handling():
    # Only a + b = 50 is published: b alone ranges over 0…50; a − b is unbounded neither way.
    res = audit(["a", "b", "c"], {linear(["a", "b"]): 50}, [linear(["b"]), linear(["c"]), linear({"a": 1, "c": -1})])
    assert [(r.low, r.high, r.safe) for r in res.ranges] == [
        (0, 50, True), (0, float("inf"), True), (float("-inf"), 50, True)]
    # A zero is published by default and never chosen to protect while others can.
    tree = figures_for_tree({"A": ["W"], "B": ["W"], "C": ["W"]}, {"m": []})
    values = {("A", "m", "responses"): 4, ("B", "m", "responses"): 0, ("C", "m", "responses"): 30}
    figs = list(tree.figures.values())
    p = protect(tree.atoms, figs, values)
    assert p.primary == (tree.count("A", "m"),) and tree.count("B", "m") not in p.withheld
    p = protect(tree.atoms, figs, values, withhold_zeros=True)
    assert set(p.primary) == {tree.count("A", "m"), tree.count("B", "m")} and p.audit.safe


def test_a_time_limit_counts_as_unsafe(monkeypatch):
    import scipy.optimize

    real = scipy.optimize.milp

    def stopped(c, **kwargs):
        if not np.any(c):  # the feasibility check runs for real
            return real(c, **kwargs)
        return scipy.optimize.OptimizeResult(status=1, message="Time limit reached. (HiGHS Status 13)", x=None)

    monkeypatch.setattr(scipy.optimize, "milp", stopped)
    res = audit(["a", "b"], {linear(["a", "b"]): 500}, [linear(["a"])], time_limit=0.5)
    r = res.ranges[0]
    assert (r.low, r.high, r.safe) == (None, None, False) and r.status.startswith("Time limit")
    assert res.unsafe == (linear(["a"]),)


def test_bounds_alone_can_disclose():
    values = {"a": 5, "b": 40}
    with pytest.raises(ValueError, match="cannot be protected"):
        protect(["a", "b"], [linear(["a"]), linear(["a", "b"])], values, bounds={"a": (5, 6)})


A, B = linear(["a"]), linear(["b"])
BAD_AUDITS = [
    (dict(atoms=[], published={}, withheld=[A]), "at least one atom"),
    (dict(atoms=["a", "a"], published={}, withheld=[A]), "listed twice"),
    (dict(atoms=["a"], published={B: 3}, withheld=[A]), "not in atoms"),
    (dict(atoms=["a", "b"], published={A: 3}, withheld=[A]), "both published and withheld"),
    (dict(atoms=["a", "b"], published={A: 3, linear(["a", "b"]): 2}, withheld=[B]), "contradict each other"),
    (dict(atoms=["a", "b"], published={A: 3}, withheld=[B], true_values={"a": 4, "b": 1}), "published as 3"),
    (dict(atoms=["a", "b"], published={Share(A, B): 0.8925}, withheld=[A]), "multiple of 1/1000"),
    (dict(atoms=["a", "b"], published={Share(A, B): 1.2}, withheld=[A]), "between 0 and 1"),
    (dict(atoms=["a", "b"], published={A: 2.5}, withheld=[B]), "whole number"),
    (dict(atoms=["a", "b"], published={A: 3}, withheld=[Share(A, B)]), "no range to audit"),
    (dict(atoms=["a", "b"], published={A: 3}, withheld=[B], threshold=0), "threshold"),
    (dict(atoms=["a", "b"], published={A: 3}, withheld=[B], time_limit=-1), "time_limit"),
    (dict(atoms=["a", "b"], published={A: 3}, withheld=[B], bounds={"b": (4, 2)}), "empty"),
    (dict(atoms=["a", "b"], published={A: 3}, withheld=[B], bounds={"b": (-1, 2)}), "negative"),
    (dict(atoms=["a", "b"], published={A: 3}, withheld=[B], at_most=[(A,)]), "pair"),
    (dict(atoms=["a", "b"], published={A: 3}, withheld=[B], at_most=[(B, A)], true_values={"a": 3, "b": 5}),
     "at_most"),
    (dict(atoms=["a", "b"], published=[A], withheld=[B]), "map figures"),
    (dict(atoms=["a", "b"], published={A: 3}, withheld=[["b"]]), "Linear or Share"),
]


@pytest.mark.parametrize("kwargs, message", BAD_AUDITS)
def test_audit_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        audit(**kwargs)


@pytest.mark.parametrize("call, message", [
    (lambda: linear([]), "at least one atom"),
    (lambda: linear({"a": 0}), "at least one atom"),
    (lambda: linear({"a": 1.5}), "whole number"),
    (lambda: linear([True]), "atom id"),
    (lambda: linear([["a"]]), "atom id"),
    (lambda: linear("ab"), "mapping"),
    (lambda: Share(A, "b"), "Linear"),
    (lambda: Share(A, B, 0), "scale"),
    (lambda: evaluate(A, {}), "no value"),
    (lambda: is_safe(5, 2), "exceed"),
    (lambda: protect(["a"], [A], {}), "no value for atom"),
    (lambda: protect(["a"], [A], {"a": -1}), "negative"),
    (lambda: protect(["a"], [], {"a": 1}), "at least one figure"),
    (lambda: protect(["a"], [B], {"a": 1}), "not in atoms"),
    (lambda: protect(["a", "b"], [Share(A, B)], {"a": 5, "b": 2}), "between 0 and 1"),
    (lambda: protect(["a"], [A], {"a": 1}, withhold_zeros=1), "True or False"),
    (lambda: figures_for_tree({}, {"m": []}), "at least one leaf"),
    (lambda: figures_for_tree({"A": ["W"], "W": []}, {"m": []}), "is a leaf"),
    (lambda: figures_for_tree({"A": []}, {"m": ["n"], "n": []}), "is a month"),
    (lambda: figures_for_tree({"A": []}, {"m": []}, ("r", "r")), "repeat"),
    (lambda: figures_for_tree({"A": "W"}, {"m": []}), "sequence"),
    (lambda: figures_for_tree({"A": []}, {"m": []}).at_most("responses", "satisfied"), "not one of the measures"),
])
def test_other_functions_reject_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --------------------------------------------------------------------------- the module itself


def test_module_docs_run_and_follow_the_house_style():
    module = importlib.import_module("analysis.disclosure")
    assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0
    for name in module.__all__:
        obj = getattr(module, name)
        if inspect.isfunction(obj):
            for section in ("Parameters", "Returns", "Raises", "Notes", "References", "Examples"):
                assert section in (obj.__doc__ or ""), f"{name} lacks {section}"
        if inspect.isclass(obj):
            assert "Attributes" in (obj.__doc__ or ""), name
    public = {n for n, obj in vars(module).items() if not n.startswith("_")
              and (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == module.__name__}
    assert public <= set(module.__all__)
    source = (ROOT / "analysis" / "disclosure.py").read_text(encoding="utf-8")
    assert "\n    assert " not in source and "\n        assert " not in source
