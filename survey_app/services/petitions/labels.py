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
    "waiting": _l("waiting for the citizen's information"),
    "assigned": _l("assigned"),
    "refused": _l("refused (outside the unit's remit)"),
    "answered": _l("answered"),
    "published": _l("answer published"),
    "closed": _l("closed"),
}

#: The stages' clocks (services/petitions/clocks.py), as the officials read them.
STAGE_LABELS = {
    "refuse": _l("Refuse an out-of-scope petition"),
    "info": _l("Ask for more information"),
    "resolve": _l("Answer"),
    "publish": _l("Publish the answer"),
}

CLOCK_STATE_LABELS = {
    "on_time": _l("on time"),
    "late": _l("late"),
    "running": _l("in progress"),
    "due_soon": _l("due soon"),
    "overdue": _l("overdue"),
    "paused": _l("paused: waiting for the citizen"),
}

#: History lines of the stages' events (the older kinds have their own sentences in the templates).
EVENT_LABELS = {
    "refused": _l("Refused: outside the unit's remit"),
    "info_requested": _l("More information asked of the citizen (clock stopped)"),
    "info_provided": _l("The citizen sent more information (clock running again)"),
    "published": _l("Answer published on the unit's public page"),
    "not_resolved": _l("The citizen said the answer did not resolve the matter: reopened with a new time limit"),
    "merged": _l("Merged with a petition on the same matter"),
}
