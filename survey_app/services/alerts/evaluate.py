"""The scheduled evaluation of every active rule (the worker runs :func:`evaluate_all`).

For each rule the condition is computed afresh: found → the rule's alert for that subject
is opened (or, already open, refreshed: ``last_seen_at`` and ``detail``); not found, and
the data decide it → the alert is resolved ("closes itself when results recover"); the
data decide nothing (a low-n period, no earlier month) → nothing changes. The unique index
on unresolved (rule, subject) makes a second run, or a second worker, a no-op: it opens no
second alert and so sends no second e-mail.

Reports' own numbers are reused: the index, its interval and the change test come from
``services/reports/build.make_report`` (``analysis/report.py``: ``trend``, ``change``,
``low_n_threshold``); the daily spike is ``analysis.spikes.daily_spike``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from analysis.report import LOW_N
from analysis.spikes import daily_spike

from ...models import Alert, AlertRule, Petition, RollupResponse, Unit, utcnow
from ..officials.units import path_under
from ..petitions.operations import clock_running
from ..petitions.workdays import WorkdayCalendar
from ..reports import build, rollup

__all__ = ["DROP_ALPHA", "Outcome", "SPIKE_BASELINE_DAYS", "evaluate_all", "evaluate_rule", "sync_alerts"]

DROP_ALPHA = 0.05  # the report's own test level for the change between two periods
SPIKE_BASELINE_DAYS = 28


@dataclass
class Outcome:
    """What one rule's evaluation found: ``findings`` by subject; ``decided`` False when the
    data cannot say (low n): open alerts then stay as they are."""

    findings: dict[str, dict[str, Any]] = field(default_factory=dict)
    decided: bool = True


def _month_start(day: date, back: int = 0) -> date:
    y, m = day.year, day.month - back
    while m < 1:
        m += 12
        y -= 1
    return date(y, m, 1)


def _monthly_report(session: Session, rule: AlertRule, today: date) -> dict[str, Any]:
    req = build.ReportRequest(unit=rule.unit, instrument_key=rule.instrument_key or "",
                              date_from=_month_start(today, 2), date_to=today, period="month", as_of=today)
    return build.make_report(session, req)


def _scale(unit: str | None) -> float:
    return 100.0 if unit != "points" else 1.0  # thresholds: percent for shares, points for the total


def _below(session: Session, rule: AlertRule, today: date) -> Outcome:
    report = _monthly_report(session, rule, today)
    complete = [t for t in report["trend"] if not t["partial"]]
    if not complete:
        return Outcome(decided=False)
    last = complete[-1]
    if last["low_n"] or last["index"] is None:
        return Outcome(decided=False)
    unit = report["index"].get("unit")
    value = last["index"] * _scale(unit)
    if value < (rule.threshold or 0):
        return Outcome({"": {"period": last["period"], "n": last["n"], "value": round(value, 1),
                             "low": round(last["low"] * _scale(unit), 1) if last["low"] is not None else None,
                             "high": round(last["high"] * _scale(unit), 1) if last["high"] is not None else None,
                             "threshold": rule.threshold, "unit": unit}})
    return Outcome()


def _drop(session: Session, rule: AlertRule, today: date) -> Outcome:
    report = _monthly_report(session, rule, today)
    change = report.get("change")
    if not change or not change.get("enough"):
        return Outcome(decided=False)  # low n, no earlier month, no index: nothing to say
    s = _scale(change.get("unit"))
    diff, high, p = change["difference"] * s, change["high"] * s, change["p"]
    if p < DROP_ALPHA and high < 0 and -diff >= (rule.threshold or 0):
        return Outcome({"": {"from": change["from"], "to": change["to"], "n_from": change["n_from"],
                             "n_to": change["n_to"], "difference": round(diff, 1), "low": round(change["low"] * s, 1),
                             "high": round(high, 1), "p": round(p, 4), "unit": change.get("unit")}})
    return Outcome()


def day_counts(session: Session, rule: AlertRule, first: date, last: date) -> dict[date, tuple[int, int]]:
    """(negative, responses) per local day of ``rule.unit``'s subtree for its instrument:
    a respondent is negative unless satisfied with every item they rated (the rollups'
    ``all_satisfied``). Suspect responses are left out, as in reports."""
    versions = [v.id for v in build.instrument_versions(session, rule.instrument_key or "")]
    rows = session.execute(
        select(RollupResponse.day, RollupResponse.hours)
        .join(Unit, Unit.id == RollupResponse.unit_id)
        .where(path_under(Unit.path, rule.unit.path), RollupResponse.instrument_version_id.in_(versions),
               RollupResponse.trust == "ok", RollupResponse.day >= first, RollupResponse.day <= last)
    ).all()
    out: dict[date, list[int]] = {}
    for day, hours in rows:
        acc = out.setdefault(day, [0, 0])
        for sums in (hours or {}).values():
            acc[0] += int(sums[0]) - int(sums[3])
            acc[1] += int(sums[0])
    return {d: (v[0], v[1]) for d, v in out.items()}


def _spike(session: Session, rule: AlertRule, today: date) -> Outcome:
    rollup.catch_up(session)
    day = today - timedelta(days=1)  # the last complete local day: one look per day
    counts = day_counts(session, rule, day - timedelta(days=SPIKE_BASELINE_DAYS), day)
    x, n = counts.get(day, (0, 0))
    bx = sum(v[0] for d, v in counts.items() if d < day)
    bn = sum(v[1] for d, v in counts.items() if d < day)
    result = daily_spike(x, n, bx, bn, alpha=rule.threshold or 0.01, min_n=LOW_N)
    if not result.enough:
        return Outcome(decided=False)
    if result.spike:
        return Outcome({"": {"day": day.isoformat(), "negative": x, "n": n, "expected": round(result.expected, 1),
                             "baseline_days": SPIKE_BASELINE_DAYS, "baseline_n": bn,
                             "share": round(100 * (result.share or 0), 1),
                             "baseline_share": round(100 * (result.baseline_share or 0), 1),
                             "p": round(result.p, 5), "alpha": result.alpha}})
    return Outcome()


def _petitions(session: Session, rule: AlertRule, today: date, calendar: WorkdayCalendar) -> Outcome:
    rows = session.scalars(
        select(Petition).join(Unit, Unit.id == Petition.unit_id)
        .where(path_under(Unit.path, rule.unit.path), clock_running())  # not while waiting, not a merged duplicate
    ).all()
    limit = int(rule.threshold or 0)
    found = {}
    for p in rows:
        left = calendar.working_days_between(today, p.due_on) if p.due_on >= today else -calendar.working_days_late(
            p.due_on, today)
        if left <= limit:
            found[f"petition:{p.id}"] = {"petition": p.id, "tracking": p.tracking_code, "due_on": p.due_on.isoformat(),
                                         "working_days_left": left}
    return Outcome(found)


def evaluate_rule(session: Session, rule: AlertRule, today: date, calendar: WorkdayCalendar) -> Outcome:
    if rule.kind == "below":
        return _below(session, rule, today)
    if rule.kind == "drop":
        return _drop(session, rule, today)
    if rule.kind == "spike":
        return _spike(session, rule, today)
    if rule.kind == "petition_deadline":
        return _petitions(session, rule, today, calendar)
    raise ValueError(f"unknown alert kind {rule.kind!r}")


def sync_alerts(session: Session, rule: AlertRule, outcome: Outcome, now: datetime) -> list[int]:
    """Open, refresh and resolve the rule's alerts to match ``outcome``; commits. Returns
    the ids of alerts opened now (each gets one e-mail)."""
    unresolved = {a.subject: a for a in session.scalars(
        select(Alert).where(Alert.rule_id == rule.id, Alert.status != "resolved"))}
    opened: list[Alert] = []
    for subject, detail in outcome.findings.items():
        alert = unresolved.get(subject)
        if alert is not None:
            alert.detail, alert.last_seen_at = detail, now
        else:
            alert = Alert(rule_id=rule.id, unit_id=rule.unit_id, kind=rule.kind, subject=subject, status="open",
                          detail=detail, opened_at=now, last_seen_at=now, email_attempts=0)
            session.add(alert)
            opened.append(alert)
    if outcome.decided:
        for subject, alert in unresolved.items():
            if subject not in outcome.findings:
                alert.status, alert.resolved_at = "resolved", now
    try:
        session.commit()
    except IntegrityError:  # another worker opened the same alert first: theirs stands
        session.rollback()
        return []
    return [a.id for a in opened]


def evaluate_all(session: Session, *, today: date | None = None, calendar: WorkdayCalendar | None = None,
                 now: datetime | None = None, logger=None) -> list[int]:
    """Evaluate every active rule; returns the ids of the alerts opened (to e-mail)."""
    today = today or build.local_today()
    calendar = calendar or WorkdayCalendar()
    now = now or utcnow()
    opened: list[int] = []
    rule_ids = list(session.scalars(select(AlertRule.id).where(AlertRule.active.is_(True)).order_by(AlertRule.id)))
    for rule_id in rule_ids:
        rule = session.get(AlertRule, rule_id)
        if rule is None:
            continue
        try:
            outcome = evaluate_rule(session, rule, today, calendar)
        except build.ReportError as exc:  # the instrument is gone: nothing to evaluate
            session.rollback()
            if logger is not None:
                logger.warning("alert rule %s not evaluated: %s", rule_id, exc)
            continue
        opened += sync_alerts(session, rule, outcome, now)
    return opened
