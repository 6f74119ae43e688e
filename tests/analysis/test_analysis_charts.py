"""analysis.charts: every chart renders PNG and SVG with Vietnamese text, no warnings.

pyproject.toml turns warnings into errors, so a missing glyph ("Glyph … missing from
font(s)") fails these tests.
"""

import unicodedata

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from analysis import charts
from analysis.patterns import hour_weekday_pattern

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LEVELS = ["Rất không hài lòng", "Không hài lòng", "Bình thường", "Hài lòng", "Rất hài lòng"]
FACTOR = "Tiếp cận dịch vụ hành chính công"
FACTORS = [FACTOR, "Thủ tục hành chính", "Công chức trực tiếp giải quyết công việc",
           "Kết quả cung ứng dịch vụ hành chính công",
           "Tiếp nhận, giải quyết góp ý, phản ánh, kiến nghị"]


def _likert(ax=None):
    return charts.likert_bars(FACTORS[:3], [[2, 3, 5, 20, 20], [10, 10, 10, 10, 10], [0, 0, 1, 30, 69]],
                              LEVELS, ax=ax, title="Mức độ hài lòng")


def _trend(ax=None):
    return charts.trend_chart(["Q1/2025", "Q2/2025", "Q3/2025", "Q4/2025"], [0.80, np.nan, 0.84, 0.86],
                              [0.76, np.nan, 0.80, 0.83], [0.84, np.nan, 0.88, 0.89], ax=ax,
                              title=FACTOR, ylabel="Rất hài lòng")


def _funnel(ax=None):
    return charts.funnel_chart([950, 80, 300, 6, 170], [1000, 100, 400, 6, 200],
                               labels=["Phường Đông Lễ", "Xã Hải Lệ", "Trạm y tế", "Rất hài lòng", "Bộ phận một cửa"],
                               ax=ax, title=FACTOR)


def _heatmap(ax=None):
    values = np.array([[0.8, 0.9, np.nan], [0.7, 0.95, 0.6], [0.85, 0.88, 0.9], [0.5, 0.6, 0.7],
                       [0.9, 0.8, 0.75]])
    return charts.heatmap(values, FACTORS, ["Phường 1", "Phường 2", "Xã Hải Lệ"], ax=ax,
                          title="Rất hài lòng")


def _hour_weekday(ax=None):
    rng = np.random.default_rng(0)
    p = hour_weekday_pattern(rng.integers(0, 7, 500), rng.integers(7, 18, 500), rng.random(500) < 0.8)
    return charts.hour_weekday_heatmap(p.share, p.count, min_count=3, ax=ax, title=FACTOR)


CHARTS = {"likert": _likert, "trend": _trend, "funnel": _funnel, "heatmap": _heatmap,
          "hour_weekday": _hour_weekday}


@pytest.mark.parametrize("name", list(CHARTS))
def test_chart_renders_png_and_svg_with_vietnamese_text(name):
    ax = CHARTS[name]()
    assert isinstance(ax, Axes) and isinstance(ax.figure, Figure)
    png = charts.to_png(ax.figure)
    assert png.startswith(PNG_SIGNATURE) and len(png) > 5000
    svg = charts.to_svg(ax)
    assert svg.startswith(b"<?xml") and b"<svg" in svg
    text = svg.decode("utf-8")
    # Text is drawn as glyph paths; each text keeps its string in an XML comment.
    expected = "Rất hài lòng" if name in ("likert", "heatmap", "trend", "funnel") else "Thứ Hai"
    assert expected in text
    assert "<path" in text and 'id="DejaVuSans' in text


@pytest.mark.parametrize("name", list(CHARTS))
def test_chart_draws_on_a_given_axes(name):
    fig = Figure(figsize=(8, 5))
    ax = fig.add_subplot()
    assert CHARTS[name](ax=ax) is ax
    assert charts.to_png(fig).startswith(PNG_SIGNATURE)


def test_decomposed_vietnamese_input_renders():
    nfd = unicodedata.normalize("NFD", FACTOR)
    assert nfd != FACTOR
    ax = charts.likert_bars([nfd], [[1, 2, 3, 4, 5]], [unicodedata.normalize("NFD", x) for x in LEVELS])
    assert FACTOR in charts.to_svg(ax).decode("utf-8")


def test_every_vietnamese_letter_has_a_glyph():
    letters = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
    tones = ["", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323"]
    text = " ".join(unicodedata.normalize("NFC", ch + t) for ch in letters for t in tones)
    ax = charts.trend_chart(["x"], [0.5], title=text + " " + text.upper())
    assert charts.to_png(ax).startswith(PNG_SIGNATURE)  # a missing glyph would warn → error


def test_svg_output_is_deterministic():
    assert charts.to_svg(_heatmap()) == charts.to_svg(_heatmap())


@pytest.mark.parametrize(
    "call",
    [
        lambda: charts.likert_bars(["a", "b"], [[1, 2, 3]], ["x", "y", "z"]),
        lambda: charts.likert_bars(["a"], [[1, 2, 3]], ["x", "y"]),
        lambda: charts.likert_bars(["a"], [[1, 2, 3]], ["x", "y", "z"], neutral=5),
        lambda: charts.likert_bars(["a"], [[1]], ["x"]),
        lambda: charts.trend_chart(["a", "b"], [0.1]),
        lambda: charts.trend_chart(["a"], [0.1], low=[0.0]),
        lambda: charts.trend_chart(["a"], [0.1], lang="fr"),
        lambda: charts.funnel_chart([1, 2], [3, 4], labels=["one"]),
        lambda: charts.heatmap([[0.1, 0.2]], ["r"], ["c"]),
        lambda: charts.heatmap([[0.1]], ["r"], ["c"], cmap="no-such-map"),
        lambda: charts.heatmap([[0.1]], ["r"], ["c"], vmin=1, vmax=0),
        lambda: charts.hour_weekday_heatmap(np.zeros((24, 7))),
        lambda: charts.likert_bars(["a"], [[1, 2]], ["x", "y"], ax="not an axes"),
        lambda: charts.to_png("not a figure"),
        lambda: charts.to_png(Figure(), dpi=0),
        lambda: charts.to_svg(None),
    ],
)
def test_bad_input(call):
    with pytest.raises(ValueError):
        call()


def test_trend_ticks_use_a_decimal_comma_in_vietnamese():
    from analysis.charts import trend_chart

    ax = trend_chart(["2026-01", "2026-02", "2026-03"], [0.605, 0.612, 0.618], lang="vi")
    labels = [ax.yaxis.get_major_formatter()(v, 0) for v in (0.6, 0.605)]
    assert labels == ["60%", "60,5%"]
    ax_en = trend_chart(["2026-01", "2026-02", "2026-03"], [0.605, 0.612, 0.618], lang="en")
    assert ax_en.yaxis.get_major_formatter()(0.605, 0) == "60.5%"
