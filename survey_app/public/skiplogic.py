"""Skip logic on the survey page: each question with a ``relevant`` condition carries it as
JSON for ``static/relevant.js`` (which hides and shows the question) and, for a page
without script, a note saying when to answer it. The server decides either way
(``services/collect/surveys.py:validate_answers``)."""
from __future__ import annotations

from typing import Any, Mapping

from ..i18n import current_language
from ..services.collect import relevance
from . import bp


@bp.app_template_filter("relevant_json")
def relevant_json(condition: str) -> str:
    """The parsed condition as JSON, for the ``data-relevant`` attribute."""
    return relevance.to_json(relevance.parse_cached(condition))


@bp.app_template_global("relevant_note")
def relevant_note(question: Mapping[str, Any], definition: Mapping[str, Any]) -> str:
    """"Only if question 3 is “Yes”." in the page's language."""
    return relevance.describe(relevance.parse_cached(question["relevant"]), definition, current_language())


@bp.app_template_global("has_skip_logic")
def has_skip_logic(definition: Mapping[str, Any]) -> bool:
    """Whether any question has a ``relevant`` condition (then the page loads ``relevant.js``).
    A loop in Python: the same test as a Jinja ``selectattr`` filter costs ten times more."""
    return any(q.get("relevant") for q in definition["questions"])
