"""Alert rules: what each kind means, its threshold's bounds, and the manager's changes.

=====================  ==========================================  =========================
kind                   condition                                   threshold
=====================  ==========================================  =========================
``below``              index of the last complete month < threshold  percent (0–100) for a
                                                                   share index, points for
                                                                   the one-stop total
``drop``               the change between the last two complete     the least drop that
                       months is negative and significant (the      matters, same units
                       report's own interval and test, p < 0.05)    (0 = any significant)
``spike``              negative responses of the last complete      the test's level alpha
                       local day above the 28 days before (exact    (0.0001–0.1)
                       one-sided test, ``analysis.spikes``)
``petition_deadline``  an open petition due within threshold        working days (0–30)
                       working days, or overdue
=====================  ==========================================  =========================

No rule alerts from a period with fewer responses than the report's low-n threshold
(``analysis.report.LOW_N``): such a period decides nothing, an open alert stays as it is.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import ALERT_KINDS, AlertRule, Instrument, Unit, User
from ..officials import audit
from ..officials.scope import Scope

__all__ = ["KIND_LABELS", "AlertError", "Bounds", "bounds_for", "create_rule", "delete_rule", "rules_of"]

KIND_LABELS = {
    "below": _l("Index below a threshold (last complete month)"),
    "drop": _l("Significant drop from the month before"),
    "spike": _l("Spike of negative answers (last day)"),
    "petition_deadline": _l("Petition near its deadline"),
}
DEFAULT_THRESHOLDS = {"below": 70.0, "drop": 0.0, "spike": 0.01, "petition_deadline": 2.0}
MAX_RULES_PER_UNIT = 50


class AlertError(Exception):
    """A rule or an action on an alert was refused; ``field`` names the form field at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Bounds:
    low: float
    high: float
    whole: bool = False


def _max_points(session: Session, key: str) -> float | None:
    """The one-stop total's maximum for a ``points`` instrument, None for a share index."""
    from ...services.reports.build import instrument_versions

    snapshot = instrument_versions(session, key)[-1].snapshot
    scoring = snapshot.get("scoring") or {}
    if scoring.get("method") == "points":
        return float(scoring.get("max_total") or 0) or None
    return None


def bounds_for(session: Session, kind: str, instrument_key: str | None) -> Bounds:
    if kind == "spike":
        return Bounds(0.0001, 0.1)
    if kind == "petition_deadline":
        return Bounds(0, 30, whole=True)
    top = _max_points(session, instrument_key) if instrument_key else None
    return Bounds(0.0, top if top is not None else 100.0)


def rules_of(session: Session, unit: Unit) -> list[AlertRule]:
    return list(session.scalars(select(AlertRule).where(AlertRule.unit_id == unit.id).order_by(AlertRule.id)))


def create_rule(session: Session, scope: Scope, unit: Unit, *, kind: str, instrument_key: str | None,
                threshold: float | None, actor: User) -> AlertRule:
    """Add a rule on ``unit`` (manager); checks everything before writing, audits, commits."""
    scope.require(unit, "manager")
    if kind not in ALERT_KINDS:
        raise AlertError(_("Please choose what the alert watches."), "kind")
    if kind == "petition_deadline":
        instrument_key = None
    else:
        if not instrument_key or session.scalar(select(Instrument.id).where(Instrument.key == instrument_key)) is None:
            raise AlertError(_("Please choose a survey."), "instrument")
    if threshold is None:
        threshold = DEFAULT_THRESHOLDS[kind]
    if not isinstance(threshold, (int, float)) or not math.isfinite(threshold):
        raise AlertError(_("Please give the threshold as a number."), "threshold")
    b = bounds_for(session, kind, instrument_key)
    if not b.low <= threshold <= b.high or (b.whole and threshold != int(threshold)):
        if b.whole:
            raise AlertError(_("The threshold must be a whole number from %(low)s to %(high)s.",
                               low=int(b.low), high=int(b.high)), "threshold")
        raise AlertError(_("The threshold must be between %(low)s and %(high)s.", low=f"{b.low:g}",
                           high=f"{b.high:g}"), "threshold")
    if len(rules_of(session, unit)) >= MAX_RULES_PER_UNIT:
        raise AlertError(_("This unit already has %(count)d alert rules; remove one first.",
                           count=MAX_RULES_PER_UNIT))
    rule = AlertRule(unit=unit, kind=kind, instrument_key=instrument_key, threshold=float(threshold),
                     created_by=actor)
    session.add(rule)
    session.flush()
    audit.record(session, "alertrule.created", actor=actor, unit=unit, target=f"rule {rule.id}",
                 detail={"kind": kind, "instrument": instrument_key or "", "threshold": f"{threshold:g}"})
    session.commit()
    return rule


def get_rule_or_404(scope: Scope, rule_id: int, min_role: str = "manager") -> AlertRule:
    return scope.get_in_unit_or_404(AlertRule, rule_id, min_role)


def delete_rule(session: Session, scope: Scope, rule: AlertRule, *, actor: User) -> None:
    """Remove a rule and its alerts (manager), audited."""
    scope.require(rule.unit, "manager")
    audit.record(session, "alertrule.deleted", actor=actor, unit=rule.unit, target=f"rule {rule.id}",
                 detail={"kind": rule.kind, "instrument": rule.instrument_key or ""})
    from ...models import Alert
    from sqlalchemy import delete

    session.execute(delete(Alert).where(Alert.rule_id == rule.id))
    session.delete(rule)
    session.commit()
