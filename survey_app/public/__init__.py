"""What citizens see: the survey behind a QR code, the thank-you page, health."""
from flask import Blueprint

bp = Blueprint("public", __name__, template_folder="templates")

from . import routes  # noqa: E402,F401  (routes register themselves on bp)
