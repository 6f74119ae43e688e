"""Settings from the environment, with safe defaults.

One class reads everything; values are parsed strictly, so a typo in a setting stops the
service at start instead of being silently ignored.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, Mapping

BASE_DIR = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """A setting is missing or malformed."""


def parse_bool(name: str, raw: str | None, default: bool) -> bool:
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def parse_int(name: str, raw: str | None, default: int, minimum: int = 0) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}")
    return value


def default_sqlite_url(instance_path: str) -> str:
    return "sqlite:///" + str(Path(instance_path) / "hailong.sqlite3")


def load_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """Build the Flask config mapping from an environment mapping."""
    production = env.get("HAILONG_ENV", env.get("FLASK_ENV", "development")) == "production"
    secret = env.get("SECRET_KEY", "")
    if production and len(secret) < 32:
        raise ConfigError(
            "SECRET_KEY must be set to a random string of at least 32 characters in production"
        )
    settings: dict[str, Any] = {
        "PRODUCTION": production,
        # Outside production a per-process random key: sessions do not survive a restart,
        # and no fallback secret ever lives in the code.
        "SECRET_KEY": secret or secrets.token_hex(32),
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL") or None,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "MAX_CONTENT_LENGTH": parse_int("MAX_CONTENT_LENGTH", env.get("MAX_CONTENT_LENGTH"), 256 * 1024, 1024),
        "BABEL_DEFAULT_LOCALE": "vi",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
        "LANGUAGES": ("vi", "en"),
        "DISPLAY_TIMEZONE": "Asia/Ho_Chi_Minh",
        "WTF_CSRF_TIME_LIMIT": parse_int("WTF_CSRF_TIME_LIMIT", env.get("WTF_CSRF_TIME_LIMIT"), 6 * 3600, 60),
        "SURVEY_TOKEN_MAX_AGE": parse_int("SURVEY_TOKEN_MAX_AGE", env.get("SURVEY_TOKEN_MAX_AGE"), 24 * 3600, 60),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": parse_bool("PREFER_HTTPS", env.get("PREFER_HTTPS"), production),
        "PUBLIC_BASE_URL": (env.get("PUBLIC_BASE_URL") or "").rstrip("/"),
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI") or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "SURVEYS_DIR": env.get("SURVEYS_DIR") or str(BASE_DIR / "surveys"),
    }
    return settings
