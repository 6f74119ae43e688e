"""One input check for every route: no control characters in what a request says.

NUL and the other C0 control characters have no place in an address, a query or a form
field; PostgreSQL refuses NUL in text outright, so they used to end in a 500 deep inside a
query. Here they end first, with a 400 in the visitor's language (the shape of
``errors.py``):

* the path and the query string (names and values, after percent-decoding) may hold no
  C0 control character (U+0000–U+001F) and no DEL (U+007F);
* form fields (names and values, urlencoded or multipart) may hold tabs, line feeds and
  carriage returns (a comment has lines), but no other C0 control character and no DEL.
  Uploaded files are not text and are not looked at.

The form is checked where it is parsed (``CheckedRequest``), whoever reads it first:
CSRF protection, a view, a limit. So a route that raises its size limit for an upload
(the petition form) keeps working, and the check cannot be forgotten by a new route.
"""
from __future__ import annotations

import re
from typing import Iterable

from flask import Flask, Request, request
from flask_babel import gettext as _

from .errors import AppError

_IN_ADDRESS = re.compile(r"[\x00-\x1f\x7f]")
_IN_FORM = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def refusal() -> AppError:
    return AppError(400, _("The address or the form contains control characters (such as a null byte) that "
                           "cannot be accepted. Please go back, remove them and try again."))


def _has(pattern: re.Pattern, texts: Iterable[str | None]) -> bool:
    return any(pattern.search(t) for t in texts if t)


def _pairs(multidict) -> Iterable[str]:
    for key, value in multidict.items(multi=True):
        yield key
        yield value


class CheckedRequest(Request):
    """A request whose form fields are checked as soon as the body is parsed."""

    def _load_form_data(self) -> None:
        super()._load_form_data()
        if _has(_IN_FORM, _pairs(self.form)):
            self.__dict__["form"] = self.parameter_storage_class()  # nobody reads the refused values
            raise refusal()


def check_address() -> None:
    """``before_request``: refuse control characters in the path and the query string."""
    if _IN_ADDRESS.search(request.path) or _has(_IN_ADDRESS, _pairs(request.args)):
        raise refusal()


def init_app(app: Flask) -> None:
    app.request_class = CheckedRequest
    # First of all the hooks: no limit, session or CSRF check sees the refused values.
    app.before_request_funcs.setdefault(None, []).insert(0, check_address)
