"""Charts for reports, drawn with matplotlib's object API (never pyplot).

Each chart function takes ``ax=None`` (a new :class:`matplotlib.figure.Figure` with an
Agg canvas is made when it is None) and returns the Axes; ``ax.figure`` is the figure.
Legends are drawn outside the plotting area (below the figure, or right of a caller's
Axes), so they never cover data. Colours are colour-blind safe: Okabe–Ito for the funnel
flags (each with its own marker shape, so colour is never the only cue) and cividis for
heat maps, whose cells also carry their n. Render with :func:`to_png` or :func:`to_svg`, which apply the same style, so the
Vietnamese text is drawn with DejaVu Sans (shipped with matplotlib, full Vietnamese
coverage). Labels are NFC-normalised first, so decomposed input renders too. No global
matplotlib state is changed; the module is safe in a threaded server.

Functions
---------
period_label
    A period key ("2026-01", "2026-Q1") as readers write it: "Th1/2026", "Q1/2026" (vi),
    "Jan 2026", "Q1 2026" (en); from :mod:`analysis.report`, which needs no matplotlib.
likert_bars
    Diverging stacked bars for Likert items.
trend_chart
    A share (or mean) per period with its interval band.
funnel_chart
    Units' shares against n with Spiegelhalter funnel limits.
heatmap
    A factor × unit (or any) matrix of shares.
hour_weekday_heatmap
    Satisfied share (or counts) by weekday and hour.
to_png, to_svg
    Render a figure to bytes.
"""

from __future__ import annotations

import functools
import io
import math
import numbers
import textwrap
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter, PercentFormatter

from ._common import as_count_array, as_real_array
from .compare import FLAGS, funnel_flags, funnel_limits, funnel_limits_variance
from .report import LOW_N, period_label

__all__ = [
    "WEEKDAYS_VI",
    "WEEKDAYS_EN",
    "FLAG_COLOURS",
    "FLAG_MARKERS",
    "HEATMAP_CMAP",
    "LOW_N",
    "period_label",
    "likert_bars",
    "trend_chart",
    "funnel_chart",
    "index_funnel_chart",
    "heatmap",
    "hour_weekday_heatmap",
    "to_png",
    "to_svg",
]

#: Weekday names, Monday first (row order of :mod:`analysis.patterns`).
WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

_STYLE = {
    "font.family": ["DejaVu Sans"],
    "font.size": 9.0,
    "svg.fonttype": "path",  # glyphs as paths: identical rendering without fonts
    "svg.hashsalt": "hai-long",  # stable ids in SVG output
    "axes.spines.top": False,
    "axes.spines.right": False,
}

_TEXT = {
    "vi": {
        "target": "Trung bình chung",
        "limit95": "Giới hạn 95%",
        "limit998": "Giới hạn 99,8%",
        "n": "Số câu trả lời (n)",
        "share": "Tỷ lệ hài lòng",
        "hour": "Giờ",
        "interval": "Khoảng tin cậy 95%",
        "marked": "Dưới 10 phiếu hoặc kỳ chưa trọn",
        "respondents": "Số người trả lời (n)",
        "index": "Chỉ số",
        "before_merger": "Trước sáp nhập",
        "after_merger": "Sau sáp nhập",
        "above_998": "Trên giới hạn 99,8%",
        "above_95": "Trên giới hạn 95%",
        "within": "Trong giới hạn",
        "below_95": "Dưới giới hạn 95%",
        "below_998": "Dưới giới hạn 99,8%",
        "cell_n": "Số trong ô: số câu trả lời; ô xám gạch chéo: dưới {low} câu, không tô màu",
    },
    "en": {
        "target": "Overall",
        "limit95": "95% limits",
        "limit998": "99.8% limits",
        "n": "Answers (n)",
        "share": "Satisfied share",
        "hour": "Hour",
        "interval": "95% interval",
        "marked": "Under 10 responses, or a partial period",
        "respondents": "Respondents (n)",
        "index": "Index",
        "before_merger": "Before the merger",
        "after_merger": "After the merger",
        "above_998": "Above the 99.8% limit",
        "above_95": "Above the 95% limit",
        "within": "Within the limits",
        "below_95": "Below the 95% limit",
        "below_998": "Below the 99.8% limit",
        "cell_n": "Number in a cell: answers; grey hatched: under {low} answers, not coloured",
    },
}

#: Funnel flag colours, from the Okabe–Ito palette (safe for every common colour-vision
#: deficiency): blues above the limits, orange and vermillion below, grey within.
FLAG_COLOURS = {
    "above_998": "#0072B2",  # blue
    "above_95": "#56B4E9",  # sky blue
    "within": "#999999",  # grey
    "below_95": "#E69F00",  # orange
    "below_998": "#D55E00",  # vermillion
}
#: Marker per flag, so the flag does not rest on colour alone: ▲ above, ● within, ▼ below.
FLAG_MARKERS = {"above_998": "^", "above_95": "^", "within": "o", "below_95": "v", "below_998": "v"}
#: The heat maps' colour map: cividis, perceptually uniform and readable with any colour vision.
HEATMAP_CMAP = "cividis"
_LOW_N_FACE = "#d9d9d9"  # a cell with fewer than min_count answers: grey, hatched
_LOW_N_LABEL_BOX = {"boxstyle": "square,pad=0.15", "facecolor": _LOW_N_FACE, "edgecolor": "none"}

F = TypeVar("F", bound=Callable[..., Any])


def _styled(func: F) -> F:
    """Run ``func`` inside the chart style (fonts are resolved when text is made)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with mpl.rc_context(_STYLE):
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _nfc(text: object) -> str:
    return unicodedata.normalize("NFC", str(text))


def _wrap(text: object, width: int = 38) -> str:
    return "\n".join(textwrap.wrap(_nfc(text), width)) or " "


def _percent_ticks(lang: str) -> FuncFormatter:
    """Percent tick labels for shares 0–1, with a decimal comma in Vietnamese (70,5%).

    Whole percents when every tick is whole, else one decimal.
    """

    def label(value: float, _pos: int) -> str:
        pct = value * 100
        text = f"{pct:.0f}" if abs(pct - round(pct)) < 1e-9 else f"{pct:.1f}"
        return (text.replace(".", ",") if lang == "vi" else text) + "%"

    return FuncFormatter(label)


def _texts(lang: str) -> dict[str, str]:
    if lang not in _TEXT:
        raise ValueError(f"lang must be one of {sorted(_TEXT)}, got {lang!r}.")
    return _TEXT[lang]


def _tick_label(label: object, lang: str) -> str:
    """A period key in the reader's format (:func:`period_label`); any other label as it
    is (NFC)."""
    text = _nfc(label)
    try:
        return period_label(text, lang)
    except ValueError:
        return text


def _legend_outside(ax: Axes, ncols: int, first_row: int | None = None) -> Legend | None:
    """The Axes' legend, placed where it cannot cover data.

    On a figure this module made (constrained layout, one Axes) the legend goes below
    everything, in a band the layout reserves (``loc="outside lower center"``); on a
    caller's Axes it goes right of the plotting area, anchored at its top right corner.
    Entries read row by row; with ``first_row`` the first row holds only that many
    entries (the lines), the rest (the points) start the next row.
    """
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return None
    items = list(zip(handles, labels))
    if first_row is not None and first_row < len(items):
        ncols = max(first_row, min(ncols, len(items) - first_row))
        blank = (Line2D([], [], linestyle="none"), "")
        items = items[:first_row] + [blank] * (ncols - first_row) + items[first_row:]
    fig = ax.figure
    if isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine) and fig.axes == [ax]:
        ncols = min(ncols, len(items))
        rows = math.ceil(len(items) / ncols)
        # matplotlib fills columns first: reorder so the entries read row by row
        order = [r * ncols + c for c in range(ncols) for r in range(rows) if r * ncols + c < len(items)]
        items = [items[i] for i in order]
        return fig.legend([h for h, _l in items], [lab for _h, lab in items], loc="outside lower center",
                          ncols=ncols, frameon=False, fontsize=8)
    items = [it for it in items if it[1]]
    return ax.legend([h for h, _l in items], [lab for _h, lab in items], loc="upper left",
                     bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, frameon=False, fontsize=8)


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is not None:
        if not isinstance(ax, Axes):
            raise ValueError("ax must be a matplotlib Axes or None.")
        return ax
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig.add_subplot()


def _labels(labels: Sequence[object], name: str, size: int) -> list[str]:
    out = [_nfc(x) for x in labels]
    if len(out) != size:
        raise ValueError(f"{name} has {len(out)} labels but the data has {size}.")
    return out


def _item_label(label: str, n: int | None, width: int = 40) -> str:
    lines = textwrap.wrap(label, width) or [""]
    if n is not None:
        tail = f"(n = {n})"
        if len(lines[-1]) + 1 + len(tail) <= width + 4:
            lines[-1] = f"{lines[-1]} {tail}".strip()
        else:
            lines.append(tail)
    return "\n".join(lines)


def _text_colour(rgba: Sequence[float]) -> str:
    r, g, b = rgba[:3]
    return "white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.5 else "black"


@_styled
def likert_bars(
    items: Sequence[str],
    counts: Sequence[Sequence[int]],
    levels: Sequence[str],
    neutral: int | None | str = "auto",
    ax: Axes | None = None,
    title: str | None = None,
    show_n: bool = True,
) -> Axes:
    """Diverging stacked bars: dissatisfied levels left of 0, satisfied right.

    Parameters
    ----------
    items : sequence of str
        Item (question) labels, drawn top to bottom.
    counts : 2-D array of int, shape (items, levels)
        Answers per item and level, lowest level first.
    levels : sequence of str
        Level labels for the legend, lowest first, e.g. "Rất không hài lòng" … "Rất hài
        lòng".
    neutral : int, None or "auto", optional
        Index of the neutral level, split half each side of 0. "auto" (default) takes
        the middle level of an odd scale and none for an even one. With None the lower
        ⌊k/2⌋ levels go left (pass None for the one-stop scale Không hài lòng / Hài
        lòng / Rất hài lòng, which has no neutral level).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure if None.
    title : str, optional
        Axes title.
    show_n : bool, optional
        Append "(n = …)" to each item label, default True.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Raises
    ------
    ValueError
        If the shapes disagree, a count is invalid or ``neutral`` is out of range.

    Notes
    -----
    Each bar shows percentages of the item's answers, 100·c_l/n. Levels below the
    neutral one stack leftwards from −neutral/2, levels above it rightwards from
    +neutral/2, so the bar's position shows the balance of opinion (Robbins & Heiberger).

    References
    ----------
    N. B. Robbins, R. M. Heiberger, "Plotting Likert and other rating scales", Proc.
    Survey Research Methods Section, ASA (2011) 1058–1066.

    Examples
    --------
    >>> ax = likert_bars(["Tiếp cận dịch vụ hành chính công"], [[2, 3, 5, 20, 20]],
    ...                  ["Rất không hài lòng", "Không hài lòng", "Bình thường",
    ...                   "Hài lòng", "Rất hài lòng"])
    >>> to_png(ax.figure)[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    """
    table = as_count_array(counts, "counts", ndim=2)
    m, k = table.shape
    item_labels = _labels(items, "items", m)
    level_labels = _labels(levels, "levels", k)
    if k < 2:
        raise ValueError("a Likert chart needs at least two levels.")
    if neutral == "auto":
        mid: int | None = k // 2 if k % 2 == 1 else None
    elif neutral is None:
        mid = None
    elif isinstance(neutral, numbers.Integral) and not isinstance(neutral, bool) and 0 <= neutral < k:
        mid = int(neutral)
    else:
        raise ValueError(f"neutral must be 'auto', None or a level index 0..{k - 1}.")
    n = table.sum(axis=1)
    pct = np.divide(table * 100.0, n[:, None], out=np.zeros(table.shape), where=n[:, None] > 0)
    if mid is not None:
        neg_end, pos_start = mid, mid + 1
        base = pct[:, mid] / 2.0
    else:
        neg_end = pos_start = k // 2
        base = np.zeros(m)
    cmap = mpl.colormaps["RdBu"]  # reds for dissatisfied, blues for satisfied
    colours = [cmap(x) for x in np.linspace(0.10, 0.36, neg_end)]
    if mid is not None:
        colours.append((0.82, 0.82, 0.82, 1.0))
    colours += [cmap(x) for x in np.linspace(0.64, 0.90, k - pos_start)]
    neg = base + pct[:, :neg_end].sum(axis=1)
    pos = base + pct[:, pos_start:].sum(axis=1)
    lim = max(float(np.max(neg, initial=0)), float(np.max(pos, initial=0)), 10.0) * 1.05
    min_label = 0.05 * 2 * lim  # a bar narrower than 5 % of the axis gets no label
    ax = _axes(ax, (8.0, 0.55 * m + 1.8))
    y = np.arange(m)
    for lev in range(k):
        if lev < neg_end:
            left = -(base + pct[:, lev:neg_end].sum(axis=1))
        elif lev >= pos_start:
            left = base + pct[:, pos_start:lev].sum(axis=1)
        else:
            left = -base
        bars = ax.barh(y, pct[:, lev], left=left, height=0.7, color=colours[lev],
                       label=level_labels[lev], edgecolor="white", linewidth=0.5)
        for rect, value in zip(bars, pct[:, lev]):
            if value >= min_label:
                ax.text(rect.get_x() + rect.get_width() / 2, rect.get_y() + rect.get_height() / 2,
                        f"{value:.0f}%", ha="center", va="center", fontsize=7,
                        color=_text_colour(colours[lev]))
    ax.set_xlim(-lim, lim)
    ax.axvline(0, color="#333333", linewidth=0.8)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{abs(v):.0f}%"))
    ticks = [_item_label(lab, int(c) if show_n else None) for lab, c in zip(item_labels, n)]
    ax.set_yticks(y, ticks)
    ax.set_ylim(m - 0.5, -0.5)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncols=min(k, 3), frameon=False,
              fontsize=8)
    if title:
        ax.set_title(_nfc(title))
    return ax


@_styled
def trend_chart(
    periods: Sequence[str],
    values: Sequence[float],
    low: Sequence[float] | None = None,
    high: Sequence[float] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    ylabel: str | None = None,
    percent: bool = True,
    lang: str = "vi",
    marked: Sequence[bool] | None = None,
    divide_before: int | None = None,
) -> Axes:
    """A value per period with its confidence band.

    Parameters
    ----------
    periods : sequence of str
        Periods in time order: keys of :func:`analysis.report.period_of` ("2026-01",
        "2026-Q1"), drawn as :func:`period_label` writes them in ``lang`` ("Th1/2026",
        "Q1/2026"); any other label is drawn as it is.
    values : sequence of float
        One value per period; ``nan`` leaves a gap (e.g. a suppressed period).
    low, high : sequence of float, optional
        Interval limits per period, drawn as a band (both or neither).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure if None.
    title, ylabel : str, optional
        Axes title and y label.
    percent : bool, optional
        Values are shares in [0, 1], shown as percentages (default True).
    lang : {"vi", "en"}, optional
        Language of the period labels and the built-in legend text.
    marked : sequence of bool, optional
        Periods to draw as hollow points, with a legend entry: those with fewer than 10
        responses and those still running, which the trend test leaves out.
    divide_before : int, optional
        Index of the first period after a merger of units: a dashed line is drawn before it
        and the periods on its left are labelled "before the merger" (their answers are the
        former units').

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Raises
    ------
    ValueError
        If lengths disagree, only one of ``low``/``high`` is given, or ``lang`` is unknown.

    Notes
    -----
    The band is ``fill_between(low, high)``; a period whose limits are ``nan`` has no
    band. Every period keeps its place on the axis, so an empty one is a gap. The legend
    sits outside the plotting area (see :func:`_legend_outside`). Intervals come from e.g. :func:`analysis.scores.satisfied_share_index`.

    References
    ----------
    W. S. Cleveland, The Elements of Graphing Data, Hobart Press, 1994.

    Examples
    --------
    >>> ax = trend_chart(["Q1", "Q2", "Q3"], [0.8, 0.82, 0.85], [0.75, 0.78, 0.8],
    ...                  [0.85, 0.86, 0.89], title="Tiếp cận dịch vụ hành chính công")
    >>> to_svg(ax.figure)[:5]
    b'<?xml'
    """
    text = _texts(lang)
    labels = [_tick_label(p, lang) for p in periods]
    v = as_real_array(values, "values", allow_nan=True)
    if v.size != len(labels):
        raise ValueError(f"values has {v.size} entries but periods has {len(labels)}.")
    if (low is None) != (high is None):
        raise ValueError("give both low and high, or neither.")
    ax = _axes(ax, (7.0, 3.2))
    x = np.arange(v.size)
    if low is not None and high is not None:
        lo = as_real_array(low, "low", allow_nan=True)
        hi = as_real_array(high, "high", allow_nan=True)
        if lo.size != v.size or hi.size != v.size:
            raise ValueError("low and high must have one entry per period.")
        ok = ~(np.isnan(lo) | np.isnan(hi))
        ax.fill_between(x, np.where(ok, lo, np.nan), np.where(ok, hi, np.nan), color="#2166ac",
                        alpha=0.18, linewidth=0, label=text["interval"])
    ax.plot(x, v, marker="o", color="#2166ac", linewidth=1.8, markersize=4)
    if marked is not None:
        mk = np.asarray(list(marked), dtype=bool)
        if mk.size != v.size:
            raise ValueError("marked must have one entry per period.")
        if mk.any():
            ax.plot(x[mk], v[mk], linestyle="none", marker="o", markersize=6, markerfacecolor="white",
                    markeredgecolor="#2166ac", markeredgewidth=1.4, label=text["marked"], zorder=3)
    ax.set_xticks(x, labels, rotation=45 if len(labels) > 8 else 0,
                  ha="right" if len(labels) > 8 else "center")
    if percent:
        ax.yaxis.set_major_formatter(_percent_ticks(lang))
    if ylabel:
        ax.set_ylabel(_nfc(ylabel))
    if title:
        ax.set_title(_nfc(title))
    if divide_before is not None:
        if not 0 < divide_before < v.size:
            raise ValueError("divide_before must be the index of a period after the first one.")
        line = divide_before - 0.5
        bottom, top = ax.get_ylim()
        ax.set_ylim(bottom, top + 0.12 * (top - bottom))  # headroom: the labels never sit on the data
        ax.axvline(line, color="#555555", linestyle="--", linewidth=1.0)
        ax.text(line - 0.1, 1.0, text["before_merger"], transform=ax.get_xaxis_transform(), ha="right",
                va="top", fontsize=8, color="#555555")
        ax.text(line + 0.1, 1.0, text["after_merger"], transform=ax.get_xaxis_transform(), ha="left",
                va="top", fontsize=8, color="#555555")
    _legend_outside(ax, ncols=2)
    ax.grid(axis="y", color="#e0e0e0", linewidth=0.6)
    return ax


@_styled
def index_funnel_chart(
    values: Sequence[float],
    n: Sequence[int],
    centre: float,
    score_variance: float,
    labels: Sequence[str] | None = None,
    flags: Sequence[str] | None = None,
    percent: bool = True,
    ax: Axes | None = None,
    title: str | None = None,
    lang: str = "vi",
) -> Axes:
    """Funnel plot of units' indexes against their respondents, with 95 % and 99.8 % limits.

    Parameters
    ----------
    values : sequence of float
        Each unit's index (the instrument's own measure).
    n : sequence of int
        Each unit's respondents.
    centre : float
        The value the limits surround (the units' pooled mean).
    score_variance : float
        The pooled per-respondent variance of the linearized index score, so that a unit of
        n respondents has sampling variance ``score_variance / n``.
    labels : sequence of str, optional
        Unit names, written next to the points (with more than 12 units, only those
        outside the 95 % limits).
    flags : sequence of str, optional
        Funnel flags per unit (:data:`analysis.compare.FLAGS`) to colour and shape the
        points (:data:`FLAG_COLOURS`, :data:`FLAG_MARKERS`).
    percent : bool, optional
        Values are shares in [0, 1] (default True).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure if None.
    title : str, optional
        Axes title.
    lang : {"vi", "en"}, optional
        Language of the axis and legend text.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Raises
    ------
    ValueError
        If lengths disagree or the variance is not positive.

    Notes
    -----
    Limits: centre ± z·√(score_variance / n) for z of 95 % and 99.8 %, from
    :func:`analysis.compare.funnel_limits_variance`, drawn on a grid of n from 2 to
    1.1·max n. The respondent is the sampling unit, as in the report's intervals.

    References
    ----------
    D. J. Spiegelhalter, "Funnel plots for comparing institutional performance",
    Stat. Med. 24 (2005) 1185–1202.

    Examples
    --------
    >>> ax = index_funnel_chart([0.82, 0.7, 0.9], [300, 40, 120], 0.81, 0.05,
    ...                         labels=["Phường 1", "Phường 2", "Xã Hải Lệ"])
    >>> len(to_png(ax.figure)) > 1000
    True
    """
    text = _texts(lang)
    v = as_real_array(values, "values")
    nn = as_count_array(n, "n", ndim=1)
    if nn.size != v.size:
        raise ValueError("values and n must have one entry per unit.")
    if not (score_variance > 0 and math.isfinite(score_variance)):
        raise ValueError("score_variance must be a positive number.")
    names = None if labels is None else _labels(labels, "labels", v.size)
    bounds = (0.0, 1.0) if percent else (-math.inf, math.inf)
    grid = np.unique(np.geomspace(2, max(3, math.ceil(int(nn.max()) * 1.1)), 300).round().astype(np.int64))
    lim = funnel_limits_variance(centre, score_variance, grid, bounds=bounds)
    ax = _axes(ax, (7.0, 4.2))
    if flags is not None and len(flags) != v.size:
        raise ValueError("flags must have one entry per unit.")
    _funnel(ax, centre, grid, lim, nn, v, flags, names, text)
    visible = np.asarray(lim.low998)[grid >= max(int(nn.min()), 20)]
    floor = min(float(v.min()), float(visible.min()) if visible.size else float(v.min()))
    top = max(float(v.max()), float(np.asarray(lim.high95)[grid >= max(int(nn.min()), 20)].max(initial=v.max())))
    if percent:
        ax.set_ylim(max(0.0, floor - 0.05), min(1.02, top + 0.05))
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    ax.set_xlabel(text["respondents"])
    ax.set_ylabel(text["index"])
    _legend_outside(ax, ncols=4, first_row=3)
    if title:
        ax.set_title(_nfc(title))
    _declutter(ax)
    return ax


#: More units than this and only those outside the 95 % limits are named (the rest would
#: be a pile of overlapping names).
_NAME_ALL_UP_TO = 12


def _funnel(ax: Axes, centre: float, grid: np.ndarray, lim: Any, n: np.ndarray, values: np.ndarray,
            flags: Sequence[str] | None, names: Sequence[str] | None, text: dict[str, str]) -> None:
    """The centre line, the 95 % and 99.8 % limits over ``grid`` and the units' points:
    one marker and colour per flag (:data:`FLAG_COLOURS`, :data:`FLAG_MARKERS`), each flag
    present with its legend entry; without flags every point is a grey dot."""
    ax.axhline(centre, color="#333333", linewidth=1.0, label=text["target"])
    ax.plot(grid, lim.low95, color="#666666", linestyle="--", linewidth=0.9, label=text["limit95"])
    ax.plot(grid, lim.high95, color="#666666", linestyle="--", linewidth=0.9)
    ax.plot(grid, lim.low998, color="#000000", linestyle=":", linewidth=1.2, label=text["limit998"])
    ax.plot(grid, lim.high998, color="#000000", linestyle=":", linewidth=1.2)
    n = np.asarray(n)
    values = np.asarray(values, dtype=float)
    if flags is None:
        ax.scatter(n, values, c=FLAG_COLOURS["within"], marker="o", s=28, zorder=3, edgecolors="#333333",
                   linewidths=0.5)
        flag_of = ["within"] * n.size
    else:
        flag_of = list(flags)
        unknown = set(flag_of) - set(FLAGS)
        if unknown:
            raise ValueError(f"unknown funnel flags {sorted(unknown)}; expected {FLAGS}.")
        for flag in FLAGS:
            pick = np.array([f == flag for f in flag_of], dtype=bool)
            if pick.any():
                ax.scatter(n[pick], values[pick], c=FLAG_COLOURS[flag], marker=FLAG_MARKERS[flag],
                           s=40 if flag.endswith("998") else 30, zorder=3, edgecolors="#333333", linewidths=0.5,
                           label=text[flag])
    ax.set_xlim(0, grid[-1])
    if names is not None:
        name_all = len(names) <= _NAME_ALL_UP_TO
        for x, yv, name, flag in zip(n, values, names, flag_of):
            if not (name_all or flag != "within"):
                continue
            left = float(x) > 0.75 * float(grid[-1])  # near the right edge: name on the left
            ax.annotate(name, (float(x), float(yv)), xytext=(-5 if left else 5, 3), textcoords="offset points",
                        ha="right" if left else "left", fontsize=7)


def _declutter(ax: Axes) -> None:
    """Move the Axes' annotations (unit names) apart vertically where they overlap: each
    name, in order of its point's height, steps up or down until it is clear of those
    already placed. Lays the figure out once to measure the text."""
    notes = [t for t in ax.texts if hasattr(t, "xyann")]
    if len(notes) < 2:
        return
    fig = ax.figure
    fig.draw_without_rendering()
    get_renderer = getattr(fig.canvas, "get_renderer", None)  # a caller's Figure may have no Agg canvas
    renderer = get_renderer() if get_renderer else RendererAgg(int(fig.bbox.width), int(fig.bbox.height), fig.dpi)
    to_points = 72.0 / fig.dpi
    placed: list[Any] = []
    for note in sorted(notes, key=lambda t: -t.xy[1]):
        gap = 3.0 / to_points  # 3 pt between names
        box = note.get_window_extent(renderer).padded(gap)
        x0, y0 = note.xyann
        for step in range(1, 12):
            if not any(box.overlaps(other) for other in placed):
                break
            shift = (step + 1) // 2 * box.height * 1.05 * (1 if step % 2 else -1)
            note.xyann = (x0, y0 + shift * to_points)
            box = note.get_window_extent(renderer).padded(gap)
        placed.append(box)


@_styled
def funnel_chart(
    successes: Sequence[int],
    n: Sequence[int],
    labels: Sequence[str] | None = None,
    p0: float | None = None,
    method: str = "exact",
    ax: Axes | None = None,
    title: str | None = None,
    lang: str = "vi",
) -> Axes:
    """Funnel plot: each unit's share against its n, with 95 % and 99.8 % limits.

    Parameters
    ----------
    successes, n : sequence of int
        Satisfied answers and all answers per unit.
    labels : sequence of str, optional
        Unit names, written next to the points (with more than 12 units, only those
        outside the 95 % limits).
    p0 : float, optional
        Target share; default the pooled share.
    method : {"exact", "normal"}, optional
        Limits method, see :func:`analysis.compare.funnel_limits`.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure if None.
    title : str, optional
        Axes title.
    lang : {"vi", "en"}, optional
        Language of the axis and legend text.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Raises
    ------
    ValueError
        As :func:`analysis.compare.funnel_flags`, or if ``labels`` has the wrong length.

    Notes
    -----
    Limits are drawn on a grid of n from 1 to 1.1·max n; points are coloured and shaped by
    their :func:`analysis.compare.funnel_flags` flag (Okabe–Ito colours, ▲ above, ▼ below).
    The legend is outside the plotting area, so it never hides a unit.

    References
    ----------
    D. J. Spiegelhalter, "Funnel plots for comparing institutional performance",
    Stat. Med. 24 (2005) 1185–1202.

    Examples
    --------
    >>> ax = funnel_chart([950, 80, 300, 6], [1000, 100, 400, 6],
    ...                   labels=["Phường 1", "Phường 2", "Xã Hải Lệ", "Trạm y tế"])
    >>> len(to_png(ax.figure)) > 1000
    True
    """
    text = _texts(lang)
    f = funnel_flags(successes, n, p0=p0, method=method)
    names = None if labels is None else _labels(labels, "labels", f.n.size)
    n_max = int(f.n.max())
    grid = np.unique(np.geomspace(1, max(2, math.ceil(n_max * 1.1)), 300).round().astype(np.int64))
    lim = funnel_limits(f.p0, grid, method)
    ax = _axes(ax, (7.0, 4.2))
    _funnel(ax, f.p0, grid, lim, f.n, f.share, list(f.flags), names, text)
    # Below n = 20 the 99.8 % limit plunges towards 0; do not let it set the scale.
    floor = min(float(f.share.min()), float(lim.low998[grid >= max(int(f.n.min()), 20)].min(
        initial=f.share.min())))
    ax.set_ylim(max(0.0, floor - 0.05), 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    ax.set_xlabel(text["n"])
    ax.set_ylabel(text["share"])
    _legend_outside(ax, ncols=4, first_row=3)
    if title:
        ax.set_title(_nfc(title))
    _declutter(ax)
    return ax


def _low_n_cells(ax: Axes, low: np.ndarray) -> None:
    """Grey, hatched squares over the cells of ``low`` (too few answers to colour)."""
    for i, j in zip(*np.nonzero(low)):
        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1.0, 1.0, facecolor=_LOW_N_FACE, edgecolor="#a6a6a6",
                               hatch="////", linewidth=0.0, zorder=2))


def _count_text(c: int, lang: str) -> str:
    return f"{c:,}".replace(",", "." if lang == "vi" else ",")


@_styled
def heatmap(
    values: Sequence[Sequence[float]],
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    ax: Axes | None = None,
    title: str | None = None,
    vmin: float = 0.0,
    vmax: float = 1.0,
    percent: bool = True,
    annotate: bool = True,
    cmap: str = HEATMAP_CMAP,
    counts: Sequence[Sequence[int]] | None = None,
    min_count: int = LOW_N,
    lang: str = "vi",
) -> Axes:
    """Heat map of a matrix, e.g. factor (rows) × unit (columns) indexes.

    Parameters
    ----------
    values : 2-D array of float
        The matrix; ``nan`` cells (no data, or suppressed) are drawn grey with "–".
    row_labels, col_labels : sequence of str
        Labels of rows and columns.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure if None.
    title : str, optional
        Axes title.
    vmin, vmax : float, optional
        Colour scale limits, default 0 and 1.
    percent : bool, optional
        Show values as percentages (default True).
    annotate : bool, optional
        Write each value (and its n) in its cell (default True).
    cmap : str, optional
        A matplotlib colormap name, default :data:`HEATMAP_CMAP` ("cividis").
    counts : 2-D array of int, optional
        Answers behind each cell, written under its value as "n = …".
    min_count : int, optional
        A cell with fewer answers than this (default :data:`LOW_N`, 10) is drawn grey and
        hatched with only its n: too few answers to colour.
    lang : {"vi", "en"}, optional
        Thousands separator of the counts (1.620 / 1,620).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Raises
    ------
    ValueError
        If the labels or counts do not match the matrix, ``vmin >= vmax`` or the colormap
        is unknown.

    Notes
    -----
    Colour = cmap((x − vmin)/(vmax − vmin)), clipped; a colour bar shows the scale. Text
    is white on dark cells and black on light ones (luminance 0.299 R + 0.587 G +
    0.114 B below or above 0.5).

    References
    ----------
    L. Wilkinson, M. Friendly, "The history of the cluster heat map", Am. Stat. 63
    (2009) 179–184. J. R. Nuñez, C. R. Anderton, R. S. Renslow, "Optimizing colormaps
    with consideration for color vision deficiency", PLoS ONE 13 (2018) e0199239
    (cividis).

    Examples
    --------
    >>> ax = heatmap([[0.8, 0.9], [0.7, float("nan")]],
    ...              ["Tiếp cận dịch vụ hành chính công", "Thủ tục hành chính"],
    ...              ["Phường 1", "Phường 2"], counts=[[40, 52], [6, 0]])
    >>> to_svg(ax.figure).count(b"<svg") == 1
    True
    """
    v = as_real_array(values, "values", ndim=2, allow_nan=True)
    rows = _labels(row_labels, "row_labels", v.shape[0])
    cols = _labels(col_labels, "col_labels", v.shape[1])
    _texts(lang)
    if not vmin < vmax:
        raise ValueError("vmin must be below vmax.")
    if cmap not in mpl.colormaps:
        raise ValueError(f"unknown colormap {cmap!r}.")
    c = None
    if counts is not None:
        c = as_count_array(counts, "counts", ndim=2)
        if c.shape != v.shape:
            raise ValueError(f"counts must have the shape of values {v.shape}, got {c.shape}.")
    low = np.zeros(v.shape, dtype=bool) if c is None else (c > 0) & (c < min_count)
    colormap = mpl.colormaps[cmap].with_extremes(bad="#eeeeee")
    ax = _axes(ax, (max(5.0, 0.7 * v.shape[1] + 3.5), max(2.5, (0.6 if c is not None else 0.45) * v.shape[0] + 1.5)))
    image = ax.imshow(np.ma.masked_invalid(np.where(low, np.nan, v)), cmap=colormap, vmin=vmin, vmax=vmax,
                      aspect="auto")
    _low_n_cells(ax, low)
    ax.set_xticks(np.arange(v.shape[1]), [_wrap(col, 20) for col in cols], rotation=45, ha="right")
    ax.set_yticks(np.arange(v.shape[0]), [_wrap(r, 34) for r in rows])
    for spine in ax.spines.values():
        spine.set_visible(False)
    if annotate:
        for i in range(v.shape[0]):
            for j in range(v.shape[1]):
                x = v[i, j]
                n_text = None if c is None else f"n = {_count_text(int(c[i, j]), lang)}"
                box = None
                if low[i, j]:
                    label, colour = n_text, "black"
                    box = _LOW_N_LABEL_BOX
                elif np.isnan(x):
                    label, colour = "–", "#555555"
                else:
                    label = f"{100 * x:.0f}%" if percent else f"{x:.2f}"
                    if n_text is not None:
                        label += "\n" + n_text
                    colour = _text_colour(colormap(float(np.clip((x - vmin) / (vmax - vmin), 0, 1))))
                ax.text(j, i, label, ha="center", va="center", fontsize=7, color=colour, zorder=3,
                        linespacing=1.1, bbox=box)
    bar = ax.figure.colorbar(image, ax=ax, shrink=0.8)
    if percent:
        bar.ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    if title:
        ax.set_title(_nfc(title))
    return ax


@_styled
def hour_weekday_heatmap(
    values: Sequence[Sequence[float]],
    count: Sequence[Sequence[int]] | None = None,
    min_count: int = LOW_N,
    ax: Axes | None = None,
    title: str | None = None,
    percent: bool = True,
    lang: str = "vi",
    show_n: bool = True,
) -> Axes:
    """Heat map of a 7 × 24 weekday × hour matrix (rows Monday … Sunday).

    Parameters
    ----------
    values : 2-D array of float, shape (7, 24)
        E.g. ``HourWeekday.share`` (or ``.count`` with ``percent=False``).
    count : 2-D array of int, shape (7, 24), optional
        Answers per cell, written in the cell (``show_n``).
    min_count : int, optional
        A cell with at least one answer but fewer than this (default :data:`LOW_N`, 10) is
        drawn grey and hatched instead of coloured: too few answers for a share.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure if None.
    title : str, optional
        Axes title.
    percent : bool, optional
        Values are shares in [0, 1] (default True); else raw numbers.
    lang : {"vi", "en"}, optional
        Language of the weekday and hour labels.
    show_n : bool, optional
        Write each cell's count in it (default True; needs ``count``). Pass False where
        small counts must not be shown (public pages).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Raises
    ------
    ValueError
        If a matrix is not 7 × 24 or ``lang`` is unknown.

    Notes
    -----
    Colours: :data:`HEATMAP_CMAP` (cividis), 0–100 % for shares, 0 to the maximum for
    raw numbers. Cells without answers (or ``nan``) are light grey; cells with
    0 < count < min_count grey and hatched. Each count is written in black or white,
    whichever contrasts with its cell.

    References
    ----------
    ISO 8601 weekdays, Monday first. Nuñez, Anderton, Renslow, PLoS ONE 13 (2018)
    e0199239 (cividis).

    Examples
    --------
    >>> import numpy as np
    >>> ax = hour_weekday_heatmap(np.full((7, 24), 0.8), np.full((7, 24), 12))
    >>> to_png(ax.figure)[:4]
    b'\\x89PNG'
    """
    text = _texts(lang)
    v = as_real_array(values, "values", ndim=2, allow_nan=True)
    if v.shape != (7, 24):
        raise ValueError(f"values must be 7 × 24 (weekday × hour), got {v.shape}.")
    c = None
    low = np.zeros((7, 24), dtype=bool)
    if count is not None:
        c = as_count_array(count, "count", ndim=2)
        if c.shape != (7, 24):
            raise ValueError(f"count must be 7 × 24 (weekday × hour), got {c.shape}.")
        low = (c > 0) & (c < min_count)
        v = np.where(c > 0, v, np.nan)
    days = WEEKDAYS_VI if lang == "vi" else WEEKDAYS_EN
    colormap = mpl.colormaps[HEATMAP_CMAP].with_extremes(bad="#eeeeee")
    shown = np.where(low, np.nan, v)
    vmax = 1.0 if percent else max(float(np.nanmax(shown, initial=0.0)), 1.0)
    ax = _axes(ax, (9.0, 3.4))
    image = ax.imshow(np.ma.masked_invalid(shown), cmap=colormap, vmin=0.0, vmax=vmax, aspect="auto")
    _low_n_cells(ax, low)
    if c is not None and show_n:
        for i, j in zip(*np.nonzero(c)):
            x = shown[i, j]
            colour = "black" if np.isnan(x) else _text_colour(colormap(float(np.clip(x / vmax, 0, 1))))
            ax.text(j, i, _count_text(int(c[i, j]), lang), ha="center", va="center", fontsize=6,
                    color=colour, zorder=3, bbox=_LOW_N_LABEL_BOX if low[i, j] else None)
    ax.set_xticks(np.arange(24), [str(h) for h in range(24)], fontsize=7)
    ax.set_yticks(np.arange(7), list(days))
    ax.set_xlabel(text["hour"])
    if c is not None and show_n:
        ax.set_xlabel(text["hour"] + "\n" + text["cell_n"].format(low=min_count), linespacing=1.6)
    for spine in ax.spines.values():
        spine.set_visible(False)
    bar = ax.figure.colorbar(image, ax=ax, shrink=0.85)
    if percent:
        bar.ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    if title:
        ax.set_title(_nfc(title))
    return ax


def _figure(fig: Figure | Axes) -> Figure:
    if isinstance(fig, Axes):
        return fig.figure  # type: ignore[return-value]
    if not isinstance(fig, Figure):
        raise ValueError("expected a matplotlib Figure or Axes.")
    return fig


def to_png(fig: Figure | Axes, dpi: int = 150) -> bytes:
    """Render a figure (or an Axes' figure) to PNG bytes.

    Parameters
    ----------
    fig : matplotlib.figure.Figure or matplotlib.axes.Axes
        What to render.
    dpi : int, optional
        Resolution, default 150.

    Returns
    -------
    bytes
        The PNG file, starting with ``b"\\x89PNG\\r\\n\\x1a\\n"``.

    Raises
    ------
    ValueError
        If ``fig`` is neither a Figure nor an Axes, or ``dpi`` is not positive.

    Notes
    -----
    Rendered with the Agg rasteriser inside the chart style (DejaVu Sans), without the
    "Software" metadata so the bytes do not depend on the matplotlib version string.

    References
    ----------
    W3C, Portable Network Graphics (PNG) Specification, 2nd ed., 2003.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> to_png(Figure(figsize=(1, 1)))[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    """
    figure = _figure(fig)
    if isinstance(dpi, bool) or not isinstance(dpi, (int, float)) or dpi <= 0:
        raise ValueError("dpi must be a positive number.")
    buf = io.BytesIO()
    with mpl.rc_context(_STYLE):
        figure.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def to_svg(fig: Figure | Axes) -> bytes:
    """Render a figure (or an Axes' figure) to SVG bytes.

    Parameters
    ----------
    fig : matplotlib.figure.Figure or matplotlib.axes.Axes
        What to render.

    Returns
    -------
    bytes
        The UTF-8 SVG document.

    Raises
    ------
    ValueError
        If ``fig`` is neither a Figure nor an Axes.

    Notes
    -----
    Text is drawn as glyph paths (``svg.fonttype = "path"``), so it looks the same
    without fonts on the reader's device; each text keeps an XML comment with its
    string. Dates are left out and ids are salted, so equal figures give equal bytes.

    References
    ----------
    W3C, Scalable Vector Graphics (SVG) 1.1, 2nd ed., 2011.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> to_svg(Figure(figsize=(1, 1)))[:5]
    b'<?xml'
    """
    figure = _figure(fig)
    buf = io.BytesIO()
    with mpl.rc_context(_STYLE):
        figure.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue()
