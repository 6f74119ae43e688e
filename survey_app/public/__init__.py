"""What citizens see: the survey behind a QR code, the thank-you page, health."""
from flask import Blueprint

bp = Blueprint("public", __name__, template_folder="templates")

# The modules register their routes on bp: the survey behind a poster QR (/s), one-time
# codes (/v), dossiers (/d), kiosk tablets (/k) and QR images. They share the survey round trip in flow.
from . import routes, codes, dossiers, kiosk, numbers, qrcodes, skiplogic  # noqa: E402,F401
