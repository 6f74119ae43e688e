"""The PAPI mirror's figures (``analysis/papi.py``): the rescaled dimension scores against a
linearization written out here in numpy (independent of ``respondent.py``'s integer
moments), the module's documentation, and a coverage simulation on correlated household
answers to the shipped ``papi-mirror`` instrument."""
from __future__ import annotations

import doctest
import inspect
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from analysis import papi
from analysis import respondent as rl
from analysis.instrument import scoring_of
from survey_app.services.collect import instruments

ROOT = Path(__file__).resolve().parents[2]
DEFINITION = instruments.parse_file(ROOT / "surveys" / "papi-mirror.toml")
SCORING = scoring_of(DEFINITION)
LAYOUT = rl.feature_layout(SCORING)
RESCALE = papi.rescale_of(DEFINITION)
ITEMS = [q.key for q in SCORING.questions]
DIM_OF = {q.key: q.factor for q in SCORING.questions}
DIMS = list(SCORING.factors)
OPTIONAL = {q["key"] for q in DEFINITION["questions"] if not q["required"]}


def test_the_module_documents_every_public_function_and_its_examples_run():
    assert papi.__doc__
    public = {n for n, obj in vars(papi).items() if not n.startswith("_") and (inspect.isfunction(obj)
              or inspect.isclass(obj)) and obj.__module__ == papi.__name__}
    assert public <= set(papi.__all__)
    for name in papi.__all__:
        obj = getattr(papi, name)
        if inspect.isfunction(obj):
            for section in ("Parameters", "Returns", "Raises", "Notes", "References", "Examples"):
                assert section in (obj.__doc__ or ""), f"{name} lacks {section}"
    result = doctest.testmod(papi, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_the_shipped_instrument_declares_eight_dimensions_on_1_to_10():
    assert RESCALE == papi.Rescale(1, 10, "sum")
    assert [f["en"] for f in DEFINITION["factors"]] == [
        "Participation at local levels", "Transparency in local decision-making",
        "Vertical accountability towards citizens", "Control of corruption in the public sector",
        "Public administrative procedures", "Public service delivery", "Environmental governance", "E-governance"]
    assert 16 <= len(DEFINITION["questions"]) <= 24
    assert all(q["factor"] for q in DEFINITION["questions"]), "every question belongs to a dimension"
    assert RESCALE.total_range(len(DIMS)) == (8.0, 80.0)
    assert "KHÔNG phải bảng hỏi chính thức của PAPI" in DEFINITION["intro"]["vi"]
    assert "NOT the official PAPI questionnaire" in DEFINITION["intro"]["en"]


# ------------------------------------------------------------------ simulated households

def households(rng: np.random.Generator, n: int, shift: float = 0.0):
    """(satisfied, answered, level) arrays n × k: a household's answers share a general
    attitude and one per dimension (answers correlate within households and dimensions);
    optional questions are skipped 30 % of the time."""
    k = len(ITEMS)
    general = rng.normal(size=(n, 1))
    per_dim = rng.normal(size=(n, len(DIMS)))
    dim_index = np.array([DIMS.index(DIM_OF[c]) for c in ITEMS])
    base = np.linspace(-1.2, 1.4, k)
    logit = base + shift + 1.3 * general + 0.8 * per_dim[:, dim_index]
    satisfied = rng.random((n, k)) < 1 / (1 + np.exp(-logit))
    answered = np.ones((n, k), dtype=bool)
    for j, c in enumerate(ITEMS):
        if c in OPTIONAL:
            answered[:, j] = rng.random(n) >= 0.3
    satisfied &= answered
    return satisfied.astype(np.int64), answered.astype(np.int64)


def feature_rows(satisfied: np.ndarray, answered: np.ndarray) -> np.ndarray:
    """The respondents' feature vectors, built directly in the layout (checked against
    ``respondent_features`` below). Levels: 2 for a favourable yes/no, 1 otherwise; 4 or
    1 on the five-level scales."""
    n, k = satisfied.shape
    top = np.array([max(q.levels) for q in SCORING.questions])
    levels = np.where(satisfied == 1, np.where(top == 2, 2, 4), 1) * answered
    rows = np.zeros((n, LAYOUT.size), dtype=np.int64)
    rows[:, LAYOUT.y] = satisfied
    rows[:, LAYOUT.x] = answered
    rows[:, LAYOUT.level_sum] = levels.sum(axis=1)
    rows[:, LAYOUT.respondent] = answered.any(axis=1)
    return rows


def answers_of(satisfied_row, answered_row):
    out = []
    for j, q in enumerate(SCORING.questions):
        if answered_row[j]:
            level = (2 if max(q.levels) == 2 else 4) if satisfied_row[j] else 1
            out.append((q.key, level, None))
    return out


def reference(satisfied: np.ndarray, answered: np.ndarray):
    """Dimension and total on 1–10 / 8–80 and their linearized SEs, written out directly:
    p_c = Σy/Σx; I_f = mean of p_c over the dimension's answered criteria; the overall
    mean of I_f; u_i = Σ_c a_c (y_ic − p_c x_ic) / x̄_c, V = Σu²/(n(n − 1))."""
    n = satisfied.shape[0]
    y, x = satisfied.astype(float), answered.astype(float)
    X = x.sum(axis=0)
    p = np.divide(y.sum(axis=0), X, out=np.zeros_like(X), where=X > 0)
    xbar = X / n
    per_dim, se_dim, weights_all = {}, {}, np.zeros(len(ITEMS))
    for f in DIMS:
        cols = [j for j, c in enumerate(ITEMS) if DIM_OF[c] == f and X[j] > 0]
        a = np.zeros(len(ITEMS))
        a[cols] = 1 / len(cols)
        weights_all += a / len(DIMS)
        u = ((y - p * x) / np.where(xbar > 0, xbar, 1)) @ a
        per_dim[f] = 1 + 9 * p[cols].mean()
        se_dim[f] = 9 * np.sqrt((u ** 2).sum() / (n * (n - 1)))
    u = ((y - p * x) / np.where(xbar > 0, xbar, 1)) @ weights_all
    total = sum(per_dim.values())
    se_total = 72 * np.sqrt((u ** 2).sum() / (n * (n - 1)))
    return per_dim, se_dim, total, se_total


def test_the_feature_rows_are_those_of_the_instrument():
    rng = np.random.default_rng(7)
    sat, ans = households(rng, 25)
    rows = feature_rows(sat, ans)
    for i in range(25):
        assert tuple(rows[i]) == rl.respondent_features(SCORING, answers_of(sat[i], ans[i]), LAYOUT)


@pytest.mark.parametrize("n", [12, 60, 400])
def test_scores_and_standard_errors_match_the_written_out_linearization(n):
    rng = np.random.default_rng(n)
    sat, ans = households(rng, n)
    out = papi.mirror_scores(rl.Moments.of(feature_rows(sat, ans)), LAYOUT, SCORING.factors, RESCALE)
    per_dim, se_dim, total, se_total = reference(sat, ans)
    for d in out.dimensions:
        assert d.value == pytest.approx(per_dim[d.key], abs=1e-12)
        assert d.se == pytest.approx(se_dim[d.key], rel=1e-9)
        # the interval is the share's, moved to the new scale
        assert d.low == pytest.approx(1 + 9 * d.share.low, abs=1e-12)
        assert d.high == pytest.approx(1 + 9 * d.share.high, abs=1e-12)
        assert 1 <= d.low <= d.value <= d.high <= 10
        assert d.n == n
    assert out.total.value == pytest.approx(total, abs=1e-10)
    assert out.total.se == pytest.approx(se_total, rel=1e-9)
    assert 8 <= out.total.low <= out.total.value <= out.total.high <= 80


def test_a_single_question_dimension_matches_the_textbook_proportion():
    """One criterion, everyone answering: the share's linearized variance is
    p(1 − p)/(n − 1), so se on 1–10 is 9·√(p(1 − p)/(n − 1)) (statsmodels' DescrStatsW
    with ddof = 1 gives the same)."""
    from statsmodels.stats.weightstats import DescrStatsW

    d = {"key": "x", "scales": {"yn": {"levels": [{"value": 1}, {"value": 2}], "satisfied": [2]}},
         "factors": [{"key": "a"}], "questions": [{"key": "q1", "type": "scale", "scale": "yn", "factor": "a"}],
         "scoring": {"method": "satisfied_share", "rescale": {"min": 1, "max": 10}}}
    s = scoring_of(d)
    values = [2] * 31 + [1] * 19
    rows = [rl.respondent_features(s, [("q1", v, None)]) for v in values]
    out = papi.mirror_scores(rl.Moments.of(rows), rl.feature_layout(s), s.factors, papi.rescale_of(d))
    y = np.array([v == 2 for v in values], dtype=float)
    assert out.dimensions[0].value == pytest.approx(1 + 9 * y.mean())
    assert out.dimensions[0].se == pytest.approx(9 * DescrStatsW(y).std_mean)
    assert out.total.value == pytest.approx(out.dimensions[0].value)  # total "mean" of one dimension


def test_a_sum_needs_every_dimension_and_bad_ranges_are_refused():
    rng = np.random.default_rng(3)
    sat, ans = households(rng, 30)
    cols = [j for j, c in enumerate(ITEMS) if DIM_OF[c] == "procedures"]
    sat[:, cols] = 0
    ans[:, cols] = 0
    out = papi.mirror_scores(rl.Moments.of(feature_rows(sat, ans)), LAYOUT, SCORING.factors, RESCALE)
    procedures = next(d for d in out.dimensions if d.key == "procedures")
    assert procedures.criteria == 0 and procedures.value != procedures.value  # nan: nobody answered
    assert out.total is None
    for bad in ({"min": 10, "max": 1}, {"min": 1, "max": 10, "total": "median"}, {"min": "1", "max": 10}):
        with pytest.raises(ValueError):
            papi.rescale_of({"scoring": {"rescale": bad}})


def test_the_change_between_rounds_is_the_shares_change_rescaled():
    rng = np.random.default_rng(11)
    a = papi.mirror_scores(rl.Moments.of(feature_rows(*households(rng, 80))), LAYOUT, SCORING.factors, RESCALE)
    b = papi.mirror_scores(rl.Moments.of(feature_rows(*households(rng, 120, shift=0.5))), LAYOUT,
                           SCORING.factors, RESCALE)
    dims, total = papi.mirror_change(a, b)
    for d_a, d_b in zip(a.dimensions, b.dimensions):
        ch = rl.index_change(d_a.share, d_b.share)
        got = dims[d_a.key]
        assert got.difference == pytest.approx(d_b.value - d_a.value)
        assert (got.low, got.high, got.p) == pytest.approx((9 * ch.low, 9 * ch.high, ch.p))
    assert total.difference == pytest.approx(b.total.value - a.total.value)
    assert total.se == pytest.approx(np.hypot(a.total.se, b.total.se))


def test_published_scores_are_placed_against_the_interval():
    rng = np.random.default_rng(5)
    out = papi.mirror_scores(rl.Moments.of(feature_rows(*households(rng, 200))), LAYOUT, SCORING.factors, RESCALE)
    first = out.dimensions[0]
    gaps = papi.published_gaps(out, {first.key: first.high + 0.5, out.dimensions[1].key: out.dimensions[1].value,
                                     "unknown": 3.0})
    assert [(g.key, g.position) for g in gaps] == [(first.key, "below"), (out.dimensions[1].key, "within")]
    assert gaps[0].difference == pytest.approx(first.value - first.high - 0.5)
    with pytest.raises(ValueError):
        papi.published_gaps(out, {first.key: float("nan")})


# ------------------------------------------------------------------ simulation

def truth(rng: np.random.Generator, shift: float = 0.0, n: int = 400_000):
    sat, ans = households(rng, n, shift)
    p = sat.sum(axis=0) / ans.sum(axis=0)
    dims = {f: 1 + 9 * np.mean([p[j] for j, c in enumerate(ITEMS) if DIM_OF[c] == f]) for f in DIMS}
    return dims, sum(dims.values())


@pytest.mark.parametrize("n", [40, 200])
def test_95_percent_intervals_cover_93_to_97_percent_of_households_samples(n):
    """1,000 campaigns of n households each (answers correlated within a household, ICC
    about 0.3 on the logit scale, 30 % skips on optional questions): the dimensions' and
    the total's intervals cover the true value 93–97 % of the time."""
    rng = np.random.default_rng(2026 + n)
    true_dims, true_total = truth(np.random.default_rng(1))
    reps = 1000
    hits = {f: 0 for f in DIMS}
    hits_total = 0
    for _ in range(reps):
        out = papi.mirror_scores(rl.Moments.of(feature_rows(*households(rng, n))), LAYOUT, SCORING.factors, RESCALE)
        for d in out.dimensions:
            hits[d.key] += d.low <= true_dims[d.key] <= d.high
        hits_total += out.total.low <= true_total <= out.total.high
    coverage = {f: h / reps for f, h in hits.items()}
    assert all(0.93 <= c <= 0.97 for c in coverage.values()), coverage
    assert 0.93 <= hits_total / reps <= 0.97, hits_total / reps


def test_the_change_test_raises_3_to_7_percent_false_alarms_when_nothing_changed():
    rng = np.random.default_rng(99)
    reps, alarms, alarms_dim = 1000, 0, 0
    for _ in range(reps):
        a = papi.mirror_scores(rl.Moments.of(feature_rows(*households(rng, 40))), LAYOUT, SCORING.factors, RESCALE)
        b = papi.mirror_scores(rl.Moments.of(feature_rows(*households(rng, 150))), LAYOUT, SCORING.factors, RESCALE)
        dims, total = papi.mirror_change(a, b)
        alarms += total.p < 0.05
        alarms_dim += dims["corruption"].p < 0.05
    assert 0.03 <= alarms / reps <= 0.07, alarms / reps
    assert 0.03 <= alarms_dim / reps <= 0.07, alarms_dim / reps
    assert stats.binomtest(alarms, reps, 0.05).pvalue > 0.001
