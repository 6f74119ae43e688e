"""Numbers and sentences of reports in the reader's language: the dashboard, the public
page and the PDF print the same figures the same way.

Vietnamese writes a decimal comma (82,7%); English a point. Shares are fractions 0–1 in
the report and printed as percentages with one decimal; a missing value prints as "—".
"""
from __future__ import annotations

from datetime import date
from typing import Any, Mapping, Sequence

from flask_babel import get_locale
from flask_babel import gettext as _

from analysis.report import period_label as report_period_label
from analysis.report import period_of

DASH = "—"
MINUS = "\u2212"


def _lang() -> str:
    locale = get_locale()
    return locale.language if locale is not None else "vi"


def number(x: float | int | None, digits: int = 1) -> str:
    """``4,28`` (vi) / ``4.28`` (en); "—" for None."""
    if x is None:
        return DASH
    text = f"{x:.{digits}f}"
    if text.startswith("-"):
        text = MINUS + text[1:]
    return text.replace(".", ",") if _lang() == "vi" else text


def count(n: int | None) -> str:
    """A count with a thousands separator: ``1.620`` (vi) / ``1,620`` (en)."""
    if n is None:
        return DASH
    text = f"{int(n):,}"
    return text.replace(",", ".") if _lang() == "vi" else text


def percent(x: float | None, digits: int = 1) -> str:
    """A share 0–1 as a percentage: ``82,7%``."""
    return DASH if x is None else number(100 * x, digits) + "%"


def value(x: float | None, unit: str | None, digits: int = 1) -> str:
    """An index value: a percentage for shares, points otherwise."""
    return percent(x, digits) if unit == "share" else number(x, digits)


def interval(low: float | None, high: float | None, unit: str | None = "share", digits: int = 1) -> str:
    """``81,7–83,8%``; "—" when either limit is missing."""
    if low is None or high is None:
        return DASH
    if unit == "share":
        return f"{number(100 * low, digits)}–{number(100 * high, digits)}%"
    return f"{number(low, digits)}–{number(high, digits)}"


def p_value(p: float | None) -> str:
    """``p = 0,01``, ``p = 0,004``, ``p < 0,001``."""
    if p is None:
        return "p = " + DASH
    if p < 0.001:
        return "p < " + number(0.001, 3)
    return "p = " + number(p, 3 if p < 0.01 else 2)


def points(diff: float | None, digits: int = 1) -> str:
    """A difference of shares in percentage points, signed: ``+3,3``, ``−2,1``."""
    if diff is None:
        return DASH
    text = number(100 * diff, digits)
    return text if text.startswith(MINUS) else "+" + text


def day(d: date | str | None) -> str:
    if d is None:
        return DASH
    if isinstance(d, str):
        d = date.fromisoformat(d)
    return d.strftime("%d/%m/%Y")


def period_label(label: str) -> str:
    """A period key in the reader's language, as the charts' axes write it
    (:func:`analysis.report.period_label`): ``2026-03`` → ``Th3/2026`` / ``Mar 2026``;
    ``2026-Q1`` → ``Q1/2026`` / ``Q1 2026``; anything else as it is ("—" for nothing)."""
    try:
        return report_period_label(label, _lang())
    except ValueError:
        return label or DASH


def _release_period(label: str) -> str:
    """A release's period as its title writes it: ``03/2026``, ``Quý 1/2026`` (en ``Q1/2026``)."""
    year, _sep, part = label.partition("-")
    if part.startswith("Q"):
        return _("Q%(quarter)s/%(year)s", quarter=part[1:], year=year)
    return f"{part}/{year}"


def difference(diff: float | None, unit: str | None, digits: int = 1) -> str:
    """A change of the index in its own unit, signed: ``+3,3`` percentage points for a
    share, ``+0,8`` points for a points index."""
    if diff is None:
        return DASH
    text = number(100 * diff if unit == "share" else diff, digits)
    return text if text.startswith(MINUS) else "+" + text


def difference_unit(unit: str | None) -> str:
    return _("percentage points") if unit == "share" else _("points")


def _per(test: Mapping[str, Any]) -> str:
    return _("a quarter") if test.get("per") == "quarter" else _("a month")


def release_label(period: str, first: date) -> str:
    """A release's period in words: ``10/2026``, ``Quý 4/2026``, ``Năm 2026``."""
    if period == "year":
        return _("Year %(year)d", year=first.year)
    return _release_period(period_of(first, period))


def trend_sentence(test: Mapping[str, Any] | None, unit: str | None = "share") -> str:
    """The trend in plain words for an official: direction, size per month (or quarter)
    and how sure we are."""
    if not test or not test.get("enough"):
        periods = (test or {}).get("periods") or 0
        return _("not enough periods to judge a trend (%(n)d complete periods with at least 10 responses; "
                 "6 are needed)", n=periods)
    size = difference(test.get("slope"), unit)
    words = {"size": size + " " + difference_unit(unit), "per": _per(test), "p": p_value(test.get("p")),
             "low": difference(test.get("slope_low"), unit), "high": difference(test.get("slope_high"), unit)}
    if test.get("direction") == "up" and test.get("solid"):
        return _("rising by about %(size)s %(per)s (from %(low)s to %(high)s); very unlikely to be chance "
                 "(%(p)s)", **words)
    if test.get("direction") == "down" and test.get("solid"):
        return _("falling by about %(size)s %(per)s (from %(low)s to %(high)s); very unlikely to be chance "
                 "(%(p)s)", **words)
    if test.get("direction") in ("up", "down"):
        return _("perhaps %(direction)s, about %(size)s %(per)s, but the size is uncertain (%(p)s)",
                 direction=_("rising") if test["direction"] == "up" else _("falling"), **words)
    return _("no clear trend: the ups and downs are within chance (%(p)s)", p=words["p"])


def public_trend_sentence(test: Mapping[str, Any] | None, unit: str | None = "share") -> str | None:
    """The trend for the public: stated in words only when it is solid, never a p-value."""
    if not test or not test.get("enough") or not test.get("solid"):
        return None
    words = {"size": difference(test.get("slope"), unit) + " " + difference_unit(unit), "per": _per(test)}
    if test.get("direction") == "up":
        return _("Satisfaction has been rising, by about %(size)s %(per)s.", **words)
    if test.get("direction") == "down":
        return _("Satisfaction has been falling, by about %(size)s %(per)s.", **words)
    return None


def _change_refusal(change: Mapping[str, Any]) -> str:
    reason = change.get("reason")
    if reason == "low n":
        return _("too few responses to compare %(first)s with %(last)s (fewer than 10 in one of them)",
                 first=period_label(change["from"]), last=period_label(change["to"]))
    if reason == "no earlier period":
        return _("no complete period before %(last)s to compare with", last=period_label(change["to"]))
    return _("no index to compare for %(first)s and %(last)s", first=period_label(change["from"] or ""),
             last=period_label(change["to"]))


def change_sentence(change: Mapping[str, Any] | None) -> str:
    """The last complete period against the one right before it, on the index itself."""
    if not change:
        return _("no complete period to compare")
    if not change.get("enough"):
        return _change_refusal(change)
    unit = change.get("unit")
    significant = change.get("p") is not None and change["p"] < 0.05
    text = _("%(diff)s %(unit)s from %(first)s to %(last)s (%(level)s interval %(low)s to %(high)s; %(p)s)",
             level="95%", diff=difference(change.get("difference"), unit), unit=difference_unit(unit),
             first=period_label(change["from"]), last=period_label(change["to"]),
             low=difference(change.get("low"), unit), high=difference(change.get("high"), unit),
             p=p_value(change.get("p")))
    return text + (" · " + _("a real change") if significant else " · " + _("within chance"))


def change_detail(change: Mapping[str, Any] | None, trend: Sequence[Mapping[str, Any]] = ()) -> str:
    """The change's periods (with their n), interval and test, without the difference itself."""
    if not change:
        return _("no complete period to compare")
    if not change.get("enough"):
        return _change_refusal(change)
    unit = change.get("unit")
    significant = change.get("p") is not None and change["p"] < 0.05
    ns = {t["period"]: t["n"] for t in trend}

    def label(period: str) -> str:
        return period_label(period) + (f" (n = {count(ns[period])})" if period in ns else "")

    return " · ".join([
        f"{label(change['from'])} → {label(change['to'])}",
        _("%(level)s interval %(low)s to %(high)s", level="95%", low=difference(change.get("low"), unit),
          high=difference(change.get("high"), unit)),
        p_value(change.get("p")),
        _("a real change") if significant else _("within chance"),
    ])


def public_interval(low: float | None, high: float | None, unit: str | None = "share", digits: int = 1) -> str:
    """An interval for the public, in words: "khoảng 81,7% đến 83,8%"."""
    if low is None or high is None:
        return DASH
    if unit == "share":
        return _("between %(low)s and %(high)s", low=percent(low, digits), high=percent(high, digits))
    return _("between %(low)s and %(high)s", low=number(low, digits), high=number(high, digits))


def moh_measures() -> list[tuple[str, str, str, str | None]]:
    """The Ministry of Health measures every output shows, in order:
    (report key, label, short label for spreadsheets and the PDF, ``"share"`` or ``None``
    for a score)."""
    return [
        ("general", _("General satisfaction rate (item answers at levels 4–5)"), _("General satisfaction rate"),
         "share"),
        ("comprehensive", _("Comprehensive satisfaction (respondents satisfied with every item)"),
         _("Comprehensive satisfaction"), "share"),
        ("mean_score", _("Mean score (1–5)"), _("Mean score (1–5)"), None),
        ("return_rate", _("Would return or recommend"), _("Would return or recommend"), "share"),
        ("expectation", _("Expectation met (%(pct)s)", pct="%"), _("Expectation met (%(pct)s)", pct="%"), None),
    ]


def index_name(method: str | None) -> str:
    return {
        "satisfied_share": _("Satisfaction index"),
        "moh": _("General satisfaction rate"),
        "points": _("Mean points per evaluation"),
    }.get(method or "", _("Index"))


def funnel_label(flag: str | None) -> str:
    return {
        "above_998": _("far above the average"),
        "above_95": _("above the average"),
        "within": _("as expected"),
        "below_95": _("below the average"),
        "below_998": _("far below the average"),
    }.get(flag or "", DASH)


def channel_label(channel: str) -> str:
    return {
        "qr": _("QR code"), "kiosk": _("kiosk"), "link": _("link"), "paper": _("paper"), "api": _("software (API)"),
    }.get(channel, channel)


def labels() -> dict[str, str]:
    """Texts with a percentage in them, shared by the templates and the PDF (the level is a
    variable: a literal "%" would be a format directive in Jinja's gettext)."""
    return {
        "interval95": _("%(level)s interval", level="95%"),
        "mean_ci": _("Mean (%(level)s interval)", level="95%"),
        "satisfied_ci": _("Satisfied (%(level)s interval)", level="95%"),
        "share_ci": _("Satisfied share (%(level)s interval)", level="95%"),
        "trend_alt": _("The index per period with its %(level)s interval; the numbers are in the table below.",
                       level="95%"),
        "units_hint": _("Index: the survey’s own index for each unit, with an interval that counts each respondent "
                        "once; n is respondents. When the units differ by more than chance, the rank uses the index "
                        "shrunk towards the average (so a unit with a few answers does not top the table), with the "
                        "range of ranks it could plausibly take. Funnel: whether a unit lies outside the limits "
                        "chance alone would give (%(level)s and %(level2)s).", level="95%",
                        level2=number(99.8) + "%"),
    }


def methods_paragraphs(method: str | None, public: bool = False) -> list[str]:
    """How the numbers were computed, for the dashboard, the PDF and the public page."""
    if method == "points":
        what = _("The index is the mean of each evaluation’s total points (each indicator scores 0, 1 or 2; a "
                 "skipped indicator is left out and the total scaled to the indicators answered, so every total "
                 "is out of the same maximum), with a %(level)s interval from the t distribution; its grade "
                 "follows the survey’s bands.", level="95%")
    elif method == "moh":
        what = _("The general satisfaction rate is the share of all item answers at levels 4–5 (Ministry of "
                 "Health method). Its %(level)s interval counts each respondent once, however many items they "
                 "answered.", level="95%")
    else:
        what = _("A criterion’s index is the share of answers at the satisfied levels; a factor’s index is the "
                 "mean of its criteria; the overall index is the mean of the factors (the SIPAS method). The "
                 "%(level)s interval counts each respondent once: one person’s answers to the different "
                 "criteria move together, so they are not independent pieces of evidence.", level="95%")
    if public:
        return [what, _("A %(level)s interval is the range that, over many repeated surveys, would contain the true "
                        "value 95 times in 100. These results were fixed when they were published; a correction "
                        "is published as a new release that says what changed.", level="95%")]
    return [
        what,
        _("A %(level)s interval is the range that, over many repeated surveys, would contain the true value 95 times "
          "in 100. Every interval and test takes the respondent as its unit (linearization of the official "
          "formula). The change compares the last complete period with the one right before it, on the index "
          "itself; a period still running is marked partial and never used. The trend is the Mann–Kendall test "
          "over the complete periods with at least 10 responses (6 are needed), with the Theil–Sen slope per "
          "month or quarter; empty periods keep their place in time.", level="95%"),
        _("Units below are compared on the index, with intervals that count each respondent once. When the "
          "differences between them are within chance (heterogeneity test, p ≥ 0.05) they are not ranked. "
          "Otherwise the rank uses the index shrunk towards the average by how uncertain it is (empirical "
          "Bayes, between-unit variance by restricted maximum likelihood), with the range of ranks it could "
          "plausibly take; funnel flags mark units outside the %(level)s and %(level2)s limits expected by "
          "chance.", level="95%", level2=number(99.8) + "%"),
        _("Every number is shown with its n. A figure from fewer than 10 responses is marked “low n” and should "
          "be read with care; on the public page such figures are withheld, together with enough others that "
          "they cannot be worked out from any other public figure."),
    ]


def backlog_sentence(backlog: Any) -> str | None:
    """What a report says when new responses wait for the every-minute catch-up (a backlog
    too long to catch up in the request, ``rollup.Backlog``); ``None`` when up to date."""
    if backlog is None or not backlog.pending:
        return None
    if backlog.as_of is None:
        return _("%(n)s new responses are not counted yet; the figures will include them within minutes.",
                 n=count(backlog.pending))
    from zoneinfo import ZoneInfo

    when = backlog.as_of.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%H:%M %d/%m/%Y")
    return _("%(n)s new responses are not counted yet; the figures are as of %(when)s.",
             n=count(backlog.pending), when=when)


def helpers() -> dict[str, Any]:
    """The functions templates use, under short names."""
    return {"fmt_num": number, "fmt_count": count, "fmt_pct": percent, "fmt_value": value,
            "fmt_interval": interval, "fmt_p": p_value, "fmt_points": points, "fmt_day": day,
            "fmt_diff": difference, "diff_unit": difference_unit, "public_trend_sentence": public_trend_sentence,
            "public_interval": public_interval, "release_label": release_label, "moh_measures": moh_measures,
            "period_label": period_label, "trend_sentence": trend_sentence, "change_sentence": change_sentence,
            "change_detail": change_detail,
            "index_name": index_name, "funnel_label": funnel_label, "channel_label": channel_label,
            "methods_paragraphs": methods_paragraphs, "backlog_sentence": backlog_sentence, "L": labels()}
