"""Reports for officials: a unit's dashboard (index, factors, questions, trend, units
below, time of day, petitions, methods), its charts, the open comments with moderation,
exports (CSV, XLSX, PDF) and publishing results. Every view declares its role
(``@official_route``) and loads the unit through the request's scope; the numbers come
from ``services.reports.views`` (the same as the JSON API and ``flask report``)."""
from ..guard import OfficialBlueprint

bp = OfficialBlueprint("reports", __name__, url_prefix="/reports", template_folder="templates")

from . import routes  # noqa: E402,F401  (routes register themselves on bp)
from . import papi  # noqa: E402,F401  (the PAPI mirror's pages)
from . import dossiers  # noqa: E402,F401  (ratings by counter staff, managers only)
