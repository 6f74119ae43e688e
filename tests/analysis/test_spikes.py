"""analysis.spikes.daily_spike against scipy's Fisher exact test, its documented contract,
and its false-alarm rate on simulated stable days (2,000 days at the nominal level)."""
from __future__ import annotations

import doctest
import inspect

import numpy as np
import pytest
from scipy.stats import fisher_exact

from analysis import spikes
from analysis.spikes import daily_spike


@pytest.mark.parametrize("x, n, bx, bn", [(12, 30, 140, 840), (0, 15, 3, 300), (15, 15, 0, 200), (4, 40, 40, 400),
                                          (9, 16, 14, 140)])
def test_the_p_value_is_fishers_one_sided(x, n, bx, bn):
    reference = fisher_exact([[x, n - x], [bx, bn - bx]], alternative="greater").pvalue
    assert daily_spike(x, n, bx, bn).p == pytest.approx(reference, rel=1e-9, abs=1e-12)


def test_a_hand_worked_case():
    # 2 of 2 today, 0 of 10 before: P(both negatives fall on today) = C(2,2)/C(12,2) = 1/66
    assert daily_spike(2, 2, 0, 10, min_n=1).p == pytest.approx(1 / 66)


def test_low_n_is_never_a_spike():
    r = daily_spike(9, 9, 0, 500)
    assert not r.enough and not r.spike and r.p is None
    assert not daily_spike(10, 10, 0, 9).enough


@pytest.mark.parametrize("args", [(-1, 10, 1, 10), (11, 10, 1, 10), (1, 10, 11, 10), (1.5, 10, 1, 10)])
def test_bad_counts_raise(args):
    with pytest.raises(ValueError):
        daily_spike(*args)


@pytest.mark.parametrize("alpha", [0, 1, float("nan"), -0.1])
def test_bad_alpha_raises(alpha):
    with pytest.raises(ValueError):
        daily_spike(1, 10, 1, 10, alpha=alpha)


def test_module_contract_and_doctest():
    doc = daily_spike.__doc__
    for section in ("Parameters", "Returns", "Raises", "Notes", "References", "Examples"):
        assert section in doc
    assert set(spikes.__all__) == {n for n, o in vars(spikes).items() if not n.startswith("_")
                                   and (inspect.isfunction(o) or inspect.isclass(o)) and o.__module__ == spikes.__name__}
    result = doctest.testmod(spikes)
    assert result.attempted > 0 and result.failed == 0


def simulate(rate: float, spike_rate: float, days: int, seed: int, alpha: float):
    """``days`` days each tested against its 28 days before: responses per day Poisson(12),
    each negative with probability ``rate`` (``spike_rate`` on the tested day)."""
    rng = np.random.default_rng(seed)
    total = days + 28
    n = rng.poisson(12, total)
    x = rng.binomial(n, rate)
    alarms, tested = 0, 0
    for d in range(28, total):
        xd = rng.binomial(n[d], spike_rate) if spike_rate != rate else x[d]
        bx, bn = int(x[d - 28:d].sum()), int(n[d - 28:d].sum())
        r = daily_spike(int(xd), int(n[d]), bx, bn, alpha=alpha)
        if r.enough:
            tested += 1
            alarms += r.spike
    return alarms, tested


@pytest.mark.parametrize("rate, seed", [(0.1, 1), (0.25, 2)])
def test_the_false_alarm_rate_on_stable_days_is_at_most_alpha(rate, seed):
    alarms, tested = simulate(rate, rate, 2000, seed, alpha=0.01)
    assert tested > 1400  # days with at least 10 responses (the others decide nothing)
    assert alarms / tested <= 0.01  # seen: 0.40 % (rate 0.1), 0.33 % (rate 0.25)
    # and the test is not blind: days with five times the usual rate mostly alarm
    hits, tested_spikes = simulate(rate, min(5 * rate, 0.9), 400, seed + 10, alpha=0.01)
    assert hits / tested_spikes > 0.5  # seen: 77 %, 99 %
