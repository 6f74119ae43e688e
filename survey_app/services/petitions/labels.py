"""The wording of petition categories and statuses, in the reader's language: the citizens'
form and status page and the officials' inbox show the same words."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

CATEGORY_LABELS = {
    "procedure": _l("Administrative procedures"),
    "health": _l("Health"),
    "education": _l("Education and schools"),
    "infrastructure": _l("Roads, lighting, water, infrastructure"),
    "public_order": _l("Public order and safety"),
    "environment": _l("Environment, waste, noise"),
    "staff_conduct": _l("Conduct of officials and staff"),
    "other": _l("Something else"),
}

STATUS_LABELS = {
    "received": _l("received"),
    "assigned": _l("assigned"),
    "answered": _l("answered"),
    "closed": _l("closed"),
}
