"""Private helpers shared by the analysis modules: input checks and small formulas.

Nothing here is public API; every public function validates its own arguments through
these helpers so that bad input always raises ``ValueError`` with a sentence.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Iterable

import numpy as np
from scipy import stats

__all__: list[str] = []


def check_confidence(confidence: float) -> float:
    """Return ``confidence`` as a float, or raise if it is not strictly between 0 and 1."""
    if isinstance(confidence, bool) or not isinstance(confidence, numbers.Real):
        raise ValueError(f"confidence must be a number between 0 and 1, got {confidence!r}.")
    c = float(confidence)
    if not 0.0 < c < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence!r}.")
    return c


def z_value(confidence: float) -> float:
    """Two-sided standard normal quantile, e.g. 1.959964 for 0.95 (cached per level:
    a report asks for the same one hundreds of times)."""
    return _z_value(float(confidence))


@functools.lru_cache(maxsize=64)
def _z_value(confidence: float) -> float:
    return float(stats.norm.ppf(0.5 + confidence / 2.0))


def as_count(value: object, name: str) -> int:
    """Return ``value`` as a non-negative Python int, or raise ``ValueError``.

    Integral floats (``3.0``) are accepted because SQL drivers sometimes return them.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a whole number, got {value!r}.")
    f = float(value)
    if not math.isfinite(f) or f != math.floor(f):
        raise ValueError(f"{name} must be a whole number, got {value!r}.")
    if f < 0:
        raise ValueError(f"{name} must not be negative, got {value!r}.")
    return int(value) if isinstance(value, numbers.Integral) else int(f)


def as_real(value: object, name: str) -> float:
    """Return ``value`` as a finite float, or raise ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, got {value!r}.")
    f = float(value)
    if not math.isfinite(f):
        raise ValueError(f"{name} must be finite, got {value!r}.")
    return f


def as_count_array(values: object, name: str, ndim: int | None = None) -> np.ndarray:
    """Return ``values`` as an int64 array of non-negative whole numbers.

    Raises ``ValueError`` for ragged input, wrong dimensionality, fractions, negative
    numbers, NaN or infinity.
    """
    try:
        arr = np.asarray(values)
    except ValueError as exc:  # ragged nested lists
        raise ValueError(f"{name} must be a rectangular array of counts.") from exc
    if arr.dtype == object:
        raise ValueError(f"{name} must be a rectangular array of counts.")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got {arr.ndim} dimension(s).")
    if arr.dtype.kind == "b":
        raise ValueError(f"{name} must hold counts, not booleans.")
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"{name} must hold numbers, got dtype {arr.dtype}.")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must not contain NaN or infinity.")
        if not np.all(arr == np.floor(arr)):
            raise ValueError(f"{name} must hold whole numbers.")
    if np.any(arr < 0):
        raise ValueError(f"{name} must not contain negative counts.")
    return arr.astype(np.int64)


def as_real_array(values: object, name: str, ndim: int = 1, allow_nan: bool = False) -> np.ndarray:
    """Return ``values`` as a float64 array of the given dimensionality."""
    try:
        arr = np.asarray(values)
    except ValueError as exc:
        raise ValueError(f"{name} must be a rectangular array of numbers.") from exc
    if arr.dtype == object or arr.dtype.kind not in "iufb":
        raise ValueError(f"{name} must hold numbers.")
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got {arr.ndim} dimension(s).")
    arr = arr.astype(np.float64)
    if np.any(np.isinf(arr)):
        raise ValueError(f"{name} must not contain infinity.")
    if not allow_nan and np.any(np.isnan(arr)):
        raise ValueError(f"{name} must not contain NaN.")
    return arr


def level_values(values: Iterable[object], name: str = "values") -> np.ndarray:
    """Return the scale's level values as a float array: finite, unique, non-empty."""
    arr = as_real_array(list(values) if not isinstance(values, np.ndarray) else values, name)
    if arr.size == 0:
        raise ValueError(f"{name} must list at least one level.")
    if np.unique(arr).size != arr.size:
        raise ValueError(f"{name} must not repeat a level.")
    return arr


def satisfied_mask(values: np.ndarray, satisfied_levels: Iterable[object]) -> np.ndarray:
    """Boolean mask over ``values`` marking the satisfied levels; each must be a level."""
    levels = list(satisfied_levels)
    if not levels:
        raise ValueError("satisfied_levels must name at least one level.")
    mask = np.zeros(values.shape, dtype=bool)
    for level in levels:
        f = as_real(level, "each satisfied level")
        hit = values == f
        if not hit.any():
            raise ValueError(f"satisfied level {level!r} is not one of the scale's values.")
        mask |= hit
    return mask


def wilson_arrays(successes: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised Wilson score limits (low, high), clipped to [0, 1]; ``n`` must be > 0."""
    s = successes.astype(np.float64)
    nn = n.astype(np.float64)
    z2 = z * z
    centre = (s + z2 / 2.0) / (nn + z2)
    half = z / (nn + z2) * np.sqrt(s * (nn - s) / nn + z2 / 4.0)
    low = np.clip(centre - half, 0.0, 1.0)
    high = np.clip(centre + half, 0.0, 1.0)
    # Exact end points: with no successes the lower limit is 0, with all successes 1.
    low = np.where(s == 0, 0.0, low)
    high = np.where(s == nn, 1.0, high)
    return low, high


def wilson(successes: int, n: int, z: float) -> tuple[float, float]:
    """Scalar Wilson score limits (low, high)."""
    low, high = wilson_arrays(np.array([successes]), np.array([n]), z)
    return float(low[0]), float(high[0])


def group_rows(matrix: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Row sums of a 2-D ``matrix`` by group: ``out[g] = Σ matrix[i]`` over ``groups[i] == g``
    (``groups[i]`` < 0 leaves row i out); exact for integer and object matrices."""
    out = np.zeros((n_groups, matrix.shape[1]), dtype=matrix.dtype)
    keep = groups >= 0
    if not keep.any():
        return out
    order = np.argsort(groups[keep], kind="stable")
    g_sorted = groups[keep][order]
    starts = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]])
    out[g_sorted[starts]] = np.add.reduceat(matrix[keep][order], starts, axis=0)
    return out
