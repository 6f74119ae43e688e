"""Internal consistency of a factor's criteria: Cronbach's alpha.

Functions
---------
cronbach_alpha
    Alpha and its Feldt interval from sufficient statistics (n, Σxᵢ, Σxᵢxⱼ), which the
    database can return with one aggregate query per factor.
cronbach_alpha_from_data
    The same from a respondents × items matrix (listwise deletion of incomplete rows).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from ._common import as_count, as_real_array, check_confidence

__all__ = ["CronbachAlpha", "cronbach_alpha", "cronbach_alpha_from_data"]


@dataclass(frozen=True)
class CronbachAlpha:
    """Cronbach's alpha of a set of items.

    Attributes
    ----------
    alpha : float
        Cronbach's alpha (may be negative); ``nan`` when the total score has no variance.
    low, high : float
        Feldt confidence limits; ``nan`` with ``alpha``.
    n : int
        Respondents who answered every item.
    k : int
        Number of items.
    """

    alpha: float
    low: float
    high: float
    n: int
    k: int


def cronbach_alpha(
    n: int,
    sums: Sequence[float],
    cross_products: Sequence[Sequence[float]],
    confidence: float = 0.95,
) -> CronbachAlpha:
    """Cronbach's alpha from sufficient statistics.

    Parameters
    ----------
    n : int
        Respondents who answered all k items (at least 2).
    sums : sequence of float, length k
        Σ_r x_{ri} for each item i.
    cross_products : k × k array of float
        Σ_r x_{ri} x_{rj}; the diagonal holds the sums of squares. Must be symmetric.
    confidence : float, optional
        Level of the Feldt interval, default 0.95.

    Returns
    -------
    CronbachAlpha
        Fields ``alpha``, ``low``, ``high``, ``n``, ``k``.

    Raises
    ------
    ValueError
        If n < 2, k < 2, the shapes disagree, the matrix is not symmetric, or an item's
        sum of squares is below (Σx)²/n (impossible for real data).

    Notes
    -----
    Covariance: Cᵢⱼ = (Σxᵢxⱼ − ΣxᵢΣxⱼ/n)/(n − 1).
    α = k/(k − 1) · (1 − Σᵢ Cᵢᵢ / Σᵢⱼ Cᵢⱼ) (the denominator is the variance of the
    total score). Feldt interval with df₁ = n − 1, df₂ = (n − 1)(k − 1):
    [1 − (1 − α)·F_{1−γ/2}(df₁, df₂), 1 − (1 − α)·F_{γ/2}(df₁, df₂)], γ = 1 − confidence.
    When the total score has zero variance (everyone gave the same answers) alpha is
    undefined and every field but n and k is ``nan``.

    References
    ----------
    L. J. Cronbach, "Coefficient alpha and the internal structure of tests",
    Psychometrika 16 (1951) 297–334. L. S. Feldt, D. J. Woodruff, F. A. Salih,
    "Statistical inference for coefficient alpha", Appl. Psychol. Meas. 11 (1987) 93–103.

    Examples
    --------
    >>> x = [[4, 5, 4], [3, 3, 4], [5, 5, 5], [2, 3, 2], [4, 4, 3]]
    >>> import numpy as np
    >>> a = np.array(x, dtype=float)
    >>> r = cronbach_alpha(len(a), a.sum(axis=0), a.T @ a)
    >>> round(r.alpha, 4), r.n, r.k
    (0.913, 5, 3)
    """
    c = check_confidence(confidence)
    nn = as_count(n, "n")
    if nn < 2:
        raise ValueError("Cronbach's alpha needs at least two respondents.")
    s = as_real_array(sums, "sums")
    xx = as_real_array(cross_products, "cross_products", ndim=2)
    k = s.size
    if k < 2:
        raise ValueError("Cronbach's alpha needs at least two items.")
    if xx.shape != (k, k):
        raise ValueError(f"cross_products must be {k}×{k} to match sums, got {xx.shape}.")
    scale = max(float(np.max(np.abs(xx))), 1.0)
    if not np.allclose(xx, xx.T, rtol=1e-12, atol=1e-12 * scale):
        raise ValueError("cross_products must be symmetric.")
    cov = (xx - np.outer(s, s) / nn) / (nn - 1)
    diag = np.diag(cov)
    if np.any(diag < -1e-9 * scale / nn):
        raise ValueError("an item's sum of squares is smaller than its sum squared over n.")
    total_var = float(cov.sum())
    if total_var <= 1e-12 * scale / nn:
        return CronbachAlpha(math.nan, math.nan, math.nan, nn, k)
    alpha = k / (k - 1) * (1.0 - float(np.clip(diag, 0.0, None).sum()) / total_var)
    gamma = 1.0 - c
    df1, df2 = nn - 1, (nn - 1) * (k - 1)
    low = 1.0 - (1.0 - alpha) * float(stats.f.isf(gamma / 2.0, df1, df2))
    high = 1.0 - (1.0 - alpha) * float(stats.f.isf(1.0 - gamma / 2.0, df1, df2))
    return CronbachAlpha(float(alpha), low, high, nn, k)


def cronbach_alpha_from_data(
    matrix: Sequence[Sequence[float]], confidence: float = 0.95
) -> CronbachAlpha:
    """Cronbach's alpha from a respondents × items matrix.

    Parameters
    ----------
    matrix : 2-D array of float
        One row per respondent, one column per item; ``nan`` marks a missing answer.
    confidence : float, optional
        Level of the Feldt interval, default 0.95.

    Returns
    -------
    CronbachAlpha
        Fields ``alpha``, ``low``, ``high``, ``n``, ``k``.

    Raises
    ------
    ValueError
        If the matrix is not 2-D, holds infinity, or fewer than two complete rows or
        two items remain.

    Notes
    -----
    Rows with any ``nan`` are dropped (listwise deletion, as R's
    ``psych::alpha(use = "complete.obs")``), then n, Σxᵢ and Σxᵢxⱼ are passed to
    :func:`cronbach_alpha`.

    References
    ----------
    L. J. Cronbach, Psychometrika 16 (1951) 297–334.

    Examples
    --------
    >>> r = cronbach_alpha_from_data([[4, 5, 4], [3, 3, 4], [5, 5, 5], [2, 3, 2], [4, 4, 3]])
    >>> round(r.alpha, 4)
    0.913
    """
    a = as_real_array(matrix, "matrix", ndim=2, allow_nan=True)
    a = a[~np.isnan(a).any(axis=1)]
    if a.shape[0] < 2:
        raise ValueError("Cronbach's alpha needs at least two complete respondents.")
    return cronbach_alpha(a.shape[0], a.sum(axis=0), a.T @ a, confidence)
