"""The officials' alerts: the inbox of their area (``/admin/alerts``), one alert with its
acknowledgement (a note, audited), and the rules of a unit (managers). Every view
declares its role and loads what the URL names through the request's scope."""
from ..guard import OfficialBlueprint

bp = OfficialBlueprint("alerts_admin", __name__, url_prefix="/admin/alerts", template_folder="templates")

from . import routes  # noqa: E402,F401  (routes register themselves on bp)
