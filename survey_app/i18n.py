"""Language choice: Vietnamese first, English on request (``?lang=en`` or the switch)."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel import Locale
from flask import Flask, current_app, g, request, session

from .extensions import babel

_LOCALES: dict[str, Locale] = {}


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    # Never the form body: parsing it here would re-raise a 413 inside the error handler.
    for candidate in (request.args.get("lang"), session.get("lang")):
        if candidate in languages:
            return candidate
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def current_language() -> str:
    lang = g.get("lang")
    if lang is None:
        lang = g.lang = select_locale()
    return lang


def babel_locale() -> Locale:
    """Flask-Babel's locale selector: :func:`current_language` as a ``babel.Locale`` made once
    per process (Flask-Babel parses a string selector into a new one every request)."""
    lang = current_language()
    locale = _LOCALES.get(lang)
    if locale is None:
        locale = _LOCALES[lang] = Locale.parse(lang)
    return locale


def local_time(value: datetime | None) -> datetime | None:
    """A UTC datetime shown in the service's zone (Asia/Ho_Chi_Minh)."""
    if value is None:
        return None
    return value.astimezone(ZoneInfo(current_app.config["DISPLAY_TIMEZONE"]))


def language_switch_url(code: str) -> str:
    """The current page in another language: a relative ``?…`` link that keeps every other
    query argument (a dashboard's filters, a public page's period)."""
    from urllib.parse import urlencode

    pairs = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    return "?" + urlencode(pairs + [("lang", code)])


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=babel_locale,
                   default_translation_directories="translations")

    @app.before_request
    def remember_language() -> None:
        lang = request.args.get("lang")
        if lang in app.config["LANGUAGES"] and session.get("lang") != lang:
            session["lang"] = lang

    @app.context_processor
    def language_context():
        return {"lang": current_language(), "local_time": local_time, "lang_url": language_switch_url}

    @app.template_filter("tr")
    def translate_field(value, lang: str | None = None):
        """Pick the current language from a ``{"vi": …, "en": …}`` mapping."""
        if not value:
            return ""
        lang = lang or current_language()
        return value.get(lang) or value.get("vi") or ""
