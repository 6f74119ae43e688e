"""Thin routes of the report pages: parse the filters (400 with a sentence when one is
wrong), load the unit through the scope (404 outside it, 403 with too low a role), call
the report services, render. Pages work without JavaScript; charts are images served by
``chart`` from a cache keyed by the filters and the rollup watermark.

Roles: viewers read dashboards, charts, comments and the list of publications; managers
also download exports (audited: raw answers leave the system), hide comments, publish and
withdraw results.
"""
from __future__ import annotations

import os
import re
from datetime import date

from flask import Response, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..database import read_session
from ..errors import abort_with
from ..extensions import db
from ..guard import current_scope, official_route
from ..i18n import current_language
from ..jobs import get_jobs
from ..models import CHANNELS, ExportJob, Unit, utcnow
from ..services.data import job_runs
from ..services.petitions import operations as petitions
from ..services.reports import comments as comment_service
from ..services.reports import export_jobs, exports, publication
from ..services.reports import overview as overview_service
from ..services.reports import ranking as ranking_service
from ..services.reports import text as report_text
from ..services.reports.views import (CHART_NAMES, FilterError, ReportFilters, campaign_choices, cached_charts,
                                     chart_bundle, compute, instrument_choices, own_instrument_args, parse_filters,
                                     watermark, window_choices)
from ..services.officials.scope import not_found
from ..services.petitions.workdays import calendar_for
from . import bp
from .forms import ModerateForm, UnpublishForm

SORTS = ("rank", "name", "n", "index", "share")  # "share": older links, sorted as "index"
PER_PAGE = 25


def _actor():
    return current_user._get_current_object()


def _today() -> date:
    return petitions.local_day(utcnow(), current_app.config["DISPLAY_TIMEZONE"])


def _petition_settings() -> petitions.PetitionSettings:
    return petitions.PetitionSettings.from_config(current_app.config, calendar_for(current_app))


@bp.context_processor
def reports_context():
    return {**report_text.helpers(), "channels": CHANNELS}


def _unit(unit_id: int, role: str = "viewer") -> Unit:
    return current_scope().get_unit_or_404(unit_id, role)


def _filters(unit: Unit, args=None, strict: bool = False) -> ReportFilters:
    # A page's filters read (the default instrument) where its figures are read; a form
    # that writes (publishing) keeps everything on the primary.
    session = read_session() if request.method == "GET" else db.session
    return parse_filters(session, current_scope(), unit, request.args if args is None else args, _today(),
                         strict=strict)


def _bad_filter(exc: FilterError):
    abort_with(400, exc.message, _("Please check the filters"))


def _form_context(unit: Unit, filters: ReportFilters | None) -> dict:
    """What the filter form needs: choices, and the values to show (the request's own
    values when they could not be parsed)."""
    scope = current_scope()
    args = request.args
    return {
        "instrument_choices": instrument_choices(db.session),
        "window_choices": window_choices(_today()),
        "campaigns": campaign_choices(db.session, scope, unit),
        "form_values": {
            "instrument": filters.instrument if filters else args.get("instrument", ""),
            "window": filters.window if filters else args.get("window", "12m"),
            "from": filters.date_from.isoformat() if filters else args.get("from", ""),
            "to": filters.date_to.isoformat() if filters else args.get("to", ""),
            "period": filters.period if filters else args.get("period", "month"),
            "channels": list(filters.channels) if filters else args.getlist("channel"),
            "include_suspect": filters.include_suspect if filters else args.get("include_suspect") == "1",
            "campaign": filters.campaign_id if filters else args.get("campaign", ""),
        },
    }


def _crumbs(unit: Unit) -> list[Unit]:
    return current_scope().ancestors_in_scope(unit)


def _sorted_units(rows: list[dict], sort: str, lang: str) -> list[dict]:
    if sort == "name":
        return sorted(rows, key=lambda u: (u["name"].get(lang) or u["name"]["vi"]).casefold())
    if sort == "n":
        return sorted(rows, key=lambda u: -u["n"])
    if sort in ("index", "share"):
        return sorted(rows, key=lambda u: (u["index"] is None, -(u["index"] or 0)))
    return sorted(rows, key=lambda u: (u["rank"] is None, u["rank"] or 0, -u["n"]))


def _question_groups(report: dict) -> list[dict]:
    """Consecutive questions of one factor together, with the factor's name."""
    names = {f["key"]: f["name"] for f in report["factors"]}
    groups: list[dict] = []
    for q in report["questions"]:
        if not groups or groups[-1]["key"] != q.get("factor"):
            groups.append({"key": q.get("factor"), "factor": names.get(q.get("factor") or ""), "questions": []})
        groups[-1]["questions"].append(q)
    return groups


def _option_labels(definition: dict) -> dict[str, dict[str, dict]]:
    return {q["key"]: {o["key"]: {"vi": o["vi"], "en": o.get("en") or o["vi"]} for o in q.get("options", [])}
            for q in definition["questions"] if q["type"] in ("single", "multi")}


# ------------------------------------------------------------------ dashboards

@bp.get("/")
@official_route("viewer")
def index():
    """The landing page: the overview of the official's (first) area."""
    roots = current_scope().roots("viewer")
    if not roots:
        not_found()
    return _overview(roots[0])


@bp.get("/<int:unit_id>/overview")
@official_route("viewer")
def overview(unit_id: int):
    """Every service kind below the unit, each survey with its own headline."""
    return _overview(_unit(unit_id))


def _overview(unit: Unit):
    try:
        data = overview_service.unit_overview(read_session(), current_scope(), unit, request.args, _today())
    except FilterError as exc:
        return render_template("reports/overview.html", unit=unit, overview=None, error=exc.message,
                               crumbs=_crumbs(unit), window_choices=window_choices(_today())), 400
    return render_template("reports/overview.html", unit=unit, overview=data, error=None, crumbs=_crumbs(unit),
                           window_choices=window_choices(_today()), filters=data.filters)


@bp.get("/<int:unit_id>/ranking")
@official_route("viewer")
def ranking(unit_id: int):
    """All communes, or all service points of a kind, below the unit, compared."""
    unit = _unit(unit_id)
    try:
        result = ranking_service.rank(read_session(), current_scope(), unit, request.args, _today())
    except FilterError as exc:
        return render_template("reports/ranking.html", unit=unit, ranking=None, filters=None, error=exc.message,
                               crumbs=_crumbs(unit), choice=None, levels=ranking_service.LEVELS,
                               kinds=ranking_service.POINT_KINDS, **_form_context(unit, None)), 400
    funnel = ranking_service.funnel_svg(result, current_language()) is not None
    return render_template("reports/ranking.html", unit=unit, ranking=result, filters=result.filters, error=None,
                           crumbs=_crumbs(unit), choice=result.choice, levels=ranking_service.LEVELS,
                           kinds=ranking_service.POINT_KINDS, funnel=funnel, report=result.view.report,
                           **_form_context(unit, result.filters))


@bp.get("/<int:unit_id>/ranking/funnel.svg")
@official_route("viewer")
def ranking_funnel(unit_id: int):
    unit = _unit(unit_id)
    try:
        result = ranking_service.rank(read_session(), current_scope(), unit, request.args, _today())
    except FilterError as exc:
        _bad_filter(exc)
    svg = ranking_service.funnel_svg(result, current_language())
    if svg is None:
        not_found()
    return Response(svg, mimetype="image/svg+xml")


@bp.get("/<int:unit_id>")
@official_route("viewer")
def dashboard(unit_id: int):
    return _dashboard(_unit(unit_id))


def _dashboard(unit: Unit):
    scope = current_scope()
    lang = current_language()
    if not instrument_choices(db.session):
        return render_template("reports/dashboard.html", unit=unit, view=None, filters=None, error=None,
                               crumbs=_crumbs(unit), no_surveys=True, **_form_context(unit, None))
    sort = request.args.get("sort", "rank")
    try:
        if sort not in SORTS:
            raise FilterError(_("The units can be sorted by rank, name, n or index."), "sort")
        filters = _filters(unit)
        view = compute(read_session(), unit, filters)
    except FilterError as exc:
        return render_template("reports/dashboard.html", unit=unit, view=None, filters=None, error=exc.message,
                               crumbs=_crumbs(unit), **_form_context(unit, None)), 400
    charts = sorted(chart_bundle(view, lang)) if view.report["responses"] else []
    if sum(1 for u in view.report["units"] if u["n"]) < 2:
        charts = [c for c in charts if c not in ("funnel", "factors_by_unit")]  # nothing to compare
    figures = petitions.accountability(db.session, unit, filters.date_from, filters.date_to,
                                       settings=_petition_settings())
    return render_template(
        "reports/dashboard.html", unit=unit, view=view, report=view.report, filters=filters, error=None,
        crumbs=_crumbs(unit), charts=charts, sort=sort, units=_sorted_units(view.report["units"], sort, lang),
        figures=figures, can_manage=scope.covers(unit, "manager"), as_of=_today(),
        unit_ids={child.path: child.id for child in unit.children},
        child_args={child.path: own_instrument_args(read_session(), child, filters, _today()) for child in unit.children},
        factor_names={f["key"]: f["name"] for f in view.report["factors"]},
        question_groups=_question_groups(view.report), option_labels=_option_labels(view.definition),
        **_form_context(unit, filters))


@bp.get("/<int:unit_id>/charts/<chart>.svg")
@official_route("viewer")
def chart(unit_id: int, chart: str):
    """One chart of a view, as SVG, from the cache (rendered with the whole view's charts
    on a miss)."""
    unit = _unit(unit_id)
    if chart not in CHART_NAMES:
        not_found()
    try:
        filters = _filters(unit)
    except FilterError as exc:
        _bad_filter(exc)
    lang = current_language()
    bundle = cached_charts(unit, filters, watermark(read_session()), lang)
    if bundle is None:
        bundle = chart_bundle(compute(read_session(), unit, filters), lang)
    if chart not in bundle:
        not_found()
    return Response(bundle[chart], mimetype="image/svg+xml")


# ------------------------------------------------------------------ comments

def _page_arg() -> int:
    raw = request.args.get("page", "1")
    if not (raw.isascii() and raw.isdigit() and 0 < int(raw) < 100_000):
        raise FilterError(_("The page must be a whole number from 1."), "page")
    return int(raw)


@bp.get("/<int:unit_id>/comments")
@official_route("viewer")
def comments(unit_id: int):
    unit = _unit(unit_id)
    scope = current_scope()
    can_manage = scope.covers(unit, "manager")
    search = request.args.get("q", "").strip()[:200]
    try:
        filters = _filters(unit)
        page = _page_arg()
        show_hidden = request.args.get("hidden", "") in ("1",)
        if request.args.get("hidden", "") not in ("", "0", "1"):
            raise FilterError(_("“%(name)s” must be 1 or 0.", name="hidden"), "hidden")
        from ..services.reports.build import instrument_versions

        versions = instrument_versions(db.session, filters.instrument)
    except FilterError as exc:
        return render_template("reports/comments.html", unit=unit, filters=None, error=exc.message, listing=None,
                               search=search, crumbs=_crumbs(unit), **_form_context(unit, None)), 400
    listing = comment_service.list_comments(db.session, scope, unit, filters, versions, search=search, page=page,
                                            per_page=PER_PAGE, show_hidden=show_hidden and can_manage)
    return render_template("reports/comments.html", unit=unit, filters=filters, error=None, listing=listing,
                           search=search, show_hidden=show_hidden and can_manage, can_manage=can_manage,
                           crumbs=_crumbs(unit), moderate_form=ModerateForm(formdata=None),
                           **_form_context(unit, filters))


@bp.post("/<int:unit_id>/comments/moderate")
@official_route("manager")
def moderate(unit_id: int):
    unit = _unit(unit_id)
    form = ModerateForm()
    if not form.validate_on_submit():
        abort_with(400, _("Please choose a comment to hide or show again."))
    try:
        comment_service.set_hidden(db.session, current_scope(), form.answer.data, form.action.data == "hide",
                                   actor=_actor(), within=unit, reason=form.reason.data)
    except comment_service.CommentError as exc:
        db.session.rollback()
        abort_with(400, exc.message)
    db.session.commit()
    flash(_("The comment is hidden. It is kept, and you can show it again.") if form.action.data == "hide"
          else _("The comment is shown again."), "success")
    back = {}
    try:
        back = _filters(unit, request.form).args()
    except FilterError:
        pass
    for name in ("q", "page", "hidden"):
        value = request.form.get(name, "")
        if value and re.fullmatch(r"[\w\s\-.,]{1,200}", value):
            back[name] = value
    return redirect(url_for("reports.comments", unit_id=unit.id, **back), code=303)


# ------------------------------------------------------------------ exports

def _download(data: bytes, mimetype: str, filename: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _export_view(unit_id: int):
    unit = _unit(unit_id, "manager")
    try:
        filters = _filters(unit)
    except FilterError as exc:
        _bad_filter(exc)
    return compute(read_session(), unit, filters)


def _export(unit_id: int, kind: str):
    """A small export at once; a large one through the queue (the "being prepared" page)."""
    view = _export_view(unit_id)
    lang = "vi" if kind == "pdf" else current_language()
    if export_jobs.is_large(current_app.config, view, kind):
        job, created = export_jobs.request(db.session, _actor(), view, kind, lang,
                                           keep_hours=int(current_app.config.get("EXPORT_KEEP_HOURS", 48)))
        job_id, token = job.id, job.token
        db.session.commit()
        if created:
            try:
                get_jobs().build_export(job_id)
            except Exception as exc:  # noqa: BLE001 (the queue is away: say so on the page)
                current_app.logger.exception("export %s could not be queued", job_id)
                job = db.session.get(ExportJob, job_id)
                job.status, job.error, job.finished_at = "failed", job_runs.describe(exc), utcnow()
                db.session.commit()
        return redirect(url_for("reports.export_status", token=token), code=303)
    built = export_jobs.build_file(db.session, current_scope(), view, kind, lang=lang, actor=_actor(),
                                   generated_at=utcnow(), petition_settings=_petition_settings())
    exports.record_export(db.session, view, kind, actor=_actor(), rows=built.rows)
    db.session.commit()
    return _download(built.data, export_jobs.MIMETYPES[kind], export_jobs.filename(view.unit, view.filters, kind))


@bp.get("/<int:unit_id>/export.csv")
@official_route("manager")
def export_csv(unit_id: int):
    return _export(unit_id, "csv")


@bp.get("/<int:unit_id>/export.xlsx")
@official_route("manager")
def export_xlsx(unit_id: int):
    return _export(unit_id, "xlsx")


@bp.get("/<int:unit_id>/report.pdf")
@official_route("manager")
def export_pdf(unit_id: int):
    return _export(unit_id, "pdf")


def _own_job(token: str) -> tuple[ExportJob, Unit]:
    """The requester's export job and its unit: 404 for another official's job, or when
    their scope no longer covers the unit as a manager."""
    job = db.session.scalar(select(ExportJob).where(ExportJob.token == token[:64]))
    if job is None or job.user_id != _actor().id:
        not_found()
    return job, _unit(job.unit_id, "manager")


@bp.get("/exports/<token>")
@official_route("manager")
def export_status(token: str):
    """The "being prepared" page: refreshes itself while the file is built, then links it."""
    job, unit = _own_job(token)
    expired = job.expires_at <= utcnow()
    ready = job.status == "done" and not expired and bool(job.file_path) and os.path.exists(job.file_path)
    return render_template("reports/export_status.html", job=job, unit=unit, crumbs=_crumbs(unit), filters=None,
                           ready=ready, expired=expired, waiting=job.status in export_jobs.WAITING and not expired,
                           refresh=int(current_app.config.get("EXPORT_REFRESH_SECONDS", 5)))


@bp.get("/exports/<token>/download")
@official_route("manager")
def export_download(token: str):
    job, unit = _own_job(token)
    if job.status != "done" or job.expires_at <= utcnow() or not job.file_path or not os.path.exists(job.file_path):
        not_found()
    response = send_file(job.file_path, mimetype=export_jobs.MIMETYPES[job.kind], as_attachment=True,
                         download_name=export_jobs.job_filename(job, unit), max_age=0)
    return response


# ------------------------------------------------------------------ publishing

def _publications_page(unit: Unit, filters: ReportFilters | None, error: str | None = None, status: int = 200):
    pubs = publication.publications_of(db.session, unit, active_only=False)
    context = _form_context(unit, filters)
    choices = publication.release_choices(_today())
    chosen = request.form.get("window") or (filters.window if filters else "")
    if chosen not in {value for value, _label in choices}:
        chosen = choices[0][0] if choices else ""
    context["form_values"] = dict(context["form_values"], window=chosen)
    return render_template(
        "reports/publications.html", unit=unit, filters=filters, error=error, publications=pubs,
        can_manage=current_scope().covers(unit, "manager"), crumbs=_crumbs(unit), release_choices=choices,
        public_url=url_for("public_results.unit_results", ref=unit.code or unit.path.strip("/")),
        public_base=current_app.config.get("PUBLIC_BASE_URL") or request.host_url.rstrip("/"),
        unpublish_form=UnpublishForm(formdata=None), **context), status


@bp.get("/<int:unit_id>/publications")
@official_route("viewer")
def publications(unit_id: int):
    unit = _unit(unit_id)
    try:
        filters = _filters(unit)
    except FilterError as exc:
        return _publications_page(unit, None, exc.message, 400)
    return _publications_page(unit, filters)


@bp.post("/<int:unit_id>/publish")
@official_route("manager")
def publish(unit_id: int):
    unit = _unit(unit_id, "manager")
    try:
        filters = _filters(unit, request.form)
        pub = publication.publish(db.session, current_scope(), unit, filters, actor=_actor(),
                                  correction_note=request.form.get("correction_note"), today=_today(),
                                  petition_settings=_petition_settings())
    except FilterError as exc:
        return _publications_page(unit, None, exc.message, 400)
    except publication.PublicationError as exc:
        db.session.rollback()
        return _publications_page(unit, None, exc.message, 400)
    db.session.commit()
    label = report_text.release_label(pub.period, pub.date_from)
    if pub.release_no > 1:
        flash(_("Corrected: release no. %(n)s of %(period)s replaces the earlier one on the public page.",
                n=pub.release_no, period=label), "success")
    else:
        flash(_("Published: anyone can now read the results of %(period)s at the public page. They are fixed "
                "as of now.", period=label), "success")
    return redirect(url_for("reports.publications", unit_id=unit.id, **filters.args()), code=303)


@bp.post("/<int:unit_id>/unpublish")
@official_route("manager")
def unpublish(unit_id: int):
    unit = _unit(unit_id)
    form = UnpublishForm()
    if not form.validate_on_submit():
        abort_with(400, _("Please choose a publication to withdraw."))
    publication.unpublish(db.session, current_scope(), form.publication.data, actor=_actor(), within=unit)
    db.session.commit()
    flash(_("The results are no longer public."), "success")
    return redirect(url_for("reports.publications", unit_id=unit.id), code=303)
