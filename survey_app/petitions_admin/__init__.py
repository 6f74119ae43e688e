"""The officials' petition pages: the inbox of their area, one petition with its
workflow (assign, note, answer, publish, approve the public text, close, reopen), contact
details behind an audited button, and the accountability figures. Every view declares its
role (``@official_route``) and loads petitions through ``services.petitions.operations`` on
top of the request's scope."""
from ..guard import OfficialBlueprint

bp = OfficialBlueprint("petitions_admin", __name__, url_prefix="/admin/petitions", template_folder="templates")

from . import routes  # noqa: E402,F401  (routes register themselves on bp)
