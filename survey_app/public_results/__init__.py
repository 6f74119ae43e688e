"""The public results page ("công khai"): ``/p/<unit>`` shows, without login, the periods
a manager published for the unit, with small numbers withheld
(``services.reports.publication.public_results``)."""
from flask import Blueprint

bp = Blueprint("public_results", __name__, template_folder="templates")

from . import routes  # noqa: E402,F401  (routes register themselves on bp)
