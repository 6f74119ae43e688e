"""Numbers with decimals on the survey page: written as the page's language writes them
(``100,5`` in Vietnamese, ``100.5`` in English; ``services/collect/numbers.py``)."""
from __future__ import annotations

from ..i18n import current_language
from ..services.collect import numbers
from . import bp


@bp.app_template_filter("number_text")
def number_text(value) -> str:
    """A bound of a number question in the page's language."""
    return numbers.written(value, current_language())
