"""Thin routes of the officials' petition pages. Viewers read (never contact details);
managers of the petition's unit (or above) run the workflow. Every change is a POST with
CSRF, recorded in the petition's history and in the audit log by the service."""
from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from ..errors import abort_with
from ..extensions import db
from ..forms import ButtonForm
from ..guard import current_scope, official_route
from ..models import PETITION_CATEGORIES, PETITION_STATUSES, Petition, Unit, utcnow
from ..services.officials.scope import not_found
from ..services.petitions import operations as service
from ..services.petitions.labels import CATEGORY_LABELS, CLOCK_STATE_LABELS, EVENT_LABELS, STAGE_LABELS, STATUS_LABELS
from ..services.petitions.workdays import calendar_for
from . import bp
from .forms import AnswerForm, AssignForm, InfoRequestForm, MergeForm, NoteForm, RefuseForm, ResumeForm, unit_options

PAGE_SIZE = 50


def _actor():
    return current_user._get_current_object()


def _settings() -> service.PetitionSettings:
    return service.PetitionSettings.from_config(current_app.config, calendar_for(current_app))


def _today() -> date:
    return service.local_day(utcnow(), current_app.config["DISPLAY_TIMEZONE"])


@bp.context_processor
def petitions_context():
    return {"category_labels": CATEGORY_LABELS, "status_labels": STATUS_LABELS, "stage_labels": STAGE_LABELS, "event_labels": EVENT_LABELS,
            "clock_labels": CLOCK_STATE_LABELS, "button_form": ButtonForm(),
            "format_tracking": service.format_tracking, "today": _today()}


def _unit_label(unit: Unit, top: int) -> str:
    label = "\u2003" * max(0, unit.depth - top) + unit.name_vi
    return label + (f" ({unit.code})" if unit.code else "")


def _unit_choices(units) -> list[tuple[int, str]]:
    top = min((u.depth for u in units), default=0)
    return [(u.id, _unit_label(u, top)) for u in units]


def _public_form_url(unit: Unit) -> str:
    base = current_app.config.get("PUBLIC_BASE_URL") or request.host_url.rstrip("/")
    return base + url_for("petitions.form", ref=unit.code or unit.path.strip("/"))


# ------------------------------------------------------------------ the inbox

def _int_arg(name: str) -> int | None:
    raw = request.args.get(name, "")
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**31 else None


@bp.get("/")
@official_route("viewer")
def inbox():
    scope = current_scope()
    status = request.args.get("status", "")
    status = status if status in ("open", *PETITION_STATUSES) else ""
    category = request.args.get("category", "")
    category = category if category in PETITION_CATEGORIES else ""
    unit_id = _int_arg("unit")
    unit = scope.get_unit_or_404(unit_id, "viewer") if unit_id else None
    filters = service.InboxFilter(status=status, category=category, unit=unit,
                                  overdue=request.args.get("overdue") == "1",
                                  suspect=request.args.get("suspect") == "1",
                                  due_soon=request.args.get("due_soon") == "1")
    page = _int_arg("page") or 1
    today = _today()
    settings = _settings()
    query = service.inbox_query(scope, filters, today, settings)
    items = db.session.scalars(query.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).all()
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    units = db.session.scalars(scope.units_query("viewer")).all()
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template(
        "petitions_admin/inbox.html", items=items[:PAGE_SIZE], more=len(items) > PAGE_SIZE, page=page, args=args,
        total=total, filters=filters, unit_choices=_unit_choices(units), statuses=PETITION_STATUSES,
        categories=PETITION_CATEGORIES, overdue_count=service.count_overdue(db.session, scope, today),
        due_soon_count=service.count_due_soon(db.session, scope, today, settings),
        clocks={p.id: service.stage_clocks(p, today, settings) for p in items[:PAGE_SIZE]},
        forms=[SimpleNamespace(unit=r, url=_public_form_url(r)) for r in scope.roots("viewer")],
    )


# ------------------------------------------------------------------ one petition

def _render(petition: Petition, status: int = 200, *, contact=None, assign_form=None, note_form=None,
            answer_form=None, refuse_form=None, info_form=None, resume_form=None, merge_form=None):
    scope = current_scope()
    can_manage = scope.covers(petition.unit, "manager")
    if assign_form is None and can_manage:
        assign_form = AssignForm()
    if assign_form is not None:
        assign_form.unit.choices = unit_options(_unit_choices(service.assign_targets(db.session, scope, petition)))
    if answer_form is None:
        answer_form = AnswerForm(formdata=None, data={"answer": petition.answer_draft or ""})
    today = _today()
    cal = calendar_for(current_app)
    zone = current_app.config["DISPLAY_TIMEZONE"]
    answered_day = service.local_day(petition.answered_at, zone) if petition.answered_at else None
    return render_template(
        "petitions_admin/petition.html", petition=petition, can_manage=can_manage, contact=contact,
        assign_form=assign_form, note_form=note_form or NoteForm(formdata=None), answer_form=answer_form,
        refuse_form=refuse_form or RefuseForm(formdata=None), info_form=info_form or InfoRequestForm(formdata=None),
        resume_form=resume_form or ResumeForm(formdata=None),
        clocks=service.stage_clocks(petition, today, _settings()),
        overdue=service.is_overdue(petition, today),
        days_late=cal.working_days_late(petition.due_on, answered_day or today),
        # working days of this round from its start to the answer, the days waiting for the citizen left out
        days_taken=max(0, cal.working_days_between(service.local_day(petition.reopened_at or petition.received_at, zone),
                                                   answered_day) - (petition.paused_days or 0))
        if answered_day else None,
        public_url=url_for("petitions.status", tracking=service.format_tracking(petition.tracking_code)),
        draft_differs=bool(petition.answer_draft) and petition.answer_draft != petition.answer_text,
        merge_form=merge_form or MergeForm(formdata=None),
        merge_candidates=service.merge_candidates(db.session, scope, petition) if can_manage else [],
        merged_here=service.merged_into(db.session, petition),
    ), status


@bp.get("/<int:petition_id>")
@official_route("viewer")
def petition(petition_id: int):
    return _render(service.get_for_official(current_scope(), petition_id, "viewer"))


@bp.get("/<int:petition_id>/photo")
@official_route("viewer")
def photo(petition_id: int):
    item = service.get_for_official(current_scope(), petition_id, "viewer")
    if item.photo is None:
        not_found()
    response = Response(item.photo.content, mimetype=item.photo.mime)
    response.headers["Content-Disposition"] = f'inline; filename="petition-{item.tracking_code}.jpg"'
    return response


def _manage(petition_id: int) -> Petition:
    """The petition for a workflow POST: in scope as a manager, CSRF checked."""
    item = service.get_for_official(current_scope(), petition_id, "manager")
    if not ButtonForm().validate_on_submit():
        abort_with(400, _("This form has expired or was not sent from our page. Please reload the page and try again."))
    return item


def _done(item: Petition, message: str):
    flash(message, "success")
    return redirect(url_for("petitions_admin.petition", petition_id=item.id), code=303)


def _refused(item: Petition, exc: service.PetitionError):
    db.session.rollback()
    flash(exc.message, "error")
    return redirect(url_for("petitions_admin.petition", petition_id=item.id), code=303)


@bp.post("/<int:petition_id>/assign")
@official_route("manager")
def assign(petition_id: int):
    scope = current_scope()
    item = service.get_for_official(scope, petition_id, "manager")
    form = AssignForm()
    form.unit.choices = unit_options(_unit_choices(service.assign_targets(db.session, scope, item)))
    if not form.validate_on_submit():
        return _render(item, 422, assign_form=form)
    target = scope.get_unit_or_404(form.unit.data, "manager")
    try:
        service.assign(db.session, scope, item, target, actor=_actor())
    except service.PetitionError as exc:
        db.session.rollback()
        form.unit.errors = [exc.message]
        return _render(item, 422, assign_form=form)
    flash(_("The petition has been assigned to %(unit)s.", unit=target.name_vi), "success")
    if not scope.covers(item.unit, "viewer"):
        return redirect(url_for("petitions_admin.inbox"), code=303)
    return redirect(url_for("petitions_admin.petition", petition_id=item.id), code=303)


@bp.post("/<int:petition_id>/note")
@official_route("manager")
def note(petition_id: int):
    scope = current_scope()
    item = service.get_for_official(scope, petition_id, "manager")
    form = NoteForm()
    if not form.validate_on_submit():
        return _render(item, 422, note_form=form)
    try:
        service.add_note(db.session, scope, item, form.note.data or "", actor=_actor())
    except service.PetitionError as exc:
        db.session.rollback()
        form.note.errors = [exc.message]
        return _render(item, 422, note_form=form)
    return _done(item, _("The note has been added."))


@bp.post("/<int:petition_id>/answer")
@official_route("manager")
def answer(petition_id: int):
    scope = current_scope()
    item = service.get_for_official(scope, petition_id, "manager")
    form = AnswerForm()
    if not form.validate_on_submit():
        return _render(item, 422, answer_form=form)
    try:
        service.save_answer(db.session, scope, item, form.answer.data or "", actor=_actor())
    except service.PetitionError as exc:
        db.session.rollback()
        form.answer.errors = [exc.message]
        return _render(item, 422, answer_form=form)
    return _done(item, _("The answer has been saved. It is not public until you publish it."))


def _button(petition_id: int, operation, message: str):
    item = _manage(petition_id)
    try:
        operation(current_scope(), item)
    except service.PetitionError as exc:
        return _refused(item, exc)
    return _done(item, message)


@bp.post("/<int:petition_id>/publish")
@official_route("manager")
def publish(petition_id: int):
    return _button(petition_id, lambda scope, item: service.send_answer(
        db.session, scope, item, actor=_actor(), zone=current_app.config["DISPLAY_TIMEZONE"]),
        _("The answer is sent: the citizen can read it with the tracking code."))


@bp.post("/<int:petition_id>/public")
@official_route("manager")
def make_public(petition_id: int):
    return _button(petition_id, lambda scope, item: service.make_public(db.session, scope, item, actor=_actor()),
                   _("The answer is now on the unit's public page, where anyone may say whether it satisfies them."))


def _text_action(petition_id: int, form_class, form_name: str, field: str, operation, message: str):
    """A workflow POST with one text field (refuse, ask for information, record the reply)."""
    scope = current_scope()
    item = service.get_for_official(scope, petition_id, "manager")
    form = form_class()
    if not form.validate_on_submit():
        return _render(item, 422, **{form_name: form})
    try:
        operation(scope, item, getattr(form, field).data or "")
    except service.PetitionError as exc:
        db.session.rollback()
        if exc.field == field:
            getattr(form, field).errors = [exc.message]
            return _render(item, 422, **{form_name: form})
        return _refused(item, exc)
    return _done(item, message)


@bp.post("/<int:petition_id>/refuse")
@official_route("manager")
def refuse(petition_id: int):
    return _text_action(petition_id, RefuseForm, "refuse_form", "reason",
                        lambda scope, item, text: service.refuse(db.session, scope, item, text, actor=_actor()),
                        _("The petition is refused; the citizen reads the reason at the tracking code."))


@bp.post("/<int:petition_id>/ask")
@official_route("manager")
def ask(petition_id: int):
    return _text_action(petition_id, InfoRequestForm, "info_form", "question",
                        lambda scope, item, text: service.request_info(db.session, scope, item, text, actor=_actor()),
                        _("The citizen is asked for more information; the clock stops until they reply."))


@bp.post("/<int:petition_id>/resume")
@official_route("manager")
def resume(petition_id: int):
    return _text_action(petition_id, ResumeForm, "resume_form", "note",
                        lambda scope, item, text: service.resume(db.session, scope, item, text, actor=_actor(),
                                                                 settings=_settings()),
                        _("The citizen's reply is recorded; the clock runs again."))


@bp.post("/<int:petition_id>/text/approve")
@official_route("manager")
def approve_text(petition_id: int):
    return _button(petition_id, lambda scope, item: service.set_text_public(db.session, scope, item, True,
                                                                            actor=_actor()),
                   _("The petition's text is now public with its status."))


@bp.post("/<int:petition_id>/text/withhold")
@official_route("manager")
def withhold_text(petition_id: int):
    return _button(petition_id, lambda scope, item: service.set_text_public(db.session, scope, item, False,
                                                                            actor=_actor()),
                   _("The petition's text is no longer public."))


@bp.post("/<int:petition_id>/close")
@official_route("manager")
def close(petition_id: int):
    return _button(petition_id, lambda scope, item: service.close(db.session, scope, item, actor=_actor()),
                   _("The petition is closed."))


@bp.post("/<int:petition_id>/reopen")
@official_route("manager")
def reopen(petition_id: int):
    return _button(petition_id, lambda scope, item: service.reopen(db.session, scope, item, actor=_actor()),
                   _("The petition is open again."))


@bp.post("/<int:petition_id>/merge")
@official_route("manager")
def merge(petition_id: int):
    """Merge this petition (a duplicate) into the one numbered in the form (the survivor)."""
    scope = current_scope()
    item = service.get_for_official(scope, petition_id, "manager")
    form = MergeForm()
    if not form.validate_on_submit():
        return _render(item, 400, merge_form=form)
    number = form.petition_number()
    survivor = db.session.get(Petition, number) if number else None
    if survivor is None or not scope.covers(survivor.unit, "manager"):
        form.into.errors = [_("There is no petition with this number that you manage. Please check the number.")]
        return _render(item, 404 if number else 422, merge_form=form)
    try:
        service.merge(db.session, scope, item, survivor, actor=_actor(), settings=_settings())
    except service.PetitionError as exc:
        db.session.rollback()
        form.into.errors = [exc.message]
        return _render(item, 409, merge_form=form)
    return _done(item, _("The petition is merged into petition no. %(id)d: it will get the same answer, and its "
                         "tracking code stays valid.", id=survivor.id))


@bp.post("/<int:petition_id>/repeat/unmark")
@official_route("manager")
def unmark_repeat(petition_id: int):
    item = _manage(petition_id)
    try:
        service.unmark_repeat(db.session, current_scope(), item, actor=_actor())
    except service.PetitionError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _render(item, 409)
    return _done(item, _("The petition no longer counts as a repeat."))


@bp.post("/<int:petition_id>/contact")
@official_route("manager")
def contact(petition_id: int):
    """Show the contact details once, on this response only; the view is audited."""
    item = _manage(petition_id)
    shown = service.view_contact(db.session, current_scope(), item, actor=_actor())
    if shown is None:
        flash(_("This petition has no contact details."), "info")
        return redirect(url_for("petitions_admin.petition", petition_id=item.id), code=303)
    return _render(item, contact=shown)


@bp.post("/<int:petition_id>/contact/delete")
@official_route("manager")
def contact_delete(petition_id: int):
    item = _manage(petition_id)
    deleted = service.delete_contact(db.session, current_scope(), item, actor=_actor())
    return _done(item, _("The contact details have been deleted; the petition stays.") if deleted
                 else _("This petition has no contact details."))


# ------------------------------------------------------------------ accountability figures

def _date_arg(name: str, default: date) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        return None
    return value if 2000 <= value.year <= 2100 else None


@bp.get("/figures")
@official_route("viewer")
def figures():
    scope = current_scope()
    roots = scope.roots("viewer")
    unit_id = _int_arg("unit")
    unit = scope.get_unit_or_404(unit_id, "viewer") if unit_id else (roots[0] if roots else None)
    if unit is None:
        not_found()
    today = _today()
    date_from, date_to = _date_arg("from", date(today.year, 1, 1)), _date_arg("to", today)
    error = None
    status = 200
    result = None
    if date_from is None or date_to is None or date_to < date_from:
        error = _("Please give a period such as 2026-01-01 to 2026-06-30, the first day before the last.")
        status = 422
    else:
        result = service.accountability(db.session, unit, date_from, date_to, settings=_settings())
    units = db.session.scalars(scope.units_query("viewer").where(Unit.is_service_point.is_(False))).all()
    return render_template("petitions_admin/figures.html", unit=unit, result=result, error=error, as_of=today,
                           unit_choices=_unit_choices(units), date_from=request.args.get("from") or
                           (date_from.isoformat() if date_from else ""),
                           date_to=request.args.get("to") or (date_to.isoformat() if date_to else "")), status
