"""The administrators' "jobs" page (``/admin/jobs``): the background queue, the last run of
each job and its failures. Jobs belong to the whole service, so the page needs the admin
role at a unit high in the tree (``shared``)."""
from ..guard import OfficialBlueprint

bp = OfficialBlueprint("jobs_admin", __name__, url_prefix="/admin/jobs", template_folder="templates")

from . import routes  # noqa: E402,F401  (routes register themselves on bp)
