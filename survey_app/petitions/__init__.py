"""The citizens' petition pages: ``/f/<ref>`` to send feedback about a service point or a
unit, ``/t/<tracking>`` to follow it, ``/t`` to type a tracking code. No login, no
JavaScript needed.

``<ref>`` is a service point's public code (``/f/p2motcua``) or, for an administrative
unit, which has no code, its path in the tree without the outer slashes
(``/f/vn/qt/p2``).
"""
from flask import Blueprint

bp = Blueprint("petitions", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/petitions")

from . import routes  # noqa: E402,F401  (routes register themselves on bp)
