"""analysis.reliability against pingouin and its published (R psych) examples."""

import math

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from analysis.reliability import cronbach_alpha, cronbach_alpha_from_data


def _stats(matrix):
    a = np.asarray(matrix, dtype=float)
    return a.shape[0], a.sum(axis=0), a.T @ a


def test_published_likert_example():
    """pingouin docs: 'cronbach_alpha' dataset → 0.5917188485995826, CI [0.195, 0.84]."""
    data = pg.read_dataset("cronbach_alpha").pivot(index="Subj", columns="Items", values="Scores")
    r = cronbach_alpha(*_stats(data.to_numpy()))
    assert r.alpha == pytest.approx(0.5917188485995826, rel=1e-12)
    assert (round(r.low, 3), round(r.high, 3)) == (0.195, 0.84)
    assert (r.n, r.k) == data.shape


def test_published_binary_example_with_listwise_deletion():
    """pingouin docs (R psych use="complete.obs"): 0.8016949152542373."""
    data = pg.read_dataset("cronbach_wide_missing")
    r = cronbach_alpha_from_data(data.to_numpy(dtype=float))
    assert r.alpha == pytest.approx(0.8016949152542373, rel=1e-12)
    assert r.n == len(data.dropna())
    # The Feldt interval uses the n left after deletion (as pingouin does on dropna()).
    _, ci = pg.cronbach_alpha(data.dropna())
    assert (r.low, r.high) == (pytest.approx(ci[0], abs=5e-4), pytest.approx(ci[1], abs=5e-4))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("confidence", [0.90, 0.95])
def test_random_likert_matches_pingouin(seed, confidence):
    rng = np.random.default_rng(seed)
    n, k = rng.integers(10, 300), rng.integers(2, 9)
    latent = rng.normal(size=(n, 1))
    x = np.clip(np.round(3 + latent + rng.normal(scale=1.2, size=(n, k))), 1, 5)
    r = cronbach_alpha(*_stats(x), confidence=confidence)
    alpha, ci = pg.cronbach_alpha(pd.DataFrame(x), ci=confidence)
    assert r.alpha == pytest.approx(alpha, rel=1e-10)
    assert r.low == pytest.approx(ci[0], abs=5e-4)
    assert r.high == pytest.approx(ci[1], abs=5e-4)


@settings(max_examples=25, deadline=None)
@given(arrays(np.int8, st.tuples(st.integers(3, 40), st.integers(2, 6)), elements=st.integers(1, 5)))
def test_property_matches_pingouin(x):
    r = cronbach_alpha_from_data(x.astype(float))
    if np.var(x.sum(axis=1)) == 0:
        assert math.isnan(r.alpha)
        return
    alpha, _ = pg.cronbach_alpha(pd.DataFrame(x.astype(float)))
    assert r.alpha == pytest.approx(alpha, rel=1e-9, abs=1e-9)


def test_zero_total_variance_is_nan():
    r = cronbach_alpha_from_data([[5, 5, 5]] * 10)
    assert math.isnan(r.alpha) and math.isnan(r.low) and (r.n, r.k) == (10, 3)


@pytest.mark.parametrize(
    "args",
    [
        (1, [1, 2], [[1, 2], [2, 4]]),  # n < 2
        (5, [10], [[30]]),  # k < 2
        (5, [10, 12], [[30, 25, 1], [25, 40, 1], [1, 1, 1]]),  # shape
        (5, [10, 12], [[30, 25], [24, 40]]),  # not symmetric
        (5, [10, 12], [[10, 25], [25, 40]]),  # Σx² < (Σx)²/n
        (5, [10, np.nan], [[30, 25], [25, 40]]),
        (5, [10, 12], [[30, 25], [25, 40]], 1.5),
    ],
)
def test_bad_input(args):
    with pytest.raises(ValueError):
        cronbach_alpha(*args)


@pytest.mark.parametrize("matrix", [[[1, 2], [np.nan, 3]], [1, 2, 3], [[1, np.inf], [2, 3], [3, 3]]])
def test_bad_matrix(matrix):
    with pytest.raises(ValueError):
        cronbach_alpha_from_data(matrix)
