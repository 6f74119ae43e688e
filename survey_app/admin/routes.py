"""Thin routes of the management pages: parse, load through the scope, call a service,
render. Every view declares its least role with ``@official_route``; every object named
in the URL is loaded with ``current_scope().get_…_or_404`` (404 outside the official's
area, 403 inside it with too low a role)."""
from __future__ import annotations

import base64
from datetime import timedelta
from types import SimpleNamespace

import flask
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import exists, func, select

from ..errors import abort_with
from ..extensions import db
from ..forms import ButtonForm
from ..guard import current_scope, official_route
from ..i18n import current_language
from ..models import ROLE_RANK, Campaign, Grant, Instrument, InstrumentVersion, Response, Unit, campaign_unit, utcnow
from ..models import Kiosk
from ..services.collect import instruments, surveys, xlsform
from ..services.officials import accounts, audit, audit_text, campaigns, tree
from ..services.officials.scope import not_found, path_under
from ..services.qr import encoding as qr
from ..services.qr import kiosks, posters, slips, tokens
from . import bp
from .forms import (ACCESS_LABELS, ACCESS_NAMES, CHANGE_LABELS, DIVISION_LABELS, KIND_LABELS, OFFICE_LABELS,
                    ROLE_LABELS, ROLE_NAMES, AuditFilterForm, CampaignForm, EmailForm, GrantForm, LineageForm, MoveForm, RenameForm, ResetPasswordForm, UnitForm, UploadForm, UserForm, options)

PAGE_SIZE = 50


def _actor():
    return current_user._get_current_object()


def _unit_label(unit: Unit, indent: int = 0) -> str:
    """A unit in a list of choices, with its code for service points."""
    label = "\u2003" * indent + unit.name_vi
    if unit.code:
        label += f" ({unit.code})"
    if not unit.active:
        label += " – " + _("inactive")
    return label


def _tree_options(units) -> list:
    """Units in tree order, indented below the shallowest of them."""
    top = min((u.depth for u in units), default=0)
    return options((u.id, _unit_label(u, u.depth - top)) for u in units)


@bp.context_processor
def admin_context():
    return {"kind_labels": KIND_LABELS, "office_labels": OFFICE_LABELS, "division_labels": DIVISION_LABELS,
            "role_names": ROLE_NAMES, "access_labels": ACCESS_LABELS, "access_names": ACCESS_NAMES,
            "status_label": campaigns.status_label, "button_form": ButtonForm()}


# ------------------------------------------------------------------ dashboard

@bp.get("/")
@official_route("viewer")
def dashboard():
    scope = current_scope()
    areas = []
    for root in scope.roots("viewer"):
        below = path_under(Unit.path, root.path)
        points = db.session.scalar(select(func.count(Unit.id)).where(below, Unit.is_service_point.is_(True),
                                                                     Unit.active.is_(True)))
        week = db.session.scalar(select(func.count(Response.id)).join(Unit, Unit.id == Response.unit_id)
                                 .where(below, Response.submitted_at >= utcnow() - timedelta(days=7)))
        areas.append(SimpleNamespace(unit=root, role=scope.role_at(root), points=points, week=week))
    recent = db.session.scalars(scope.campaigns_query("viewer").limit(8)).all()
    counts = campaigns.totals(db.session, [c.id for c in recent])
    return render_template("admin/dashboard.html", areas=areas, recent=recent, counts=counts, now=utcnow())


# ------------------------------------------------------------------ units

@bp.get("/units/<int:unit_id>")
@official_route("viewer")
def unit(unit_id: int):
    scope = current_scope()
    unit = scope.get_unit_or_404(unit_id, "viewer")
    children = db.session.scalars(select(Unit).where(Unit.parent_id == unit.id).order_by(Unit.is_service_point,
                                                                                          Unit.name_vi)).all()
    member = select(campaign_unit.c.campaign_id).join(Unit, Unit.id == campaign_unit.c.unit_id).where(
        campaign_unit.c.campaign_id == Campaign.id, path_under(Unit.path, unit.path)).exists()
    unit_campaigns = db.session.scalars(scope.campaigns_query("viewer").where(member)).all()
    grants = []
    if scope.covers(unit, "admin"):
        grants = db.session.scalars(select(Grant).where(Grant.unit_id == unit.id).order_by(Grant.id)).all()
    has_answers = db.session.scalar(select(exists().where(Response.unit_id == unit.id)))
    return render_template(
        "admin/unit.html", unit=unit, crumbs=scope.ancestors_in_scope(unit), children=children,
        campaigns=unit_campaigns, counts=campaigns.totals(db.session, [c.id for c in unit_campaigns]),
        grants=grants, role=scope.role_at(unit), has_answers=has_answers,
        can_manage=scope.covers(unit, "manager"), can_admin=scope.covers(unit, "admin"),
        survey_url=_public_url("public.survey", code=unit.code) if unit.code else None, now=utcnow(),
        kiosks=_unit_kiosks(unit, scope), successions=_successions_of(scope, unit), change_labels=CHANGE_LABELS,
    )


def _unit_kiosks(unit: Unit, scope):
    """The kiosks of a service point, for its managers (``None``: no kiosk section)."""
    if not unit.is_service_point or not scope.covers(unit, "manager"):
        return None
    return kiosks.list_kiosks(db.session, unit, include_revoked=True)


@bp.route("/units/<int:unit_id>/new", methods=["GET", "POST"])
@official_route("manager")
def unit_new(unit_id: int):
    scope = current_scope()
    parent = scope.get_unit_or_404(unit_id, "manager")
    form = UnitForm()
    if request.method == "GET":
        form.kind.data = parent.kind if parent.kind != "admin" else "one_stop"
        form.service_point.data = True
    status = 200
    if form.validate_on_submit():
        try:
            child = tree.create_child(
                db.session, scope, parent, name_vi=form.name_vi.data, name_en=form.name_en.data or "",
                kind=form.kind.data, service_point=form.service_point.data, slug=form.slug.data or None,
                code=form.code.data or None, office=form.office.data or None, actor=_actor())
        except tree.TreeError as exc:
            db.session.rollback()
            form.name_vi.errors = [*form.name_vi.errors, str(exc)]
            status = 422
        else:
            flash(_("%(name)s has been created.", name=child.name_vi), "success")
            return redirect(url_for("admin.unit", unit_id=child.id), code=303)
    elif request.method == "POST":
        status = 422
    return render_template("admin/unit_new.html", parent=parent, form=form,
                           crumbs=scope.ancestors_in_scope(parent) + [parent]), status


@bp.route("/units/<int:unit_id>/edit", methods=["GET", "POST"])
@official_route("manager")
def unit_edit(unit_id: int):
    scope = current_scope()
    unit = scope.get_unit_or_404(unit_id, "manager")
    form = RenameForm(obj=unit) if request.method == "GET" else RenameForm()
    status = 200
    if form.validate_on_submit():
        try:
            tree.rename(db.session, scope, unit, name_vi=form.name_vi.data, name_en=form.name_en.data or "",
                        slug=form.slug.data or None, actor=_actor())
        except tree.TreeError as exc:
            db.session.rollback()
            form.slug.errors = [*form.slug.errors, str(exc)]
            status = 422
        else:
            flash(_("The changes have been saved."), "success")
            return redirect(url_for("admin.unit", unit_id=unit.id), code=303)
    elif request.method == "POST":
        status = 422
    return render_template("admin/unit_edit.html", unit=unit, form=form,
                           crumbs=scope.ancestors_in_scope(unit) + [unit]), status


def _successions_of(scope, unit: Unit):
    """The successions naming ``unit`` (as successor or predecessor) whose other unit the
    official may read too."""
    from ..models import Succession

    rows = db.session.scalars(select(Succession).where(
        (Succession.successor_id == unit.id) | (Succession.predecessor_id == unit.id)).order_by(
        Succession.effective_on, Succession.id)).all()
    return [r for r in rows if scope.covers(r.successor, "viewer") and scope.covers(r.predecessor, "viewer")]


@bp.route("/units/<int:unit_id>/lineage", methods=["GET", "POST"])
@official_route("admin")
def unit_lineage(unit_id: int):
    """Declare that this unit continues former units from a date (merger, split, rename)."""
    from ..services.officials import lineage

    scope = current_scope()
    unit = scope.get_unit_or_404(unit_id, "admin")
    form = LineageForm()
    candidates = [u for u in db.session.scalars(scope.units_query("admin").where(
        Unit.is_service_point.is_(False), Unit.parent_id.is_not(None)))
        if not u.path.startswith(unit.path) and not unit.path.startswith(u.path)]
    form.predecessors.choices = _tree_options(candidates)
    status = 200
    if form.validate_on_submit():
        chosen = [u for u in candidates if u.id in set(form.predecessors.data)]
        try:
            lineage.declare(db.session, scope, unit, [(u, form.share.data or None) for u in chosen],
                            effective_on=form.effective_on.parsed, change=form.change.data, note=form.note.data,
                            actor=_actor())
        except lineage.LineageError as exc:
            db.session.rollback()
            form.predecessors.errors = [*form.predecessors.errors, str(exc)]
            status = 422
        else:
            flash(_("The succession has been recorded. Reports of %(name)s now include the former units' answers "
                    "before that day.", name=unit.name_vi), "success")
            return redirect(url_for("admin.unit", unit_id=unit.id), code=303)
    elif request.method == "POST":
        status = 422
    return render_template("admin/unit_lineage.html", unit=unit, form=form, candidates=candidates,
                           successions=_successions_of(scope, unit), change_labels=CHANGE_LABELS,
                           crumbs=scope.ancestors_in_scope(unit) + [unit]), status


@bp.post("/successions/<int:succession_id>/carry-grants")
@official_route("admin")
def succession_carry_grants(succession_id: int):
    """An administrator's decision: the grants on the former unit are given on its successor too."""
    from ..models import Succession
    from ..services.officials import lineage

    scope = current_scope()
    row = db.session.get(Succession, succession_id) if 0 < succession_id < 2**31 else None
    if row is None or not scope.covers(row.successor, "viewer") or not scope.covers(row.predecessor, "viewer"):
        not_found()
    scope.require(row.successor, "admin")
    scope.require(row.predecessor, "admin")
    form = ButtonForm()
    if not form.validate_on_submit():
        abort_with(400, _("Your session expired before you sent the form. Please try again."))
    added = lineage.carry_grants(db.session, scope, row, actor=_actor())
    flash(ngettext("%(num)d access given on %(name)s.", "%(num)d accesses given on %(name)s.", added,
                   name=row.successor.name_vi), "success")
    return redirect(url_for("admin.unit_lineage", unit_id=row.successor_id), code=303)


@bp.route("/units/<int:unit_id>/move", methods=["GET", "POST"])
@official_route("manager")
def unit_move(unit_id: int):
    scope = current_scope()
    unit = scope.get_unit_or_404(unit_id, "manager")
    form = MoveForm()
    targets = tree.move_targets(db.session, scope, unit)
    form.parent.choices = _tree_options(targets)
    status = 200
    if form.validate_on_submit():
        new_parent = scope.get_unit_or_404(form.parent.data, "manager")
        try:
            count = tree.move(db.session, scope, unit, new_parent, actor=_actor())
        except tree.TreeError as exc:
            db.session.rollback()
            form.parent.errors = [str(exc)]
            status = 422
        else:
            flash(_("%(name)s has been moved (%(count)d units).", name=unit.name_vi, count=count), "success")
            return redirect(url_for("admin.unit", unit_id=unit.id), code=303)
    elif request.method == "POST":
        status = 422
    return render_template("admin/unit_move.html", unit=unit, form=form, targets=targets,
                           crumbs=scope.ancestors_in_scope(unit) + [unit]), status


def _unit_button(unit_id: int, operation):
    """The POST-only unit buttons: check CSRF (the empty form), run, say what happened."""
    scope = current_scope()
    unit = scope.get_unit_or_404(unit_id, "manager")
    ButtonForm().validate_on_submit()
    try:
        message, target = operation(scope, unit)
    except tree.TreeError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("admin.unit", unit_id=unit.id), code=303)
    flash(message, "success")
    return redirect(target, code=303)


@bp.post("/units/<int:unit_id>/deactivate")
@official_route("manager")
def unit_deactivate(unit_id: int):
    def run(scope, unit):
        count = tree.set_active(db.session, scope, unit, False, actor=_actor())
        return (_("%(name)s has been deactivated (%(count)d units); it takes no more answers.",
                  name=unit.name_vi, count=count), url_for("admin.unit", unit_id=unit.id))
    return _unit_button(unit_id, run)


@bp.post("/units/<int:unit_id>/activate")
@official_route("manager")
def unit_activate(unit_id: int):
    def run(scope, unit):
        count = tree.set_active(db.session, scope, unit, True, actor=_actor())
        return (_("%(name)s is active again (%(count)d units).", name=unit.name_vi, count=count),
                url_for("admin.unit", unit_id=unit.id))
    return _unit_button(unit_id, run)


@bp.post("/units/<int:unit_id>/delete")
@official_route("manager")
def unit_delete(unit_id: int):
    def run(scope, unit):
        parent_id, name = unit.parent_id, unit.name_vi
        tree.delete(db.session, scope, unit, actor=_actor())
        target = (url_for("admin.unit", unit_id=parent_id) if parent_id and scope.covers(db.session.get(Unit, parent_id))
                  else url_for("admin.dashboard"))
        return _("%(name)s has been deleted.", name=name), target
    return _unit_button(unit_id, run)


# ------------------------------------------------------------------ posters (services/qr/posters.py)

def _base_url() -> str:
    """The public address QR codes lead to: PUBLIC_BASE_URL, else this request's host."""
    return current_app.config.get("PUBLIC_BASE_URL") or request.host_url.rstrip("/")


def _public_url(endpoint: str, **values) -> str:
    return _base_url() + url_for(endpoint, **values)


def _download(body, mimetype: str, filename: str):
    response = flask.make_response(body)
    response.headers["Content-Type"] = mimetype
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/units/<int:unit_id>/poster.pdf")
@official_route("manager")
def unit_poster(unit_id: int):
    """Posters (A4) or table cards (A6) for every active service point in the unit's subtree."""
    unit = current_scope().get_unit_or_404(unit_id, "manager")
    size = request.args.get("size", "a4")
    if size not in posters.POSTER_SIZES:
        abort_with(400, _("Unknown poster size."))
    if not posters.service_points_under(db.session, unit):
        abort_with(422, _("There is no active service point here, so there is no poster to print."))
    try:
        pdf = posters.build_posters_pdf(db.session, unit, base_url=_base_url(), size=size)
    except posters.PosterError:
        abort_with(422, _("The poster could not be made. Check the service's public address (PUBLIC_BASE_URL)."))
    return _download(pdf, "application/pdf", f"hailong-poster-{unit.code or unit.slug}-{size}.pdf")


# ------------------------------------------------------------------ campaigns

@bp.get("/campaigns")
@official_route("viewer")
def campaign_list():
    scope = current_scope()
    status = request.args.get("status", "")
    query = scope.campaigns_query("viewer")
    if status in ("draft", "open", "paused", "closed"):
        query = query.where(Campaign.status == status)
    items = db.session.scalars(query.limit(500)).all()
    return render_template("admin/campaigns.html", items=items, status=status, now=utcnow(),
                           counts=campaigns.totals(db.session, [c.id for c in items]),
                           new_targets=scope.roots("manager"))


@bp.route("/units/<int:unit_id>/campaigns/new", methods=["GET", "POST"])
@official_route("manager")
def campaign_new(unit_id: int):
    scope = current_scope()
    unit = scope.get_unit_or_404(unit_id, "manager")
    points = db.session.scalars(scope.units_query("manager").where(
        path_under(Unit.path, unit.path), Unit.is_service_point.is_(True), Unit.active.is_(True))).all()
    # Only the surveys that fit some point here: a one-stop counter is not offered the school survey.
    versions = [v for v in campaigns.version_choices(db.session) if any(campaigns.fits(v, p) for p in points)]
    form = CampaignForm()
    form.units.choices = options((p.id, _unit_label(p)) for p in points)
    form.version.choices = options((v.id, f"{v.snapshot['title']['vi']} (v{v.number})") for v in versions)
    status = 200
    if form.validate_on_submit():
        chosen = [scope.get_unit_or_404(i, "manager") for i in form.units.data]
        version = db.session.get(InstrumentVersion, form.version.data)
        try:
            campaign = campaigns.create_campaign(
                db.session, scope, name=form.name.data, version=version, units=chosen,
                access_mode=form.access_mode.data, starts_at=form.starts_at.data, ends_at=form.ends_at.data,
                actor=_actor())
        except campaigns.CampaignError as exc:
            db.session.rollback()
            form.name.errors = [*form.name.errors, str(exc)]
            status = 422
        else:
            flash(_("The campaign has been created as a draft. Open it when you are ready."), "success")
            return redirect(url_for("admin.campaign", campaign_id=campaign.id), code=303)
    elif request.method == "POST":
        status = 422
    return render_template("admin/campaign_new.html", unit=unit, form=form, points=points, versions=versions,
                           crumbs=scope.ancestors_in_scope(unit) + [unit]), status


@bp.get("/campaigns/<int:campaign_id>")
@official_route("viewer")
def campaign(campaign_id: int):
    scope = current_scope()
    item = scope.get_campaign_or_404(campaign_id, "viewer")
    rows = campaigns.response_counts(db.session, item)
    return render_template(
        "admin/campaign.html", campaign=item, rows=rows, total=sum(r.total for r in rows), now=utcnow(),
        can_manage=all(scope.covers(u, "manager") for u in item.units),
        urls={u.id: _public_url("public.survey", code=u.code) for u in item.units if u.code},
    )


def _campaign_button(campaign_id: int, action: str, done: str):
    scope = current_scope()
    item = scope.get_campaign_or_404(campaign_id, "manager")
    ButtonForm().validate_on_submit()
    try:
        campaigns.change_status(db.session, scope, item, action, actor=_actor())
    except campaigns.CampaignError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        flash(done, "success")
    return redirect(url_for("admin.campaign", campaign_id=item.id), code=303)


@bp.post("/campaigns/<int:campaign_id>/open")
@official_route("manager")
def campaign_open(campaign_id: int):
    return _campaign_button(campaign_id, "open", _("The campaign is open: citizens can answer."))


@bp.post("/campaigns/<int:campaign_id>/pause")
@official_route("manager")
def campaign_pause(campaign_id: int):
    return _campaign_button(campaign_id, "pause", _("The campaign is paused: it takes no answers until you open it again."))


@bp.post("/campaigns/<int:campaign_id>/close")
@official_route("manager")
def campaign_close(campaign_id: int):
    return _campaign_button(campaign_id, "close", _("The campaign is closed for good."))


def _render_preview(definition: dict, unit_like, action_url: str, status: int = 200, validation=None,
                    notice: str | None = None):
    """The citizens' own template, with its form sent back here instead of to the survey."""
    return render_template(
        "public/survey.html", target=SimpleNamespace(unit=unit_like), definition=definition,
        form_token="preview", action_url=f"{action_url}?lang={current_language()}",
        values=validation.values if validation else {}, errors=validation.errors if validation else {},
        form_errors=validation.form_errors if validation else [], field_prefix=surveys.FIELD_PREFIX,
        preview_notice=notice or _("Preview: this is exactly what citizens see. Nothing you send here is saved."),
    ), status


def _preview(definition: dict, unit_like, action_url: str):
    if request.method == "GET":
        return _render_preview(definition, unit_like, action_url)
    validation = surveys.validate_answers(definition, request.form)
    if not validation.ok:
        return _render_preview(definition, unit_like, action_url, 422, validation,
                               _("Preview: some answers need attention, as a citizen would see. Nothing was saved."))
    return _render_preview(definition, unit_like, action_url, 200, None,
                           _("Preview: these answers would be accepted. Nothing was saved."))


@bp.route("/campaigns/<int:campaign_id>/preview", methods=["GET", "POST"])
@official_route("viewer", read_only=True)
def campaign_preview(campaign_id: int):
    item = current_scope().get_campaign_or_404(campaign_id, "viewer")
    first = sorted(item.units, key=lambda u: u.path)[0]
    return _preview(item.instrument_version.snapshot, first, url_for("admin.campaign_preview", campaign_id=item.id))


# ------------------------------------------------------------------ one-time codes (services/qr/tokens.py, slips.py)

@bp.post("/campaigns/<int:campaign_id>/units/<int:unit_id>/codes")
@official_route("manager")
def campaign_codes(campaign_id: int, unit_id: int):
    """Issue one-time codes for one point of a token campaign: cut-out slips (PDF) or a
    CSV for a one-stop software. The codes exist only in this download."""
    scope = current_scope()
    item = scope.get_campaign_or_404(campaign_id, "manager")
    unit = scope.get_unit_or_404(unit_id, "manager")
    if unit not in item.units:
        not_found()
    if item.access_mode == "open":
        abort_with(422, _("This campaign is open to anyone with the poster; it uses no one-time codes."))
    if item.state_at(utcnow()) in ("closed", "ended"):
        abort_with(422, _("This campaign is over; it takes no more codes."))
    raw = (request.form.get("count") or "").strip()
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= tokens.MAX_BATCH:
        abort_with(422, _("Please ask for 1 to %(max)d codes.", max=tokens.MAX_BATCH))
    kind = request.form.get("format", "pdf")
    if kind not in ("pdf", "csv"):
        abort_with(422, _("Please choose slips (PDF) or a list (CSV)."))
    try:
        codes = tokens.issue_tokens(db.session, item, unit, int(raw))
        if kind == "pdf":
            body = slips.build_slips_pdf(codes, item, unit, base_url=_base_url())
        else:
            body = tokens.codes_csv(codes, _base_url())
    except (tokens.TokenIssueError, ValueError):
        db.session.rollback()
        abort_with(422, _("The codes could not be issued for this service point."))
    audit.record(db.session, "tokens.issued", actor=_actor(), unit=unit, target=f"campaign:{item.id}",
                 detail={"campaign": item.name, "unit": unit.path, "count": len(codes), "format": kind})
    db.session.commit()
    name = f"hailong-codes-{item.id}-{unit.code or unit.slug}.{kind}"
    return _download(body, "application/pdf" if kind == "pdf" else "text/csv; charset=utf-8", name)


# ------------------------------------------------------------------ kiosks (services/qr/kiosks.py)

@bp.post("/units/<int:unit_id>/kiosks")
@official_route("manager")
def kiosk_enrol(unit_id: int):
    """Enrol a tablet for a service point: the one-time link is shown here, once."""
    scope = current_scope()
    unit = scope.get_unit_or_404(unit_id, "manager")
    label = (request.form.get("label") or "").strip()
    if not unit.is_service_point or not unit.code or not unit.active:
        abort_with(422, _("Only an active service point can have a kiosk."))
    if len(label) > kiosks.LABEL_MAX:
        abort_with(422, _("At most %(max)d characters.", max=kiosks.LABEL_MAX))
    enrolment = kiosks.enrol_kiosk(db.session, unit, label)
    audit.record(db.session, "kiosk.enrolled", actor=_actor(), unit=unit, target=f"kiosk:{enrolment.kiosk.id}",
                 detail={"unit": unit.path, "name": label})
    db.session.commit()
    link = _base_url() + enrolment.path
    qr_svg = base64.b64encode(qr.qr_svg(link).encode()).decode()
    return render_template("admin/kiosk_enrolled.html", unit=unit, link=link, qr_svg=qr_svg,
                           expires_at=enrolment.expires_at, crumbs=scope.ancestors_in_scope(unit) + [unit])


@bp.post("/kiosks/<int:kiosk_id>/revoke")
@official_route("manager")
def kiosk_revoke(kiosk_id: int):
    scope = current_scope()
    kiosk = scope.get_in_unit_or_404(Kiosk, kiosk_id, "manager")
    ButtonForm().validate_on_submit()
    if kiosk.revoked_at is None:
        kiosks.revoke_kiosk(db.session, kiosk.id, within=kiosk.unit)
        audit.record(db.session, "kiosk.revoked", actor=_actor(), unit=kiosk.unit, target=f"kiosk:{kiosk.id}",
                     detail={"unit": kiosk.unit.path, "name": kiosk.label})
        db.session.commit()
    flash(_("The kiosk has been revoked; the tablet no longer collects answers."), "success")
    return redirect(url_for("admin.unit", unit_id=kiosk.unit_id), code=303)


@bp.get("/kiosks/<int:kiosk_id>")
@official_route("manager")
def kiosk(kiosk_id: int):
    """A kiosk's page: which survey it shows now, and the campaign a manager chose for it."""
    scope = current_scope()
    item = scope.get_in_unit_or_404(Kiosk, kiosk_id, "manager")
    return _kiosk_page(scope, item)


def _kiosk_page(scope, item: Kiosk, status: int = 200, error: str | None = None):
    try:
        showing = kiosks.kiosk_target(db.session, item.unit.code, item).campaign
    except surveys.SurveyUnavailable:
        showing = None
    return render_template("admin/kiosk.html", kiosk=item, unit=item.unit, now=utcnow(), showing=showing,
                           choices=kiosks.campaign_choices(db.session, scope, item), error=error,
                           quick_key=kiosks.QUICK_INSTRUMENT,
                           crumbs=scope.ancestors_in_scope(item.unit) + [item.unit]), status


@bp.post("/kiosks/<int:kiosk_id>/campaign")
@official_route("manager")
def kiosk_campaign(kiosk_id: int):
    """Choose the campaign a kiosk answers (an empty choice: the point's quick survey)."""
    scope = current_scope()
    item = scope.get_in_unit_or_404(Kiosk, kiosk_id, "manager")
    raw = (request.form.get("campaign_id") or "").strip()
    if raw and not (raw.isascii() and raw.isdigit() and len(raw) < 10):
        return _kiosk_page(scope, item, 422, _("Please choose a campaign from the list."))
    try:
        chosen = kiosks.choose_campaign(db.session, scope, item, int(raw) if raw else None)
    except kiosks.KioskError:
        db.session.rollback()
        message = (_("A revoked kiosk no longer collects answers; set up a new one.") if item.revoked_at
                   else _("This campaign cannot be chosen for this kiosk: choose a poster campaign that is "
                          "open, or opens later, at this service point."))
        return _kiosk_page(scope, item, 422, message)
    audit.record(db.session, "kiosk.campaign_chosen", actor=_actor(), unit=item.unit, target=f"kiosk:{item.id}",
                 detail={"unit": item.unit.path, "name": item.label,
                         "campaign": chosen.name if chosen else None, "campaign_id": chosen.id if chosen else None})
    db.session.commit()
    flash(_("The kiosk now shows the campaign %(name)s while it is open.", name=chosen.name) if chosen
          else _("The kiosk now shows the quick survey of its service point."), "success")
    return redirect(url_for("admin.kiosk", kiosk_id=item.id), code=303)


# ------------------------------------------------------------------ instruments (shared by the whole tree)

@bp.get("/instruments")
@official_route("viewer", shared=True)
def instrument_list():
    items = db.session.scalars(select(Instrument).order_by(Instrument.key)).all()
    return render_template("admin/instruments.html", items=items,
                           can_upload=current_scope().has_shared_role("admin"))


@bp.get("/instruments/<int:instrument_id>")
@official_route("viewer", shared=True)
def instrument(instrument_id: int):
    item = db.get_or_404(Instrument, instrument_id)
    used = dict(db.session.execute(
        select(Campaign.instrument_version_id, func.count(Campaign.id))
        .join(InstrumentVersion, InstrumentVersion.id == Campaign.instrument_version_id)
        .where(InstrumentVersion.instrument_id == item.id).group_by(Campaign.instrument_version_id)).all())
    return render_template("admin/instrument.html", item=item, used=used,
                           can_upload=current_scope().has_shared_role("admin"))


@bp.route("/instruments/versions/<int:version_id>/preview", methods=["GET", "POST"])
@official_route("viewer", shared=True, read_only=True)
def instrument_preview(version_id: int):
    version = db.get_or_404(InstrumentVersion, version_id)
    sample = SimpleNamespace(code="preview", name=lambda lang: _("Sample service point"))
    return _preview(version.snapshot, sample, url_for("admin.instrument_preview", version_id=version.id))


@bp.route("/instruments/upload", methods=["GET", "POST"])
@official_route("admin", shared=True)
def instrument_upload():
    scope = current_scope()
    form = UploadForm()
    problems: list[str] = []
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        name = "upload/" + (upload.filename or "instrument.toml").replace("/", "_")[-150:]
        data = upload.read(max(instruments.MAX_FILE_BYTES, xlsform.MAX_WORKBOOK_BYTES) + 1)
        try:
            if name.lower().endswith(".xlsx") or data.startswith(b"PK\x03\x04"):  # a workbook: an XLSForm
                definition = xlsform.read_workbook(data, name)
            else:
                definition = instruments.parse_bytes(data, name)
        except instruments.InstrumentError as exc:
            problems = exc.problems
            status = 422
        except xlsform.XLSFormError as exc:
            problems = exc.lines(name)
            status = 422
        else:
            try:
                outcome = instruments.store(db.session, definition, name)
            except instruments.InstrumentError as exc:  # refused before anything was written
                db.session.rollback()
                return render_template("admin/instrument_upload.html", form=form, problems=exc.problems), 422
            if outcome.created:
                audit.record(db.session, "instrument.uploaded", actor=_actor(),
                             unit=scope.acting_unit("admin"), target=f"instrument:{outcome.key}",
                             detail={"key": outcome.key, "version": outcome.version, "file": name})
                db.session.commit()
                flash(_("%(key)s: version %(version)d has been saved.", key=outcome.key, version=outcome.version),
                      "success")
            else:
                db.session.rollback()
                flash(_("%(key)s: this file is identical to version %(version)d; nothing new was saved.",
                        key=outcome.key, version=outcome.version), "info")
            item = db.session.scalar(select(Instrument).where(Instrument.key == outcome.key))
            return redirect(url_for("admin.instrument", instrument_id=item.id), code=303)
    elif request.method == "POST":
        status = 422
    return render_template("admin/instrument_upload.html", form=form, problems=problems), status


# ------------------------------------------------------------------ users and grants (admin)

@bp.get("/users")
@official_route("admin")
def user_list():
    scope = current_scope()
    items = db.session.scalars(scope.users_query()).all()
    return render_template("admin/users.html", items=items, scope=scope, now=utcnow(),
                           new_targets=scope.roots("admin"))


@bp.route("/units/<int:unit_id>/users/new", methods=["GET", "POST"])
@official_route("admin")
def user_new(unit_id: int):
    scope = current_scope()
    unit = scope.get_unit_or_404(unit_id, "admin")
    form = UserForm()
    form.role.choices = options((r, ROLE_LABELS[r]) for r in scope.grantable_roles(unit))
    status = 200
    if form.validate_on_submit():
        try:
            user = accounts.create_user(db.session, username=form.username.data, display_name=form.display_name.data,
                                        password=form.password.data, unit=unit, role=form.role.data,
                                        actor=_actor(), scope=scope, email=form.email.data)
        except accounts.AccountError as exc:
            db.session.rollback()
            form.username.errors = [*form.username.errors, str(exc)]
            status = 422
        else:
            flash(_("The account %(name)s has been created.", name=user.username), "success")
            return redirect(url_for("admin.user", user_id=user.id), code=303)
    elif request.method == "POST":
        status = 422
    return render_template("admin/user_new.html", unit=unit, form=form,
                           crumbs=scope.ancestors_in_scope(unit) + [unit]), status


def _grant_form(scope, user) -> GrantForm:
    form = GrantForm()
    units = db.session.scalars(scope.units_query("admin").where(Unit.is_service_point.is_(False))).all()
    form.unit.choices = _tree_options(units)
    top = max((g.rank for g in scope.grants), default=0)
    form.role.choices = options((r, ROLE_LABELS[r]) for r, rank in ROLE_RANK.items() if rank <= top)
    return form


def _render_user(user, grant_form=None, password_form=None, status: int = 200, email_form=None):
    scope = current_scope()
    visible = [g for g in user.grants if scope.covers(g.unit, "viewer")]
    return render_template(
        "admin/user.html", user=user, grants=visible, hidden_grants=len(user.grants) - len(visible),
        grant_form=grant_form or _grant_form(scope, user), password_form=password_form or ResetPasswordForm(),
        email_form=email_form or EmailForm(formdata=None, data={"email": user.email or ""}),
        can_manage=scope.can_manage_user(user), can_revoke={g.id: scope.covers(g.unit, "admin") and
                                                            g.rank <= scope.rank_at(g.unit.path) for g in visible},
        is_self=user.id == current_user.id, now=utcnow(),
    ), status


@bp.get("/users/<int:user_id>")
@official_route("admin")
def user(user_id: int):
    return _render_user(current_scope().get_user_or_404(user_id))


@bp.post("/users/<int:user_id>/grants")
@official_route("admin")
def grant_add(user_id: int):
    scope = current_scope()
    user = scope.get_user_or_404(user_id)
    form = _grant_form(scope, user)
    if not form.validate_on_submit():
        return _render_user(user, grant_form=form, status=422)
    unit = scope.get_unit_or_404(form.unit.data, "admin")
    try:
        accounts.add_grant(db.session, user, unit, form.role.data, actor=_actor(), scope=scope)
    except accounts.AccountError as exc:
        db.session.rollback()
        form.role.errors = [str(exc)]
        return _render_user(user, grant_form=form, status=422)
    flash(_("Access has been given."), "success")
    return redirect(url_for("admin.user", user_id=user.id), code=303)


@bp.post("/grants/<int:grant_id>/revoke")
@official_route("admin")
def grant_revoke(grant_id: int):
    scope = current_scope()
    grant = scope.get_grant_or_404(grant_id)
    user_id = grant.user_id
    ButtonForm().validate_on_submit()
    try:
        accounts.revoke_grant(db.session, grant, actor=_actor(), scope=scope)
    except accounts.AccountError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        flash(_("Access has been removed."), "success")
    user = db.session.get(accounts.User, user_id)
    if user is not None and scope.can_see_user(user):
        return redirect(url_for("admin.user", user_id=user_id), code=303)
    return redirect(url_for("admin.user_list"), code=303)


def _user_button(user_id: int, active: bool):
    scope = current_scope()
    user = scope.get_user_or_404(user_id, manage=True)
    ButtonForm().validate_on_submit()
    try:
        accounts.set_active(db.session, user, active, actor=_actor(), scope=scope)
    except accounts.AccountError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        flash(_("The account is active again.") if active else
              _("The account has been deactivated; its sessions have ended."), "success")
    return redirect(url_for("admin.user", user_id=user.id), code=303)


@bp.post("/users/<int:user_id>/deactivate")
@official_route("admin")
def user_deactivate(user_id: int):
    return _user_button(user_id, False)


@bp.post("/users/<int:user_id>/activate")
@official_route("admin")
def user_activate(user_id: int):
    return _user_button(user_id, True)


@bp.post("/users/<int:user_id>/email")
@official_route("admin")
def user_email(user_id: int):
    scope = current_scope()
    user = scope.get_user_or_404(user_id, manage=True)
    form = EmailForm()
    if not form.validate_on_submit():
        return _render_user(user, email_form=form, status=422)
    try:
        accounts.set_email(db.session, user, form.email.data, actor=_actor(), scope=scope)
    except accounts.AccountError as exc:
        db.session.rollback()
        form.email.errors = [str(exc)]
        return _render_user(user, email_form=form, status=422)
    flash(_("The e-mail address is saved."), "success")
    return redirect(url_for("admin.user", user_id=user.id), code=303)


@bp.post("/users/<int:user_id>/password")
@official_route("admin")
def user_password(user_id: int):
    scope = current_scope()
    user = scope.get_user_or_404(user_id, manage=True)
    form = ResetPasswordForm()
    if not form.validate_on_submit():
        return _render_user(user, password_form=form, status=422)
    try:
        accounts.set_password(db.session, user, form.password.data, actor=_actor(), scope=scope)
    except accounts.AccountError as exc:
        db.session.rollback()
        form.password.errors = [str(exc)]
        return _render_user(user, password_form=form, status=422)
    flash(_("The new password is set; the account's sessions have ended and any lock is lifted."), "success")
    return redirect(url_for("admin.user", user_id=user.id), code=303)


# ------------------------------------------------------------------ audit log

def action_labels() -> dict[str, str]:
    return {a: audit_text.action_label(a) for a in audit.ACTIONS}


@bp.get("/audit")
@official_route("admin")
def audit_log():
    scope = current_scope()
    labels = action_labels()
    form = AuditFilterForm(request.args)
    form.action.choices = options([("", _("All actions"))] + [(a, labels.get(a, a)) for a in audit.ACTIONS])
    query = scope.audit_query("admin")
    status = 200
    if request.args and not form.validate():
        status = 422
    else:
        query = audit.filtered(query, action=form.action.data or None,
                               username=accounts.normalise_username(form.user.data or "") or None,
                               since=form.since.data, until=form.until.data)
    page = request.args.get("page", "1")
    page = int(page) if page.isascii() and page.isdigit() and 0 < int(page) < 10_000 else 1
    events = db.session.scalars(query.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).all()
    more = len(events) > PAGE_SIZE
    args = {k: v for k, v in request.args.items() if k != "page"}
    events = events[:PAGE_SIZE]
    names, surveys = audit_text.unit_names(db.session, events, current_language())
    entries = [(e, audit_text.sentence(e, names, surveys)) for e in events]
    return render_template("admin/audit.html", form=form, entries=entries, page=page,
                           more=more, args=args), status
