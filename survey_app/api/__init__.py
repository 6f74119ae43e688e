"""The JSON API (``/api/v1``): the report of a unit, with the names of ``flask report
--format json``. A logged-in official (session) or an API key (``Authorization: Bearer
<key>``) with the ``reports:read`` scope; either reads only its own subtree."""
from flask import Blueprint

from ..extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1", template_folder="templates")
csrf.exempt(bp)

from . import routes, dossiers, openapi  # noqa: E402,F401  (routes register themselves on bp)
