"""The charts of a report, drawn by ``analysis.charts`` from the report's own numbers."""
from __future__ import annotations

from typing import Any

from analysis import charts


def charts_for(report: dict[str, Any], definition: dict[str, Any], lang: str = "vi") -> dict[str, Any]:
    """Chart name → matplotlib Axes, for whatever the report has data for, in ``lang`` (the
    reader's language: period labels "Th1/2026" / "Jan 2026", legends, weekdays); the PDF
    asks for "vi"."""
    out: dict[str, Any] = {}
    scale_questions = [q for q in report["questions"] if q["type"] == "scale" and q["n"]]
    if scale_questions:
        first_scale = definition["scales"][next(q for q in definition["questions"] if q["type"] == "scale")["scale"]]
        same = [q for q in scale_questions
                if [int(k) for k in q["counts"]] == [lv["value"] for lv in first_scale["levels"]]]
        if same:
            labels = [lv[lang] for lv in first_scale["levels"]]
            out["likert"] = charts.likert_bars(
                [q["text"][lang] for q in same], [list(q["counts"].values()) for q in same], labels,
                neutral="auto" if len(labels) % 2 else None,
                title=definition["title"][lang],
            )
    trend = report["trend"]
    if any(t["index"] is not None for t in trend):
        is_share = report["index"].get("unit") == "share"
        nan = float("nan")
        values = [nan if t["index"] is None else t["index"] for t in trend]
        # a successor's report: the line between its predecessors' periods and its own
        before = [bool(t.get("before_merger")) for t in trend]
        divide = before.index(False) if any(before) and not all(before) else None
        out["trend"] = charts.trend_chart([t["period"] for t in trend], values,
                                          [nan if t["low"] is None else t["low"] for t in trend],
                                          [nan if t["high"] is None else t["high"] for t in trend],
                                          percent=is_share, lang=lang,
                                          marked=[bool(t["low_n"] or t.get("partial")) and t["index"] is not None
                                                  for t in trend],
                                          divide_before=divide)
    units = [u for u in report["units"] if u["n"] and u["index"] is not None]
    comparison = report.get("comparison")
    if len(units) >= 2 and comparison and (comparison.get("score_variance") or 0) > 0:
        out["funnel"] = charts.index_funnel_chart(
            [u["index"] for u in units], [u["n"] for u in units], comparison["mean"], comparison["score_variance"],
            labels=[u["name"][lang] for u in units], flags=[u["funnel"] or "within" for u in units],
            percent=report["index"].get("unit") == "share", lang=lang)
    factor_keys = [f["key"] for f in report["factors"]]
    if units and factor_keys:
        values = [[u["factors"].get(k) if u["factors"].get(k) is not None else float("nan") for u in units]
                  for k in factor_keys]
        names = {f["key"]: f["name"][lang] for f in report["factors"]}
        out["factors_by_unit"] = charts.heatmap(values, [names[k] for k in factor_keys],
                                                [u["name"][lang] for u in units],
                                                percent=report["index"].get("unit") == "share",
                                                vmax=1.0 if report["index"].get("unit") == "share" else 2.0,
                                                counts=[[u["n"] for u in units] for _k in factor_keys], lang=lang)
    if report.get("pattern"):
        share = [[float("nan") if v is None else v for v in row] for row in report["pattern"]["share"]]
        out["hour_weekday"] = charts.hour_weekday_heatmap(share,
                                                          count=report["pattern"]["responses"], lang=lang)
    return out
