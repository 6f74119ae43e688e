"""Thin routes of the alert pages over ``services/alerts``."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from ..extensions import db
from ..forms import ButtonForm
from ..guard import current_scope, official_route
from ..models import ALERT_KINDS, Instrument, Unit
from ..services.alerts import inbox as service
from ..services.alerts import rules as rules_service
from ..services.alerts.mail import describe
from ..services.alerts.rules import KIND_LABELS, AlertError
from . import bp
from .forms import AcknowledgeForm, RuleForm

PAGE_SIZE = 50


def _actor():
    return current_user._get_current_object()


def status_labels() -> dict[str, str]:
    return {"open": _("open"), "acknowledged": _("acknowledged"), "resolved": _("resolved (recovered)")}


@bp.context_processor
def alerts_context():
    return {"kind_labels": KIND_LABELS, "status_labels": status_labels(), "describe": describe,
            "button_form": ButtonForm()}


@bp.get("/")
@official_route("viewer")
def inbox():
    scope = current_scope()
    status = request.args.get("status", "active")
    status = status if status in service.STATUS_FILTERS else "active"
    raw = request.args.get("page", "1")
    page = int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) < 10_000 else 1
    query = service.inbox_query(scope, status)
    items = db.session.scalars(query.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).all()
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return render_template("alerts_admin/inbox.html", items=items[:PAGE_SIZE], more=len(items) > PAGE_SIZE,
                           page=page, status=status, total=total, statuses=service.STATUS_FILTERS,
                           rule_units=scope.roots("manager"))


def _render_alert(alert, form=None, status: int = 200):
    scope = current_scope()
    can_manage = scope.covers(alert.unit, "manager")
    return render_template("alerts_admin/alert.html", alert=alert, can_manage=can_manage,
                           form=form or AcknowledgeForm(formdata=None), note_max=service.NOTE_MAX), status


@bp.get("/<int:alert_id>")
@official_route("viewer")
def alert(alert_id: int):
    return _render_alert(service.get_alert_or_404(current_scope(), alert_id))


@bp.post("/<int:alert_id>/acknowledge")
@official_route("manager")
def acknowledge(alert_id: int):
    scope = current_scope()
    item = service.get_alert_or_404(scope, alert_id, "manager")
    form = AcknowledgeForm()
    if not form.validate_on_submit():
        return _render_alert(item, form, 422)
    try:
        service.acknowledge(db.session, scope, item, form.note.data or "", actor=_actor())
    except AlertError as exc:
        db.session.rollback()
        form.note.errors = [exc.message]
        return _render_alert(item, form, 422)
    flash(_("The alert is acknowledged; your note is kept with it."), "success")
    return redirect(url_for("alerts_admin.alert", alert_id=item.id), code=303)


# ------------------------------------------------------------------ rules of a unit

def _instrument_keys() -> list[str]:
    return list(db.session.scalars(select(Instrument.key).order_by(Instrument.key)))


def _render_rules(unit: Unit, form: RuleForm | None = None, status: int = 200):
    scope = current_scope()
    form = form or RuleForm(formdata=None, data={"kind": "below", "threshold": ""})
    form.kind.choices = [(k, str(KIND_LABELS[k])) for k in ALERT_KINDS]
    form.instrument.choices = [("", _("— (not for petitions)"))] + [(k, k) for k in _instrument_keys()]
    children = db.session.scalars(select(Unit).where(Unit.parent_id == unit.id).order_by(Unit.path)).all()
    return render_template("alerts_admin/rules.html", unit=unit, form=form, rules=rules_service.rules_of(db.session, unit),
                           children=children, crumbs=scope.ancestors_in_scope(unit)), status


@bp.get("/units/<int:unit_id>/rules")
@official_route("manager")
def rules(unit_id: int):
    return _render_rules(current_scope().get_unit_or_404(unit_id, "manager"))


def _threshold(raw: str | None) -> float | None:
    text = (raw or "").strip().replace(",", ".")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise AlertError(_("Please give the threshold as a number, for example 70 or 0.01."), "threshold") from None
    return value


@bp.post("/units/<int:unit_id>/rules")
@official_route("manager")
def add_rule(unit_id: int):
    scope = current_scope()
    unit = scope.get_unit_or_404(unit_id, "manager")
    form = RuleForm()
    form.kind.choices = [(k, k) for k in ALERT_KINDS]
    if not form.validate_on_submit():
        return _render_rules(unit, form, 422)
    try:
        rules_service.create_rule(db.session, scope, unit, kind=form.kind.data or "",
                                  instrument_key=form.instrument.data or None,
                                  threshold=_threshold(form.threshold.data), actor=_actor())
    except AlertError as exc:
        db.session.rollback()
        field = {"kind": form.kind, "instrument": form.instrument}.get(exc.field or "", form.threshold)
        field.errors = [exc.message]
        return _render_rules(unit, form, 422)
    flash(_("The alert rule is added; the next evaluation applies it."), "success")
    return redirect(url_for("alerts_admin.rules", unit_id=unit.id), code=303)


@bp.post("/rules/<int:rule_id>/delete")
@official_route("manager")
def delete_rule(rule_id: int):
    scope = current_scope()
    rule = rules_service.get_rule_or_404(scope, rule_id, "manager")
    form = ButtonForm()
    if not form.validate_on_submit():
        flash(_("The form has expired; please try again."), "error")
        return redirect(url_for("alerts_admin.rules", unit_id=rule.unit_id), code=303)
    unit_id = rule.unit_id
    rules_service.delete_rule(db.session, scope, rule, actor=_actor())
    flash(_("The alert rule and its alerts are removed."), "success")
    return redirect(url_for("alerts_admin.rules", unit_id=unit_id), code=303)
