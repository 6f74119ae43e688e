"""A trend sparkline: a small inline SVG of a report's trend, drawn from the report's own
periods (no JavaScript, no image request).

Only the periods the report itself trusts are drawn: complete (not partial) periods with
at least the report's ``low_n`` respondents and an index. A period left out breaks the
line, so a gap is never bridged by a guess.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from markupsafe import Markup, escape

__all__ = ["sparkline_points", "sparkline_svg", "WIDTH", "HEIGHT"]

WIDTH, HEIGHT, PAD = 120.0, 32.0, 3.0


def _usable(period: Mapping[str, Any]) -> bool:
    return not period.get("partial") and not period.get("low_n") and period.get("index") is not None


def sparkline_points(trend: Sequence[Mapping[str, Any]], unit: str | None,
                     max_value: float | None = None) -> list[list[tuple[float, float]]]:
    """The (x, y) points of the line in SVG coordinates, one list per unbroken run.

    x spreads every period of the trend (drawn or not) over the width; y is the index,
    between 0 and 1 for a share and 0 and ``max_value`` for points, narrowed to the drawn
    values (a span of at least a tenth of the scale) so that a change can be seen."""
    full = 1.0 if unit == "share" or not max_value else float(max_value)
    values = [float(t["index"]) for t in trend if _usable(t)]
    if not values:
        return []
    low, high = min(values), max(values)
    span = max(high - low, full / 10)
    middle = (low + high) / 2
    low, high = max(0.0, middle - span / 2), min(full, middle + span / 2)
    if high - low < span:  # pushed against 0 or the top of the scale
        low, high = (0.0, span) if low == 0.0 else (full - span, full)
    step = (WIDTH - 2 * PAD) / max(len(trend) - 1, 1)
    runs: list[list[tuple[float, float]]] = [[]]
    for i, t in enumerate(trend):
        if not _usable(t):
            if runs[-1]:
                runs.append([])
            continue
        x = PAD + i * step if len(trend) > 1 else WIDTH / 2
        y = PAD + (HEIGHT - 2 * PAD) * (1 - (float(t["index"]) - low) / (high - low))
        runs[-1].append((round(x, 1), round(y, 1)))
    return [run for run in runs if run]


def sparkline_svg(trend: Sequence[Mapping[str, Any]], unit: str | None, label: str,
                  max_value: float | None = None) -> Markup | None:
    """The sparkline as inline SVG (``role="img"`` named by ``label``), or ``None`` when no
    period can be drawn."""
    runs = sparkline_points(trend, unit, max_value)
    if not runs:
        return None
    parts = [f'<svg class="spark" viewBox="0 0 {WIDTH:g} {HEIGHT:g}" role="img" aria-label="{escape(label)}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(label)}</title>',
             f'<line class="base" x1="0" y1="{HEIGHT - 0.5:g}" x2="{WIDTH:g}" y2="{HEIGHT - 0.5:g}"/>']
    for run in runs:
        if len(run) > 1:
            parts.append('<polyline class="line" points="' + " ".join(f"{x:g},{y:g}" for x, y in run) + '"/>')
        for x, y in run:
            parts.append(f'<circle class="dot" cx="{x:g}" cy="{y:g}" r="1.8"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
