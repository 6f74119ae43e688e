"""Enforcement that cannot be forgotten: official blueprints and their declared roles.

An official feature creates its blueprint as an :class:`OfficialBlueprint` and decorates
every view with :func:`official_route`::

    bp = OfficialBlueprint("reports", __name__, url_prefix="/reports", template_folder="templates")

    @bp.get("/<int:unit_id>")
    @official_route("viewer")
    def unit_report(unit_id):
        unit = current_scope().get_unit_or_404(unit_id, "viewer")

Registering the blueprint adds its name to ``app.config["OFFICIAL_BLUEPRINTS"]`` (the list
the route-walk test reads). Before each of its views runs, the blueprint checks:

1. the view declares its minimum role — otherwise the request is refused with 403, and
   :func:`check_official_routes` (called at the end of ``create_app``) refuses to start;
2. someone is logged in — otherwise a redirect to the login page;
3. they hold that role somewhere (or, for ``shared=True`` views, at a unit high enough in
   the tree) — otherwise 403.

Objects named in the URL are then loaded through :func:`current_scope` (404 outside every
grant, 403 with too low a role). Responses of official views are never cached.
"""
from __future__ import annotations

from typing import Callable, TypeVar

from flask import Blueprint, Flask, current_app, g, request
from flask_babel import gettext as _
from flask_login import current_user

from .errors import abort_with
from .extensions import login
from .models import ROLE_RANK
from .services.officials.scope import Scope

__all__ = ["OfficialBlueprint", "check_official_routes", "current_scope", "official_route",
           "unguarded_endpoints", "view_policy"]

ROLE_ATTR = "official_min_role"
SHARED_ATTR = "official_shared"
READ_ONLY_ATTR = "official_read_only"

F = TypeVar("F", bound=Callable)


def official_route(min_role: str, *, shared: bool = False, read_only: bool = False) -> Callable[[F], F]:
    """Declare the least role a view needs.

    ``shared``: the view acts on data shared by the whole tree (instruments), so the role
    must be held at a unit of depth ``SHARED_ADMIN_MAX_DEPTH`` or above.
    ``read_only``: the view accepts POST but never writes (a survey preview checking the
    answers); everything else that accepts POST changes state.
    """
    if min_role not in ROLE_RANK:
        raise ValueError(f"unknown role {min_role!r} (expected one of {', '.join(ROLE_RANK)})")

    def decorate(view: F) -> F:
        setattr(view, ROLE_ATTR, min_role)
        setattr(view, SHARED_ATTR, shared)
        setattr(view, READ_ONLY_ATTR, read_only)
        return view

    return decorate


def view_policy(view: Callable | None) -> tuple[str | None, bool, bool]:
    """(min_role, shared, read_only) declared on a view; min_role ``None`` if undeclared."""
    return (getattr(view, ROLE_ATTR, None), getattr(view, SHARED_ATTR, False), getattr(view, READ_ONLY_ATTR, False))


def current_scope() -> Scope:
    """The logged-in official's scope, computed once per request."""
    scope = g.get("official_scope")
    if scope is None:
        if not current_user.is_authenticated:
            abort_with(401, _("Please log in to continue."))
        scope = g.official_scope = Scope.for_user(current_user._get_current_object())
    return scope


def _guard():
    view = current_app.view_functions.get(request.endpoint or "")
    min_role, shared, _read_only = view_policy(view)
    if min_role is None:
        current_app.logger.error("official view %s declares no @official_route; refused", request.endpoint)
        abort_with(403, _("This page is not available."))
    if not current_user.is_authenticated:
        return login.unauthorized()
    scope = current_scope()
    allowed = scope.has_shared_role(min_role) if shared else scope.has_role(min_role)
    if not allowed:
        abort_with(403, _("Your role does not allow this page. Ask an administrator of your unit if you need it."))
    return None


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


class OfficialBlueprint(Blueprint):
    """A blueprint whose every view needs a logged-in official and a declared role."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.before_request(_guard)
        self.after_request(_no_store)

    def register(self, app: Flask, options: dict) -> None:
        name = options.get("name", self.name)
        names = app.config.setdefault("OFFICIAL_BLUEPRINTS", [])
        if name not in names:
            names.append(name)
        super().register(app, options)


def unguarded_endpoints(app: Flask) -> list[str]:
    """Endpoints of official blueprints whose view declares no role."""
    official = set(app.config.get("OFFICIAL_BLUEPRINTS", []))
    found = []
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.rpartition(".")[0]
        if blueprint in official and view_policy(app.view_functions.get(rule.endpoint))[0] is None:
            found.append(rule.endpoint)
    return sorted(set(found))


def check_official_routes(app: Flask) -> None:
    """Refuse to start when an official view forgot to declare its role."""
    missing = unguarded_endpoints(app)
    if missing:
        raise RuntimeError("official views without @official_route: " + ", ".join(missing))
