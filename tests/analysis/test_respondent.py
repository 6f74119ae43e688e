"""analysis.respondent: hand-worked fractions, statsmodels, a respondent bootstrap, simulation.

The simulation draws respondents with a latent respondent effect (answers of one
respondent correlated, ICC ≈ 0.4 on the 5-level answers), 19 SIPAS items in its 5
factors, 70–90 % satisfied, 5 % of items skipped at random, and checks that nominal 95 %
intervals cover the true value 93–97 % of the time, that the change test raises 3–7 %
false alarms when nothing changed, and that the old answer-as-n intervals do not.
Run with ``-s`` to see the numbers.
"""

import dataclasses
import doctest
import inspect
import json
import math
import tomllib
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from statsmodels.regression.linear_model import OLS
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from analysis import respondent as rs
from analysis.instrument import ScoredQuestion, Scoring, scoring_of, summarise_response
from analysis.respondent import (
    Estimate,
    Moments,
    feature_layout,
    index_change,
    moh_general_rate,
    moh_mean_score,
    one_stop_mean_total,
    ratio_index,
    respondent_features,
    share_index,
)
from analysis.scores import (
    mean_from_moments,
    moh_general_satisfaction,
    moh_mean_scores,
    satisfied_share_index,
    wilson_interval,
)
from analysis.trends import period_change

ROOT = Path(__file__).resolve().parents[2]
LIKERT = (1, 2, 3, 4, 5)
SAT = frozenset({4, 5})


def _instrument(name):
    return scoring_of(tomllib.loads((ROOT / "surveys" / f"{name}.toml").read_text(encoding="utf-8")))


SIPAS = _instrument("sipas")
ONE_STOP = _instrument("one-stop")
HEALTH = _instrument("health-outpatient")
LAY = feature_layout(SIPAS)
K = LAY.k


def _likert(spec, method="satisfied_share"):
    """Scoring with Likert items: spec = [(key, factor or None), ...]."""
    qs = tuple(ScoredQuestion(k, f, LIKERT, SAT, None) for k, f in spec)
    factors = {}
    for k, f in spec:
        if f is not None:
            factors[f] = factors.get(f, ()) + (k,)
    return Scoring(method, qs, factors)


def _rows(scoring, people):
    """Feature rows from respondents given as {key: level} dicts (missing keys = skipped)."""
    return [respondent_features(scoring, [(k, v, None) for k, v in p.items()]) for p in people]


# --------------------------------------------------------------------------- layout


def test_layout_of_sipas():
    assert (LAY.k, LAY.size, LAY.method, LAY.scale, LAY.max_total) == (19, 41, "satisfied_share", 1, 0)
    assert LAY.items == tuple(q.key for q in SIPAS.questions)
    assert (LAY.y, LAY.x, LAY.level_sum, LAY.total, LAY.respondent) == (slice(0, 19), slice(19, 38), 38, 39, 40)
    assert LAY.names[:19] == tuple(f"y:{k}" for k in LAY.items)
    assert LAY.names[19:38] == tuple(f"x:{k}" for k in LAY.items) and LAY.names[38:] == ("L", "T", "P")
    assert dict(LAY.factors) == dict(SIPAS.factors) and [len(i) for _f, i in LAY.factors] == [4, 4, 5, 3, 3]
    assert LAY.level_range == (1, 5)


def test_one_stop_scale_is_the_smallest_that_keeps_every_total_whole():
    lay = feature_layout(ONE_STOP)
    assert (lay.k, lay.scale, lay.max_total) == (9, 280, 18)
    cases = [(p, a) for a in range(1, 10) for p in range(0, 2 * a + 1)]
    for p, a in cases:  # T = SCALE·p·18/(2a) is a whole number for every answered count
        assert (lay.scale * p * 18) % (2 * a) == 0
    for smaller in range(1, lay.scale):
        assert any((smaller * p * 18) % (2 * a) for p, a in cases)


@pytest.mark.parametrize("max_points,max_total", [((2,) * 12, 24), ((2, 3, 3, 2), 10), ((1, 4), 7)])
def test_scale_for_other_points_plans(max_points, max_total):
    qs = tuple(ScoredQuestion(f"q{i}", None, tuple(range(1, mp + 2)), frozenset({mp + 1}),
                              {lv: lv - 1 for lv in range(1, mp + 2)}) for i, mp in enumerate(max_points))
    lay = feature_layout(Scoring("points", qs, {}, {"max_total": max_total}))
    # every achievable denominator: the maximum points of a non-empty set of items
    subsets = {sum(mp for j, mp in enumerate(max_points) if mask >> j & 1) for mask in range(1, 2 ** len(max_points))}
    assert all((lay.scale * max_total) % d == 0 for d in subsets)
    assert all(any((s * max_total) % d for d in subsets) for s in range(1, lay.scale))


def test_features_agree_with_summarise_response():
    rng = np.random.default_rng(11)
    for scoring in (SIPAS, ONE_STOP, HEALTH):
        lay = feature_layout(scoring)
        by_key = scoring.by_key
        for _ in range(200):
            answers = []
            for q in scoring.questions:
                r = rng.random()
                if r < 0.1:
                    continue  # skipped
                if r < 0.12:
                    answers.append((q.key, 99, None))  # not a level: ignored
                else:
                    answers.append((q.key, int(rng.choice(q.levels)), None))
            answers.append(("comment", None, "free text"))
            v = respondent_features(scoring, answers)
            summary = summarise_response(scoring, answers)
            assert len(v) == lay.size and all(isinstance(e, int) for e in v)
            assert sum(v[lay.y]) == summary.satisfied and sum(v[lay.x]) == summary.scored
            assert v[lay.respondent] == int(summary.scored > 0)
            valid = {k: val for k, val, _t in answers if k in by_key and val in by_key[k].levels}
            assert v[lay.level_sum] == sum(valid.values())
            for c, q in enumerate(scoring.questions):
                assert v[lay.k + c] == int(q.key in valid)
                assert v[c] == int(q.key in valid and valid[q.key] in q.satisfied)
            if scoring.method == "points" and valid:
                denominator = sum(max(by_key[k].points.values()) for k in valid)
                earned = sum(by_key[k].points[val] for k, val in valid.items())
                # T / SCALE is exactly points / (2 × answered) × 18, and so is the stored total
                # of a file that scales totals to the indicators answered
                assert Fraction(v[lay.total], lay.scale) == Fraction(earned * lay.max_total, denominator)
                assert scoring.scale_to_answered
                assert Fraction(summary.points, scoring.points_scale) == Fraction(earned * lay.max_total, denominator)
            else:
                assert v[lay.total] == 0


def test_one_stop_total_is_scaled_to_the_indicators_answered():
    lay = feature_layout(ONE_STOP)
    keys = [q.key for q in ONE_STOP.questions]
    top_but_online = [(k, 3, None) for k in keys[:8]]  # indicator 9 (online) skipped
    v = respondent_features(ONE_STOP, top_but_online)
    assert Fraction(v[lay.total], lay.scale) == 18 and v[lay.respondent] == 1
    v = respondent_features(ONE_STOP, [(k, 2, None) for k in keys[:8]])
    assert Fraction(v[lay.total], lay.scale) == 9
    v = respondent_features(ONE_STOP, [(keys[0], 3, None), (keys[1], 1, None), (keys[2], 2, None)])
    assert Fraction(v[lay.total], lay.scale) == Fraction(3, 6) * 18
    assert respondent_features(ONE_STOP, []) == (0,) * lay.size


def test_repeated_key_counts_last_valid_value_like_summarise_response():
    s = _likert([("a", None), ("b", None)])
    v = respondent_features(s, [("a", 2, None), ("a", 5, None), ("a", 0, None), ("b", None, "x")])
    assert v == (1, 0, 1, 0, 5, 0, 1)


# --------------------------------------------------------------------------- moments


def test_moments_of_zeros_merge_and_json_are_exact():
    rng = np.random.default_rng(3)
    rows = rng.integers(0, 6, size=(50, 7))
    m = Moments.of(rows)
    assert m.n == 50 and m.size == 7
    assert m.sums == tuple(int(v) for v in rows.sum(axis=0))
    assert m.cross == tuple(tuple(int(v) for v in r) for r in rows.T @ rows)
    assert Moments.of(rows[:20]) + Moments.of(rows[20:]) == m
    assert Moments.zeros(7) + m == m and Moments.of(np.zeros((0, 7), dtype=int)) == Moments.zeros(7)
    data = m.to_json()
    assert len(data["cross"]) == 7 * 8 // 2
    assert Moments.from_json(json.loads(json.dumps(data))) == m


def test_moments_keep_big_integers_exact():
    big = 3**45  # beyond int64 and beyond float precision
    m = Moments(2, (big, 2 * big), ((big * big, 2 * big * big), (2 * big * big, 4 * big * big)))
    twice = m + m
    assert twice.sums == (2 * big, 4 * big) and twice.cross[1][1] == 8 * big * big
    assert Moments.from_json(json.loads(json.dumps(twice.to_json()))) == twice
    rows = np.array([[2**40, 1], [2**40, 3]], dtype=np.int64)
    assert Moments.of(rows).cross[0][0] == 2 * 2**80  # object path, no overflow


def test_moments_accept_sql_numbers():
    m = Moments(Decimal(2), [Decimal(3), 2.0], [[Decimal(5), 3], [3, Decimal("2")]])
    assert m == Moments.of([[1, 1], [2, 1]])
    assert all(type(v) is int for v in m.sums + m.cross[0])


# --------------------------------------------------------------------------- exact cases by hand

# Four respondents, factor A = (a1, a2), factor B = (b1); None = skipped.
#   r1: a1 ✓ a2 ✓ b1 ✓   r2: a1 ✗ a2 –  b1 ✓   r3: a1 ✓ a2 ✗ b1 ✗   r4: a1 ✓ a2 ✓ b1 –
# Y = (3, 2, 2), X = (4, 3, 3); p = (3/4, 2/3, 2/3); I_A = 17/24, I_B = 2/3, I = 11/16.
# a = ∂I/∂p = (1/4, 1/4, 1/2), x̄ = (1, 3/4, 3/4):
# u = (19/48, 5/144, −29/48, 25/144), Σu = 0, Σu² = 2867/5184, V = Σu²/(4·3) = 2867/62208.
# Factor A: u = (25/72, −3/8, −23/72, 25/72), V = 209/5184. Factor B: V = 8/81.
HAND = _likert([("a1", "A"), ("a2", "A"), ("b1", "B")])
HAND_PEOPLE = [{"a1": 5, "a2": 4, "b1": 4}, {"a1": 2, "b1": 5}, {"a1": 4, "a2": 3, "b1": 1}, {"a1": 4, "a2": 5}]


def test_share_index_by_hand():
    r = share_index(Moments.of(_rows(HAND, HAND_PEOPLE)), feature_layout(HAND))
    assert r.value == 11 / 16 and r.n == 4 and r.kind == "share"
    assert r.se**2 == pytest.approx(float(Fraction(2867, 62208)), rel=1e-12)
    a, b = r.factors
    assert (a.key, a.criteria, b.key, b.value, b.criteria) == ("A", 2, "B", 2 / 3, 1)
    assert a.value == pytest.approx(17 / 24, rel=1e-15)
    official = satisfied_share_index({"A": [(3, 4), (2, 3)], "B": [(2, 3)]})
    assert (r.value, a.value, b.value) == (official.value, official.factors[0].index, official.factors[1].index)
    assert a.se**2 == pytest.approx(209 / 5184, rel=1e-12) and b.se**2 == pytest.approx(8 / 81, rel=1e-12)
    assert r.score_variance == pytest.approx(4 * 2867 / 62208, rel=1e-12)
    n_eff = float(Fraction(11, 16) * Fraction(5, 16) / Fraction(2867, 62208))
    assert r.n_eff == pytest.approx(n_eff, rel=1e-12) and n_eff < 10  # below the 10 answers
    # Wilson at n* = n_eff·(z/t₃)², checked against statsmodels' Wilson
    n_star = n_eff * (stats.norm.ppf(0.975) / stats.t.ppf(0.975, 3)) ** 2
    low, high = proportion_confint(11 / 16 * n_star, n_star, method="wilson")
    assert (r.low, r.high) == pytest.approx((low, high), rel=1e-10)
    assert b.n_eff == pytest.approx(2.25, rel=1e-12)  # p(1−p)/V = (2/9)/(8/81), below b1's 3 answers
    # Answers negatively correlated within respondents: p(1−p)/V̂ exceeds the answers, so capped.
    s = _likert([("a1", "A"), ("a2", "A")])
    people = [{"a1": 5, "a2": 1}, {"a1": 1, "a2": 5}] * 5 + [{"a1": 5, "a2": 5}]
    value, var = _linearized_by_fractions(people, {"A": ("a1", "a2")})
    assert value * (1 - value) / var > 22
    assert share_index(Moments.of(_rows(s, people)), feature_layout(s)).n_eff == 22


def _linearized_by_fractions(people, factors):
    """V̂ of the SIPAS index straight from the definition, uᵢ = Σ a_c (y − p x)/x̄, in fractions."""
    n = len(people)
    items = [k for ks in factors.values() for k in ks]
    y = {(i, k): int(k in p and p[k] >= 4) for i, p in enumerate(people) for k in items}
    x = {(i, k): int(k in p) for i, p in enumerate(people) for k in items}
    X = {k: sum(x[i, k] for i in range(n)) for k in items}
    p = {k: Fraction(sum(y[i, k] for i in range(n)), X[k]) for k in items if X[k]}
    live = {f: [k for k in ks if X[k]] for f, ks in factors.items()}
    live = {f: ks for f, ks in live.items() if ks}
    a = {k: Fraction(1, len(live) * len(ks)) for ks in live.values() for k in ks}
    u = [sum(a[k] * (y[i, k] - p[k] * x[i, k]) / Fraction(X[k], n) for k in a) for i in range(n)]
    assert sum(u) == 0
    value = sum(sum(p[k] for k in ks) / len(ks) for ks in live.values()) / len(live)
    return value, sum(v * v for v in u) / (n * (n - 1))


def test_share_index_with_skipped_items_and_an_unanswered_factor():
    s = _likert([("a1", "A"), ("a2", "A"), ("a3", "A"), ("b1", "B"), ("b2", "B"), ("c1", "C")])
    people = [{"a1": 5, "a2": 4, "b1": 4, "b2": 2}, {"a1": 3, "b1": 5, "b2": 5}, {"a1": 4, "a2": 4, "b2": 1},
              {"a1": 2, "a2": 5, "b1": 4, "b2": 4}, {"a1": 5, "a2": 2, "b1": 3}, {}, {"a2": 4, "b1": 4}]
    m = Moments.of(_rows(s, people))
    r = share_index(m, feature_layout(s))
    lay = feature_layout(s)
    Y, X = m.sums[lay.y], m.sums[lay.x]
    official = satisfied_share_index({f: [(Y[lay.items.index(k)], X[lay.items.index(k)]) for k in ks]
                                      for f, ks in s.factors.items()})
    assert r.value == official.value  # exactly the official point estimate
    assert [f.value for f in r.factors[:2]] == [f.index for f in official.factors[:2]]
    assert math.isnan(r.factors[2].value) and r.factors[2].criteria == 0 and math.isnan(official.factors[2].index)
    assert [f.criteria for f in r.factors] == [2, 2, 0]  # a3 nobody answered
    value, var = _linearized_by_fractions(people, dict(s.factors))
    assert r.value == pytest.approx(float(value), rel=1e-15)
    assert r.se**2 == pytest.approx(float(var), rel=1e-12)
    assert r.n == 7  # the respondent with no scored answer counts, adds nothing


def test_instrument_without_factors_is_the_mean_of_its_criteria():
    s = _likert([("a", None), ("b", None), ("c", None)])
    people = [{"a": 5, "b": 4, "c": 1}, {"a": 2, "c": 5}, {"a": 4, "b": 4, "c": 4}, {"b": 1}]
    m = Moments.of(_rows(s, people))
    r = share_index(m, feature_layout(s))
    lay = feature_layout(s)
    pairs = list(zip(m.sums[lay.y], m.sums[lay.x]))
    assert r.factors == () and r.value == satisfied_share_index({"_all": pairs}).value
    value, var = _linearized_by_fractions(people, {"_all": ("a", "b", "c")})
    assert r.se**2 == pytest.approx(float(var), rel=1e-12)


# MOH by hand: items a, b; r1 (5, 4), r2 (2, –), r3 (4, 3), r4 (4, 5).
# General rate R = 5/7, eᵢ = aᵢ − R bᵢ = (4/7, −5/7, −3/7, 4/7), V = 4/3·(66/49)/7² = 88/2401.
# Mean score ΣL/ΣX = 27/7, eᵢ = (9/7, −13/7, −5/7, 9/7), V = 4/3·(356/49)/7² = 1424/7203.
MOH = _likert([("a", None), ("b", None)], method="moh")
MOH_PEOPLE = [{"a": 5, "b": 4}, {"a": 2}, {"a": 4, "b": 3}, {"a": 4, "b": 5}]


def test_moh_general_rate_and_mean_score_by_hand():
    m = Moments.of(_rows(MOH, MOH_PEOPLE))
    lay = feature_layout(MOH)
    g = moh_general_rate(m, lay)
    official = moh_general_satisfaction(LIKERT, [[0, 1, 0, 2, 1], [0, 0, 1, 1, 1]], [4, 5])
    assert g.value == official.share == 5 / 7
    assert g.se**2 == pytest.approx(88 / 2401, rel=1e-12)
    assert g.n_eff == pytest.approx((5 / 7) * (2 / 7) / (88 / 2401), rel=1e-12)
    s = moh_mean_score(m, lay)
    assert s.value == 27 / 7 and s.kind == "mean"
    assert s.se**2 == pytest.approx(1424 / 7203, rel=1e-12)
    half = stats.t.ppf(0.975, 3) * s.se
    assert (s.low, s.high) == pytest.approx((27 / 7 - half, min(5.0, 27 / 7 + half)), rel=1e-12)
    assert s.n_eff == pytest.approx(49 / (4 + 1 + 4 + 4), rel=1e-12)  # Kish: (Σb)²/Σb²
    # ΣL/ΣX is the answer-weighted mean (what report.py shows today); the official mean of
    # the item means (moh_mean_scores) differs when an item was skipped: 31/8 here.
    assert moh_mean_scores(LIKERT, {"all": [[0, 1, 0, 2, 1], [0, 0, 1, 1, 1]]}).overall == 31 / 8


def test_moh_mean_score_is_the_official_one_when_every_item_is_answered():
    rng = np.random.default_rng(5)
    lay = feature_layout(HEALTH)
    people = [{q.key: int(rng.integers(1, 6)) for q in HEALTH.questions} for _ in range(60)]
    m = Moments.of(_rows(HEALTH, people))
    counts = {f: [[sum(p[k] == lv for p in people) for lv in LIKERT] for k in ks] for f, ks in HEALTH.factors.items()}
    assert moh_mean_score(m, lay).value == pytest.approx(moh_mean_scores(LIKERT, counts).overall, rel=1e-14)
    flat = [row for rows in counts.values() for row in rows]
    assert moh_general_rate(m, lay).value == moh_general_satisfaction(LIKERT, flat, [4, 5]).share
    section = HEALTH.factors["staff"]
    sec = moh_general_rate(m, lay, items=section)
    assert sec.value == moh_general_satisfaction(LIKERT, counts["staff"], [4, 5]).share


def test_one_stop_mean_total_by_hand_and_against_the_t_interval():
    q = tuple(ScoredQuestion(k, None, (1, 2, 3), frozenset({2, 3}), {1: 0, 2: 1, 3: 2}) for k in "abc")
    s = Scoring("points", q, {}, {"max_total": 6})
    answers = [(3, 3, 3), (3, 2, None), (2, 2, 1), (3, 1, 3)]
    m = Moments.of([respondent_features(s, [(k, v, None) for k, v in zip("abc", r) if v]) for r in answers])
    totals = [Fraction(6), Fraction(3, 4) * 6, Fraction(2, 6) * 6, Fraction(4, 6) * 6]
    r = one_stop_mean_total(m, feature_layout(s))
    assert r.value == float(sum(totals) / 4) == 4.125
    ref = mean_from_moments(4, float(sum(totals)), float(sum(t * t for t in totals)))
    assert r.se == pytest.approx(ref.sd / 2, rel=1e-12)
    assert (r.low, r.high) == pytest.approx((ref.low, min(ref.high, 6.0)), rel=1e-12)
    assert r.n_eff == 4


def test_two_respondents_satisfied_everywhere_get_a_wide_interval():
    people = [{k: 5 for k in LAY.items}] * 2
    r = share_index(Moments.of(_rows(SIPAS, people)), LAY)
    assert (r.value, r.se, r.high, r.n_eff) == (1.0, 0.0, 1.0, 38)
    n_star = 38 * (stats.norm.ppf(0.975) / stats.t.ppf(0.975, 1)) ** 2
    assert r.low == pytest.approx(n_star / (n_star + stats.norm.ppf(0.975) ** 2), rel=1e-12)
    assert r.low < 0.25  # not 91–100 %
    old = satisfied_share_index({f: [(2, 2)] * len(ks) for f, ks in LAY.factors})
    assert old.low > 0.85  # what the answer-as-n interval claimed
    one = share_index(Moments.of(_rows(SIPAS, people[:1])), LAY)
    assert one.value == 1.0 and all(math.isnan(v) for v in (one.se, one.low, one.high, one.n_eff))
    assert all(math.isnan(f.se) for f in one.factors)


def test_ratio_index_general_forms_agree():
    m = Moments.of(_rows(MOH, MOH_PEOPLE))
    lay = feature_layout(MOH)
    by_slice = ratio_index(m, lay.y, lay.x, kind="share")
    weights = [1 if j < 2 else 0 for j in range(lay.size)], [1 if 2 <= j < 4 else 0 for j in range(lay.size)]
    by_weights = ratio_index(m, *weights, kind="share")
    assert by_slice == by_weights == moh_general_rate(m, lay)
    mean = ratio_index(m, lay.level_sum, lay.x)
    assert (mean.value, mean.se) == (moh_mean_score(m, lay).value, moh_mean_score(m, lay).se)


def test_index_change_by_hand():
    a = share_index(Moments.of(_rows(HAND, HAND_PEOPLE)), feature_layout(HAND))
    b = share_index(Moments.of(_rows(HAND, HAND_PEOPLE[:3] * 2)), feature_layout(HAND))
    ch = index_change(a, b)
    assert ch.difference == b.value - a.value and ch.se == pytest.approx(math.hypot(a.se, b.se), rel=1e-14)
    va, vb = a.se**2, b.se**2
    df = (va + vb) ** 2 / (va**2 / 3 + vb**2 / 5)
    assert ch.df == pytest.approx(df, rel=1e-12)
    half = stats.t.ppf(0.975, df) * ch.se
    assert (ch.low, ch.high) == pytest.approx((ch.difference - half, ch.difference + half), rel=1e-12)
    pooled = (3 * a.score_variance + 5 * b.score_variance) / 8
    assert ch.se_null == pytest.approx(math.sqrt(pooled * (1 / 4 + 1 / 6)), rel=1e-12)
    assert ch.z == pytest.approx(ch.difference / ch.se_null, rel=1e-12)
    assert ch.p == pytest.approx(2 * stats.norm.sf(abs(ch.z)), rel=1e-10)
    same = index_change(a, a)
    assert (same.difference, same.z, same.p) == (0.0, 0.0, 1.0)
    full = [{k: 5 for k in HAND.by_key}] * 3
    flat = share_index(Moments.of(_rows(HAND, full)), feature_layout(HAND))
    assert (index_change(flat, flat).p, index_change(flat, flat).se) == (1.0, 0.0)
    single = share_index(Moments.of(_rows(HAND, HAND_PEOPLE[:1])), feature_layout(HAND))
    assert math.isnan(index_change(single, a).p)


# --------------------------------------------------------------------------- synthetic respondents

RHO = 0.5  # latent intraclass correlation; about 0.4 on the 5-level answers
S_ETA = math.sqrt(RHO / (1 - RHO))
P_TRUE = np.linspace(0.70, 0.90, K)[np.random.default_rng(7).permutation(K)]  # satisfied share per item
MU = stats.norm.ppf(P_TRUE) * math.sqrt(1 + S_ETA**2)  # P(latent > 0) = P_TRUE exactly
CUTS = (-1.6, -0.8, 0.0, 1.1)  # levels 1–5; satisfied (4–5) ⇔ latent > 0
POS = {k: c for c, k in enumerate(LAY.items)}
FACTOR_COLS = [(f, [POS[k] for k in ks]) for f, ks in LAY.factors]
TRUE_FACTORS = {f: float(P_TRUE[cols].mean()) for f, cols in FACTOR_COLS}
TRUE_INDEX = float(np.mean(list(TRUE_FACTORS.values())))
TRUE_RATE = float(P_TRUE.mean())  # ΣE[y]/ΣE[x]: skipping is at random


def simulate(rng, reps, n):
    """``reps`` samples of n respondents: feature rows (reps, n, 41), levels and the skip mask."""
    latent = MU + S_ETA * rng.standard_normal((reps, n, 1)) + rng.standard_normal((reps, n, K))
    level = np.ones(latent.shape, dtype=np.int16)
    for cut in CUTS:
        level += latent > cut
    x = rng.random(latent.shape) >= 0.05
    y = (level >= 4) & x
    rows = np.concatenate([y, x, (level * x).sum(-1, keepdims=True), np.zeros((reps, n, 1), dtype=bool),
                           x.any(-1, keepdims=True)], axis=-1).astype(np.int16)
    return rows, level, x


def intraclass_correlation(level):
    """One-way ANOVA ICC(1) of the answers within respondents (item means removed)."""
    _r, n, k = level.shape
    a = level - level.mean(axis=1, keepdims=True)
    person = a.mean(axis=2)
    msb = k * (person**2).sum(axis=1) / (n - 1)
    msw = ((a - person[..., None]) ** 2).sum(axis=(1, 2)) / (n * (k - 1))
    return float(np.mean((msb - msw) / (msb + (k - 1) * msw)))


def test_simulated_rows_are_respondent_features():
    rows, level, x = simulate(np.random.default_rng(1), 1, 25)
    for i in range(25):
        answers = [(k, int(level[0, i, c]), None) for k, c in POS.items() if x[0, i, c]]
        assert respondent_features(SIPAS, answers) == tuple(int(v) for v in rows[0, i])


def _long_form(rows, level, x):
    """Item answers: (respondent, satisfied, level) for every answered item."""
    who, item = np.nonzero(x)
    return who, rows[who, item].astype(float), level[who, item].astype(float)


def test_general_rate_and_mean_score_equal_statsmodels_cluster_robust():
    rows, level, x = simulate(np.random.default_rng(21), 1, 200)
    m = Moments.of(rows[0])
    who, sat, lev = _long_form(rows[0], level[0], x[0])
    ones = np.ones_like(sat)
    # CR1: G/(G−1)·(N−1)/(N−K) with K = 1 regressor is G/(G−1) = n/(n−1), our factor exactly.
    for est, yv in ((moh_general_rate(m, LAY), sat), (moh_mean_score(m, LAY), lev)):
        fit = OLS(yv, ones).fit(cov_type="cluster", cov_kwds={"groups": who}, use_t=True)
        assert est.value == pytest.approx(fit.params[0], rel=1e-13)
        assert est.se == pytest.approx(fit.bse[0], rel=1e-10)
        assert fit.df_resid_inference == est.n - 1
    cols = [POS[k] for k in dict(LAY.factors)["staff"]]
    section = moh_general_rate(m, LAY, items=dict(LAY.factors)["staff"])
    w, i = np.nonzero(x[0][:, cols])
    fit = OLS(rows[0][w, np.array(cols)[i]].astype(float), np.ones(len(w))).fit(
        cov_type="cluster", cov_kwds={"groups": w})
    assert section.se == pytest.approx(fit.bse[0], rel=1e-10)


def test_one_stop_se_equals_statsmodels_with_one_cluster_per_respondent():
    rng = np.random.default_rng(8)
    lay = feature_layout(ONE_STOP)
    keys = [q.key for q in ONE_STOP.questions]
    people = [[(k, int(rng.integers(1, 4)), None) for k in keys if rng.random() > 0.15] or [(keys[0], 3, None)]
              for _ in range(120)]
    rows = np.array([respondent_features(ONE_STOP, p) for p in people])
    r = one_stop_mean_total(Moments.of(rows), lay)
    totals = rows[:, lay.total] / lay.scale
    fit = OLS(totals, np.ones(len(totals))).fit(cov_type="cluster", cov_kwds={"groups": np.arange(120)})
    assert r.value == pytest.approx(fit.params[0], rel=1e-13) and r.se == pytest.approx(fit.bse[0], rel=1e-10)


def _bootstrap_indexes(rows, rng, reps):
    """Official SIPAS index and factor indexes on respondent bootstrap resamples."""
    n = rows.shape[0]
    weights = rng.multinomial(n, np.full(n, 1.0 / n), size=reps).astype(float)
    Y = weights @ rows[:, :K]
    X = weights @ rows[:, K:2 * K]
    p = Y / X
    factors = {f: p[:, cols].mean(axis=1) for f, cols in FACTOR_COLS}
    return np.mean(list(factors.values()), axis=0), factors


def test_share_index_se_agrees_with_a_respondent_bootstrap():
    rows, _level, _x = simulate(np.random.default_rng(31), 1, 400)
    r = share_index(Moments.of(rows[0]), LAY)
    index, factors = _bootstrap_indexes(rows[0], np.random.default_rng(32), 2000)
    assert r.se == pytest.approx(index.std(ddof=1), rel=0.10)
    for f in r.factors:
        assert f.se == pytest.approx(factors[f.key].std(ddof=1), rel=0.10)


# --------------------------------------------------------------------------- simulation

SIZES = {30: 1000, 80: 1000, 300: 1000}  # respondents per sample: replicates
OLD_REPLICATES = 200  # the old answer-as-n intervals, on the first replicates of each size
PAIRS = [(30, 80), (80, 300), (30, 300)]  # change test: independent periods, no change


@pytest.fixture(scope="module")
def simulation():
    rng = np.random.default_rng(20260301)
    out = {"samples": {}, "estimates": {}, "icc": {}, "share": {}}
    for n, reps in SIZES.items():
        rows, level, _x = simulate(rng, reps, n)
        out["samples"][n] = rows
        out["icc"][n] = intraclass_correlation(level[:200])
        out["share"][n] = float(rows[:, :, :K].sum() / rows[:, :, K:2 * K].sum())
        found = []
        for r in range(reps):
            m = Moments.of(rows[r])
            found.append((share_index(m, LAY), moh_general_rate(m, LAY), m.sums))
        out["estimates"][n] = found
    cover = {}
    for n, found in out["estimates"].items():
        cover[n] = {
            "index": np.mean([s.low <= TRUE_INDEX <= s.high for s, _g, _m in found]),
            "staff": np.mean([s.factors[2].low <= TRUE_FACTORS["staff"] <= s.factors[2].high for s, _g, _m in found]),
            "results": np.mean([s.factors[3].low <= TRUE_FACTORS["results"] <= s.factors[3].high
                                for s, _g, _m in found]),
            "rate": np.mean([g.low <= TRUE_RATE <= g.high for _s, g, _m in found]),
        }
        old_index, old_rate = [], []
        for _s, _g, sums in found[:OLD_REPLICATES]:
            Y, X = sums[LAY.y], sums[LAY.x]
            old = satisfied_share_index({f: [(Y[c], X[c]) for c in cols] for f, cols in FACTOR_COLS})
            old_index.append(old.low <= TRUE_INDEX <= old.high)
            w = wilson_interval(sum(Y), sum(X))
            old_rate.append(w.low <= TRUE_RATE <= w.high)
        cover[n]["old index"] = np.mean(old_index)
        cover[n]["old rate"] = np.mean(old_rate)
    alarms = {}
    for na, nb in PAIRS:
        pairs = list(zip(out["estimates"][na], out["estimates"][nb]))  # independent samples
        alarms[na, nb] = {
            "index": np.mean([index_change(a[0], b[0]).p < 0.05 for a, b in pairs]),
            "rate": np.mean([index_change(a[1], b[1]).p < 0.05 for a, b in pairs]),
            "old": np.mean([period_change(sum(a[2][LAY.y]), sum(a[2][LAY.x]),
                                          sum(b[2][LAY.y]), sum(b[2][LAY.x])).p < 0.05
                            for a, b in pairs[:OLD_REPLICATES]]),
        }
    out["cover"], out["alarms"] = cover, alarms
    print(f"\ntrue index {TRUE_INDEX:.4f}, factors "
          + ", ".join(f"{f} {v:.4f}" for f, v in TRUE_FACTORS.items()) + f", general rate {TRUE_RATE:.4f}")
    for n in SIZES:
        print(f"n={n:>3} ({SIZES[n]} replicates; ICC of answers {out['icc'][n]:.3f}, satisfied {out['share'][n]:.3f}): "
              + ", ".join(f"{k} {100 * v:.1f}%" for k, v in cover[n].items()))
    for pair, a in alarms.items():
        print(f"no change, n={pair[0]} vs n={pair[1]} ({SIZES[pair[0]]} pairs): false alarms "
              + ", ".join(f"{k} {100 * v:.1f}%" for k, v in a.items()))
    return out


def test_simulated_data_are_realistic(simulation):
    for n in SIZES:
        assert 0.3 <= simulation["icc"][n] <= 0.6
        assert 0.70 <= simulation["share"][n] <= 0.90
    skipped = 1 - simulation["samples"][80][:, :, K:2 * K].mean()
    assert 0.04 <= skipped <= 0.06


@pytest.mark.parametrize("n", list(SIZES))
@pytest.mark.parametrize("what", ["index", "staff", "results", "rate"])
def test_simulation_coverage_is_nominal(simulation, n, what):
    assert 0.93 <= simulation["cover"][n][what] <= 0.97


@pytest.mark.parametrize("n", list(SIZES))
def test_simulation_old_answer_as_n_intervals_cover_far_less(simulation, n):
    assert simulation["cover"][n]["old index"] < 0.80
    assert simulation["cover"][n]["old rate"] < 0.80


@pytest.mark.parametrize("pair", PAIRS)
def test_simulation_change_test_false_alarms(simulation, pair):
    alarms = simulation["alarms"][pair]
    assert 0.03 <= alarms["index"] <= 0.07
    assert 0.03 <= alarms["rate"] <= 0.07
    assert alarms["old"] > 0.20  # the answer-as-n two-proportion test


def test_simulation_widths_agree_with_bootstrap_and_cluster_references(simulation):
    rng = np.random.default_rng(77)
    ratios = []
    for n in (80, 300):
        rows = simulation["samples"][n]
        for r in range(3):
            s, g, _m = simulation["estimates"][n][r]
            index, factors = _bootstrap_indexes(rows[r], rng, 2000)
            boot = np.percentile(index, [2.5, 97.5])
            boot_staff = np.percentile(factors["staff"], [2.5, 97.5])
            x = rows[r][:, K:2 * K].astype(bool)
            who, item = np.nonzero(x)
            fit = OLS(rows[r][who, item].astype(float), np.ones(len(who))).fit(
                cov_type="cluster", cov_kwds={"groups": who}, use_t=True)
            cl_low, cl_high = fit.conf_int()[0]
            ratios.append((n, (s.high - s.low) / (boot[1] - boot[0]),
                           (s.factors[2].high - s.factors[2].low) / (boot_staff[1] - boot_staff[0]),
                           (g.high - g.low) / (cl_high - cl_low)))
    print("\nwidth ratios (ours / reference): n, index/bootstrap, staff/bootstrap, rate/statsmodels cluster")
    for row in ratios:
        print("  " + ", ".join([str(row[0])] + [f"{v:.3f}" for v in row[1:]]))
    for _n, *values in ratios:
        assert all(0.90 <= v <= 1.10 for v in values)


# --------------------------------------------------------------------------- validation


def test_layout_rejects_bad_scoring():
    with pytest.raises(ValueError, match="Scoring"):
        feature_layout({"method": "moh"})
    with pytest.raises(ValueError, match="no scored question"):
        feature_layout(Scoring("satisfied_share", (), {}))
    q = ScoredQuestion("a", None, (1, 2, 3), frozenset({3}), {1: 0, 2: 1, 3: 2})
    with pytest.raises(ValueError, match="max_total"):
        feature_layout(Scoring("points", (q,), {}, {}))
    with pytest.raises(ValueError, match="no points"):
        feature_layout(Scoring("points", (ScoredQuestion("a", None, (1, 2), frozenset({2}), None),), {},
                               {"max_total": 2}))
    with pytest.raises(ValueError, match="gives no points"):
        feature_layout(Scoring("points", (ScoredQuestion("a", None, (1, 2), frozenset({2}), {1: 0, 2: 0}),), {},
                               {"max_total": 2}))
    with pytest.raises(ValueError, match="not scored"):
        feature_layout(Scoring("satisfied_share", (q,), {"f": ("a", "zz")}))
    with pytest.raises(ValueError, match="repeats"):
        feature_layout(Scoring("satisfied_share", (q, q), {}))
    with pytest.raises(ValueError, match="triple"):
        respondent_features(SIPAS, [("a1", 5)])


@pytest.mark.parametrize("args,match", [
    ((-1, (0,), ((0,),)), "negative"),
    ((2, (1, 1), ((1, 0), (1, 1))), "not symmetric"),
    ((2, (1, 1), ((1, 1),)), "2 × 2"),
    ((2, (1.5,), ((3,),)), "whole number"),
    ((2, (True,), ((1,),)), "whole number"),
    ((2, (4,), ((7,),)), "inconsistent"),
    ((0, (0,), ((1,),)), "inconsistent|n = 0"),
    ((2, (), ()), "at least one feature"),
])
def test_moments_reject_impossible_input(args, match):
    with pytest.raises(ValueError, match=match):
        Moments(*args)


def test_moments_reject_bad_rows_and_json():
    with pytest.raises(ValueError, match="2-D"):
        Moments.of([1, 2, 3])
    with pytest.raises(ValueError, match="whole numbers"):
        Moments.of([[0.5, 1.0]])
    with pytest.raises(ValueError, match="booleans"):
        Moments.of(np.ones((2, 2), dtype=bool))
    with pytest.raises(ValueError, match="merge"):
        Moments.zeros(2) + Moments.zeros(3)
    with pytest.raises(ValueError, match="at least 1"):
        Moments.zeros(0)
    with pytest.raises(ValueError, match="exactly n, sums and cross"):
        Moments.from_json({"n": 1, "sums": [1]})
    with pytest.raises(ValueError, match=r"m\(m\+1\)/2"):
        Moments.from_json({"n": 1, "sums": [1, 1], "cross": [1, 1]})


def test_estimators_reject_bad_input():
    lay = feature_layout(HAND)
    m = Moments.of(_rows(HAND, HAND_PEOPLE))
    with pytest.raises(ValueError, match="features but the layout"):
        share_index(Moments.zeros(5), lay)
    with pytest.raises(ValueError, match="no criterion has any answer"):
        share_index(Moments.of(np.zeros((3, lay.size), dtype=int)), lay)
    impossible = list(m.sums)
    impossible[0] += 1  # more satisfied than answers
    with pytest.raises(ValueError, match="cannot give|inconsistent"):
        share_index(Moments(m.n, impossible, m.cross), lay)
    odd = np.array(_rows(HAND, HAND_PEOPLE))
    odd[0, 2], odd[1, 2] = 2, 0  # y of b1 = 2 and 0 instead of 1 and 1: same total, not 0/1
    with pytest.raises(ValueError, match="not 0/1"):
        share_index(Moments.of(odd), lay)
    with pytest.raises(ValueError, match="not a scored item"):
        share_index(m, lay, {"A": ["a1", "nope"]})
    with pytest.raises(ValueError, match="not one string"):
        share_index(m, lay, {"A": "a1"})
    with pytest.raises(ValueError, match="confidence"):
        share_index(m, lay, confidence=95)
    with pytest.raises(ValueError, match="kind"):
        ratio_index(m, 0, 3, kind="median")
    with pytest.raises(ValueError, match="outside"):
        ratio_index(m, lay.size, 3)
    with pytest.raises(ValueError, match="weights but there are"):
        ratio_index(m, [1, 0], 3)
    with pytest.raises(ValueError, match="whole number"):
        ratio_index(m, [0.5] + [0] * (lay.size - 1), 3)
    with pytest.raises(ValueError, match="not positive"):
        ratio_index(m, 0, lay.total)
    with pytest.raises(ValueError, match="numerator ≤ denominator"):
        ratio_index(m, lay.level_sum, lay.x, kind="share")
    with pytest.raises(ValueError, match="not by points"):
        one_stop_mean_total(m, lay)
    with pytest.raises(ValueError, match="not a scored item"):
        moh_general_rate(m, lay, items=["zz"])
    a = share_index(m, lay)
    with pytest.raises(ValueError, match="cannot compare"):
        index_change(a, moh_mean_score(m, lay))
    with pytest.raises(ValueError, match="two Estimate"):
        index_change(a, 0.5)
    with pytest.raises(ValueError, match="nan"):
        index_change(a, dataclasses.replace(a, value=math.nan))


# --------------------------------------------------------------------------- documentation


def test_module_documents_its_public_names_and_runs_its_examples():
    public = {n for n, obj in vars(rs).items()
              if not n.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj))
              and obj.__module__ == rs.__name__}
    assert public <= set(rs.__all__)
    for name in rs.__all__:
        obj = getattr(rs, name)
        assert obj.__doc__, name
        if inspect.isfunction(obj):
            for section in ("Parameters", "Returns", "Raises", "Notes", "References", "Examples"):
                assert section in obj.__doc__, f"{name} lacks {section}"
    for cls in (Estimate, rs.FactorEstimate, rs.ShareIndex, rs.Change, rs.FeatureLayout, Moments):
        for f in cls.__dataclass_fields__:
            assert f in cls.__doc__ or any(f in base.__doc__ for base in cls.__mro__[1:] if base.__doc__), (cls, f)
    result = doctest.testmod(rs, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 10 and result.failed == 0
    source = (ROOT / "analysis" / "respondent.py").read_text(encoding="utf-8")
    assert "\n    assert " not in source and "\n        assert " not in source


@pytest.mark.parametrize("doublings", [40, 62])
def test_huge_slices_stay_exact(doublings):
    """2⁴⁰ and 2⁶² copies of the hand-worked data: int64 would overflow, Python ints do not."""
    lay = feature_layout(HAND)
    base = Moments.of(_rows(HAND, HAND_PEOPLE))
    huge = base
    for _ in range(doublings):
        huge = huge + huge
    c, n = 2**doublings, 4
    assert huge.n == c * n and huge.sums == tuple(c * v for v in base.sums)
    scale = (c * n / (c * n - 1)) * ((n - 1) / n) / c  # V̂ of c copies relative to V̂ of one
    r0, r = share_index(base, lay), share_index(huge, lay)
    assert r.value == r0.value and r.se**2 == pytest.approx(r0.se**2 * scale, rel=1e-9)
    assert r.n_eff == pytest.approx(r0.n_eff / scale, rel=1e-9) and r.n_eff < 10 * c
    g0, g = moh_general_rate(base, lay), moh_general_rate(huge, lay)
    assert g.value == g0.value and g.se**2 == pytest.approx(g0.se**2 * scale, rel=1e-9)
