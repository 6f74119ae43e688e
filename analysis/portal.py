"""The national public-service portal's dossier figures (Quyết định 766/QĐ-TTg, 2022).

Shown beside our own survey statistics, never instead of them: the portal counts
dossiers, we count respondents. Both figures are shares of the dossiers resolved (returned)
in the period, in percent with two decimals; a period without any is "N/A" (``None``).
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PortalFigures", "portal_figures"]


@dataclass(frozen=True)
class PortalFigures:
    """``resolved``, ``late`` and ``complained`` dossiers (counts); ``on_time`` and
    ``satisfaction`` in percent (two decimals), ``None`` when nothing was resolved."""
    resolved: int
    late: int
    complained: int
    on_time: float | None
    satisfaction: float | None


def portal_figures(resolved: int, late: int, complained: int) -> PortalFigures:
    """The on-time share and the dossier satisfaction of 766/QĐ-TTg.

    Parameters
    ----------
    resolved : int
        Dossiers resolved (returned) in the period: the denominator.
    late : int
        Of those, dossiers resolved late, the time waiting for the citizen's extra
        documents left out (a second request for documents counts as late).
    complained : int
        Of those, dossiers with a petition or a "not satisfied" rating.

    Returns
    -------
    PortalFigures
        ``on_time`` = 100 × (resolved − late) / resolved and ``satisfaction`` =
        100 − (100 × late / resolved + 100 × complained / resolved), floored at 0; both
        rounded to two decimals, ``None`` when ``resolved`` is 0.

    Raises
    ------
    ValueError
        If a count is negative, or ``late`` or ``complained`` exceeds ``resolved``.

    Notes
    -----
    The portal's formula: dossier satisfaction = 100% − (share of dossiers resolved late
    + share of dossiers with a petition or a "not satisfied" rating). A dossier both late
    and complained about counts in both shares, as the formula adds them. It is a share of
    dossiers, not of respondents: a dossier nobody rated counts as satisfied unless it was
    late or drew a petition. Our own satisfaction index is a share of respondents.

    References
    ----------
    Quyết định 766/QĐ-TTg (23/6/2022) của Thủ tướng Chính phủ, Bộ chỉ số chỉ đạo, điều
    hành và đánh giá chất lượng phục vụ người dân, doanh nghiệp (transcription of the
    formula's description; not the official annex).

    Examples
    --------
    >>> f = portal_figures(resolved=200, late=6, complained=4)
    >>> f.on_time, f.satisfaction
    (97.0, 95.0)
    >>> portal_figures(0, 0, 0).satisfaction is None
    True
    """
    for name, value in (("resolved", resolved), ("late", late), ("complained", complained)):
        if not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a whole number, 0 or more, not {value!r}")
    if late > resolved or complained > resolved:
        raise ValueError("late and complained dossiers are among the resolved ones, so neither can exceed them")
    if resolved == 0:
        return PortalFigures(0, 0, 0, None, None)
    on_time = round(100.0 * (resolved - late) / resolved, 2)
    satisfaction = round(max(0.0, 100.0 - 100.0 * late / resolved - 100.0 * complained / resolved), 2)
    return PortalFigures(resolved, late, complained, on_time, satisfaction)
