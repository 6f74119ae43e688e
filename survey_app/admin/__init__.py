"""The management pages for officials: units, service points, campaigns, instruments,
users and grants, the audit log. Every view declares its role (``@official_route``) and
loads what it shows through the request's scope."""
from ..guard import OfficialBlueprint

bp = OfficialBlueprint("admin", __name__, url_prefix="/admin", template_folder="templates")

from . import routes  # noqa: E402,F401  (routes register themselves on bp)
