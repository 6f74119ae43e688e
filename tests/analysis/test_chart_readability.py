"""Charts readable at a glance: period labels in the reader's language, legends that never
cover data, colour-blind-safe palettes with marker shapes, and n written in heat-map cells."""
from __future__ import annotations

import numpy as np
import pytest
from babel import Locale
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex, to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from analysis import charts
from analysis.report import period_label


@pytest.mark.parametrize(("key", "vi", "en"), [
    ("2026-01", "Th1/2026", "Jan 2026"),
    ("2026-09", "Th9/2026", "Sep 2026"),
    ("2025-12", "Th12/2025", "Dec 2025"),
    ("2026-Q1", "Q1/2026", "Q1 2026"),
    ("2025-Q4", "Q4/2025", "Q4 2025"),
    ("2026", "2026", "2026"),
])
def test_period_labels_in_the_readers_language(key, vi, en):
    assert period_label(key, "vi") == vi == charts.period_label(key)
    assert period_label(key, "en") == en
    assert period_label(key, "vi_VN") == vi and period_label(key, Locale.parse("en")) == en


@pytest.mark.parametrize(("key", "locale"), [("2026-13", "vi"), ("2026-Q5", "vi"), ("Q1/2026", "vi"),
                                             ("", "vi"), ("2026-01", "fr")])
def test_period_label_refuses_what_it_cannot_read(key, locale):
    with pytest.raises(ValueError):
        period_label(key, locale)


def test_trend_ticks_are_written_for_the_reader_not_in_iso():
    months = ["2025-11", "2025-12", "2026-01"]
    ax = charts.trend_chart(months, [0.8, 0.82, 0.81], lang="vi")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Th11/2025", "Th12/2025", "Th1/2026"]
    ax = charts.trend_chart(months, [0.8, 0.82, 0.81], lang="en")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Nov 2025", "Dec 2025", "Jan 2026"]
    ax = charts.trend_chart(["2025-Q4", "2026-Q1"], [0.8, 0.82], lang="vi")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Q4/2025", "Q1/2026"]
    # a label that is no period key is drawn as given
    ax = charts.trend_chart(["Đợt 1", "Đợt 2"], [0.8, 0.82], lang="vi")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Đợt 1", "Đợt 2"]


def _drawn(ax):
    fig = ax.figure
    charts.to_png(fig)  # lays the figure out as it is rendered
    return fig.canvas.get_renderer()


def _legend(ax):
    legends = ax.figure.legends + ([ax.get_legend()] if ax.get_legend() else [])
    assert len(legends) == 1
    return legends[0]


def _points_inside(ax, xy, box) -> list:
    display = ax.transData.transform(np.asarray(xy, dtype=float))
    return [tuple(p) for p in display if box.x0 <= p[0] <= box.x1 and box.y0 <= p[1] <= box.y1]


def _funnel_with_the_worst_unit_at_the_lower_right():
    """Twenty wards around 85 %, and the biggest one far below: where the old
    ``loc="lower right"`` legend sat."""
    n = np.array([40, 55, 60, 80, 90, 100, 120, 130, 150, 160, 180, 200, 220, 240, 260, 280, 300, 320, 340, 900])
    share = np.full(n.size, 0.85)
    share[-1] = 0.60
    successes = np.round(share * n).astype(int)
    names = [f"Phường {i}" for i in range(1, n.size)] + ["Xã Hải Lệ"]
    return charts.funnel_chart(successes, n, labels=names), n, successes / n


def test_the_funnel_legend_never_covers_a_unit():
    ax, n, share = _funnel_with_the_worst_unit_at_the_lower_right()
    renderer = _drawn(ax)
    box = _legend(ax).get_window_extent(renderer)
    assert not _points_inside(ax, np.column_stack([n, share]), box)
    # the legend is outside the plotting area altogether, and so are the units' names
    assert not box.overlaps(ax.get_window_extent(renderer))
    names = [t for t in ax.texts if t.get_text()]
    assert "Xã Hải Lệ" in [t.get_text() for t in names]
    assert not any(t.get_window_extent(renderer).overlaps(box) for t in names)
    # and the worst unit is drawn inside the axes, at the lower right
    (x, y), = ax.transData.transform([[n[-1], share[-1]]])
    axes_box = ax.get_window_extent(renderer)
    assert axes_box.x0 + 0.75 * axes_box.width < x < axes_box.x1 and axes_box.y0 < y < axes_box.y0 + 0.3 * axes_box.height


def test_the_index_funnel_and_trend_legends_never_cover_data():
    n = np.array([30, 80, 150, 400, 600])
    values = np.array([0.9, 0.83, 0.85, 0.84, 0.62])
    ax = charts.index_funnel_chart(values, n, 0.84, 0.12, labels=list("ABCDE"),
                                   flags=["above_95", "within", "within", "within", "below_998"])
    renderer = _drawn(ax)
    box = _legend(ax).get_window_extent(renderer)
    assert not _points_inside(ax, np.column_stack([n, values]), box)
    assert not box.overlaps(ax.get_window_extent(renderer))
    # a trend whose line and band fill the whole height: no corner is free for a legend
    v = np.array([0.1, 0.9, 0.1, 0.9, 0.1, 0.9])
    ax = charts.trend_chart([f"2026-0{m}" for m in range(1, 7)], v, v - 0.1, v + 0.1,
                            marked=[True, False, False, False, False, True])
    renderer = _drawn(ax)
    box = _legend(ax).get_window_extent(renderer)
    x = np.arange(v.size)
    for edge in (v - 0.1, v, v + 0.1):
        assert not _points_inside(ax, np.column_stack([x, edge]), box)
    assert not box.overlaps(ax.get_window_extent(renderer))


@pytest.mark.parametrize("layout", [None, "constrained"])
def test_on_a_callers_axes_the_legend_goes_right_of_the_plot(layout):
    fig = Figure(figsize=(12, 4), layout=layout)
    FigureCanvasAgg(fig)
    ax, _beside = fig.subplots(1, 2)
    charts.funnel_chart([950, 80, 300, 60], [1000, 100, 400, 100], ax=ax)
    renderer = _drawn(ax)
    box = ax.get_legend().get_window_extent(renderer)
    assert box.x0 >= ax.get_window_extent(renderer).x1 and not fig.legends


def test_flags_use_okabe_ito_colours_and_their_own_markers():
    assert {k: v.upper() for k, v in charts.FLAG_COLOURS.items()} == {
        "above_998": "#0072B2", "above_95": "#56B4E9", "within": "#999999", "below_95": "#E69F00",
        "below_998": "#D55E00"}
    # no red-vs-green pair: no flag colour is green-dominant (the old palette's #1a9850, #91cf60)
    for colour in charts.FLAG_COLOURS.values():
        r, g, b = to_rgb(colour)
        assert not (g > r + 0.15 and g > b + 0.15), colour
    assert charts.FLAG_MARKERS["above_998"] == charts.FLAG_MARKERS["above_95"] == "^"
    assert charts.FLAG_MARKERS["below_998"] == charts.FLAG_MARKERS["below_95"] == "v"
    assert charts.FLAG_MARKERS["within"] == "o"
    ax, _n, _share = _funnel_with_the_worst_unit_at_the_lower_right()
    drawn = {c.get_label(): to_hex(c.get_facecolor()[0]).upper() for c in ax.collections}
    assert drawn["Dưới giới hạn 99,8%"] == "#D55E00" and drawn["Trong giới hạn"] == "#999999"
    # the legend explains the shapes
    assert {"Dưới giới hạn 99,8%", "Trong giới hạn"} <= {t.get_text() for t in _legend(ax).get_texts()}


def test_the_hour_weekday_heat_map_is_cividis_and_writes_n_in_each_cell():
    share = np.full((7, 24), np.nan)
    count = np.zeros((7, 24), dtype=int)
    share[2, 9], count[2, 9] = 0.95, 12      # Wednesday 9:00: 12 answers, light cell
    share[0, 14], count[0, 14] = 0.05, 40    # Monday 14:00: 40 answers, dark cell
    share[5, 8], count[5, 8] = 1.0, 4        # Saturday 8:00: only 4 answers
    share[1, 10], count[1, 10] = 0.5, 1620   # Tuesday 10:00: a thousands separator
    ax = charts.hour_weekday_heatmap(share, count, lang="vi")
    assert ax.images[0].get_cmap().name == charts.HEATMAP_CMAP == "cividis"
    texts = {(round(t.get_position()[0]), round(t.get_position()[1])): t for t in ax.texts}
    assert texts[9, 2].get_text() == "12" and texts[9, 2].get_color() == "black"
    assert texts[14, 0].get_text() == "40" and texts[14, 0].get_color() == "white"
    assert texts[10, 1].get_text() == "1.620"
    assert texts[8, 5].get_text() == "4"  # a small cell keeps its n …
    # … but no colour: it is masked in the image and covered by a grey hatched square
    assert np.ma.is_masked(ax.images[0].get_array()[5, 8])
    hatched = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_hatch()]
    assert [(p.get_x() + 0.5, p.get_y() + 0.5) for p in hatched] == [(8.0, 5.0)]
    assert len(ax.texts) == 4  # empty cells say nothing
    assert "10" in ax.get_xlabel()  # the caption says what the numbers and the hatching mean
    # public use: no counts written
    assert not charts.hour_weekday_heatmap(share, count, show_n=False).texts


def test_the_factor_heat_map_writes_n_and_greys_small_cells():
    values = [[0.8, 0.9], [0.7, 0.6]]
    ax = charts.heatmap(values, ["Tiếp cận", "Thủ tục"], ["Phường 1", "Phường 2"], counts=[[45, 6], [45, 6]])
    assert ax.images[0].get_cmap().name == "cividis"
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["80%\nn = 45", "n = 6", "70%\nn = 45", "n = 6"]
    assert len([p for p in ax.patches if p.get_hatch()]) == 2
    with pytest.raises(ValueError):
        charts.heatmap(values, ["a", "b"], ["c", "d"], counts=[[1, 2]])
